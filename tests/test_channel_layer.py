"""The channel layer the settings choose carries group messages: in memory, and on Redis."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer

from tests.services import POSTGRES_URL, REDIS_URL, require

ROOT = Path(__file__).resolve().parent.parent


def settings_in_a_fresh_process(**env: str) -> dict:
    """The database and channel-layer settings the real settings file computes with `env`."""
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    code = (
        "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'playground.settings'; "
        "from django.conf import settings; "
        "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
        "'layer': settings.CHANNEL_LAYERS['default'], 'cache': settings.CACHES['default']['BACKEND']}))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(run.stdout)


def test_defaults_are_sqlite_and_the_in_memory_layer(tmp_path):
    chosen = settings_in_a_fresh_process(PLAYGROUND_DATA_DIR=str(tmp_path))
    assert chosen["engine"] == "django.db.backends.sqlite3"
    assert chosen["layer"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"


def test_urls_switch_to_postgresql_and_redis(tmp_path):
    chosen = settings_in_a_fresh_process(
        PLAYGROUND_DATA_DIR=str(tmp_path), DATABASE_URL=POSTGRES_URL, REDIS_URL=REDIS_URL
    )
    assert chosen["engine"] == "django.db.backends.postgresql"
    assert chosen["layer"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert chosen["layer"]["CONFIG"]["hosts"] == [REDIS_URL]
    assert chosen["cache"] == "django.core.cache.backends.redis.RedisCache"


@pytest.fixture(params=["in-memory", "redis"])
def layer(request, tmp_path):
    if request.param == "in-memory":
        return InMemoryChannelLayer()
    require("redis")
    config = settings_in_a_fresh_process(PLAYGROUND_DATA_DIR=str(tmp_path), REDIS_URL=REDIS_URL)["layer"]["CONFIG"]
    return RedisChannelLayer(**config)


async def test_group_messages_reach_every_member_in_order(layer):
    group = f"smoke-{os.getpid()}"
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add(group, first)
    await layer.group_add(group, second)
    try:
        for n in range(3):
            await layer.group_send(group, {"type": "chat.delta", "seq": n})
        for channel in (first, second):
            received = [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(3)]
            assert [message["seq"] for message in received] == [0, 1, 2]
    finally:
        await layer.group_discard(group, first)
        await layer.group_discard(group, second)
        if hasattr(layer, "flush"):
            await layer.flush()
