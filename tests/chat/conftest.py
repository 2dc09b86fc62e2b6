"""A conversation on the demo upstream, and websocket clients signed in as team members."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from playground.asgi import application
from playground.chat.models import Conversation


@pytest.fixture
def conversation(transactional_db, team_with_roles, demo_provider):
    return Conversation.objects.create(project=team_with_roles.project, provider=demo_provider, model="demo-chat")


@pytest.fixture
def connect(team_with_roles):
    """Open the chat socket of a conversation as one of the team's users (or an outsider)."""
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

    return open_socket


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
