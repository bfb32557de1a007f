"""TCP for the inference server: the listening socket, and connections with TCP_NODELAY
and a read deadline.

``bind_socket`` makes the listening socket itself - ``SO_REUSEADDR`` and ``TCP_NODELAY``
set on it, created with ``IPPROTO_TCP`` - so every accepted connection has Nagle's
algorithm off (Linux hands the listening socket's TCP_NODELAY down to accepted sockets;
asyncio also sets it on sockets whose protocol is IPPROTO_TCP; and ``nodelay_protocol``
sets it on each connection once more). Without it a keep-alive client waits ~40 ms per
request (Nagle + delayed ACK): the trap uvicorn's own multi-worker mode falls into,
because its socket has protocol 0 and asyncio then leaves TCP_NODELAY unset.

Slow clients: uvicorn times out idle keep-alive connections, but not a request that
arrives slowly (a client sending a byte a second holds its connection, and a worker's
memory, for ever). ``ReadDeadline`` gives each request ``read_timeout`` seconds to
arrive whole, from its first byte (or from the connection, when nothing comes): a
connection whose request line and headers are not in by then - or over
``MAX_HEADER_BYTES`` - is closed; one whose body is not, is marked (``READ_TIMED_OUT`` in
its ASGI scope) and woken, so that the app answers 408 (``request.read_body``) and the
connection closes after it. It costs nothing per request that arrives in one piece: a
timer is set only when a request is still incomplete after the bytes at hand were parsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

from gannet.core.errors import InvalidArgument

__all__ = [
    "DEFAULT_READ_TIMEOUT", "MAX_HEADER_BYTES", "READ_TIMED_OUT", "ReadDeadline", "bind_socket",
    "nodelay_protocol",
]

DEFAULT_READ_TIMEOUT = 30.0  # seconds for a request (line, headers and body) to arrive
MAX_HEADER_BYTES = 64 * 1024  # request line and headers
READ_TIMED_OUT = "gannet.read_timed_out"  # set in a request's ASGI scope when it timed out


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


def nodelay_protocol(read_timeout: float = DEFAULT_READ_TIMEOUT) -> type:
    """uvicorn's fastest HTTP/1.1 protocol, setting TCP_NODELAY on each connection and
    giving each request ``read_timeout`` seconds to arrive (``ReadDeadline``)."""
    base: type
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        base = HttpToolsProtocol
    except ImportError:  # h11: its headers are bounded by h11_max_incomplete_event_size
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base = H11Protocol

    class NoDelayProtocol(base):
        def connection_made(self, transport: Any) -> None:
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().connection_made(transport)
            self.deadline = ReadDeadline(self, read_timeout)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self.deadline.after(len(data))

        def connection_lost(self, exc: Exception | None) -> None:
            self.deadline.cancel()
            super().connection_lost(exc)

    return NoDelayProtocol


class ReadDeadline:
    """One connection's deadline for its current request to arrive whole.

    It reads what uvicorn's protocol keeps (both of its HTTP/1.1 protocols): ``scope``,
    the latest request's ASGI scope, which has no ``"method"`` until its headers are in
    (httptools makes it on the first byte; h11 once the headers are in, so with h11 only
    bodies and silent connections are timed); and ``cycle``, whose ``more_body`` is true
    until its body is in.
    """

    __slots__ = ("header_bytes", "protocol", "scope", "timeout", "timer")

    def __init__(self, protocol: Any, timeout: float) -> None:
        self.protocol = protocol
        self.timeout = timeout
        self.scope: dict | None = protocol.scope  # the request the timer is for
        self.header_bytes = 0
        self.timer: asyncio.TimerHandle | None = None
        self._arm()  # a connection that sends nothing is timed too

    def after(self, size: int) -> None:
        """After the protocol parsed ``size`` more bytes: start, keep or stop the timer."""
        scope = self.protocol.scope
        if scope is not self.scope:  # a new request began
            self.cancel()
            self.scope, self.header_bytes = scope, 0
        if not self._incomplete():
            self.cancel()
            return
        if scope is not None and "method" not in scope:
            self.header_bytes += size
            if self.header_bytes > MAX_HEADER_BYTES:
                self.protocol.transport.close()
                return
        if self.timer is None:
            self._arm()

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _arm(self) -> None:
        self.timer = self.protocol.loop.call_later(self.timeout, self._expired)

    def _incomplete(self) -> bool:
        """Whether the current request has not arrived whole (or none began yet)."""
        scope = self.protocol.scope
        if scope is None or "method" not in scope:
            return True
        cycle = self.protocol.cycle
        return cycle is not None and cycle.scope is scope and cycle.more_body

    def _expired(self) -> None:
        self.timer = None
        protocol = self.protocol
        if protocol.transport.is_closing() or protocol.scope is not self.scope or \
                not self._incomplete():
            return
        cycle, scope = protocol.cycle, self.scope
        if scope is None or "method" not in scope or cycle is None or \
                cycle.scope is not scope or cycle.response_started:
            protocol.transport.close()  # no request to answer, or its answer is out
            return
        scope[READ_TIMED_OUT] = True  # the app answers 408 ...
        cycle.keep_alive = False  # ... and the connection closes after it
        cycle.message_event.set()  # wakes the app's receive()
