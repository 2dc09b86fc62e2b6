"""Fixture `demo_upstream_url`: the built-in demo upstream served by `manage.py demo_upstream` in a child process.

It paces its realistic models at DEMO_PACE_MS=1 so tests that stream from them stay quick.
It answers only keys this installation minted (`playground.demo.keys.demo_key`). Tests that count
demo-flaky or demo-ratelimited calls should use a key of their own, `demo_key(<a label of their own>)`:
the demo keeps those counters per (model, key).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port, wait_until_listening

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 20.0


@pytest.fixture(scope="session")
def demo_upstream_url() -> Iterator[str]:
    """Base URL of a running demo upstream, e.g. http://127.0.0.1:PORT/demo/v1."""
    port = free_port()
    env = {**os.environ, "DEMO_PACE_MS": "1", "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONUNBUFFERED": "1"}
    with tempfile.TemporaryFile(mode="w+") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "demo_upstream", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_listening(process, port, "manage.py demo_upstream", timeout=START_TIMEOUT_S, output=output)
            base_url = f"http://127.0.0.1:{port}/demo/v1"
            # Make sure it is our demo answering, not something else that took the port.
            httpx.get(f"{base_url}/openapi.json", timeout=5).raise_for_status()
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
