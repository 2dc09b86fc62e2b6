"""ChatConsumer: one websocket per open conversation page.

Checks membership on connect and on every action (viewers watch, members send), relays live
events from this process (hub) and from others (channel layer), and turns frames into
service calls. It never runs a generation itself: generation.py does, in its own task.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import orjson
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from playground.accounts.models import Role
from playground.chat import generation, hub, selectors, services
from playground.chat.models import Conversation, Message
from playground.chat.stream_state import SocketStream
from playground.providers.keys import NoKey

MAX_FRAME_BYTES = 256 * 1024
BURST = 10  # frames a user may send at once…
PER_SECOND = 2.0  # …refilled at this rate
_buckets: dict[int, tuple[float, float]] = {}


def _allowed(user_id: int) -> bool:
    """Token bucket per user, shared by all of the user's sockets in this process."""
    now = time.monotonic()
    tokens, at = _buckets.get(user_id, (BURST, now))
    tokens = min(BURST, tokens + (now - at) * PER_SECOND)
    if tokens < 1:
        _buckets[user_id] = (tokens, now)
        return False
    _buckets[user_id] = (tokens - 1, now)
    return True


_conversation_for = database_sync_to_async(selectors.conversation_for)

RESTARTING = "This server is restarting; send again in a moment (your text is kept)."
MAX_ID = 2**63 - 1  # ids are signed 64-bit integers (SQLite raises past that, not "not found")


def _message_id(value: Any) -> int:
    """A message id from a frame: a JSON integer that can be one. True, text, fractions,
    lists and objects are no message of this conversation (ValueError)."""
    if type(value) is not int or not 0 < value <= MAX_ID:
        raise ValueError(f"Not a message id: {value!r}")
    return value


def _parent_id(content: dict[str, Any]) -> int | None:
    """Where a sent message goes: after the branch shown (no "parent"), as a new first
    question (0 or null), or after the message `parent` (Edit & resend)."""
    if "parent" not in content:
        return None
    parent = content["parent"]
    if parent is None or (type(parent) is int and parent == 0):
        return 0
    return _message_id(parent)


@database_sync_to_async
def _send_prepare(user, conversation_id: int, text: str, parent_id: int | None) -> services.Send:
    """Check that `user` may send, and prepare the message: one trip to the database thread."""
    conversation = selectors.conversation_for(user, conversation_id, role=Role.MEMBER)
    return services.message_prepare(
        conversation=conversation, user=user, text=text, parent_id=parent_id or None, from_root=parent_id == 0
    )


@database_sync_to_async
def _answer_to_stop(user, conversation_id: int, message_id: int) -> Message:
    """The answer to stop: one of this socket's conversation, that `user` may stop."""
    conversation = selectors.conversation_for(user, conversation_id, role=Role.MEMBER)
    return selectors.answer_to_stop(conversation, user, message_id)


@database_sync_to_async
def _watch(user, conversation_id: int) -> list[int]:
    """Check that `user` may watch the conversation; the ids of its answers now streaming.
    (One trip to the database thread: a thousand sockets may connect at once.)
    A user who must still replace a one-time password is refused here as on every page."""
    if getattr(user, "must_change_password", False):
        raise PermissionDenied("Choose a new password first.")
    selectors.conversation_for(user, conversation_id)
    return selectors.streaming_ids(conversation_id)


class ChatConsumer(AsyncWebsocketConsumer):
    """Frames are JSON both ways: `receive` reads them (with limits), `send_event` writes them."""

    async def connect(self) -> None:
        self.conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        self.user = self.scope.get("user")
        try:
            streaming = await _watch(self.user, self.conversation_id)
        except (Http404, PermissionDenied):
            await self.close(code=4404)
            return
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.stream = SocketStream(streaming)
        self.writer = asyncio.get_running_loop().create_task(self._write())
        hub.subscribe(self.conversation_id, self.outbox.put_nowait)
        await generation.watch(self.conversation_id)
        await self.accept()
        # What is live now: a page reconnecting ends, from its saved version, any answer it
        # still shows streaming that is not in this list (it ended while the page was away).
        self.outbox.put_nowait({"type": "live", "messages": streaming})
        await self._send_snapshots(streaming)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "outbox"):
            return
        hub.unsubscribe(self.conversation_id, self.outbox.put_nowait)
        self.writer.cancel()
        await generation.unwatch(self.conversation_id)

    async def _write(self) -> None:
        while True:
            for event in self.stream.admit(await self.outbox.get()):
                await self.send_event(event)

    async def send_event(self, event: dict[str, Any]) -> None:
        await self.send(text_data=orjson.dumps(event).decode())  # every delta of every answer passes here

    async def _send_snapshots(self, streaming: list[int]) -> None:
        """Catch a socket up on answers still streaming: here directly, elsewhere by asking."""
        remote = False
        for message_id in streaming:
            found = generation.snapshot(message_id)
            if found is not None:
                self.outbox.put_nowait(found)
            else:
                remote = True
        if remote:
            sync = {"type": "chat.sync", "reply_to": self.channel_name, "conversation": self.conversation_id}
            await self.channel_layer.group_send(generation.group_name(self.conversation_id), sync)

    async def error(self, text: str) -> None:
        self.outbox.put_nowait({"type": "error", "error": text})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs) -> None:
        raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", errors="replace")
        if len(raw.encode()) > MAX_FRAME_BYTES:
            await self.error(f"That message is too large (more than {MAX_FRAME_BYTES // 1024} KB).")
            return
        if not _allowed(self.user.pk):
            await self.error("Too many messages at once; wait a moment and try again.")
            return
        try:
            content = json.loads(raw)
        except ValueError:
            await self.error("The frame was not valid JSON.")
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.error('Each frame needs a "type".')
            return
        action = content["type"]
        handler = {"send": self.do_send, "stop": self.do_stop, "regenerate": self.do_regenerate}.get(action)
        if handler is None:
            await self.error(f"Unknown frame type “{action}”.")
            return
        try:
            await handler(content)
        except Http404:
            await self.close(code=4404)
        except selectors.StopRefused as refusal:
            await self.error(str(refusal))
        except PermissionDenied:
            await self.error("Viewers can watch this conversation but not send or stop.")
        except (ValidationError, NoKey) as error:
            await self.error(" ".join(getattr(error, "messages", [str(error)])))
        except (Message.DoesNotExist, ValueError, TypeError):
            await self.error("That message is not part of this conversation.")

    async def _member_conversation(self) -> Conversation:
        """The conversation, checked again for every action: a member may have been removed."""
        return await _conversation_for(self.user, self.conversation_id, role=Role.MEMBER)

    @staticmethod
    def _accepting() -> None:
        if not generation.accepting():  # SIGTERM: this worker finishes what it has, nothing new
            raise ValidationError(RESTARTING)

    async def do_send(self, content: dict[str, Any]) -> None:
        self._accepting()
        text = content.get("text")
        if not isinstance(text, str):
            raise ValidationError("Write a message first.")
        send = await _send_prepare(self.user, self.conversation_id, text, _parent_id(content))
        conversation = send.conversation

        async def rows() -> tuple[int, dict[str, Any]]:
            answer = await database_sync_to_async(services.message_save)(send)
            question = {"id": answer.parent_id, "text": send.text, "parent": send.parent_id}
            started = {
                "type": "started",
                "message": answer.pk,
                "parent": answer.parent_id,
                "question": question,
                "by": self.user.pk,
            }
            return answer.pk, started

        endpoint = services.endpoint_of(conversation)
        generation.start_before_rows(conversation.pk, send.request, send.call, rows, endpoint=endpoint)

    async def do_regenerate(self, content: dict[str, Any]) -> None:
        self._accepting()
        conversation = await self._member_conversation()
        answer, request, call = await database_sync_to_async(services.message_regenerate)(
            conversation=conversation, user=self.user, message_id=_message_id(content.get("message"))
        )
        announce = {
            "type": "started",
            "message": answer.pk,
            "parent": answer.parent_id,
            "question": None,
            "by": self.user.pk,
        }
        endpoint = services.endpoint_of(conversation)
        generation.start(answer.pk, conversation.pk, request, call, endpoint=endpoint, announce=announce)

    async def do_stop(self, content: dict[str, Any]) -> None:
        answer = await _answer_to_stop(self.user, self.conversation_id, _message_id(content.get("message")))
        await generation.cancel(answer.pk, self.conversation_id)

    async def chat_snapshot(self, event: dict[str, Any]) -> None:
        """The text so far of an answer generated on another worker, asked for at connect."""
        self.outbox.put_nowait(event["event"])
