"""SocketStream: what one socket is sent of the answers it watches, whatever order events arrive in."""

from __future__ import annotations

from playground.chat.stream_state import SocketStream


def delta(seq: int, message: int = 7) -> dict:
    return {"type": "delta", "message": message, "seq": seq, "text": f"t{seq}"}


def snapshot(seq: int, message: int = 7) -> dict:
    return {"type": "snapshot", "message": message, "seq": seq, "text": "".join(f"t{n}" for n in range(1, seq + 1))}


def fed(stream: SocketStream, *events: dict) -> list:
    return [out for event in events for out in stream.admit(event)]


def test_a_new_answer_passes_each_delta_once_in_order():
    stream = SocketStream([])
    started = {"type": "started", "message": 7}
    assert fed(stream, started, delta(1), delta(2), delta(2), delta(1), delta(3)) == [
        started,
        delta(1),
        delta(2),
        delta(3),
    ]


def test_deltas_of_an_answer_streaming_at_connect_wait_for_its_snapshot_then_only_newer_ones_pass():
    stream = SocketStream([7])
    assert fed(stream, delta(3), delta(4)) == []
    assert fed(stream, snapshot(3)) == [snapshot(3), delta(4)]
    assert fed(stream, delta(4), delta(5)) == [delta(5)]


def test_an_older_snapshot_after_newer_deltas_is_not_sent():
    stream = SocketStream([])
    fed(stream, {"type": "started", "message": 7}, delta(1), delta(2))
    assert fed(stream, snapshot(1), snapshot(2)) == []
    assert fed(stream, snapshot(3)) == [snapshot(3)]


def test_nothing_of_an_answer_passes_after_its_end():
    stream = SocketStream([7])
    done = {"type": "done", "message": 7, "status": "done"}
    assert fed(stream, done) == [done]
    assert fed(stream, snapshot(2), delta(3), {"type": "started", "message": 7}) == []


def test_a_late_started_from_another_worker_does_not_restart_an_answer():
    stream = SocketStream([])
    started = {"type": "started", "message": 7}
    fed(stream, started, delta(1))
    assert fed(stream, started, delta(1), delta(2)) == [delta(2)]


def test_answers_are_kept_apart_and_other_events_pass():
    stream = SocketStream([8])
    notice = {"type": "error", "error": "Too many messages at once; wait a moment and try again."}
    assert fed(stream, {"type": "started", "message": 7}, delta(1, 8), delta(1), notice) == [
        {"type": "started", "message": 7},
        delta(1),
        notice,
    ]
