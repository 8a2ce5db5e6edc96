"""Hypercorn's connections leave no reference cycle behind, so refcounting frees them.

Each Hypercorn (0.18) connection is a ``TCPServer`` whose protocol objects keep
its bound ``protocol_send``: ``TCPServer.protocol`` → ``ProtocolWrapper`` (and
its ``H11Protocol``) → ``.send`` → the ``TCPServer``. A closed connection's
objects (about 30: the protocol, h11's state, the socket, locks, the
WebSocket's scope and our writer) are therefore freed only by the cyclic
collector. A long-lived connection's objects are frozen out of the collector's
sight (:mod:`server.vitals`), so freeing them once it has gone takes a full
collection of everything alive: a loop stall of 100-200 ms at 10,000
connections.

:func:`install` wraps ``TCPServer.run`` so that, once it has returned (its task
group has ended, the socket is closed, nothing of the connection runs any
more), the connection drops its protocol: the cycle is broken and the whole
connection is freed at once, frozen or not. When ``TCPServer.run`` is not
there (another Hypercorn), nothing is replaced (the startup check,
server/transport/internals.py, says so); the collector policy then finds the
connections lingering and collects them as before.
"""

import functools
from collections.abc import Awaitable, Callable

from hypercorn.trio.tcp_server import TCPServer

_INSTALLED = "_grimnir_breaks_cycles"


def _breaking_cycles(run: Callable[[TCPServer], Awaitable[None]]) -> Callable[[TCPServer], Awaitable[None]]:
    @functools.wraps(run)
    async def run_then_let_go(self: TCPServer) -> None:
        try:
            await run(self)
        finally:
            vars(self).pop("protocol", None)
            vars(self).pop("_task_group", None)

    setattr(run_then_let_go, _INSTALLED, True)
    return run_then_let_go


def install() -> bool:
    """Make every Hypercorn connection let go of its protocol when it ends; False when it cannot
    (server/transport/internals.py warns)."""
    run = getattr(TCPServer, "run", None)
    if not callable(run):
        return False
    if not getattr(run, _INSTALLED, False):
        TCPServer.run = _breaking_cycles(run)
    return True
