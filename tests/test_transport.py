"""SocketWriter (server/transport/socket_writer.py) over real sockets, and the hub's use of it.

Every test writes through a real socket whose kernel buffers are shrunk so that
they fill after a few kilobytes, and reads the other end as a WebSocket client
would (wsproto's client-side FrameProtocol): frames must arrive whole, in order,
and byte for byte as written. Tests marked ``# Regression:`` reproduce defects
found when these tests were written (each failed on the code of that time).
"""

import contextlib
import os
import socket
from collections.abc import Awaitable, Callable

import pytest
import trio
from trio.testing import wait_all_tasks_blocked
from wsproto.frame_protocol import FrameProtocol, Opcode

from server.hub import PING_FRAME, PING_TEXT, TOO_SLOW, Hub, text_frame
from server.transport.socket_writer import SocketWriter

SMALL_BUFFER = 4096  # the kernel doubles it; a 20 kB frame never fits in one write
STEP = 1.0  # the bound on every real-time wait, in seconds
KINDS = ["unix", "tcp"]


def frame(n: int, size: int = 64) -> bytes:
    """A server-to-client text frame numbered ``n`` (its text starts with the number)."""
    return text_frame(f"{n}:" + "x" * size)


def event(n: int, size: int = 1000) -> bytes:
    """An event's JSON, as the hub's ``publish_encoded`` takes it."""
    return b'{"type":"now_playing","n":%d,"pad":"%s"}' % (n, b"x" * size)


BIG = frame(0, 20_000)  # always refused in part by a shrunken kernel buffer
CLOSE_FRAME = bytes(FrameProtocol(client=False, extensions=[]).close(TOO_SLOW, "client too slow"))
PONG_FRAME = bytes(FrameProtocol(client=False, extensions=[]).pong(b"heartbeat"))


class Peer:
    """The client's end of a connection: its raw bytes, and the messages a WebSocket client parses."""

    def __init__(self, sock: trio.socket.SocketType | None) -> None:
        self.sock = sock
        self.raw = bytearray()
        self.messages: list[tuple[str, object]] = []
        self._parser = FrameProtocol(client=True, extensions=[])
        self._pieces: list = []

    def feed(self, data: bytes) -> None:
        self.raw += data
        self._parser.receive_bytes(data)
        for piece in self._parser.received_frames():  # raises ParseFailed on a split or garbled frame
            if piece.opcode is Opcode.CLOSE:
                code, reason = piece.payload
                self.messages.append(("close", (int(code), reason)))
                continue
            self._pieces.append(piece.payload)
            if piece.message_finished:
                joined = "".join(self._pieces) if piece.opcode is Opcode.TEXT else b"".join(self._pieces)
                self.messages.append((piece.opcode.name, joined))
                self._pieces = []

    async def receive(self, count: int) -> list[tuple[str, object]]:
        """Read until ``count`` whole messages have arrived (bounded)."""
        with trio.fail_after(STEP):
            while len(self.messages) < count:
                data = await self.sock.recv(65536)
                assert data, f"the connection ended after {len(self.messages)} messages"
                self.feed(data)
        return self.messages

    def available(self) -> bytes:
        """Whatever the kernel already holds for this end, read without waiting."""
        data = read_available(self.sock)
        self.feed(data)
        return data


def read_available(sock: trio.socket.SocketType) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(sock.fileno(), 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def parse(*frames: bytes) -> list[tuple[str, object]]:
    """The messages a client parses from ``frames`` sent back to back."""
    peer = Peer(None)
    peer.feed(b"".join(frames))
    return peer.messages


class Spawner:
    """A writer's ``spawn`` callback: records the backlog tasks asked for, starts them in ``nursery``."""

    def __init__(self, nursery: trio.Nursery | None = None) -> None:
        self.nursery = nursery
        self.tasks: list[Callable[[], Awaitable[None]]] = []

    def __call__(self, task: Callable[[], Awaitable[None]]) -> None:
        self.tasks.append(task)
        if self.nursery is not None:
            self.nursery.start_soon(task)


@pytest.fixture
async def connect():
    """``await connect(kind)``: a (trio.SocketStream, Peer) pair with small kernel buffers."""
    opened: list[trio.socket.SocketType] = []

    async def connect_(kind: str = "unix", buffer: int = SMALL_BUFFER) -> tuple[trio.SocketStream, Peer]:
        if kind == "unix":
            ours, theirs = trio.socket.socketpair()
            opened.extend((ours, theirs))
        else:
            listener = trio.socket.socket()
            opened.append(listener)
            await listener.bind(("127.0.0.1", 0))
            listener.listen()
            theirs = trio.socket.socket()
            opened.append(theirs)
            theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer)  # before connecting: the window
            with trio.fail_after(STEP):
                await theirs.connect(listener.getsockname())
                ours, _ = await listener.accept()
            opened.append(ours)
            listener.close()
        for sock in (ours, theirs):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buffer)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer)
        return trio.SocketStream(ours), Peer(theirs)

    yield connect_
    for sock in opened:
        sock.close()


# -- 1. a peer that reads ------------------------------------------------------------------------


async def test_write_nowait_writes_at_once_when_the_kernel_takes_the_frame(connect):
    stream, peer = await connect(buffer=65536)
    spawn = Spawner()  # records only: nothing here may need a backlog task
    writer = SocketWriter(stream, max_waiting=2, send_timeout=STEP, spawn=spawn)
    frames = [frame(n) for n in range(5)] + [PING_FRAME]
    for each in frames:
        assert writer.write_nowait(each) is True
        assert writer.waiting == 0
    assert spawn.tasks == []
    # No checkpoint since the writes: the bytes are already in the peer's kernel buffer.
    peer.available()
    assert peer.messages == parse(*frames)
    assert peer.messages[-1] == ("TEXT", PING_TEXT)
    assert bytes(peer.raw) == b"".join(frames)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_burst_larger_than_the_kernel_buffer_reaches_a_reading_peer_whole_and_in_order(connect, kind):
    stream, peer = await connect(kind)
    frames = [frame(n, size=(n * 397) % 5000) for n in range(150)]  # ~370 kB, frames of 0-5 kB
    with trio.fail_after(STEP):
        async with trio.open_nursery() as nursery:
            writer = SocketWriter(
                stream, max_waiting=len(frames), send_timeout=STEP, spawn=nursery.start_soon
            )
            nursery.start_soon(peer.receive, len(frames))
            for n, each in enumerate(frames):
                assert writer.write_nowait(each) is True
                if n % 10 == 9:
                    await trio.sleep(0)  # let the reader and the backlog task run now and then
    assert peer.messages == parse(*frames)
    assert bytes(peer.raw) == b"".join(frames)
    assert writer.waiting == 0


# -- 2. a peer that stops reading ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_full_kernel_queues_at_most_max_waiting_frames_and_delivers_them_whole_in_order(
    connect, kind
):
    stream, peer = await connect(kind)
    queued = [frame(n) for n in (1, 2, 3)]
    with trio.fail_after(STEP):
        async with trio.open_nursery() as nursery:
            spawn = Spawner(nursery)
            writer = SocketWriter(stream, max_waiting=3, send_timeout=STEP, spawn=spawn)

            assert writer.write_nowait(BIG) is True
            assert len(spawn.tasks) == 1  # the kernel refused part of it: a backlog task was started
            assert writer.waiting == 0  # ... and took part of it: a started head is not "waiting"

            for count, each in enumerate(queued, start=1):
                assert writer.write_nowait(each) is True
                assert writer.waiting == count
            assert writer.write_nowait(frame(4)) is False  # the queue is full: dropped
            assert writer.write_nowait(frame(5)) is False
            assert writer.waiting == 3
            assert len(spawn.tasks) == 1  # one backlog task at a time

            await wait_all_tasks_blocked()  # the backlog task waits for the socket; nothing moves
            assert writer.waiting == 3

            # The peer reads: the partly written head is completed first, then the queue, whole.
            assert await peer.receive(4) == parse(BIG, *queued)
            await wait_all_tasks_blocked()
            assert writer.waiting == 0

            # Drained: the writer takes frames again.
            assert writer.write_nowait(frame(6)) is True
            await peer.receive(5)
    assert peer.messages == parse(BIG, *queued, frame(6))
    assert bytes(peer.raw) == BIG + b"".join(queued) + frame(6)


# -- 3. Hypercorn's own bytes: send_all ----------------------------------------------------------


async def test_send_all_queues_behind_waiting_frames_is_never_dropped_and_returns_once_written(connect):
    stream, peer = await connect()
    queued = [frame(n) for n in (1, 2)]
    finished = trio.Event()
    with trio.fail_after(STEP):
        async with trio.open_nursery() as nursery:
            writer = SocketWriter(stream, max_waiting=2, send_timeout=STEP, spawn=nursery.start_soon)

            async def hypercorn_closes() -> None:
                await writer.send_all(CLOSE_FRAME)
                finished.set()

            assert writer.write_nowait(BIG)
            for each in queued:
                assert writer.write_nowait(each)
            assert writer.write_nowait(frame(3)) is False  # full for the hub's frames...
            nursery.start_soon(hypercorn_closes)  # ...but not for Hypercorn's bytes
            await wait_all_tasks_blocked()
            assert not finished.is_set()  # send_all waits until its bytes are written

            assert await peer.receive(4) == [*parse(BIG, *queued), ("close", (TOO_SLOW, "client too slow"))]
            await finished.wait()
    assert bytes(peer.raw) == BIG + b"".join(queued) + CLOSE_FRAME


async def test_frames_written_while_send_all_is_partly_written_never_split_it(connect):
    stream, peer = await connect()
    after = [frame(n) for n in (1, 2, 3)]
    finished = trio.Event()
    with trio.fail_after(STEP):
        async with trio.open_nursery() as nursery:
            spawn = Spawner(nursery)
            writer = SocketWriter(stream, max_waiting=8, send_timeout=STEP, spawn=spawn)

            async def hypercorn_sends() -> None:
                await writer.send_all(BIG)  # e.g. a large frame of Hypercorn's; the kernel takes a part
                finished.set()

            nursery.start_soon(hypercorn_sends)
            await wait_all_tasks_blocked()
            assert not finished.is_set()
            assert writer.waiting == 0  # its head is started, so not counted
            for each in after:
                assert writer.write_nowait(each) is True  # queued behind the rest of send_all's bytes
            assert writer.waiting == 3

            assert await peer.receive(4) == parse(BIG, *after)
            await finished.wait()
    assert bytes(peer.raw) == BIG + b"".join(after)


async def test_send_all_writes_at_once_when_the_kernel_takes_it(connect):
    stream, peer = await connect()
    writer = SocketWriter(stream, max_waiting=2, send_timeout=STEP, spawn=Spawner())
    with trio.fail_after(STEP):
        await writer.send_all(bytearray(CLOSE_FRAME))
    assert read_available(peer.sock) == CLOSE_FRAME


# -- 4. discard_waiting -------------------------------------------------------------------------


async def test_discard_waiting_keeps_the_partly_written_head_and_drops_the_frames_behind_it(connect):
    stream, peer = await connect()
    with trio.fail_after(STEP):
        async with trio.open_nursery() as nursery:
            writer = SocketWriter(stream, max_waiting=4, send_timeout=STEP, spawn=nursery.start_soon)
            assert writer.write_nowait(BIG)
            for n in (1, 2, 3):
                assert writer.write_nowait(frame(n))
            assert writer.waiting == 3

            writer.discard_waiting()  # what the events route does for a too-slow client...
            assert writer.waiting == 0
            # ... before its close frame, which goes right after the head.
            nursery.start_soon(writer.send_all, CLOSE_FRAME)
            assert await peer.receive(2) == [*parse(BIG), ("close", (TOO_SLOW, "client too slow"))]
    assert bytes(peer.raw) == BIG + CLOSE_FRAME


async def test_discard_waiting_drops_a_head_the_kernel_has_not_started(connect):
    stream, peer = await connect("unix")  # small unix-socket writes are all or nothing
    filler = frame(0)
    filled = 0
    while True:  # fill the kernel with whole frames, behind the writer's back
        try:
            written = os.write(stream.socket.fileno(), filler)
        except BlockingIOError:
            break
        assert written == len(filler)
        filled += 1
    with trio.fail_after(STEP):
        async with trio.open_nursery() as nursery:
            spawn = Spawner(nursery)
            writer = SocketWriter(stream, max_waiting=4, send_timeout=STEP, spawn=spawn)
            assert writer.write_nowait(frame(1))
            assert len(spawn.tasks) == 1
            assert writer.waiting == 1  # the kernel took none of it: a whole, unstarted frame
            assert writer.write_nowait(frame(2))
            assert writer.waiting == 2

            writer.discard_waiting()
            assert writer.waiting == 0

            await peer.receive(filled)
            await wait_all_tasks_blocked()  # the backlog task found nothing to write
            assert writer.write_nowait(frame(3))
            await peer.receive(filled + 1)
    assert peer.messages == parse(*[filler] * filled, frame(3))
    assert bytes(peer.raw) == filler * filled + frame(3)


async def test_discard_waiting_does_not_drop_bytes_send_all_is_still_sending(connect):
    # Regression: discard_waiting() used to pop every unstarted queue entry, including bytes
    # Hypercorn queued through send_all() (whose docstring promises they are "never dropped"); the
    # pending send_all() then returned normally, as if they had been written. In the events route
    # this happened when a too-slow client pinged: Hypercorn's read task is inside send_all(pong)
    # behind the backlog when the handler calls discard_waiting(), and the pong vanished.
    stream, peer = await connect()
    finished = trio.Event()
    with trio.fail_after(STEP):
        async with trio.open_nursery() as nursery:
            writer = SocketWriter(stream, max_waiting=4, send_timeout=STEP, spawn=nursery.start_soon)

            async def hypercorn_pongs() -> None:
                await writer.send_all(PONG_FRAME)
                finished.set()

            assert writer.write_nowait(BIG)
            assert writer.write_nowait(frame(1))
            nursery.start_soon(hypercorn_pongs)
            await wait_all_tasks_blocked()
            writer.discard_waiting()  # the events route, for a client cut off as too slow
            await peer.receive(1)
            await finished.wait()  # send_all returned: its bytes should be on the wire
            peer.available()
    assert peer.messages == parse(BIG, PONG_FRAME)


async def test_no_data_frame_follows_the_close_frame(connect):
    # Regression (review): a client's Close made Hypercorn write its Close reply, but the hub kept
    # writing events until the handler heard of the disconnect, a few scheduler turns later.
    stream, peer = await connect(buffer=65536)
    writer = SocketWriter(stream, max_waiting=4, send_timeout=STEP, spawn=Spawner())
    assert writer.write_nowait(frame(1))
    await writer.send_all(CLOSE_FRAME)
    assert writer.closing == TOO_SLOW  # the code it sent, for the access log
    for n in (2, 3):
        assert writer.write_nowait(frame(n)) is True  # accepted, and discarded
    peer.available()
    assert peer.messages == parse(frame(1), CLOSE_FRAME)
    assert peer.raw == frame(1) + CLOSE_FRAME  # not a byte after it


async def test_a_close_frame_without_a_code_is_read_as_1005(connect):
    stream, _ = await connect(buffer=65536)
    writer = SocketWriter(stream, max_waiting=4, send_timeout=STEP, spawn=Spawner())
    await writer.send_all(bytes(FrameProtocol(client=False, extensions=[]).close()))
    assert writer.closing == 1005  # RFC 6455: no status code


async def test_send_all_returns_once_its_own_bytes_are_out_while_frames_keep_coming(connect):
    # Regression (review): send_all waited until the whole queue was empty, so Hypercorn's read
    # task (which writes the pong) stayed blocked while the hub kept a nearly-keeping-up client's
    # queue busy: the server stopped reading that client's pings, Close and FIN.
    stream, peer = await connect()
    returned = trio.Event()
    with trio.fail_after(STEP):
        async with trio.open_nursery() as nursery:
            writer = SocketWriter(stream, max_waiting=64, send_timeout=STEP, spawn=nursery.start_soon)

            async def hypercorn_pongs() -> None:
                await writer.send_all(PONG_FRAME)
                returned.set()

            assert writer.write_nowait(BIG)
            nursery.start_soon(hypercorn_pongs)
            await wait_all_tasks_blocked()
            n = 1
            while not returned.is_set():  # the hub adds more than the peer reads: never empty
                writer.write_nowait(frame(n))
                writer.write_nowait(frame(n + 1))
                n += 2
                with contextlib.suppress(BlockingIOError):
                    peer.feed(os.read(peer.sock.fileno(), 512))
                await trio.sleep(0.001)
            assert writer._queue  # the pong is out (in the kernel) while frames queued after it wait
            nursery.cancel_scope.cancel()
    peer.available()
    assert peer.messages[:2] == parse(BIG, PONG_FRAME)
    numbers = [int(text.split(":")[0]) for _, text in peer.messages[2:]]
    assert numbers == sorted(numbers)


async def test_discard_waiting_keeps_hypercorn_bytes_the_kernel_took_none_of(connect):
    # Regression (review): send_all on an empty queue with a full kernel queued its bytes as a
    # memoryview, which discard_waiting() did not recognise as Hypercorn's: the pong was dropped.
    stream, peer = await connect()
    while True:  # fill the kernel's buffer to the last byte, behind the writer's back
        try:
            os.write(stream.socket.fileno(), b"\x00" * 256)
        except BlockingIOError:
            break
    returned = trio.Event()
    with trio.fail_after(STEP):
        async with trio.open_nursery() as nursery:
            writer = SocketWriter(stream, max_waiting=4, send_timeout=STEP, spawn=nursery.start_soon)

            async def hypercorn_pongs() -> None:
                await writer.send_all(PONG_FRAME)
                returned.set()

            nursery.start_soon(hypercorn_pongs)
            await wait_all_tasks_blocked()
            assert writer._queue and not writer._head_started  # queued, not one byte written
            writer.discard_waiting()
            received = bytearray()
            while not returned.is_set():
                received += read_available(peer.sock)
                await trio.sleep(0.001)
    received += read_available(peer.sock)
    assert received.endswith(PONG_FRAME) and not received[: -len(PONG_FRAME)].strip(b"\x00")


# -- 5. a peer that never reads ------------------------------------------------------------------


async def test_a_peer_that_never_reads_breaks_the_writer_after_send_timeout(connect, autojump_clock):
    # MockClock works with real sockets: the backlog task blocks in wait_writable with a deadline,
    # the run loop finds nothing runnable, and the autojump clock jumps to that deadline.
    stream, peer = await connect()
    broken_at: list[float] = []
    with trio.fail_after(600):  # virtual seconds
        async with trio.open_nursery() as nursery:
            spawn = Spawner(nursery)
            writer = SocketWriter(stream, max_waiting=4, send_timeout=30.0, spawn=spawn)
            writer.on_broken = lambda: broken_at.append(trio.current_time())
            start = trio.current_time()
            assert writer.write_nowait(BIG)
            assert writer.write_nowait(frame(1))

            await trio.sleep(29)
            assert not writer.broken
            assert broken_at == []

            await trio.sleep(2)
            assert writer.broken
            assert len(broken_at) == 1
            assert 30 <= broken_at[0] - start < 31

            # From now on writes are harmless: accepted, not written, no new backlog task.
            assert writer.write_nowait(frame(2)) is True
            assert writer.write_nowait(BIG) is True
            assert len(spawn.tasks) == 1
            with pytest.raises(trio.BrokenResourceError):
                await writer.send_all(CLOSE_FRAME)
            await trio.sleep(100)
            assert len(broken_at) == 1  # on_broken is called once
    received = peer.available()
    assert 0 < len(received) < len(BIG)
    assert BIG.startswith(received)  # only the part of the head the kernel took before the peer stalled


async def test_send_all_on_a_peer_that_never_reads_raises_after_send_timeout(connect, autojump_clock):
    stream, _peer = await connect()
    writer = SocketWriter(stream, max_waiting=4, send_timeout=30.0, spawn=Spawner())
    with trio.fail_after(600):
        start = trio.current_time()
        with pytest.raises(trio.BrokenResourceError):
            await writer.send_all(BIG)
        assert 30 <= trio.current_time() - start < 31
    assert writer.broken
    assert writer.write_nowait(frame(1)) is True


@pytest.mark.parametrize("how", ["send_timeout", "aclose"])
async def test_waiting_and_discard_waiting_after_the_writer_breaks_mid_frame(connect, autojump_clock, how):
    # Regression: _break() and aclose() used to clear the queue but leave _head_started set when
    # the head frame was partly written (the usual state of a stalled client), so `waiting` becomes
    # len([]) - True == -1 and `discard_waiting()` loops on the truthy -1 and pops the empty
    # queue: IndexError. The events route calls discard_waiting() exactly then: on_broken closes
    # the subscriber with 1008, _stream_to_socket sees TOO_SLOW and calls writer.discard_waiting(),
    # so a client cut off by the send timeout makes the handler raise instead of sending its close
    # frame (Hub.settle and anything else reading `waiting` also sees -1).
    stream, _peer = await connect()
    with trio.fail_after(600):  # virtual seconds
        async with trio.open_nursery() as nursery:
            writer = SocketWriter(stream, max_waiting=4, send_timeout=30.0, spawn=Spawner(nursery))
            assert writer.write_nowait(BIG)  # partly written: the head is started
            assert writer.write_nowait(frame(1))
            if how == "send_timeout":
                await trio.sleep(31)
            else:
                await wait_all_tasks_blocked()
                nursery.cancel_scope.cancel()  # (the backlog task is not the subject here)
    if how == "aclose":
        await writer.aclose()
    assert writer.broken
    waiting = writer.waiting
    try:
        writer.discard_waiting()
        error = None
    except IndexError as exc:
        error = exc
    assert waiting == 0 and error is None, f"waiting == {waiting}, discard_waiting() raised {error!r}"


# -- 6. after aclose ----------------------------------------------------------------------------


async def test_after_aclose_nothing_is_written_to_the_reused_descriptor(connect):
    stream, _peer = await connect("unix")
    spawn = Spawner()  # records the backlog task without starting it: it runs below, after the reuse
    writer = SocketWriter(stream, max_waiting=4, send_timeout=STEP, spawn=spawn)
    broken = []
    writer.on_broken = lambda: broken.append(True)
    assert writer.write_nowait(BIG)
    assert writer.write_nowait(frame(1))
    old_fd = writer.socket.fileno()

    await writer.aclose()
    assert writer.broken

    reused, reused_peer = await connect("unix")  # the lowest free descriptors: the one just closed
    ends = (reused.socket, reused_peer.sock)
    assert old_fd in [end.fileno() for end in ends]

    with trio.fail_after(STEP):
        assert writer.write_nowait(frame(2)) is True  # harmless
        assert writer.write_nowait(BIG) is True
        with pytest.raises(trio.BrokenResourceError):
            await writer.send_all(CLOSE_FRAME)
        (backlog,) = spawn.tasks
        await backlog()  # the backlog task asked for before the close, running only now
    assert [read_available(end) for end in ends] == [b"", b""]  # not a byte on the new connection
    assert broken == []  # a connection Hypercorn closes is ending normally: not reported as too slow


async def test_aclose_while_the_backlog_task_waits_for_the_socket_does_not_crash_the_hub(connect):
    # Regression: aclose() can close the trio socket while the backlog task (started in the hub's
    # nursery by Hub.spawn) is parked in trio.lowlevel.wait_writable(self.socket) inside _flush. Closing a
    # socket makes trio raise ClosedResourceError in every task waiting on it; _flush_backlog did
    # not catch it, so it escapes into Hub.run's nursery, ends the hub (heartbeat and every other
    # writer's backlog) and propagates to the app's nursery. Hypercorn calls aclose() on its stream
    # (this writer) whenever a connection ends, e.g. a slow client that half-closes or disconnects
    # with a backlog queued, or the server closing it (TCPServer._close / _initiate_server_close).
    stream, _peer = await connect()
    hub = Hub(queue_size=4, max_dropped=4)
    crash = None
    with trio.fail_after(STEP):
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(hub.run, 60.0)
                await wait_all_tasks_blocked()
                writer = SocketWriter(stream, max_waiting=4, send_timeout=STEP, spawn=hub.spawn)
                hub.subscribe({"now_playing"}, writer)
                hub.publish_encoded([("now_playing", event(0, size=20_000))])  # partly written
                await wait_all_tasks_blocked()  # the backlog task now waits for the socket
                await writer.aclose()  # Hypercorn ends the connection
                await wait_all_tasks_blocked()
                nursery.cancel_scope.cancel()
        except* trio.ClosedResourceError as group:
            crash = group
    assert crash is None, f"Hub.run died: {crash.exceptions!r}"


# -- 7. the hub --------------------------------------------------------------------------------


async def test_the_hub_cuts_off_a_subscriber_that_never_reads_and_keeps_serving_a_reader(connect):
    hub = Hub(queue_size=3, max_dropped=4)
    slow_stream, slow_peer = await connect()
    fast_stream, fast_peer = await connect()
    sent: list[bytes] = []
    with trio.fail_after(STEP):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(hub.run, 60.0)
            await wait_all_tasks_blocked()  # Hub.spawn works from here
            slow_writer = SocketWriter(
                slow_stream, max_waiting=hub.queue_size, send_timeout=60, spawn=hub.spawn
            )
            fast_writer = SocketWriter(
                fast_stream, max_waiting=hub.queue_size, send_timeout=60, spawn=hub.spawn
            )
            slow = hub.subscribe({"now_playing"}, slow_writer)
            fast = hub.subscribe({"now_playing", "health"}, fast_writer)

            for n in range(100):
                payload = event(n)
                hub.publish_encoded([("now_playing", payload)])
                sent.append(text_frame(payload.decode()))
                # Cut off on the max_dropped-th drop in a row, not before.
                assert (slow.close_code is not None) == (slow.dropped_in_a_row >= hub.max_dropped)
                await fast_peer.receive(len(sent))  # the reader is never held back
                if slow.close_code is not None:
                    break
            assert slow.close_code == TOO_SLOW
            assert slow.cancel_scope.cancel_called
            assert slow.dropped_in_a_row == hub.max_dropped == hub.dropped
            assert fast.close_code is None
            assert fast.dropped_in_a_row == 0

            # More events after the cut: the reader still gets every one.
            for n in range(len(sent), len(sent) + 5):
                payload = event(n)
                hub.publish_encoded([("now_playing", payload), ("health", b'{"type":"health"}')])
                sent += [text_frame(payload.decode()), text_frame('{"type":"health"}')]
                await fast_peer.receive(len(sent))
            assert fast.dropped_in_a_row == 0

            # What the events route does next: drop the unsent backlog, then Hypercorn's close frame.
            slow_writer.discard_waiting()
            assert slow_writer.waiting == 0
            nursery.start_soon(slow_writer.send_all, CLOSE_FRAME)
            with trio.fail_after(STEP):
                while not slow_peer.messages or slow_peer.messages[-1][0] != "close":
                    await slow_peer.receive(len(slow_peer.messages) + 1)
            nursery.cancel_scope.cancel()

    assert fast_peer.messages == parse(*sent)
    assert bytes(fast_peer.raw) == b"".join(sent)
    # The slow client got a whole prefix of the events (those the kernel took, the head completed),
    # then the close frame; nothing split, nothing out of order.
    *events, close = slow_peer.messages
    assert close == ("close", (TOO_SLOW, "client too slow"))
    assert 0 < len(events) < len(sent)
    assert events == parse(*sent[: len(events)])
    assert bytes(slow_peer.raw) == b"".join(sent[: len(events)]) + CLOSE_FRAME


async def test_the_hub_heartbeat_sends_whole_ping_frames_between_events(connect, autojump_clock):
    hub = Hub(queue_size=4, max_dropped=4)
    stream, peer = await connect()
    with trio.fail_after(600):  # virtual seconds
        async with trio.open_nursery() as nursery:
            nursery.start_soon(hub.run, 10.0)
            await wait_all_tasks_blocked()
            writer = SocketWriter(stream, max_waiting=4, send_timeout=30, spawn=hub.spawn)
            hub.subscribe({"now_playing"}, writer, heartbeat=10.0)
            hub.publish_encoded([("now_playing", event(1))])
            await trio.sleep(15)  # one ping, at 10 s
            hub.publish_encoded([("now_playing", event(2))])
            await trio.sleep(10)  # another, at 20 s
            await peer.receive(4)
            nursery.cancel_scope.cancel()
    expected = [text_frame(event(1).decode()), PING_FRAME, text_frame(event(2).decode()), PING_FRAME]
    assert peer.messages == parse(*expected)
    assert bytes(peer.raw) == b"".join(expected)
