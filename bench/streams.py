"""The chat relay under load: the app under Daphne, the demo upstream and the clients each in
their own process, over real sockets.

- `relay_ttft_overhead_p50_ms` / `_p99_ms`: 100 concurrent streams; time to the first token
  through our websocket minus time to the first token reading the same upstream directly
  (alternating rounds, same run, same demo model and pace).
- `streams_1000_*`: 1,000 concurrent 500-token answers at 20 tokens/s, one websocket each;
  how many completed with exactly the text the upstream sent (checked against the saved
  answer and against a direct read of the same deterministic answer), the server's memory
  growth and CPU time.

Run alone with `python -m bench.run streams`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TTFT_STREAMS = 100
TTFT_ROUNDS = 3
MANY_STREAMS = 1000
MANY_TOKENS = 500
TOKENS_PER_S = 20
SESSION_COOKIE = "sessionid"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(process: subprocess.Popen, port: int, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{what} did not start")


def env_for(data_dir: str, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return {
        **base,
        "DJANGO_SETTINGS_MODULE": "playground.settings",
        "PLAYGROUND_DATA_DIR": data_dir,
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def setup(demo_url: str, users: int, model: str, params: dict) -> None:
    """In a child process: users, a provider on the demo, one conversation per user; print
    their ids and session cookies as JSON. (Each user has their own per-user send budget.)"""
    import django

    django.setup()
    from django.test import Client

    from playground.accounts.models import Membership, Project, Role, Team, User
    from playground.chat.models import Conversation
    from playground.providers.services import demo_provider_create

    team = Team.objects.create(name="Bench")
    project = Project.objects.create(team=team, name="Bench")
    provider = demo_provider_create(team=team, by_user=None)
    provider.base_url = demo_url  # the demo in its own process, as the issue asks
    provider.save(update_fields=["base_url"])
    people = User.objects.bulk_create(User(username=f"bench{n}") for n in range(users))
    Membership.objects.bulk_create(Membership(team=team, user=person, role=Role.MEMBER) for person in people)
    found = []
    for person in people:
        conversation = Conversation.objects.create(project=project, provider=provider, model=model, params=params)
        client = Client()
        client.force_login(person)
        found.append({"conversation": conversation.pk, "cookie": client.cookies[SESSION_COOKIE].value})
    print(json.dumps(found))


class Servers:
    """The demo upstream and the app under Daphne, on a fresh SQLite database."""

    def __init__(self, users: int, model: str, params: dict, demo_env: dict[str, str]) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="playground-bench-")
        self.env = env_for(self.tmp.name)
        demo_port, app_port = free_port(), free_port()
        self.demo = subprocess.Popen(
            [sys.executable, "manage.py", "demo_upstream", "--port", str(demo_port)],
            cwd=ROOT,
            env={**self.env, **demo_env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_listening(self.demo, demo_port, "the demo upstream")
        self.demo_url = f"http://127.0.0.1:{demo_port}/demo/v1"
        run = {"cwd": ROOT, "env": self.env, "check": True, "capture_output": True, "text": True}
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], **run)
        code = f"from bench.streams import setup; setup({self.demo_url!r}, {users}, {model!r}, {params!r})"
        self.sessions = json.loads(subprocess.run([sys.executable, "-c", code], **run).stdout)
        self.app = subprocess.Popen(
            [str(Path(sys.executable).with_name("daphne")), "-b", "127.0.0.1", "-p", str(app_port)]
            + ["playground.asgi:application"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_listening(self.app, app_port, "Daphne")
        self.app_port = app_port

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.app.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.app.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        for process in (self.app, self.demo):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.tmp.cleanup()


async def direct_first_token(client: httpx.AsyncClient, url: str, body: dict) -> tuple[float, str]:
    """Seconds to the first text chunk reading the upstream directly, and the whole text."""
    started = time.perf_counter()
    first = None
    parts = []
    async with client.stream("POST", url, json={**body, "stream": True}, headers={"Authorization": "Bearer b"}) as r:
        async for line in r.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            for choice in chunk.get("choices") or ():
                text = (choice.get("delta") or {}).get("content")
                if text:
                    first = first or time.perf_counter() - started
                    parts.append(text)
    return first, "".join(parts)


async def relay_stream(port: int, session: dict, text: str, *, first_only: bool = False) -> tuple[float, str, str]:
    """Through our websocket: seconds to the first delta, the text received, the final status."""
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}/ws/chat/{session['conversation']}/"
    headers = {"Cookie": f"{SESSION_COOKIE}={session['cookie']}"}
    async with connect(url, origin=f"http://127.0.0.1:{port}", additional_headers=headers, open_timeout=60) as ws:
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "send", "text": text}))
        first, parts, last_seq = None, [], 0
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "delta" and frame["seq"] == last_seq + 1:
                last_seq = frame["seq"]
                first = first or time.perf_counter() - started
                parts.append(frame["text"])
            elif frame["type"] == "done":
                return first, "".join(parts), frame["status"]
            elif frame["type"] == "error":
                return first, "".join(parts), "error: " + frame["error"]
    return first, "".join(parts), "closed"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure_ttft(servers: Servers) -> dict[str, float]:
    body = {"model": "demo-chat", "messages": [{"role": "user", "content": "Hello"}]}
    direct, relayed = [], []
    limits = httpx.Limits(max_connections=TTFT_STREAMS * 2)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        for round_number in range(TTFT_ROUNDS):
            results = await asyncio.gather(
                *(direct_first_token(client, f"{servers.demo_url}/chat/completions", body) for _ in range(TTFT_STREAMS))
            )
            direct += [first for first, _ in results]
            sessions = servers.sessions[round_number * TTFT_STREAMS : (round_number + 1) * TTFT_STREAMS]
            results = await asyncio.gather(*(relay_stream(servers.app_port, s, "Hello") for s in sessions))
            relayed += [first for first, _, status in results if first is not None and status == "done"]
    return {
        "relay_ttft_overhead_p50_ms": (percentile(relayed, 0.5) - percentile(direct, 0.5)) * 1000,
        "relay_ttft_overhead_p99_ms": (percentile(relayed, 0.99) - percentile(direct, 0.99)) * 1000,
        "relay_ttft_p50_ms": percentile(relayed, 0.5) * 1000,
        "direct_ttft_p50_ms": percentile(direct, 0.5) * 1000,
        "relay_ttft_streams_ok": len(relayed),
    }


async def measure_many(servers: Servers) -> dict[str, float]:
    prompt = "Tell me everything"
    body = {"model": "demo-long", "messages": [{"role": "user", "content": prompt}], "max_tokens": MANY_TOKENS}
    async with httpx.AsyncClient(timeout=120) as client:
        _, expected = await direct_first_token(client, f"{servers.demo_url}/chat/completions", body)
    rss_before, cpu_before = servers.rss_mb(), servers.cpu_s()
    peak = rss_before
    started = time.perf_counter()

    async def sample_memory() -> None:
        nonlocal peak
        while True:
            peak = max(peak, servers.rss_mb())
            await asyncio.sleep(0.5)

    sampler = asyncio.get_running_loop().create_task(sample_memory())
    results = await asyncio.gather(
        *(relay_stream(servers.app_port, s, prompt) for s in servers.sessions[:MANY_STREAMS]), return_exceptions=True
    )
    sampler.cancel()
    seconds = time.perf_counter() - started
    complete = sum(1 for r in results if not isinstance(r, BaseException) and r[2] == "done" and r[1] == expected)
    return {
        "streams_1000_complete": complete,
        "streams_1000_rss_mb": peak - rss_before,
        "streams_1000_cpu_s": servers.cpu_s() - cpu_before,
        "streams_1000_wall_s": seconds,
    }


def run() -> dict[str, float]:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    results: dict[str, float] = {}
    # demo-chat at its default, realistic pace: about 150 ms to the first token.
    servers = Servers(TTFT_STREAMS * TTFT_ROUNDS, "demo-chat", {}, {})
    try:
        results.update(asyncio.run(measure_ttft(servers)))
    finally:
        servers.close()
    # A fresh server for the 1,000 streams (so memory growth is theirs): demo-long paced to
    # 20 tokens/s and cut at 500 tokens.
    pace = {"DEMO_LONG_PACE_MS": str(1000 / TOKENS_PER_S)}
    servers = Servers(MANY_STREAMS, "demo-long", {"max_tokens": MANY_TOKENS}, pace)
    try:
        results.update(asyncio.run(measure_many(servers)))
    finally:
        servers.close()
    return results
