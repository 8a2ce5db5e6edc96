"""The Icecast source protocol as the harbor speaks it: a client's request head, its credentials, the answers.

A source client sends an HTTP/1.x request head (``PUT /mount``, the legacy
``SOURCE /mount``, or ``GET /admin/metadata?…``) with HTTP Basic credentials:
the user is a DJ's id (or Icecast's usual ``source``) and the password that
DJ's ``password``. :func:`read_head` reads and parses the head within the
harbor's limits, :class:`Credentials` tells which DJ a login is (in the same
time whoever it names), and :func:`respond` gives a plain-text refusal.
"""

import base64
import binascii
import contextlib
import hashlib
import hmac
import http.client
import io
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

import attrs
import trio

from ..scenario.model import Dj, HarborLimits

REALM = "Icecast2 Server"
HEAD_READ_SIZE = 4_096
RESPOND_TIMEOUT_SECONDS = 2.0
SOURCE_METHODS = ("PUT", "SOURCE")


class Refused(Exception):
    """A request the harbor answers with ``status`` (a refusal), ``reason`` as its text."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}


class ClientGone(Exception):
    """The client closed its side before its request head was complete."""


@attrs.frozen
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: http.client.HTTPMessage
    leftover: bytes
    """What the client sent after the head (the start of its audio)."""


async def read_head(stream: trio.abc.ReceiveStream, limits: HarborLimits) -> Request:
    """Read and parse one request head, within ``limits``' size and time (431, 408, 400 otherwise)."""
    limit = limits.max_head_bytes
    buffered = bytearray()
    end = -1
    with trio.move_on_after(limits.head_timeout_seconds):
        while end < 0:
            if len(buffered) >= limit:
                raise Refused(431, "Request Header Fields Too Large")
            # Never read past the limit: what is buffered is the most a head may be.
            chunk = await stream.receive_some(min(HEAD_READ_SIZE, limit - len(buffered)))
            if not chunk:
                raise ClientGone
            searched = max(0, len(buffered) - 3)
            buffered += chunk
            end = buffered.find(b"\r\n\r\n", searched)
    if end < 0:
        raise Refused(408, "Request Timeout")
    head, leftover = bytes(buffered[:end]), bytes(buffered[end + 4 :])
    request_line, _, header_block = head.partition(b"\r\n")
    try:
        method, target, _version = request_line.decode("ascii").split(" ")
        headers = http.client.parse_headers(io.BytesIO(header_block + b"\r\n\r\n"))
    except (UnicodeDecodeError, ValueError, http.client.HTTPException):
        raise Refused(400, "Bad Request") from None
    parts = urlsplit(target)
    return Request(method.upper(), parts.path, parse_qs(parts.query), headers, leftover)


def unauthorized() -> Refused:
    """The 401 that asks for HTTP Basic credentials."""
    return Refused(401, "Authentication Required", {"WWW-Authenticate": f'Basic realm="{REALM}"'})


def basic_login(request: Request) -> tuple[str, str]:
    """The user and password of the request's HTTP Basic ``Authorization`` (:func:`unauthorized` if none)."""
    scheme, _, encoded = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        raise unauthorized()
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise unauthorized() from None
    return user, password


def _digest(text: str) -> bytes:
    # Comparing digests, not the strings, keeps the comparison's time independent of the lengths.
    return hashlib.sha256(text.encode()).digest()


class Credentials:
    """The logins of the DJs that have a password."""

    def __init__(self, djs: Iterable[Dj]) -> None:
        self._logins = [(dj, _digest(dj.key), _digest(dj.password)) for dj in djs if dj.password is not None]
        self._source_user = _digest("source")

    def match(self, user: str, password: str) -> Dj | None:
        """The DJ these credentials are, if any, in the same time whoever is asked about.

        Every DJ's id and password are compared, in constant time, whatever the
        user: a wrong guess takes as long as a right one and tells nothing about
        which DJs exist.
        """
        user_digest, password_digest = _digest(user), _digest(password)
        as_source = hmac.compare_digest(user_digest, self._source_user)
        found = None
        for dj, dj_user, dj_password in self._logins:
            # `&` and `|`, not `and` and `or`: every comparison runs.
            matches = hmac.compare_digest(password_digest, dj_password) & (
                as_source | hmac.compare_digest(user_digest, dj_user)
            )
            if matches and found is None:
                found = dj
        return found


async def respond(
    stream: trio.abc.SendStream, status: int, reason: str, headers: dict[str, str] | None = None
) -> None:
    """Answer ``status`` with ``reason`` as a plain-text body; a client that is gone or slow is let go."""
    body = (reason + "\n").encode()
    lines = [f"HTTP/1.0 {status} {reason}", "Content-Type: text/plain", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    with (
        trio.move_on_after(RESPOND_TIMEOUT_SECONDS),
        contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError),
    ):
        await stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
