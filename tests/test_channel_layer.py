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

from playground.channel_layer import ResilientRedisChannelLayer
from tests.faults import RedisServer, TcpProxy
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
    assert chosen["layer"]["BACKEND"] == "playground.channel_layer.ResilientRedisChannelLayer"
    assert [host["address"] for host in chosen["layer"]["CONFIG"]["hosts"]] == [REDIS_URL]
    assert chosen["cache"] == "django.core.cache.backends.redis.RedisCache"


@pytest.fixture(params=["in-memory", "redis"])
def layer(request, tmp_path):
    if request.param == "in-memory":
        return InMemoryChannelLayer()
    require("redis")
    config = settings_in_a_fresh_process(PLAYGROUND_DATA_DIR=str(tmp_path), REDIS_URL=REDIS_URL)["layer"]["CONFIG"]
    return ResilientRedisChannelLayer(**config)


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


# --- Faults: a private Redis, cut off and restarted under the layer ------------------------


@pytest.fixture
def private_redis():
    server = RedisServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def proxy(private_redis):
    through = TcpProxy(private_redis.port)
    yield through
    through.close()


def layer_on(url: str, tmp_path) -> ResilientRedisChannelLayer:
    """The layer exactly as the settings configure it, on `url`."""
    config = settings_in_a_fresh_process(PLAYGROUND_DATA_DIR=str(tmp_path), REDIS_URL=url)["layer"]["CONFIG"]
    return ResilientRedisChannelLayer(**config)


def connections_received(server: RedisServer) -> int:
    import redis

    with redis.Redis(port=server.port) as client:
        return client.info("stats")["total_connections_received"]


async def test_an_idle_read_outlasts_the_redis_socket_timeout_without_reconnecting(private_redis, tmp_path):
    """redis-py 8's 5 s socket timeout cut the layer's 5 s blocking read: every idle socket
    closed with 1011 about every 5 s (django/channels_redis#422)."""
    layer = layer_on(private_redis.url, tmp_path)
    channel = await layer.new_channel()
    read = asyncio.ensure_future(layer.receive(channel))
    await asyncio.wait({read}, timeout=0.5)  # the read is under way
    before = connections_received(private_redis)
    done, _ = await asyncio.wait({read}, timeout=12)  # two blocking reads and more
    assert not done
    assert connections_received(private_redis) == before + 1  # only ours, just now; none by the layer
    await layer.send(channel, {"type": "chat.ping"})
    assert (await asyncio.wait_for(read, 5))["type"] == "chat.ping"
    await layer.flush()


async def test_a_read_waits_through_a_cut_and_gets_what_is_sent_after(proxy, tmp_path):
    layer = layer_on(f"redis://127.0.0.1:{proxy.port}/0", tmp_path)
    channel = await layer.new_channel()
    await layer.group_add("watchers", channel)
    read = asyncio.ensure_future(layer.receive(channel))
    await asyncio.wait({read}, timeout=0.5)
    proxy.cut()
    done, _ = await asyncio.wait({read}, timeout=3)  # failed reads are retried, not raised
    assert not done
    proxy.restore()
    sender = layer_on(f"redis://127.0.0.1:{proxy.port}/0", tmp_path)
    await sender.group_send("watchers", {"type": "chat.after"})
    assert (await asyncio.wait_for(read, 15))["type"] == "chat.after"
    await layer.flush()


async def test_after_a_redis_restart_a_channel_is_in_its_groups_again(private_redis, tmp_path):
    """This Redis keeps nothing on disk: a restart forgets every group, and with it every
    page's cross-worker relay, unless the layer joins them again."""
    import redis.asyncio

    layer = layer_on(private_redis.url, tmp_path)
    channel = await layer.new_channel()
    await layer.group_add("watchers", channel)
    read = asyncio.ensure_future(layer.receive(channel))
    await asyncio.wait({read}, timeout=0.5)
    private_redis.stop()
    private_redis.start()
    async with redis.asyncio.Redis(port=private_redis.port) as client:
        async with asyncio.timeout(15):
            while not await client.zcard(layer._group_key("watchers")):
                await asyncio.sleep(0.1)  # polling a condition: the layer has joined again
    sender = layer_on(private_redis.url, tmp_path)
    await sender.group_send("watchers", {"type": "chat.after"})
    assert (await asyncio.wait_for(read, 10))["type"] == "chat.after"
    assert not read.cancelled()
    await layer.flush()
