"""Several server processes, one station: its events relayed through a Redis stream.

``grimnir-sim serve --redis URL`` runs the station (``--role station``, the
default) and appends each event it emits, once, to a Redis stream; ``--role
edge`` runs no station, follows that stream and fans each event out to its own
WebSocket clients. One stream, appended by one station, so every client of
every process sees the events in the station's order.

Why a stream (XADD/XREAD) and not PUBLISH: a stream keeps the recent past, so a
follower that loses Redis for a moment resumes from the last entry it read and
misses nothing; an edge that restarts starts at the stream's end (its new
clients see what happens from then on, as with any new connection) while the
station runs on. The stream is trimmed to about ``STREAM_LENGTH`` entries.

The pieces: reaching Redis and riding out its outages
(:mod:`server.relay.connection`), the station's side, which never waits for
Redis (:mod:`server.relay.publisher`), an edge's side
(:mod:`server.relay.follower`) and what it hands on
(:mod:`server.relay.entries`).
"""
