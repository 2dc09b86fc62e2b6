"""Our upstream client vs a bare httpx byte loop, reading the same unpaced demo stream.

The demo upstream runs as its own process (`manage.py demo_upstream`), so the figures are
for real sockets. Rounds alternate between the two readers so that both see the same server
and the same machine; the ratio is the median of the rounds' ratios.
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from playground.demo.keys import demo_key
from playground.upstream import CallContext, Target, stream_chat
from playground.upstream.events import TextDelta
from tests.processes import free_port, wait_until_listening

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 15
STREAMS_PER_ROUND = 20
# demo-long at DEMO_PACE_MS=0: over 3,000 tokens with no pacing, i.e. as fast as the demo can send.
BODY = {"model": "demo-long", "messages": [{"role": "user", "content": "Tell me everything."}]}


def start_demo() -> tuple[subprocess.Popen, str]:
    port = free_port()
    # Our SECRET_KEY goes along in the environment, so the demo accepts the keys this process mints.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DEMO_PACE_MS": "0"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "demo_upstream", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_listening(process, port, "the demo upstream")
    return process, f"http://127.0.0.1:{port}/demo/v1"


async def bare(client: httpx.AsyncClient, url: str, key: str) -> int:
    total = 0
    async with client.stream(
        "POST", url + "/chat/completions", json={**BODY, "stream": True}, headers={"Authorization": f"Bearer {key}"}
    ) as response:
        async for chunk in response.aiter_bytes():
            total += len(chunk)
    return total


async def ours(target: Target) -> int:
    count = 0
    async with stream_chat(target, BODY, context=CallContext(record=False)) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                count += len(event.text)
    return count


async def measure(url: str) -> dict[str, float]:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    key = demo_key("bench")
    target = Target(base_url=url, api_key=key, allow_local=True)
    bare_times, our_times = [], []
    size = 0
    async with httpx.AsyncClient(timeout=60) as client:
        await bare(client, url, key)  # warm up both paths and the server
        expected_chars = await ours(target)
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for _ in range(STREAMS_PER_ROUND):
                size = await bare(client, url, key)
            bare_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            for _ in range(STREAMS_PER_ROUND):
                chars = await ours(target)
                assert chars == expected_chars, "our client must read the whole stream every time"
            our_times.append(time.perf_counter() - started)
    bare_s, ours_s = statistics.median(bare_times), statistics.median(our_times)
    # Each round's ratio is of two readings taken seconds apart, so that a change in this
    # shared machine's speed between rounds (up to threefold, seen here) cancels out.
    ratio = statistics.median(ours / bare for ours, bare in zip(our_times, bare_times, strict=True))
    return {
        "client_overhead_ratio": round(ratio, 3),
        "client_mb_per_s": round(size * STREAMS_PER_ROUND / ours_s / 1e6, 2),
        "bare_httpx_mb_per_s": round(size * STREAMS_PER_ROUND / bare_s / 1e6, 2),
    }


def run() -> dict[str, float]:
    process, url = start_demo()
    try:
        return asyncio.run(measure(url))
    finally:
        process.terminate()
        process.wait(timeout=10)
