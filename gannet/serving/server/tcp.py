"""TCP for the inference server: the listening socket, and connections with TCP_NODELAY.

``bind_socket`` makes the listening socket itself - ``SO_REUSEADDR`` and ``TCP_NODELAY``
set on it, created with ``IPPROTO_TCP`` - so every accepted connection has Nagle's
algorithm off (Linux hands the listening socket's TCP_NODELAY down to accepted sockets;
asyncio also sets it on sockets whose protocol is IPPROTO_TCP; and ``nodelay_protocol``
sets it on each connection once more). Without it a keep-alive client waits ~40 ms per
request (Nagle + delayed ACK): the trap uvicorn's own multi-worker mode falls into,
because its socket has protocol 0 and asyncio then leaves TCP_NODELAY unset.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from gannet.core.errors import InvalidArgument

__all__ = ["bind_socket", "nodelay_protocol"]


def bind_socket(host: str = "127.0.0.1", port: int = 8080, backlog: int = 2048) -> socket.socket:
    """A listening TCP socket with SO_REUSEADDR and TCP_NODELAY (inherited when accepted)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidArgument(f"cannot listen on {host}:{port}: {exc.strerror}",
                              hint="choose another --port, or stop what uses it") from None
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def nodelay_protocol() -> type:
    """uvicorn's fastest HTTP/1.1 protocol, setting TCP_NODELAY on each connection."""
    base: type
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        base = HttpToolsProtocol
    except ImportError:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base = H11Protocol

    class NoDelayProtocol(base):
        def connection_made(self, transport: Any) -> None:
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().connection_made(transport)

    return NoDelayProtocol
