"""The pages' one stream client (static/js/stream.js) in Chromium: a delta that never arrives
makes the chat page and a compare column reconnect and catch up from a snapshot, so each
answer ends up exactly as saved, with nothing doubled or lost."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import expect

from playground.chat.models import Conversation, Message
from playground.prompts import services
from tests.browser.conftest import PASSWORD


class Tap:
    """Stands between the page and its chat sockets: drops one delta (a gap), and keeps back
    the rendered markdown and the end of the answer, so the page keeps the text as streamed."""

    def __init__(self) -> None:
        self.sockets = 0
        self.deltas = 0
        self.dropped: list[dict] = []
        self.ended: list[dict] = []

    def route(self, socket) -> None:
        self.sockets += 1
        server = socket.connect_to_server()

        def from_server(message) -> None:
            frame = json.loads(message)
            self.deltas += frame["type"] == "delta"
            if self.deltas == 2 and not self.dropped:  # the second delta the page would see
                self.dropped.append(frame)
            elif frame["type"] == "done":
                self.ended.append(frame)
            elif frame["type"] != "render":
                socket.send(message)

        server.on_message(from_server)
        socket.on_message(server.send)

    def wait_for_the_end(self, page, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.ended:
            assert time.monotonic() < deadline, "the answer did not end"
            page.wait_for_timeout(100)


def sign_in_then_tap(tap, page, sign_in) -> None:
    """Sign in as Ada, then send the chat sockets of pages opened from now on through `tap`
    (sign-in lands on a chat page, whose own socket is not the test's)."""
    sign_in("ada", PASSWORD)
    expect(page.locator("#connection")).to_have_text("Connected.")
    page.route_web_socket(re.compile(r"/ws/chat/"), tap.route)


def ask_through(tap, page, sign_in, acme) -> None:
    """Sign in as Ada and ask for a long answer on a chat page whose sockets go through `tap`."""
    conversation = Conversation.objects.create(project=acme.project, provider=acme.provider, model="demo-long")
    sign_in_then_tap(tap, page, sign_in)
    page.goto(f"/conversations/{conversation.pk}/")
    expect(page.locator("#connection")).to_have_text("Connected.")
    page.get_by_label("Message", exact=True).fill("Tell me everything")
    page.keyboard.press("Enter")


def test_a_chat_answer_with_a_lost_delta_is_caught_up_after_a_reconnect(page, sign_in, acme):
    tap = Tap()
    ask_through(tap, page, sign_in, acme)
    tap.wait_for_the_end(page)
    answer = Message.objects.get(role="assistant")
    body = page.locator(f"#message-{answer.pk}-body")
    expect(body).to_have_text(answer.content)
    assert body.text_content() == answer.content
    assert tap.dropped and tap.sockets >= 2
    # The end is kept back, so this is still the live copy chat/_message.html drew for the page:
    # the asker gets Stop (not the rule about who may stop) and Copy copies this answer.
    live = page.get_by_role("article", name="Assistant message")
    expect(live.get_by_role("button", name="Stop")).to_be_visible()
    expect(live.get_by_text(re.compile("may stop"))).to_have_count(0)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    live.get_by_role("button", name="Copy message").click()
    deadline = time.monotonic() + 15
    while page.evaluate("navigator.clipboard.readText()") != answer.content:
        assert time.monotonic() < deadline, "Copy message did not copy the answer"
        page.wait_for_timeout(100)
    assert page.csp_violations == []


@pytest.fixture
def long_prompt(acme):
    content = services.Content(
        messages=[{"role": "user", "content": "Tell me everything."}], provider=acme.provider, model="demo-long"
    )
    return services.prompt_create(team=acme.team, user=acme.user, name="Long", content=content)


def test_a_compare_column_with_a_lost_delta_is_caught_up_after_a_reconnect(page, sign_in, acme, long_prompt):
    tap = Tap()
    sign_in_then_tap(tap, page, sign_in)
    page.goto(f"/prompts/{long_prompt.pk}/versions/1/compare/")
    column = page.get_by_role("group", name="Column 1")
    column.get_by_label("Provider").select_option(label="Demo")
    column.get_by_label("Model").fill("demo-long")
    page.get_by_role("button", name="Run the comparison").click()
    expect(page.locator("#column-1")).to_be_visible()
    tap.wait_for_the_end(page)
    answer = Message.objects.get(role="assistant")
    body = page.locator("#column-1-body")
    expect(body).to_have_text(answer.content)
    assert body.text_content() == answer.content
    assert tap.dropped and tap.sockets >= 2
    assert page.csp_violations == []


class RenderTap:
    """Passes frames through until a render that ended mid-block and two deltas after it have
    gone to the page, then keeps the rest back (so the page keeps its streamed state)."""

    def __init__(self) -> None:
        self.after_render: list[str] = []
        self.holding = False

    def route(self, socket) -> None:
        server = socket.connect_to_server()

        def from_server(message) -> None:
            frame = json.loads(message)
            if self.holding:
                return
            if frame["type"] == "render" and frame["inline"] and not self.after_render:
                self.after_render.append("")
            elif frame["type"] == "delta" and self.after_render:
                self.after_render.append(frame["text"])
                self.holding = len(self.after_render) > 2
            socket.send(message)

        server.on_message(from_server)
        socket.on_message(server.send)


def test_text_streamed_after_a_render_continues_its_line(page, sign_in, acme):
    tap = RenderTap()
    ask_through(tap, page, sign_in, acme)
    body = page.locator("article.message-assistant .message-body")
    deadline = time.monotonic() + 60
    while not tap.holding:
        assert time.monotonic() < deadline, "no render mid-block followed by two deltas"
        page.wait_for_timeout(100)
    expect(body).to_contain_text("".join(tap.after_render).strip())
    # No streamed text sits beside the rendered blocks (a line of its own): it is in the last one.
    stray = body.evaluate("b => [...b.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim()).length")
    assert stray == 0
    assert body.evaluate("b => b.lastElementChild.textContent").endswith(tap.after_render[-1])
