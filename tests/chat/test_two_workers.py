"""Two Daphne worker processes sharing PostgreSQL and Redis, as a multi-worker deployment runs.

A watcher on worker B sees the whole answer that a send on worker A started, with no gap
and no duplicate; a socket opened on B mid-stream catches up from A's snapshot; Stop sent
on B cancels the generation running on A. Runs in `make test`'s PostgreSQL pass (the
`postgres` mark keeps it out of the SQLite pass).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from playground.chat.models import Message
from tests.processes import free_port, wait_until_listening
from tests.services import REDIS_URL, require

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
DAPHNE = Path(sys.executable).with_name("daphne")


def _start_worker(env: dict[str, str]) -> tuple[subprocess.Popen, int, object]:
    port = free_port()
    output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by the fixture, after the worker stops)
    process = subprocess.Popen(
        [str(DAPHNE), "-b", "127.0.0.1", "-p", str(port), "playground.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    wait_until_listening(process, port, "Daphne worker", output=output)
    return process, port, output


def worker_env(django_db_blocker, redis_url: str) -> dict[str, str]:
    """The environment of a Daphne worker on the test database and the Redis at `redis_url`."""
    require("postgres")
    with django_db_blocker.unblock():
        db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip(
            "Multi-worker tests run on PostgreSQL: `make test` runs them in its PostgreSQL pass "
            "(or set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)"
        )
    database_url = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PLAYGROUND_DATA_DIR": str(settings.DATA_DIR),  # the same encryption keys as this process
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    }


def stop_workers(started) -> None:
    for process, _, output in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        output.close()


@pytest.fixture(scope="module")
def workers(django_db_setup, django_db_blocker):
    """Ports of two Daphne processes on the test database and Redis."""
    require("redis")
    env = worker_env(django_db_blocker, REDIS_URL)
    started = [_start_worker(env), _start_worker(env)]
    yield [port for _, port, _ in started]
    stop_workers(started)


async def frames_until_done(socket, timeout: float = 30) -> list[dict]:
    frames = []
    async with asyncio.timeout(timeout):
        async for raw in socket:
            frame = json.loads(raw)
            frames.append(frame)
            if frame["type"] == "done":
                return frames
    raise AssertionError(f"The socket closed before the answer ended: {frames[-3:]}")


async def first_frame(socket, kind: str, timeout: float = 15) -> tuple[dict, list[dict]]:
    seen = []
    async with asyncio.timeout(timeout):
        async for raw in socket:
            frame = json.loads(raw)
            seen.append(frame)
            if frame["type"] == kind:
                return frame, seen
    raise AssertionError(f"No {kind} frame: {seen[-3:]}")


def text_and_seqs(frames: list[dict]) -> tuple[str, list[int]]:
    deltas = [frame for frame in frames if frame["type"] == "delta"]
    return "".join(frame["text"] for frame in deltas), [frame["seq"] for frame in deltas]


async def test_a_watcher_on_another_worker_sees_the_whole_answer(workers, conversation, open_socket):
    port_a, port_b = workers
    # Open means in the group: a socket's first frame comes after its group join.
    watcher = await open_socket(port_b, conversation, who="viewer")
    sender = await open_socket(port_a, conversation)
    await sender.send(json.dumps({"type": "send", "text": "Show me a list please"}))
    sent, watched = await asyncio.gather(frames_until_done(sender), frames_until_done(watcher))
    await sender.close()
    await watcher.close()

    assert watched[0]["type"] == "started" and watched[0]["question"]["text"] == "Show me a list please"
    text_a, _ = text_and_seqs(sent)
    text_b, seqs_b = text_and_seqs(watched)
    message = await sync_to_async(Message.objects.get)(pk=watched[0]["message"])
    assert message.status == "done" and text_b == text_a == message.content and "- " in text_b
    assert seqs_b == list(range(1, len(seqs_b) + 1))
    assert watched[-1]["status"] == "done"


async def test_a_socket_opened_mid_stream_on_another_worker_catches_up(workers, long_conversation, open_socket):
    port_a, port_b = workers
    sender = await open_socket(port_a, long_conversation)
    await sender.send(json.dumps({"type": "send", "text": "Tell me everything"}))
    _, before = await first_frame(sender, "delta")
    late = await open_socket(port_b, long_conversation, who="viewer")
    snapshot, _ = await first_frame(late, "snapshot")
    rest = await frames_until_done(late, timeout=60)
    sent = before + await frames_until_done(sender, timeout=60)
    await sender.close()
    await late.close()

    whole, _ = text_and_seqs(sent)
    tail, seqs = text_and_seqs(rest)
    assert snapshot["text"] + tail == whole
    assert seqs == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(seqs)))


async def test_stop_on_another_worker_cancels_the_answer_and_keeps_its_text(workers, long_conversation, open_socket):
    port_a, port_b = workers
    watcher = await open_socket(port_b, long_conversation)
    sender = await open_socket(port_a, long_conversation)
    await sender.send(json.dumps({"type": "send", "text": "Tell me everything"}))
    delta, before = await first_frame(watcher, "delta")
    await watcher.send(json.dumps({"type": "stop", "message": delta["message"]}))
    sent = await frames_until_done(sender, timeout=60)
    watched = before + await frames_until_done(watcher, timeout=60)
    await sender.close()
    await watcher.close()

    assert sent[-1]["status"] == "stopped" and watched[-1]["status"] == "stopped"
    message = await sync_to_async(Message.objects.get)(pk=delta["message"])
    text, _ = text_and_seqs(sent)
    assert message.status == "stopped" and message.content == text == text_and_seqs(watched)[0]
    assert 0 < len(text) < 10_000  # the 3,000-token answer was cut short
