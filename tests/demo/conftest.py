"""A client for the demo upstream with a key of its own, so per-key counters start afresh."""

from __future__ import annotations

import uuid

import httpx
import pytest

from playground.demo.keys import demo_key


@pytest.fixture
def demo(demo_upstream_url):
    with httpx.Client(
        base_url=demo_upstream_url,
        headers={"Authorization": f"Bearer {demo_key(f'test-{uuid.uuid4().hex}')}"},
        timeout=15,
    ) as client:
        yield client
