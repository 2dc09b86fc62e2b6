"""The chat page in Chromium: streaming, Stop, reload mid-stream, Regenerate, hostile markdown."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from playground.chat.models import Conversation, Message
from tests.browser.conftest import PASSWORD


@pytest.fixture
def conversation(acme):
    return Conversation.objects.create(project=acme.project, provider=acme.provider, model="demo-chat")


def open_chat(page, sign_in, conversation):
    sign_in("ada", PASSWORD)
    page.goto(f"/conversations/{conversation.pk}/")
    expect(page.locator("#connection")).to_have_text("Connected.")


def words(text: str, count: int = 8) -> list[str]:
    """The first words of a text, markdown punctuation aside (shown text is rendered markdown)."""
    return re.sub(r"[*`#>|_\-]", " ", text).split()[:count]


def last_answer(page):
    return page.locator("article.message-assistant").last


def test_send_and_watch_the_answer_stream_then_render(page, sign_in, conversation):
    open_chat(page, sign_in, conversation)
    page.get_by_label("Message", exact=True).fill("Please show a table")
    page.keyboard.press("Enter")
    answer = last_answer(page)
    expect(answer.locator(".message-body")).to_contain_text("Please show a table")
    # When the answer is complete, the saved answer's sanitised markdown replaces the live text.
    expect(page.locator("article.message-assistant.status-done .message-body.markdown table")).to_be_visible(
        timeout=20_000
    )
    saved = Message.objects.get(role="assistant")
    assert saved.status == "done"
    assert page.get_by_label("Message", exact=True).input_value() == ""
    assert page.csp_violations == []


def test_a_question_the_server_refuses_goes_back_into_the_box(page, sign_in, conversation, acme):
    acme.provider.api_keys.all().delete()  # nothing to send it with
    open_chat(page, sign_in, conversation)
    box = page.get_by_label("Message", exact=True)
    box.fill("A question worth keeping")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("There is no API key for Demo yet")
    expect(box).to_have_value("A question worth keeping")
    assert not Message.objects.exists()


def test_stop_keeps_the_partial_text(page, sign_in, conversation):
    conversation.model = "demo-long"
    conversation.save()
    open_chat(page, sign_in, conversation)
    page.get_by_label("Message", exact=True).fill("Tell me everything")
    page.get_by_role("button", name="Send").click()
    answer = last_answer(page)
    expect(answer.locator(".message-body")).to_contain_text(re.compile(r"\w+ \w+ \w+"))
    answer.get_by_role("button", name="Stop").click()
    expect(answer.locator(".status")).to_have_text("Stopped", timeout=10_000)
    saved = Message.objects.get(role="assistant")
    assert saved.status == "stopped" and saved.content
    assert words(answer.locator(".message-body").inner_text()) == words(saved.content)


def test_reload_mid_stream_continues_with_no_gap(page, sign_in, conversation):
    conversation.model = "demo-long"
    conversation.save()
    open_chat(page, sign_in, conversation)
    page.get_by_label("Message", exact=True).fill("Tell me everything")
    page.get_by_role("button", name="Send").click()
    expect(last_answer(page).locator(".message-body")).to_contain_text(re.compile(r"\w+ \w+ \w+ \w+"))
    page.reload()
    answer = last_answer(page)
    expect(answer.locator(".status")).to_have_text("Streaming…")
    expect(page.locator("article.message-assistant.status-done")).to_be_visible(timeout=30_000)
    saved = Message.objects.get(role="assistant")
    assert saved.status == "done"
    assert words(answer.locator(".message-body").inner_text(), 30) == words(saved.content, 30)


def test_regenerate_replaces_the_answer_in_place_and_keeps_the_old_one_as_a_sibling(page, sign_in, conversation):
    open_chat(page, sign_in, conversation)
    page.get_by_label("Message", exact=True).fill("Hello")
    page.keyboard.press("Enter")
    expect(page.locator("article.message-assistant.status-done")).to_be_visible(timeout=20_000)
    page.evaluate("window.sameDocument = true")
    first = Message.objects.get(role="assistant")
    last_answer(page).get_by_role("button", name="Regenerate").click()
    # The new version takes the old one's place at once (no stack of both), and says 2/2 when done.
    expect(page.locator(f"#message-{first.pk}")).to_have_count(0)
    expect(page.get_by_text("2/2")).to_be_visible(timeout=20_000)
    expect(page.locator("article.message-assistant")).to_have_count(1)
    assert page.evaluate("window.sameDocument") is True
    page.get_by_role("button", name="Previous version").click()
    expect(page.get_by_text("1/2")).to_be_visible()
    assert Message.objects.filter(role="assistant").count() == 2


def test_hostile_markdown_runs_no_script_and_breaks_no_policy(page, sign_in, conversation):
    from tests.chat.hostile_markdown import CASES

    question = Message.objects.create(conversation=conversation, role="user", content="Say something nasty")
    leaf = question
    for _name, markdown in CASES:
        leaf = Message.objects.create(conversation=conversation, parent=leaf, role="assistant", content=markdown)
    conversation.current_leaf = leaf
    conversation.save()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_chat(page, sign_in, conversation)
    expect(page.locator("article.message-assistant")).to_have_count(len(CASES))
    hostile = "#thread :is(script, iframe, svg, img, object, embed, style, meta, base, link), #thread form:not(.inline)"
    assert page.evaluate(f"() => document.querySelectorAll('{hostile}').length") == 0
    assert dialogs == []
    assert page.csp_violations == []


def test_edit_and_resend_keeps_the_original_question(page, sign_in, conversation):
    open_chat(page, sign_in, conversation)
    page.get_by_label("Message", exact=True).fill("Tell me about cats")
    page.keyboard.press("Enter")
    expect(page.locator("article.message-assistant.status-done")).to_be_visible(timeout=20_000)
    expect(page.locator("article.message-assistant .message-meta")).to_contain_text("tokens/s")
    page.evaluate("window.sameDocument = true")
    page.get_by_role("button", name="Edit & resend").click()
    composer = page.get_by_label("Message", exact=True)
    expect(composer).to_have_value("Tell me about cats")
    expect(page.get_by_role("status").filter(has_text="Editing an earlier question")).to_be_visible()
    composer.fill("Tell me about dogs")
    composer.press("Enter")
    expect(page.get_by_text("Editing an earlier question")).to_be_hidden()
    # The new version replaces the old branch in place: one question, one answer, 2/2 when done.
    expect(page.locator("article.message-user").get_by_text("2/2")).to_be_visible(timeout=20_000)
    expect(page.locator("article.message-user")).to_have_count(1)
    expect(page.locator("article.message-user")).to_contain_text("Tell me about dogs")
    expect(page.locator("article.message-assistant.status-done")).to_have_count(1)
    assert page.evaluate("window.sameDocument") is True
    assert Message.objects.filter(role="user").count() == 2


def test_each_code_block_and_the_whole_message_can_be_copied(page, sign_in, conversation):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_chat(page, sign_in, conversation)
    page.get_by_label("Message", exact=True).fill("Show me some code")
    page.keyboard.press("Enter")
    answer = page.locator("article.message-assistant.status-done")
    code = answer.locator(".code-block pre")
    expect(code).to_be_visible(timeout=20_000)
    answer.get_by_role("button", name="Copy code").click()
    expect(answer.get_by_role("button", name="Copy code")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == code.inner_text()
    answer.get_by_role("button", name="Copy message").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == answer.locator(".message-body").inner_text() and code.inner_text() in copied


def test_show_earlier_messages_loads_them_above_with_the_keyboard(page, sign_in, conversation):
    cursor = None
    for n in range(130):
        role = "user" if n % 2 == 0 else "assistant"
        cursor = Message.objects.create(conversation=conversation, parent=cursor, role=role, content=f"Turn {n} here.")
    conversation.current_leaf = cursor
    conversation.save()
    open_chat(page, sign_in, conversation)
    thread = page.get_by_role("region", name="Messages")
    expect(thread.locator("article")).to_have_count(100)
    expect(thread.locator("article").first).to_contain_text("Turn 30 here.")
    link = page.get_by_role("link", name="Show earlier messages")
    link.focus()
    page.keyboard.press("Enter")
    expect(thread.locator("article")).to_have_count(130)
    expect(thread.locator("article").first).to_contain_text("Turn 0 here.")
    expect(page.get_by_role("link", name="Show earlier messages")).to_have_count(0)
    assert page.url.endswith(f"/conversations/{conversation.pk}/")  # loaded in place, not a new page
    assert page.csp_violations == []


def test_a_page_that_reconnects_shows_an_answer_that_ended_meanwhile_as_ended(page, sign_in, conversation, acme):
    """The page showed it streaming (with Stop); it ended while the socket was away. On
    (re)connecting the page learns what is live and shows the saved answer: no reload."""
    from datetime import timedelta

    from django.utils import timezone

    question = Message.objects.create(conversation=conversation, role="user", content="Hi", created_by=acme.user)
    answer = Message.objects.create(
        conversation=conversation, parent=question, role="assistant", status="streaming", content="The first",
        lease_until=timezone.now() + timedelta(minutes=5), created_by=acme.user,
    )  # fmt: skip
    conversation.current_leaf = answer
    conversation.save()
    sign_in("ada", PASSWORD)  # lands on this conversation, with a socket of its own
    expect(page.locator("#connection")).to_have_text("Connected.")
    held = []
    page.route_web_socket(re.compile(r"/ws/chat/"), lambda socket: held.append(socket))  # held until we let it
    page.goto(f"/conversations/{conversation.pk}/")
    shown = page.locator(f"#message-{answer.pk}")
    expect(shown.get_by_role("button", name="Stop")).to_be_visible()
    Message.objects.filter(pk=answer.pk).update(status="done", content="The first and last words.", lease_until=None)
    while not held:  # the page opens its socket just after load
        page.wait_for_timeout(50)
    held[0].connect_to_server()
    expect(shown.locator(".message-body")).to_have_text("The first and last words.")
    expect(page.locator(f"#message-{answer.pk}").get_by_role("button", name="Stop")).to_have_count(0)
    assert page.csp_violations == []


def test_a_first_answer_is_one_typed_message_away_from_sign_in(page, sign_in, acme):
    acme.user.current_project = None  # as a new member: nothing chosen yet
    acme.user.save()
    sign_in("ada", PASSWORD)
    page.get_by_label("Message", exact=True).fill("Hello")
    page.keyboard.press("Enter")
    answer = page.locator("article.message-assistant.status-done")
    expect(answer).to_have_count(1)
    saved = Message.objects.get(role="assistant")
    assert saved.conversation.project == acme.project and saved.status == "done"
    expect(answer.locator(".message-body")).to_contain_text(words(saved.content)[0])
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Chat")).to_be_visible()
    icon = page.request.get(page.locator('link[rel="icon"]').get_attribute("href"))
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert page.csp_violations == []


def test_keyboard_shortcuts_send_edit_cancel_stop_and_list_themselves(page, sign_in, conversation):
    conversation.model = "demo-long"
    conversation.save()
    open_chat(page, sign_in, conversation)
    composer = page.get_by_label("Message", exact=True)
    composer.fill("Tell me everything")
    composer.press("Control+Enter")
    answer = last_answer(page)
    expect(answer.locator(".message-body")).to_contain_text(re.compile(r"\w+ \w+ \w+"))
    page.keyboard.press("Escape")  # stops the answer streaming
    expect(answer.locator(".status")).to_have_text("Stopped", timeout=10_000)
    assert Message.objects.get(role="assistant").status == "stopped"

    composer.focus()
    page.keyboard.press("ArrowUp")  # an empty box: edit the last question
    expect(composer).to_have_value("Tell me everything")
    editing = page.get_by_role("status").filter(has_text="Editing an earlier question")
    expect(editing).to_be_visible()
    page.keyboard.press("Escape")  # cancels the edit, stops nothing
    expect(editing).to_be_hidden()
    expect(composer).to_have_value("")

    page.get_by_role("heading", level=1).click()  # outside any text box
    page.keyboard.press("?")
    shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_be_visible()
    expect(shortcuts.get_by_role("row")).to_have_count(6)
    page.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()
    assert Message.objects.filter(role="assistant").count() == 1
    assert page.csp_violations == []


def test_view_code_shows_the_request_of_the_message_being_written(page, sign_in, conversation):
    open_chat(page, sign_in, conversation)
    page.get_by_label("Message", exact=True).fill("What is a tide?")
    page.get_by_role("link", name="View code for the next message").click()
    expect(page.get_by_role("heading", name="View code", level=1)).to_be_visible()
    request = page.get_by_role("region", name="Request body")
    expect(request.locator("pre").first).to_contain_text('"content": "What is a tide?"')
    expect(request.get_by_role("heading", name="curl")).to_be_visible()
    assert page.csp_violations == []
