"""Open files: raise this process's soft limit to the hard one, and serve no more clients than it allows.

Each WebSocket client holds one descriptor. With the common soft limit of 1,024
the server would hit EMFILE long before its 10,000 connections, and an accept
that fails with EMFILE stops the whole listening port, REST included. So the
soft limit goes up to the hard one at start, and the connection limit comes down
to what fits under it with room to spare, so the next client is told
503 ``too_many_connections`` rather than the port failing for everyone.
"""

import resource

RESERVED = 512
"""Descriptors kept for everything but WebSocket clients: REST connections, the harbor (at most 64
waiting sources), Redis, log files, the listeners and Python's own."""


def raise_soft_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (if it can); return the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = 1_048_576 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # some sandboxes refuse; the limit in force is reported either way
    return soft


def clients_that_fit(max_connections: int, soft_limit: int) -> int:
    """``max_connections``, or fewer when the open-file limit cannot hold them all (at least 1)."""
    return max(1, min(max_connections, soft_limit - RESERVED))
