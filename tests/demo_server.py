"""Fixture `demo_upstream_url`: the built-in demo upstream served by `manage.py demo_upstream` in a child process.

It paces its realistic models at DEMO_PACE_MS=1 so tests that stream from them stay quick.
Tests that count demo-flaky or demo-ratelimited calls should use a bearer token of their own:
the demo keeps those counters per (model, token).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 20.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_listening(process: subprocess.Popen, port: int, output) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            pass
        try:
            # A short bounded wait that also notices the child dying.
            process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        output.seek(0)
        raise RuntimeError(f"manage.py demo_upstream exited with {process.returncode}:\n{output.read()}")
    raise RuntimeError(f"manage.py demo_upstream did not listen on port {port} within {START_TIMEOUT_S:g} s")


@pytest.fixture(scope="session")
def demo_upstream_url() -> Iterator[str]:
    """Base URL of a running demo upstream, e.g. http://127.0.0.1:PORT/demo/v1."""
    port = _free_port()
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
            _wait_until_listening(process, port, output)
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
