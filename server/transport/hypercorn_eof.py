"""A keep-alive connection the client has closed is closed at once, not after Hypercorn's keep-alive timeout.

Hypercorn (0.18) reads a connection in ``TCPServer._read_data`` until the client
closes it, then leaves ``TCPServer.run``'s task group, which waits for every task
in it, the keep-alive timer among them, before closing the socket. So a client that
leaves an idle keep-alive connection (what every HTTP client pool does) leaves the
server's socket in CLOSE-WAIT for ``keep_alive_timeout`` (5 s), and an answer that
ends after the client's close restarts that timer. At a few thousand requests a
second that is thousands of descriptors held for nothing.

:func:`install` wraps both: once reading has ended, the timer is stopped, and an
idle timer started after that (the last answer has been sent) closes the
connection at once. A request still in flight is never cut: the timer runs only
while the connection is idle.
"""

import functools
from collections.abc import Awaitable, Callable

import trio
from hypercorn.trio.tcp_server import TCPServer

_INSTALLED = "_grimnir_closes_on_eof"
_READ_ENDED = "_grimnir_read_ended"


def _stopping_the_timer(
    read_data: Callable[[TCPServer], Awaitable[None]],
) -> Callable[[TCPServer], Awaitable[None]]:
    @functools.wraps(read_data)
    async def read_then_stop_timer(self: TCPServer) -> None:
        try:
            await read_data(self)
        finally:
            setattr(self, _READ_ENDED, True)
        await self.idle_task.stop()

    setattr(read_then_stop_timer, _INSTALLED, True)
    return read_then_stop_timer


def _closing_at_once(
    idle_timeout: Callable[[TCPServer], Awaitable[None]],
) -> Callable[[TCPServer], Awaitable[None]]:
    @functools.wraps(idle_timeout)
    async def idle_timeout_or_close(self: TCPServer) -> None:
        if not getattr(self, _READ_ENDED, False):
            await idle_timeout(self)
            return
        with trio.CancelScope(shield=True):
            await self._initiate_server_close()

    setattr(idle_timeout_or_close, _INSTALLED, True)
    return idle_timeout_or_close


def install() -> bool:
    """Close idle connections whose client has gone at once; False when it cannot (internals.py warns)."""
    read_data = getattr(TCPServer, "_read_data", None)
    idle_timeout = getattr(TCPServer, "_idle_timeout", None)
    if not (
        callable(read_data)
        and callable(idle_timeout)
        and callable(getattr(TCPServer, "_initiate_server_close", None))
    ):
        return False
    if not getattr(read_data, _INSTALLED, False):
        TCPServer._read_data = _stopping_the_timer(read_data)
    if not getattr(idle_timeout, _INSTALLED, False):
        TCPServer._idle_timeout = _closing_at_once(idle_timeout)
    return True
