"""The REST API's CORS policy: which browser origins may call it, which answer headers pages may read.

The event stream is exempt (any origin, like the real server; the token is the gate).
An allowed origin is written as a browser sends it in ``Origin`` (``scheme://host[:port]``,
lower case, no default port, no slash), since quart_cors compares the two as strings:
``allowed_origin`` writes an origin given as ``https://App.example:443/`` that way and
refuses one with a path, a query or no host, which no ``Origin`` header could ever match.
``*`` allows every origin (the answer says ``Access-Control-Allow-Origin: *``; no
credentials are involved, the token is a header).
"""

import re
from urllib.parse import urlsplit

from quart_cors import cors
from quart_trio import QuartTrio

LOOPBACK_ORIGIN = re.compile(r"^https?://(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d{1,5})?$")
"""The default: any loopback origin, on any port."""
EXPOSED_HEADERS = ("Retry-After", "Allow", "WWW-Authenticate")
"""Answer headers a page's script may read besides the always-readable ones (Content-Type, ...):
when to try again after a 503, the methods a 405 names, the 401's scheme."""
_DEFAULT_PORTS = {"http": 80, "https": 443}


def allowed_origin(text: str) -> str:
    """``text`` as a browser's ``Origin`` header would say it, or ``*``; ValueError (naming the
    problem) for what is not an origin."""
    if text == "*":
        return text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or not parts.scheme or not parts.hostname or "@" in parts.netloc:
        raise ValueError("is not an origin: give scheme://host[:port], such as https://app.example:8443")
    extras = {"a path": parts.path not in ("", "/"), "a query": parts.query, "a fragment": parts.fragment}
    for extra, present in extras.items():
        if present:
            raise ValueError(f"has {extra}: an origin is scheme://host[:port] only")
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address, bracketed as in the URL
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{scheme}://{host}:{port}"


def with_cors(app: QuartTrio, origins: tuple[str | re.Pattern[str], ...]) -> QuartTrio:
    """``app`` answering CORS preflights and adding ``Access-Control-*`` for ``origins``."""
    return cors(
        app,
        allow_origin=list(origins),
        allow_headers=["Authorization", "Content-Type"],
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        expose_headers=list(EXPOSED_HEADERS),
        max_age=600,
    )
