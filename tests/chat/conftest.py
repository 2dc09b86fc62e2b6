"""A conversation on the demo upstream, and websocket clients signed in as team members."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from websockets.asyncio.client import connect as ws_connect

from playground.asgi import application
from playground.chat.models import Conversation
from tests.factories import ConversationFactory


@pytest.fixture
def conversation(transactional_db, team_with_roles, demo_provider):
    return ConversationFactory(project=team_with_roles.project, provider=demo_provider)


@pytest.fixture
async def connect(team_with_roles):
    """Open the chat socket of a conversation as one of the team's users (or an outsider);
    those the test left open are closed after it."""
    opened: list[WebsocketCommunicator] = []

    async def open_socket(conversation, who: str = "member", origin: str = "http://localhost"):
        client = Client()
        await sync_to_async(client.force_login)(team_with_roles.users[who])
        cookie = f"sessionid={client.cookies['sessionid'].value}"
        communicator = WebsocketCommunicator(
            application,
            f"/ws/chat/{conversation.pk}/",
            headers=[(b"cookie", cookie.encode()), (b"origin", origin.encode()), (b"host", b"localhost")],
        )
        opened.append(communicator)
        connected, code = await communicator.connect()
        if connected:  # every socket first hears which answers are live (for a reconnecting page)
            hello = await communicator.receive_json_from(timeout=10)
            assert hello["type"] == "live", hello
            communicator.live = hello["messages"]
        return communicator, connected, code

    yield open_socket
    for communicator in opened:
        if not communicator.future.done():
            await communicator.disconnect()


async def frames_until_done(communicator, timeout: float = 20) -> list[dict]:
    frames = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        frames.append(frame)
        if frame["type"] == "done":
            return frames


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Database ids repeat between tests; so would the per-user rate buckets."""
    from playground.chat import consumers

    consumers._buckets.clear()
    yield
    consumers._buckets.clear()


# --- Worker processes (test_two_workers.py, test_worker_faults.py) ---------------------------


@pytest.fixture
def long_conversation(conversation):
    conversation.model = "demo-long"
    conversation.save()
    return conversation


@pytest.fixture
async def open_socket(team_with_roles):
    """Open a conversation's socket on a worker as one of the team; all are closed after the
    test (also those whose worker a test killed)."""
    opened = []

    async def open_on(port: int, conversation: Conversation, who: str = "member"):
        client = Client()
        await sync_to_async(client.force_login)(team_with_roles.users[who])
        socket = await ws_connect(
            f"ws://127.0.0.1:{port}/ws/chat/{conversation.pk}/",
            origin=f"http://127.0.0.1:{port}",
            additional_headers={"Cookie": f"sessionid={client.cookies['sessionid'].value}"},
            open_timeout=10,
        )
        opened.append(socket)
        hello = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert hello["type"] == "live", hello  # every socket first hears which answers are live
        return socket

    yield open_on
    for socket in opened:
        await socket.close()
