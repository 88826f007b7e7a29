"""Choosing TCP ports on 127.0.0.1."""

from __future__ import annotations

import os
import socket

LISTEN = "0A"  # the TCP state of a listening socket in /proc/net/tcp*


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port`` and we may bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the server itself, ignore connections lingering in TIME_WAIT after a
        # restart; a socket that really listens still makes the bind fail.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_answers(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel says is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def choose_ports(preferred: list[int]) -> list[int]:
    """Keep each preferred port that is free; replace a taken one (or 0) by a free one."""
    chosen: list[int] = []
    for port in preferred:
        candidate = port if port and port_is_free(port) else free_port()
        while candidate in chosen:
            candidate = free_port()
        chosen.append(candidate)
    return chosen


def _listening_inodes(port: int) -> set[str] | None:
    """The socket inodes listening on ``port`` (any address), from /proc/net; None where
    there is no /proc (macOS)."""
    found: set[str] = set()
    tables = [t for t in ("/proc/net/tcp", "/proc/net/tcp6") if os.path.exists(t)]
    if not tables:
        return None
    for table in tables:
        with open(table, encoding="ascii") as f:
            next(f, None)  # the header
            for line in f:
                fields = line.split()
                if len(fields) > 9 and fields[3] == LISTEN \
                        and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    found.add(fields[9])
    return found


def listened_by(pid: int, port: int) -> bool | None:
    """Whether process ``pid`` is what listens on ``port``: False when another process
    does (or none), None when this system cannot tell (no /proc, or the process's file
    descriptors cannot be read)."""
    inodes = _listening_inodes(port)
    if inodes is None:
        return None
    if not inodes:
        return False
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                return True
        except OSError:  # closed since the listing
            continue
    return False
