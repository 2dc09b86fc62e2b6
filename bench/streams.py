"""The chat relay under load: the app under Daphne, the demo upstream and the clients each in
their own process, over real sockets.

- `relay_ttft_overhead_p50_ms` / `_p99_ms`: while 100 people stream through the app (each
  asking again when an answer ends; they start over the first TTFT_RAMP_S seconds, so their
  questions come spread out), probe questions alternate between reading the demo
  upstream directly and asking through our websocket; the overhead is each relayed time to
  first token minus the direct one just before it (same run, load, model and pace).
- `streams_1000_*`: 1,000 concurrent 500-token answers at 20 tokens/s, one websocket each;
  how many completed with exactly the text the upstream sent (a direct read of the same
  deterministic answer), the server's memory growth and CPU time. The sockets open over
  the first 5 s (RAMP_S), as people arriving, not in one instant.

Run alone with `python -m bench.run streams`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from django.test.utils import override_settings

from playground.demo.keys import demo_key
from tests.processes import free_port, wait_until_listening

ROOT = Path(__file__).resolve().parent.parent
TTFT_STREAMS = 100
TTFT_PROBES = 60
# The 100 people start over one answer's length (400 tokens at 40 tokens/s), so that their
# questions come spread out as people's do. Started in one instant, with answers of equal
# length, they stayed in step: every 10.6 s a hundred answers ended and a hundred questions
# came at once, and the p99 measured whether a probe fell into such a wave.
TTFT_RAMP_S = 10.0
TTFT_SETTLE_S = TTFT_RAMP_S + 2.0
PROBE_PARAMS = {"max_tokens": 8}  # probes need only their first tokens
MANY_STREAMS = 1000
MANY_TOKENS = 500
TOKENS_PER_S = 20
RAMP_S = 5.0
SESSION_COOKIE = "sessionid"


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


def demo_key_for(env: dict[str, str]) -> str:
    """A key the child processes' demo upstream accepts: minted with their SECRET_KEY, not this process's."""
    with override_settings(SECRET_KEY=env["SECRET_KEY"]):
        return demo_key("bench")


def setup(demo_url: str, users: int, model: str, params: dict, first: tuple[str, dict] | None = None) -> None:
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
    provider = demo_provider_create(team=team, by_user=None, key=demo_key())
    # The demo in its own process, as the issue asks; allowed to be local at this address,
    # as staff would allow it (the permission is for one address: Provider.local_url).
    provider.base_url = provider.local_url = demo_url
    provider.save(update_fields=["base_url", "local_url"])
    people = User.objects.bulk_create(User(username=f"bench{n}") for n in range(users))
    Membership.objects.bulk_create(Membership(team=team, user=person, role=Role.MEMBER) for person in people)
    found = []
    for n, person in enumerate(people):
        chosen_model, chosen = first if n == 0 and first is not None else (model, params)
        conversation = Conversation.objects.create(
            project=project, provider=provider, model=chosen_model, params=chosen
        )
        client = Client()
        client.force_login(person)
        found.append({"conversation": conversation.pk, "cookie": client.cookies[SESSION_COOKIE].value})
    print(json.dumps(found))


class Servers:
    """The demo upstream and the app under Daphne, on a fresh SQLite database."""

    def __init__(
        self, users: int, model: str, params: dict, demo_env: dict[str, str], first: tuple[str, dict] | None = None
    ) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="playground-bench-")
        self.env = env_for(self.tmp.name)
        self.demo_key = demo_key_for(self.env)  # for reading the demo directly
        self.log = open(Path(self.tmp.name) / "daphne.log", "w")  # noqa: SIM115 (closed in close())
        demo_port, app_port = free_port(), free_port()
        self.demo = subprocess.Popen(
            [sys.executable, "manage.py", "demo_upstream", "--port", str(demo_port)],
            cwd=ROOT,
            env={**self.env, **demo_env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_listening(self.demo, demo_port, "the demo upstream", timeout=60)
        self.demo_url = f"http://127.0.0.1:{demo_port}/demo/v1"
        run = {"cwd": ROOT, "env": self.env, "check": True, "capture_output": True, "text": True}
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], **run)
        code = f"from bench.streams import setup; setup({self.demo_url!r}, {users}, {model!r}, {params!r}, {first!r})"
        self.sessions = json.loads(subprocess.run([sys.executable, "-c", code], **run).stdout)
        self.app = subprocess.Popen(
            [str(Path(sys.executable).with_name("daphne")), "-b", "127.0.0.1", "-p", str(app_port)]
            + ["--websocket_connect_timeout", "30", "playground.asgi:application"],  # as `make run`
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until_listening(self.app, app_port, "Daphne", timeout=60)
        self.app_port = app_port

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(Path(self.log.name).read_text().splitlines()[-lines:])

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
        self.log.close()
        self.tmp.cleanup()


async def direct_first_token(client: httpx.AsyncClient, url: str, body: dict, key: str) -> tuple[float, str]:
    """Seconds to the first text chunk reading the upstream directly, and the whole text."""
    started = time.perf_counter()
    first = None
    parts = []
    headers = {"Authorization": f"Bearer {key}"}
    async with client.stream("POST", url, json={**body, "stream": True}, headers=headers) as r:
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


def chat_socket(port: int, session: dict):
    """A chat websocket of `session`'s conversation, signed in with its cookie."""
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}/ws/chat/{session['conversation']}/"
    headers = {"Cookie": f"{SESSION_COOKIE}={session['cookie']}"}
    return connect(url, origin=f"http://127.0.0.1:{port}", additional_headers=headers, open_timeout=60)


async def ask(ws, text: str) -> tuple[float | None, str, str]:
    """Send a question on an open chat socket: seconds to its first delta, the answer's text
    (deltas in seq order) and its final status."""
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


async def relay_stream(port: int, session: dict, text: str, *, after: float = 0.0) -> tuple[float | None, str, str]:
    """`ask` on a socket of its own, opened `after` seconds from now."""
    await asyncio.sleep(after)
    async with chat_socket(port, session) as ws:
        return await ask(ws, text)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def relay_load(port: int, session: dict, stop: asyncio.Event, *, after: float = 0.0) -> int:
    """One person on the chat page from `after` seconds from now, asking again each time an
    answer ends, until `stop`."""
    await asyncio.sleep(after)
    answers = 0
    async with chat_socket(port, session) as ws:
        while not stop.is_set():
            await ask(ws, "Hello")
            answers += 1
            await asyncio.sleep(0.6)  # within the per-person send rate (2 a second, bursts of 10)
    return answers


async def measure_ttft(servers: Servers) -> dict[str, float]:
    """Time to first token of probe answers while TTFT_STREAMS people stream through the
    app (each asking again when an answer ends): a direct read of the demo upstream, then
    the same question through our websocket, alternating, so both see the same load."""
    stop = asyncio.Event()
    probe, *people = servers.sessions[: TTFT_STREAMS + 1]
    load = [
        asyncio.ensure_future(relay_load(servers.app_port, person, stop, after=TTFT_RAMP_S * n / len(people)))
        for n, person in enumerate(people)
    ]
    await asyncio.sleep(TTFT_SETTLE_S)  # everyone is streaming
    # The relay sends the probe conversation's history with each question, so the direct read
    # sends the same messages: the upstream's time to read them is not the relay's overhead.
    history: list[dict[str, str]] = []
    direct, relayed = [], []
    async with (
        httpx.AsyncClient(timeout=60) as client,
        chat_socket(servers.app_port, probe) as ws,
    ):
        for _ in range(TTFT_PROBES):
            question = {"role": "user", "content": "Hello"}
            body = {"model": "demo-chat", "messages": [*history, question], **PROBE_PARAMS}
            first, _ = await direct_first_token(client, f"{servers.demo_url}/chat/completions", body, servers.demo_key)
            through, answer, status = await ask(ws, "Hello")
            history += [question, {"role": "assistant", "content": answer}]
            if first is not None and through is not None and status == "done":
                direct.append(first)
                relayed.append(through)
            await asyncio.sleep(0.5)
    stop.set()
    answers = sum(await asyncio.gather(*load))
    overheads = [r - d for r, d in zip(relayed, direct, strict=True)]
    return {
        "relay_ttft_overhead_p50_ms": percentile(overheads, 0.5) * 1000,
        "relay_ttft_overhead_p99_ms": percentile(overheads, 0.99) * 1000,
        "relay_ttft_p50_ms": percentile(relayed, 0.5) * 1000,
        "direct_ttft_p50_ms": percentile(direct, 0.5) * 1000,
        "relay_ttft_probes": len(overheads),
        "relay_ttft_load_answers": answers,
    }


async def measure_many(servers: Servers) -> dict[str, float]:
    prompt = "Tell me everything"
    body = {"model": "demo-long", "messages": [{"role": "user", "content": prompt}], "max_tokens": MANY_TOKENS}
    async with httpx.AsyncClient(timeout=120) as client:
        _, expected = await direct_first_token(client, f"{servers.demo_url}/chat/completions", body, servers.demo_key)
    rss_before, cpu_before = servers.rss_mb(), servers.cpu_s()
    peak = rss_before
    started = time.perf_counter()

    async def sample_memory() -> None:
        nonlocal peak
        while True:
            peak = max(peak, servers.rss_mb())
            await asyncio.sleep(0.5)

    sampler = asyncio.get_running_loop().create_task(sample_memory())
    # People do not all open the page in the same instant: sockets open over the first
    # RAMP_S seconds, so all 1,000 answers stream at once for most of their 25 s.
    results = await asyncio.gather(
        *(
            relay_stream(servers.app_port, session, prompt, after=RAMP_S * n / MANY_STREAMS)
            for n, session in enumerate(servers.sessions[:MANY_STREAMS])
        ),
        return_exceptions=True,
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
    # The 100 people's answers: demo-long paced like demo-chat (40 tokens/s) and cut at 400
    # tokens, so each streams for about 10 s; the probe conversation (the first) uses
    # demo-chat at its default, realistic pace: about 150 ms to the first token.
    servers = Servers(
        TTFT_STREAMS + 1,
        "demo-long",
        {"max_tokens": 400},
        {"DEMO_LONG_PACE_MS": "25"},
        first=("demo-chat", PROBE_PARAMS),
    )
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
