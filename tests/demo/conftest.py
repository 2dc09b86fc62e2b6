"""A client for the demo upstream with a bearer token of its own, so per-token counters start afresh."""

from __future__ import annotations

import uuid

import httpx
import pytest


@pytest.fixture
def demo(demo_upstream_url):
    with httpx.Client(
        base_url=demo_upstream_url, headers={"Authorization": f"Bearer test-{uuid.uuid4().hex}"}, timeout=15
    ) as client:
        yield client
