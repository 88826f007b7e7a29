"""Choosing TCP ports on 127.0.0.1."""

from __future__ import annotations

import socket


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
