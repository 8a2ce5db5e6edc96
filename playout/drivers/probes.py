"""Real webstream health checks over HTTP, as the real server makes them.

A check is a ``GET`` with ``Icy-MetaData: 1``. It fails on a status >= 400, a
connection error or timeout, fewer than ``min_bytes`` within the sample window,
or a read stall longer than the stall timeout (``grimnir-facts.md``). It reads
at most ``min_bytes`` (plus one network read) and always closes its connection.
A broken or hostile server (slow or endless headers, garbage, a reset mid-body)
is a failed check, never an exception.

Checks run on the trio clock, so they work in virtual time against in-process
servers. Each URL of an ``http`` webstream is checked on its own interval grid
from the station's start; every result goes to the station core as a
:class:`~playout.protocol.inputs.ProbeResult`, where health, failover and recovery are decided.
"""

from collections.abc import Awaitable, Callable

import attrs
import httpx
import trio

from ..protocol.events import FailoverReason
from ..protocol.inputs import ProbeResult
from ..scenario.model import ProbeSettings, Scenario

USER_AGENT = "grimnir-sim-probe"
_SLACK_SECONDS = 1.0


@attrs.frozen
class CheckOutcome:
    ok: bool
    reason: FailoverReason = "connection_timeout"
    status: int | None = None
    bytes_read: int = 0


async def check_url(client: httpx.AsyncClient, url: str, settings: ProbeSettings) -> CheckOutcome:
    """One health check of one URL; never raises for anything the server does."""
    timeout = httpx.Timeout(
        connect=settings.connect_timeout_ms / 1000,
        read=settings.stall_timeout_ms / 1000,
        write=settings.connect_timeout_ms / 1000,
        pool=settings.connect_timeout_ms / 1000,
    )
    budget = (settings.connect_timeout_ms + settings.stall_timeout_ms + settings.sample_window_ms) / 1000
    status = None
    received = 0
    try:
        with trio.move_on_after(budget + _SLACK_SECONDS):
            async with client.stream("GET", url, headers={"Icy-MetaData": "1"}, timeout=timeout) as response:
                status = response.status_code
                if status >= 400:
                    return CheckOutcome(False, "http_error", status)
                with trio.move_on_after(settings.sample_window_ms / 1000):
                    async for chunk in response.aiter_raw():
                        received += len(chunk)
                        if received >= settings.min_bytes:
                            return CheckOutcome(True, status=status, bytes_read=received)
                return CheckOutcome(False, "insufficient_data", status, received)
        # Headers that never finish, slowly enough to dodge the read timeout.
        return CheckOutcome(False, "read_stall", status, received)
    except httpx.ConnectTimeout:
        return CheckOutcome(False, "connection_timeout", status, received)
    except httpx.ConnectError:
        return CheckOutcome(False, "connection_refused", status, received)
    except (httpx.ReadTimeout, httpx.PoolTimeout, httpx.WriteTimeout):
        return CheckOutcome(False, "read_stall", status, received)
    except (httpx.RemoteProtocolError, httpx.LocalProtocolError, httpx.DecodingError):
        return CheckOutcome(False, "http_error", status, received)
    except (httpx.ReadError, httpx.WriteError, httpx.CloseError):
        # Reset or closed mid-body: the stream gave less than a sample.
        reason: FailoverReason = "insufficient_data" if status is not None else "connection_refused"
        return CheckOutcome(False, reason, status, received)
    except httpx.HTTPError:
        return CheckOutcome(False, "http_error", status, received)


Submit = Callable[[ProbeResult], Awaitable[object]]


async def probe_webstreams(
    scenario: Scenario, submit: Submit, *, speed: float = 1.0, task_status=trio.TASK_STATUS_IGNORED
) -> None:
    """Check every URL of every ``http`` webstream forever, reporting each result.

    Intervals are station time; at ``speed`` N a 30 s interval is 30/N wall seconds,
    while the check's own timeouts stay wall-clock (they are about the network).
    """
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with (
        httpx.AsyncClient(limits=limits, headers={"User-Agent": USER_AGENT}, follow_redirects=True) as client,
        trio.open_nursery() as nursery,
    ):
        for webstream in scenario.webstreams.values():
            if webstream.probe.kind != "http":
                continue
            for index, url in enumerate(webstream.urls):
                nursery.start_soon(
                    _probe_url, client, webstream.key, index, url, webstream.probe, submit, speed
                )
        task_status.started()


async def _probe_url(
    client: httpx.AsyncClient,
    webstream: str,
    index: int,
    url: str,
    settings: ProbeSettings,
    submit: Submit,
    speed: float,
) -> None:
    interval = settings.interval_ms / 1000 / speed
    next_check = trio.current_time()
    while True:
        outcome = await check_url(client, url, settings)
        await submit(ProbeResult(webstream=webstream, url=index, ok=outcome.ok, reason=outcome.reason))
        next_check += interval
        # A check that overran its slot skips to the next point of its grid.
        while next_check < trio.current_time():
            next_check += interval
        await trio.sleep_until(next_check)
