#!/bin/bash
# Builds the local Neo4j image lineagraph/neo4j:5.26-community; see usage() or --help.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
POM=$HERE/../java/pom.xml
CACHE=${LINEAGRAPH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lineagraph}
BUILD_DIR=$CACHE/image-build
SUITE=bookworm
BASE_IMAGE=lineagraph/neo4j-base:$SUITE-openjdk17
REPOSITORY=lineagraph/neo4j
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
PACKAGES=(openjdk-17-jre-headless tini)
REBUILD=0
START_US=${EPOCHREALTIME/./}

usage() {
  cat <<EOF
Usage: docker/neo4j-image/build.sh [--rebuild] [--cache-dir DIR] [--mirror URL]
       make neo4j-image [NEO4J_IMAGE_ARGS=--rebuild]

Builds the Docker image $REPOSITORY:5.26-community (also tagged with the full
version, e.g. $REPOSITORY:5.26.30-community) for machines whose Docker engine
cannot pull the official neo4j:5.26-community. Nothing is pulled from a registry:

  1. Neo4j Community and Neo4j Browser: the jars lineagraph's Maven project
     (docker/java/pom.xml) assembles, from lineagraph's cache
     ($CACHE/neo4j-<version>/lib) when the Java backend downloaded
     them already, else with mvn into the build cache below.
  2. The base image $BASE_IMAGE: debootstrap --variant=minbase
     $SUITE, then Debian's ${PACKAGES[*]} (with security updates) in a
     chroot, imported with \`docker import\`. Needs root and debootstrap; made once and
     reused after (--rebuild makes it again).
  3. The image: the base, the jars and docker-entrypoint.sh (the official image's
     NEO4J_AUTH, NEO4J_* settings, ports 7474/7687, /data, /logs). It is labelled
     with a hash of its inputs; when the tagged image has that label already the
     build is skipped.

Options:
  --rebuild        make the base image again and rebuild the image, even when up to date
  --cache-dir DIR  the build cache: debootstrap tree, .deb files, jars, build context
                   (default: $BUILD_DIR)
  --mirror URL     the Debian mirror (default: $MIRROR; or DEBIAN_MIRROR;
                   DEBIAN_SECURITY_MIRROR for security updates)
  -h, --help       this text

Then use it: LINEAGRAPH_NEO4J_IMAGE=$REPOSITORY:5.26-community
EOF
}

elapsed() {
  local us=$((${EPOCHREALTIME/./} - START_US))
  printf '%d.%d s' $((us / 1000000)) $((us % 1000000 / 100000))
}
step() { printf '[%7s] %s\n' "$(elapsed)" "$*"; }
die() {
  printf 'build.sh: error: %s\n' "$*" >&2
  exit 1
}
log_tail() { tail -n "${2:-15}" "$1" | sed 's/^/    /' >&2; }

while (($#)); do
  case $1 in
    --rebuild) REBUILD=1 ;;
    --cache-dir) BUILD_DIR=${2:?--cache-dir needs a directory}; shift ;;
    --cache-dir=*) BUILD_DIR=${1#*=} ;;
    --mirror) MIRROR=${2:?--mirror needs a URL}; shift ;;
    --mirror=*) MIRROR=${1#*=} ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done
BUILD_DIR=$(mkdir -p "$BUILD_DIR" && cd "$BUILD_DIR" && pwd)
ROOTFS=$BUILD_DIR/rootfs-$SUITE

check_docker() {
  command -v docker >/dev/null ||
    die "the docker command is not installed (Debian: apt-get install docker.io)"
  local out
  if ! out=$(docker info --format '{{.ServerVersion}}' 2>&1); then
    die "the Docker engine does not answer (start it: \`systemctl start docker\`, or \`dockerd &\` as root): ${out##*$'\n'}"
  fi
  step "Docker engine $out answers"
}

# Sets VERSION and LIB (a folder of jars with a .complete marker).
find_jars() {
  VERSION=$(sed -n 's:.*<neo4j.version>\([^<]*\)</neo4j.version>.*:\1:p' "$POM")
  [[ -n $VERSION ]] || die "cannot read <neo4j.version> from $POM"
  local shared=$CACHE/neo4j-$VERSION/lib own=$BUILD_DIR/neo4j-$VERSION-lib
  if [[ -e $shared/.complete ]]; then
    LIB=$shared
  elif [[ -e $own/.complete ]]; then
    LIB=$own
  else
    command -v mvn >/dev/null ||
      die "Maven is needed once to download Neo4j $VERSION (Debian: apt-get install maven)"
    step "downloading Neo4j $VERSION and Neo4j Browser with Maven into $own (about 140 MB)"
    local partial=$own.partial-$$
    rm -rf "$partial"
    if ! mvn -B -q -f "$POM" dependency:copy-dependencies -DoutputDirectory="$partial" \
      >"$BUILD_DIR/maven.log" 2>&1; then
      log_tail "$BUILD_DIR/maven.log"
      rm -rf "$partial"
      die "Maven could not download Neo4j (log: $BUILD_DIR/maven.log)"
    fi
    echo "$VERSION" >"$partial/.complete"
    rm -rf "$own"
    mv "$partial" "$own"
    LIB=$own
  fi
  [[ -e $LIB/neo4j-$VERSION.jar ]] || die "$LIB has no neo4j-$VERSION.jar"
  compgen -G "$LIB/neo4j-browser-*.jar" >/dev/null || die "$LIB has no Neo4j Browser jar"
  local jars=("$LIB"/*.jar)
  step "Neo4j $VERSION jars: $LIB (${#jars[@]} jars)"
}

release_rootfs() {
  if mountpoint -q "$ROOTFS/proc" 2>/dev/null; then umount "$ROOTFS/proc"; fi
}

remove_rootfs() {
  release_rootfs
  if grep -q " $ROOTFS/" /proc/mounts; then
    die "something is still mounted under $ROOTFS; unmount it first"
  fi
  rm -rf --one-file-system "$ROOTFS"
}

make_base() {
  [[ $(id -u) == 0 ]] ||
    die "making the base image runs debootstrap and chroot, which need root: run this as root (e.g. sudo make neo4j-image)"
  command -v debootstrap >/dev/null ||
    die "debootstrap is not installed (Debian: apt-get install debootstrap)"
  mkdir -p "$BUILD_DIR/debs"
  remove_rootfs
  trap release_rootfs EXIT
  step "debootstrap --variant=minbase $SUITE from $MIRROR (log: $BUILD_DIR/debootstrap.log)"
  if ! debootstrap --variant=minbase --cache-dir="$BUILD_DIR/debs" "$SUITE" "$ROOTFS" \
    "$MIRROR" >"$BUILD_DIR/debootstrap.log" 2>&1; then
    log_tail "$BUILD_DIR/debootstrap.log"
    die "debootstrap failed (log: $BUILD_DIR/debootstrap.log)"
  fi

  step "apt-get install ${PACKAGES[*]} in the chroot, with $SUITE's updates (log: $BUILD_DIR/apt.log)"
  cat >"$ROOTFS/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
  # Nothing from Recommends, and no documentation: a server image needs neither.
  cat >"$ROOTFS/etc/apt/apt.conf.d/90lineagraph" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF
  cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/90lineagraph" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  rm -f "$ROOTFS/etc/resolv.conf"
  cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf" # apt in the chroot resolves the mirror
  mount -t proc proc "$ROOTFS/proc" # Java runs in ca-certificates-java's postinst
  if ! chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive /bin/sh -euc '
      apt-get update
      apt-get -y upgrade
      apt-get -y install "$@"
      apt-get clean' sh "${PACKAGES[@]}" >"$BUILD_DIR/apt.log" 2>&1; then
    log_tail "$BUILD_DIR/apt.log"
    die "installing ${PACKAGES[*]} in the chroot failed (log: $BUILD_DIR/apt.log)"
  fi
  local java_version
  # shellcheck disable=SC2016 # ${Version} is dpkg-query's, not the shell's
  java_version=$(chroot "$ROOTFS" dpkg-query -W -f '${Version}' openjdk-17-jre-headless)
  release_rootfs
  trap - EXIT

  # What a container never needs: package lists, caches, logs, docs dpkg already had.
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/log/* \
    "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/locale/* \
    "$ROOTFS"/tmp/* "$ROOTFS"/etc/resolv.conf "$ROOTFS"/etc/hostname
  find "$ROOTFS/usr/share/doc" -type f ! -name copyright -delete
  find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete

  local old_base
  old_base=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || true)
  step "docker import $BASE_IMAGE ($(du -sm "$ROOTFS" | cut -f1) MB, openjdk-17-jre-headless $java_version)"
  tar -C "$ROOTFS" --numeric-owner -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    --change "LABEL io.lineagraph.base=\"debian $SUITE minbase + ${PACKAGES[*]}\" io.lineagraph.openjdk=\"$java_version\"" \
    --message "debootstrap --variant=minbase $SUITE + ${PACKAGES[*]} (lineagraph build.sh)" \
    - "$BASE_IMAGE" >/dev/null
  if [[ -n $old_base ]]; then
    docker image rm "$old_base" >/dev/null 2>&1 || true # the old image still uses it
  fi
  remove_rootfs
}

ensure_base() {
  if [[ $REBUILD == 0 ]] && docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    step "base image $BASE_IMAGE exists; reusing it (--rebuild makes it again)"
    return
  fi
  make_base
}

# The hash of everything the image is made of: base, Dockerfile, entrypoint, jars.
inputs_hash() {
  {
    echo "neo4j $VERSION"
    echo "base $(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")"
    echo "dockerfile $(sha256sum <"$HERE/Dockerfile")"
    echo "entrypoint $(sha256sum <"$HERE/docker-entrypoint.sh")"
    (cd "$LIB" && sha256sum -- *.jar)
  } | sha256sum | cut -d' ' -f1
}

build_image() {
  local tag=$REPOSITORY:${VERSION%.*}-community full=$REPOSITORY:$VERSION-community
  local hash current old_id new_id
  hash=$(inputs_hash)
  current=$(docker image inspect -f '{{index .Config.Labels "io.lineagraph.inputs"}}' \
    "$tag" 2>/dev/null || true)
  if [[ $REBUILD == 0 && $current == "$hash" ]]; then
    docker tag "$tag" "$full"
    step "$tag is up to date (inputs ${hash:0:12}); nothing to build"
    return
  fi
  local context=$BUILD_DIR/context
  rm -rf --one-file-system "$context"
  mkdir -p "$context/lib"
  # Hard links when the cache shares a file system with the context, else copies.
  cp -l "$LIB"/*.jar "$context/lib/" 2>/dev/null || cp "$LIB"/*.jar "$context/lib/"
  install -m 0644 "$HERE/Dockerfile" "$context/Dockerfile"
  install -m 0755 "$HERE/docker-entrypoint.sh" "$context/docker-entrypoint.sh"

  old_id=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  # Without the buildx plugin, BuildKit cannot run: use the classic builder.
  docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0
  step "docker build $tag (inputs ${hash:0:12}; log: $BUILD_DIR/docker-build.log)"
  if ! docker build --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "NEO4J_VERSION=$VERSION" \
    --build-arg "INPUTS_HASH=$hash" -t "$tag" -t "$full" "$context" \
    >"$BUILD_DIR/docker-build.log" 2>&1; then
    log_tail "$BUILD_DIR/docker-build.log"
    die "docker build failed (log: $BUILD_DIR/docker-build.log)"
  fi
  rm -rf --one-file-system "$context"
  new_id=$(docker image inspect -f '{{.Id}}' "$tag")
  if [[ -n $old_id && $old_id != "$new_id" ]]; then
    docker image rm "$old_id" >/dev/null 2>&1 || true # still used by a container: kept
  fi
}

main() {
  step "building $REPOSITORY in $BUILD_DIR"
  check_docker
  exec 9>"$BUILD_DIR/.lock"
  if ! flock -n 9; then
    step "another build holds $BUILD_DIR/.lock; waiting for it"
    flock 9
  fi
  find_jars
  ensure_base
  build_image
  local tag=$REPOSITORY:${VERSION%.*}-community size
  size=$(docker image inspect -f '{{.Size}}' "$tag")
  step "done: $tag and $REPOSITORY:$VERSION-community, $((size / 1000000)) MB, in $(elapsed)"
  echo "Use it: export LINEAGRAPH_NEO4J_IMAGE=$tag"
}

main
