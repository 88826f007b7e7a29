#!/bin/bash
# Entrypoint of lineagraph/neo4j:5.26-community (built by build.sh beside this file).
#
# It keeps the parts of the official neo4j image's contract that lineagraph,
# docker/compose.yml and testcontainers' Neo4j module rely on:
#   NEO4J_AUTH=neo4j/<password>  sets the initial password on a new /data (never on a
#                                command line: neo4j-admin reads it from an @file);
#                                a /data that already has users keeps its password
#   NEO4J_AUTH=none              turns authentication off
#   NEO4J_AUTH_PATH=FILE         the same, read from a file (a mounted secret), so the
#                                password is not in the container's configuration
#   NEO4J_<setting>              becomes a neo4j.conf setting: "_" -> ".", "__" -> "_",
#                                "___" -> "-" (NEO4J_server_memory_heap_max__size ->
#                                server.memory.heap.max_size)
#   Bolt on 0.0.0.0:7687, HTTP and Neo4j Browser on 0.0.0.0:7474, data in /data,
#   logs in /logs, the server's start-up lines ("Remote interface available at",
#   "Started.") on stdout.
# Started as root (the default) it hands /data and /logs to the neo4j user (uid 7474)
# and drops to it; the server never runs as root. Java is exec'd under tini (PID 1),
# so `docker stop` reaches Neo4j as SIGTERM and it shuts down cleanly.
# Any other command (`docker run IMAGE bash`) is run as given.
set -euo pipefail

NEO4J_HOME=${NEO4J_HOME:-/var/lib/neo4j}
CONF_DIR=$NEO4J_HOME/conf
LIB_DIR=$NEO4J_HOME/lib
RUN_USER=neo4j

# What Neo4j's own launcher passes to the JVM by default (as lineagraph's Java backend).
JVM_FLAGS=(
  -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow -XX:+DisableExplicitGC
  -XX:+ExitOnOutOfMemoryError -Djdk.nio.maxCachedBufferSize=1024
  -Dio.netty.tryReflectionSetAccessible=true -Dfile.encoding=UTF-8
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED
)

# NEO4J_* variables that are not server settings: the image's own, the official image's
# (so a compose file written for it does not break here) and the clients'.
NOT_SETTINGS=" NEO4J_AUTH NEO4J_AUTH_PATH NEO4J_HOME NEO4J_CONF NEO4J_EDITION NEO4J_ACCEPT_LICENSE_AGREEMENT
  NEO4J_PLUGINS NEO4J_DEBUG NEO4J_SHA256 NEO4J_TARBALL NEO4J_VERSION NEO4J_URI
  NEO4J_USERNAME NEO4J_USER NEO4J_PASSWORD NEO4J_DATABASE "

say() { printf 'entrypoint: %s\n' "$*"; }
die() { printf 'entrypoint: error: %s\n' "$*" >&2; exit 1; }

if [[ ${1:-neo4j} != neo4j ]]; then
  exec "$@"
fi

read_auth_path() {
  [[ -n ${NEO4J_AUTH_PATH-} ]] || return 0
  [[ -r $NEO4J_AUTH_PATH ]] || die "NEO4J_AUTH_PATH: cannot read $NEO4J_AUTH_PATH"
  local line
  IFS= read -r line <"$NEO4J_AUTH_PATH" || [[ -n $line ]] ||
    die "NEO4J_AUTH_PATH: $NEO4J_AUTH_PATH is empty"
  export NEO4J_AUTH=$line
  unset NEO4J_AUTH_PATH
}

if [[ $(id -u) == 0 ]]; then
  read_auth_path # a secret may be readable by root only
  for dir in /data /logs; do
    mkdir -p "$dir"
    # A bind mount the engine created belongs to root: give it to neo4j (once).
    if [[ $(stat -c %u "$dir") != "$(id -u "$RUN_USER")" ]]; then
      chown -R "$RUN_USER:$RUN_USER" "$dir"
    fi
  done
  exec setpriv --reuid="$RUN_USER" --regid="$RUN_USER" --init-groups -- "$0" "$@"
fi

[[ -w $CONF_DIR ]] || die "$CONF_DIR is not writable by uid $(id -u): run the image as root (the default, it drops to neo4j) or as uid 7474"
for dir in /data /logs; do
  [[ -w $dir ]] || die "$dir is not writable by uid $(id -u) (chown it to 7474:7474, or start the container as root)"
done

# A size as Neo4j takes it (512m, 1g, 2GiB, 1024k, 536870912) as the JVM takes it.
jvm_size() {
  local value=${1,,}
  [[ $value =~ ^([0-9]+)[[:space:]]*([kmgt]?)(i?b)?$ ]] ||
    die "cannot read '$1' as a memory size (examples: 512m, 1g)"
  printf '%s%s' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
}

declare -A settings=(
  [server.default_listen_address]=0.0.0.0
  [server.directories.data]=/data
  [server.directories.logs]=/logs
  [server.directories.lib]=$LIB_DIR
  [server.directories.run]=$NEO4J_HOME/run
  [dbms.usage_report.enabled]=false
  # Bolt's event loops otherwise idle 5 s each at shutdown, so a clean stop takes ~10 s:
  # all of `docker stop`'s default grace period. Nothing is left to run by then.
  [internal.dbms.bolt.netty_server_shutdown_quiet_period]=0 # seconds
)
jvm_additional=()
for name in $(compgen -e); do
  [[ $name == NEO4J_* && $NOT_SETTINGS != *" $name "* ]] || continue
  value=${!name}
  key=${name#NEO4J_}
  key=${key//___/-}
  key=${key//__/$'\x01'}
  key=${key//_/.}
  key=${key//$'\x01'/_}
  if [[ $key == server.jvm.additional ]]; then
    while IFS= read -r line; do
      [[ -n $line ]] && jvm_additional+=("$line")
    done <<<"$value"
    continue
  fi
  [[ $value != *$'\n'* ]] || die "$name holds a line break; a setting is one line"
  settings[$key]=$value
done

read_auth_path
auth=${NEO4J_AUTH-}
unset NEO4J_AUTH # the server has no use for it in its environment
password=
case $auth in
  "") ;; # Neo4j's own default: user neo4j, password neo4j, to be changed at first login
  none) settings[dbms.security.auth_enabled]=false ;;
  neo4j/*) password=${auth#neo4j/} ;;
  */*) die "NEO4J_AUTH must be neo4j/<password> or none: the user name can only be neo4j" ;;
  *) die "NEO4J_AUTH must be neo4j/<password> or none" ;;
esac

conf=$CONF_DIR/neo4j.conf
{
  echo "# Written by the image's entrypoint at every start, from its defaults and NEO4J_*."
  for key in $(printf '%s\n' "${!settings[@]}" | LC_ALL=C sort); do
    printf '%s=%s\n' "$key" "${settings[$key]}"
  done
  for line in "${jvm_additional[@]}"; do
    printf 'server.jvm.additional=%s\n' "$line"
  done
} >"$conf"
export NEO4J_HOME NEO4J_CONF=$CONF_DIR

if [[ -n $password ]] && [[ -e /data/dbms/auth.ini || -e /data/databases/system ]]; then
  say "/data has its users already: the password set the first time stays"
elif [[ -n $password ]]; then
  say "setting the initial password of user neo4j"
  argfile=$(mktemp) # mode 0600; neo4j-admin (picocli) reads its arguments from @file
  trap 'rm -f "$argfile"' EXIT
  quoted=${password//\\/\\\\}
  quoted=${quoted//\"/\\\"}
  printf '"%s"\n' "$quoted" >"$argfile"
  # A short-lived JVM: the quick compiler and the serial collector save a second.
  java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$LIB_DIR/*" \
    org.neo4j.server.startup.Neo4jAdminCommand \
    dbms set-initial-password "@$argfile" ||
    die "neo4j-admin could not set the initial password (see above)"
  rm -f "$argfile"
  trap - EXIT
fi
unset password quoted auth

# Neo4j's launcher turns the heap settings into -Xms/-Xmx; so do we.
heap=()
if [[ -n ${settings[server.memory.heap.initial_size]-} ]]; then
  heap+=("-Xms$(jvm_size "${settings[server.memory.heap.initial_size]}")")
fi
if [[ -n ${settings[server.memory.heap.max_size]-} ]]; then
  heap+=("-Xmx$(jvm_size "${settings[server.memory.heap.max_size]}")")
fi

cd "$NEO4J_HOME"
exec java "${heap[@]}" "${JVM_FLAGS[@]}" "${jvm_additional[@]}" \
  -cp "$LIB_DIR/*" org.neo4j.server.CommunityEntryPoint \
  --home-dir="$NEO4J_HOME" --config-dir="$CONF_DIR" --console-mode
