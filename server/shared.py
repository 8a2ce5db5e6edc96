"""One served station shared by many tests: in a thread of its own, reset between tests.

pytest-trio runs each test in its own ``trio.run``, so a server that outlives a test
cannot live in the test's loop; it gets a thread and a trio loop of its own, and tests
talk to it as any client does (HTTP, WebSocket, a browser). Between tests it is reset
(``StationService.reset``, what ``POST /api/v1/sim/reset`` does): each test starts from
the entry point with a fresh timeline, without the cost of a server start.
"""

import threading
from collections.abc import Callable, Hashable, Iterable
from pathlib import PurePath

import pytest
import trio

from .auth import SigningKey, mint
from .serve import RunningServer, serve
from .service import StationService

_SHARED = pytest.StashKey[dict[Hashable, "SharedServer"]]()


class SharedServer:
    """A station served on loopback from a thread of its own: ``url``, ``events_url``, ``token``.

    No ``expect`` or ``advance`` (the station is another thread's): advance it with
    ``POST /api/v1/sim/advance`` and its ``token``, as any client (docs/testing.md).
    """

    def __init__(self, make_service: Callable[[SigningKey], StationService], roles: Iterable[str]) -> None:
        key = SigningKey.generate()
        self.service = make_service(key)
        self.token = mint(key, roles=tuple(roles))
        self.resets = 0
        """Times it was reset, in all."""
        self._ready = threading.Event()
        self._trio_token: trio.lowlevel.TrioToken | None = None
        self._running: RunningServer | None = None
        self._stop: trio.Event | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="grimnir-shared-server", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise RuntimeError("the shared server did not start") from self._failure
        assert self._running is not None
        self.url = self._running.url
        self.events_url = self._running.events_url

    def events_url_with(self, types: Iterable[str] = ()) -> str:
        """The events URL with the token and, if given, a ``types`` filter."""
        query = f"token={self.token}"
        if types:
            query = f"types={','.join(types)}&" + query
        return f"{self.events_url}?{query}"

    def reset(self) -> str:
        """Back to the entry point with a fresh timeline (blocks; call it from a thread, not a loop).

        Returns the station's time. Clients stay connected (docs/protocol.md, "Reset").
        """
        snapshot = trio.from_thread.run(self.service.reset, trio_token=self._trio_token)
        self.resets += 1
        return snapshot.station_time

    def stop(self) -> None:
        """Stop serving (clients are closed as a stopping server closes them) and end the thread."""
        if self._stop is not None and self._thread.is_alive():
            trio.from_thread.run_sync(self._stop.set, trio_token=self._trio_token)
        self._thread.join(timeout=30)

    def _main(self) -> None:
        try:
            trio.run(self._serve)
        except BaseException as failure:  # told to the starting test, else the server just stops
            self._failure = failure
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._trio_token = trio.lowlevel.current_trio_token()
        self._stop = trio.Event()
        async with trio.open_nursery() as nursery:
            self._running = await nursery.start(_serve_on_loopback, self.service)
            self._ready.set()
            await self._stop.wait()
            await self._running.stop()
            nursery.cancel_scope.cancel()


async def _serve_on_loopback(service: StationService, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    await serve(service, host="127.0.0.1", port=0, task_status=task_status)


def shared_server(
    config: pytest.Config,
    key: Hashable,
    make_service: Callable[[SigningKey], StationService],
    roles: Iterable[str] = ("admin",),
) -> tuple[SharedServer, bool]:
    """The session's server for ``key``, started on first use; and whether it was just started."""
    servers = config.stash.setdefault(_SHARED, {})
    if key in servers:
        return servers[key], False
    servers[key] = SharedServer(make_service, roles)
    return servers[key], True


def stop_shared_servers(config: pytest.Config) -> None:
    """Stop every shared server of the session (at its end)."""
    for server in config.stash.get(_SHARED, {}).values():
        server.stop()


def scenario_key(scenario: object) -> Hashable:
    """What identifies a scenario argument: a name, path or TOML text by its text, an object by
    its identity (the shared server's service keeps it alive)."""
    return str(scenario) if isinstance(scenario, str | PurePath) else id(scenario)
