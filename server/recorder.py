"""``grimnir-sim record``'s client: what a server's event stream sends, written as a recording.

One WebSocket client (trio-websocket) for any server that speaks the protocol: this one
in either wire profile, or the real Grimnir server. Each message goes to the
recording (``playout/protocol/recording.py``) with its receipt time on trio's clock, as
soon as it arrives. When the connection is lost the recording gets a gap marker and
the client reconnects with the protocol's backoff (websocket-events.txt, "Reconnection
Strategy": 1 s, then twice as long each time up to 30 s, back to 1 s once connected).
Only the first connection must succeed: a server that cannot be reached or refuses it
then is :class:`Unreachable`. Told no profile, it asks the server once that connection is
open (:func:`server_profile`): this simulator says which it serves, any other is unknown.
"""

import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

import attrs
import httpx
import trio
import trio_websocket

from playout import ALL_EVENT_TYPES, PROFILES, UsageError, recording

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0
SIM_SERVER_PATH = "/api/v1/sim/server"
ASK_SECONDS = 5.0

Connect = Callable[
    [str, list[tuple[bytes, bytes]]], AbstractAsyncContextManager[trio_websocket.WebSocketConnection]
]
"""Opens a WebSocket to a URL with extra request headers (trio-websocket's, or a test's)."""


class Unreachable(UsageError):
    """The first connection failed: the server could not be reached, or refused the upgrade (the
    command line's one line and status 2)."""


def _open(
    url: str, headers: list[tuple[bytes, bytes]]
) -> AbstractAsyncContextManager[trio_websocket.WebSocketConnection]:
    return trio_websocket.open_websocket_url(url, extra_headers=headers)


def _stderr(line: str) -> None:
    print(f"grimnir-sim: {line}", file=sys.stderr, flush=True)


def with_every_type(url: str) -> str:
    """``url``, asking for every type any profile sends unless it names its own ``types``.

    The protocol's default is ``now_playing`` and ``health`` only; names a server does not
    know are ignored (websocket-events.txt), so the real server takes the list too.
    """
    parts = urlsplit(url)
    if any(name == "types" for name, _ in parse_qsl(parts.query, keep_blank_values=True)):
        return url
    asked = "types=" + ",".join(ALL_EVENT_TYPES)
    return parts._replace(query=f"{parts.query}&{asked}" if parts.query else asked).geturl()


async def server_profile(url: str, token: str | None) -> str | None:
    """The wire profile the server of the event stream ``url`` serves, as this simulator's
    ``GET /api/v1/sim/server`` says (with the token, given or in the URL); None from any other
    server (the real one has no such path) or when it cannot say."""
    parts = urlsplit(url)
    token = token or dict(parse_qsl(parts.query)).get("token")
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    asked = parts._replace(scheme=scheme, path=SIM_SERVER_PATH, query="", fragment="").geturl()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with httpx.AsyncClient(timeout=ASK_SECONDS) as client:
            answer = await client.get(asked, headers=headers)
        body = answer.json() if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    profile = body.get("profile") if isinstance(body, dict) else None
    return profile if profile in PROFILES else None


def describe_failure(url: str, failure: Exception) -> str:
    """One line: why connecting to ``url`` failed, with the HTTP status when the server answered."""
    shown = recording.without_token(url)
    if isinstance(failure, trio_websocket.ConnectionRejected):
        try:
            phrase = f" {HTTPStatus(failure.status_code).phrase}"
        except ValueError:
            phrase = ""
        return f"{shown} refused the connection: {failure.status_code}{phrase}"
    cause: BaseException = failure
    # Down to the socket's own error: trio-websocket's HandshakeError, trio's OSError for all the
    # addresses it tried, the group of each attempt's, the first attempt's.
    while cause.__cause__ is not None or isinstance(cause, BaseExceptionGroup):
        cause = cause.exceptions[0] if isinstance(cause, BaseExceptionGroup) else cause.__cause__
    reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
    return f"cannot connect to {shown}: {reason or type(cause).__name__}"


def _closed(reason: trio_websocket.CloseReason | None) -> str:
    if reason is None:
        return "connection lost"
    text = f" ({reason.reason})" if reason.reason else ""
    return f"closed {reason.code}{text}"


@attrs.define
class Recorder:
    """Records ``url`` into ``write`` (each line as one call) until cancelled."""

    url: str
    write: Callable[[bytes], None]
    token: str | None = None
    profile: str | None = None
    """The server's wire profile, as the header should name it (None: unknown)."""
    identify: Callable[[], Awaitable[str | None]] | None = None
    """Asked for the profile once the first connection is open, when ``profile`` is None."""
    connect: Connect = _open
    say: Callable[[str], None] = _stderr
    messages: int = 0
    gaps: int = 0
    skipped: int = 0
    """Messages that were no JSON message with a type (not recorded)."""

    async def run(self, started: Callable[[], str], *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Connect, then record (and reconnect) until cancelled; ``task_status.started()`` once connected.

        ``started`` gives the wall-clock instant (RFC 3339) for the header, asked once the first
        connection is open; receipt times are on trio's clock from then.
        """
        url = with_every_type(self.url)
        headers = [(b"authorization", b"Bearer " + self.token.encode())] if self.token else []
        origin: float | None = None
        delay = FIRST_RETRY_SECONDS
        while True:
            try:
                async with self.connect(url, headers) as socket:
                    if origin is None:
                        if self.profile is None and self.identify is not None:
                            self.profile = await self.identify()
                        origin = trio.current_time()
                        self.write(recording.header_line(url, self.profile, started()))
                        task_status.started()
                    elif self.gaps:
                        self.say(f"reconnected to {recording.without_token(self.url)}")
                    delay = FIRST_RETRY_SECONDS
                    reason = await self._receive(socket, origin)
            except (trio_websocket.HandshakeError, OSError) as failure:
                if origin is None:
                    raise Unreachable(describe_failure(self.url, failure)) from None
                self.say(f"{describe_failure(self.url, failure)}; retrying in {delay:g}s")
            else:
                self.gaps += 1
                self.write(recording.gap_line(self._ms(origin), reason))
                self.say(f"{reason}; reconnecting in {delay:g}s")
            await trio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)

    async def _receive(self, socket: trio_websocket.WebSocketConnection, origin: float) -> str:
        """Record what ``socket`` sends until it closes; the reason it closed."""
        while True:
            try:
                text = await socket.get_message()
            except trio_websocket.ConnectionClosed as closed:
                return _closed(closed.reason)
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            kind = recording.message_type(text)
            if kind == "ping":  # the connection's heartbeat, not the station's: a replay has its own
                continue
            if kind is None:
                self.skipped += 1
                if self.skipped == 1:
                    self.say("skipping a message that is no JSON message with a type (and any more)")
                continue
            self.messages += 1
            self.write(recording.message_line(self._ms(origin), text))

    @staticmethod
    def _ms(origin: float) -> int:
        return round((trio.current_time() - origin) * 1000)
