"""Reaching Redis, for both sides of the relay: where it is, what an outage raises, how to wait it out.

Redis can require a password (``redis://:PASSWORD@host:6379``) and TLS
(``rediss://``; the server's certificate is checked against the system's CAs or
``--redis-ca FILE``, and its host name against the URL's). Messages show the
URL with the password masked.
"""

import logging
import ssl
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs
import coredis
import coredis.exceptions
import trio

from playout import first_leaf

DEFAULT_STREAM = "grimnir-sim:events"
READ_COUNT = 1_000
"""The most entries a follower reads at once, and a station appends in one pipeline (so resends too)."""
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
CONNECT_SECONDS = 5.0
IO_SECONDS = 5.0
"""The longest any one Redis call may take beyond its own blocking time; longer counts as an outage
(a connection that died without a reset would otherwise wait forever)."""

log = logging.getLogger("grimnir_sim.relay")
Encoded = list[tuple[str, bytes]]
REDIS_ERRORS = (coredis.exceptions.RedisError, TimeoutError, OSError, trio.TooSlowError)
"""What an outage raises (coredis raises them in exception groups, from its anyio task groups)."""


class RelayError(Exception):
    """Unusable Redis settings, or Redis cannot be reached at start-up (later outages are retried)."""


@attrs.frozen
class RedisTarget:
    """Where Redis is (the URL, a password in it if any) and, for ``rediss://``, how to trust it."""

    url: str
    tls: ssl.SSLContext | None = None

    @classmethod
    def parse(cls, url: str, ca_file: str | None = None) -> "RedisTarget":
        """``--redis URL`` and ``--redis-ca FILE``, checked (no connection yet); RelayError if unusable."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 (what raises on a port that is not a number)
        except ValueError as exc:
            raise RelayError(f"--redis: {exc}") from None
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise RelayError(
                f"--redis takes a redis:// URL (e.g. redis://127.0.0.1:6379), not {_masked(url)!r}"
            )
        tls = None
        if parts.scheme == "rediss":
            if any(name.startswith("ssl_") for name, _ in parse_qsl(parts.query)):
                raise RelayError("--redis: give the CA with --redis-ca FILE, not ssl_* parameters in the URL")
            try:
                tls = ssl.create_default_context(cafile=ca_file)  # certificate and host name checked
            except OSError as exc:  # (ssl.SSLError is one: a file that holds no certificate)
                raise RelayError(f"--redis-ca {ca_file}: {exc.strerror or exc}") from None
        elif ca_file is not None:
            raise RelayError("--redis-ca is for TLS: give a rediss:// URL")
        target = cls(url, tls)
        target.client()  # a bad port or database number is refused now, not at each connection
        return target

    @property
    def shown(self) -> str:
        """The URL with its password masked: what messages show."""
        return _masked(self.url)

    def client(self) -> coredis.Redis:
        """A new client (it connects when first used); a password may be percent-encoded (%2F for /)."""
        try:
            if self.tls is not None:
                return coredis.Redis.from_url(self.url, decode_components=True, ssl_context=self.tls)
            return coredis.Redis.from_url(self.url, decode_components=True)
        except ValueError as exc:
            raise RelayError(f"--redis: {exc}") from None


def _masked(url: str) -> str:
    """``url`` with the password of its user part and of a ``password`` parameter replaced by ***."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if parts.password is None and all(name != "password" for name, _ in query):
        return url
    if parts.password is not None:
        user_part, _, host_part = parts.netloc.rpartition("@")
        parts = parts._replace(netloc=f"{user_part.partition(':')[0]}:***@{host_part}")
    masked = [(name, "***" if name == "password" else value) for name, value in query]
    return urlunsplit(parts._replace(query=urlencode(masked, safe="*")))


def described(failure: BaseException) -> str:
    """An outage's cause in a few words (a TLS failure's reason, which coredis keeps as the cause)."""
    text = str(failure) or type(failure).__name__
    if isinstance(failure.__cause__, ssl.SSLError):
        text += f" ({failure.__cause__})"
    return text


async def check_reachable(redis: RedisTarget) -> None:
    """Fail early and clearly when nothing answers at ``redis``, or it refuses the password or TLS."""
    failure: BaseException | None = None
    try:
        with trio.fail_after(CONNECT_SECONDS):
            async with redis.client() as client:
                await client.ping()
    except* REDIS_ERRORS as group:
        failure = first_leaf(group)
    if failure is not None and _interrupted(failure):
        # Ctrl-C can land inside the client's connect, whose cleanup then fails in its place:
        # the interrupt is what happened (one line and 130, not "cannot reach Redis").
        raise KeyboardInterrupt
    if isinstance(failure, coredis.exceptions.AuthenticationRequiredError):
        raise RelayError(
            f"Redis at {redis.shown} wants a password: give it in the URL, e.g. redis://:PASSWORD@host:6379"
        )
    if isinstance(failure, coredis.exceptions.AuthenticationError):
        raise RelayError(f"Redis at {redis.shown} refused the user or password in the URL: {failure}")
    if failure is not None:
        raise RelayError(f"cannot reach Redis at {redis.shown}: {described(failure)}")


def _interrupted(failure: BaseException) -> bool:
    """Whether a KeyboardInterrupt is among the exceptions ``failure`` was raised from or during."""
    seen: set[int] = set()
    cause: BaseException | None = failure
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


async def wait_to_retry(redis: RedisTarget, group: BaseExceptionGroup, failures: int) -> None:
    """Log an outage and wait before reconnecting: longer after each failure in a row (1 and up)."""
    delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1]
    log.warning("Redis at %s: %s; retrying in %gs", redis.shown, described(first_leaf(group)), delay)
    await trio.sleep(delay)


def station_url_key(stream: str) -> str:
    """Where the station records its REST base URL, beside its stream."""
    return f"{stream}:station-url"
