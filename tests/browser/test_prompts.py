"""Prompts in Chromium: save a chat as a prompt, edit it into a new version and see the diff,
run it with a live preview, and compare four setups streaming side by side."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from playground.chat.models import Conversation, Message
from playground.prompts import services
from playground.prompts.models import Prompt
from tests.browser.accessibility import keyboard_problems
from tests.browser.conftest import PASSWORD


@pytest.fixture
def tides_prompt(acme):
    user, team, provider = acme.user, acme.team, acme.provider
    return services.prompt_create(
        team=team,
        user=user,
        name="Tides",
        content=services.Content(
            system="You explain things to {{audience}}.",
            messages=[{"role": "user", "content": "Explain tides in {{words}} words."}],
            provider=provider,
            model="demo-chat",
            variables={"words": {"description": "Length of the answer", "default": "40"}},
        ),
    )


def test_save_a_chat_as_a_prompt(page, sign_in, acme):
    project, provider = acme.project, acme.provider
    conversation = Conversation.objects.create(
        project=project, provider=provider, model="demo-fast", system="You are a sailor.", params={"temperature": 0.3}
    )
    question = Message.objects.create(conversation=conversation, role="user", content="What is a knot?")
    answer = Message.objects.create(conversation=conversation, parent=question, role="assistant", content="Speed.")
    conversation.current_leaf = answer
    conversation.save()
    sign_in("ada", PASSWORD)
    page.goto(f"/conversations/{conversation.pk}/")

    page.get_by_role("link", name="Save as prompt").click()

    expect(page.get_by_role("heading", name="New prompt")).to_be_visible()
    expect(page.get_by_label("System prompt")).to_have_value("You are a sailor.")
    expect(page.get_by_label("Text of message 1")).to_have_value("What is a knot?")
    expect(page.get_by_label("Model", exact=True)).to_have_value("demo-fast")
    expect(page.get_by_label("temperature", exact=True)).to_have_value("0.3")
    page.get_by_label("Name", exact=True).fill("Sailing words")
    page.get_by_label("Tags").fill("sea, words")
    page.get_by_role("button", name="Save prompt").click()

    expect(page.get_by_role("heading", name="Sailing words", level=1)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="saved as version 1")).to_be_visible()
    version = Prompt.objects.get().current_version
    assert version.messages == [{"role": "user", "content": "What is a knot?"}]
    assert (version.model, version.params, version.system) == ("demo-fast", {"temperature": 0.3}, "You are a sailor.")
    assert page.csp_violations == []


def test_edit_makes_a_new_version_and_the_diff_shows_what_changed(page, sign_in, tides_prompt):
    sign_in("ada", PASSWORD)
    page.goto(f"/prompts/{tides_prompt.pk}/")
    page.get_by_role("link", name="Edit (new version)").click()
    assert keyboard_problems(page) == {}

    page.get_by_label("Text of message 1").fill("Explain tides and currents in {{words}} words.")
    page.get_by_label("What changed").fill("Currents too")
    page.get_by_role("button", name="Save as new version").click()

    expect(page.get_by_role("status").filter(has_text="Saved as version 2")).to_be_visible()
    versions = page.locator("#versions")
    expect(versions.get_by_role("link", name="Version 2")).to_be_visible()
    expect(versions.get_by_role("row", name=re.compile("Version 1"))).to_contain_text("First version")
    page.get_by_role("button", name="Show changes").click()

    expect(page.get_by_role("heading", name="Changes from version 1 to version 2")).to_be_visible()
    message = page.get_by_role("article", name="Message 1")
    expect(message.locator("ins")).to_have_text(re.compile(r"^\[added:\s+and currents\s*\]$"))
    expect(message.locator("del")).to_have_count(0)
    assert tides_prompt.versions.get(number=1).messages[0]["content"] == "Explain tides in {{words}} words."
    assert page.csp_violations == []


def test_run_previews_the_values_as_they_are_typed_then_opens_a_conversation(page, sign_in, tides_prompt):
    sign_in("ada", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Prompts").click()
    assert keyboard_problems(page) == {}
    page.get_by_role("link", name="Tides").click()
    assert keyboard_problems(page) == {}
    page.get_by_role("navigation", name="Prompt").get_by_role("link", name="Run").click()
    preview = page.locator("#preview")
    expect(preview.locator(".missing")).to_contain_text("{{audience}}")
    expect(page.get_by_label("{{words}}")).to_have_value("40")

    page.get_by_role("button", name="Open as conversation").click()  # audience is still empty
    expect(page.locator(".has-error")).to_contain_text("Give a value for {{audience}}")

    page.get_by_label("{{audience}}").fill("pirates")
    expect(preview.locator("mark.filled").first).to_have_text("pirates")  # htmx swapped the preview in
    page.get_by_role("button", name="Open as conversation").click()

    expect(page.locator("#connection")).to_have_text("Connected.")
    expect(page.locator("article.message-user")).to_contain_text("Explain tides in 40 words.")
    expect(page.locator("article.message-assistant.status-done")).to_be_visible(timeout=20_000)
    conversation = Conversation.objects.get(messages__content="Explain tides in 40 words.")
    assert conversation.system == "You explain things to pirates."
    assert page.csp_violations == []


def test_compare_four_setups_side_by_side(page, sign_in, acme, tides_prompt):
    provider = acme.provider
    sign_in("ada", PASSWORD)
    page.goto(f"/prompts/{tides_prompt.pk}/versions/1/compare/")
    assert keyboard_problems(page) == {}
    page.get_by_label("{{audience}}").fill("sailors")
    for position, model in enumerate(["demo-chat", "demo-slow", "demo-broken", "demo-fast"], start=1):
        column = page.get_by_role("group", name=f"Column {position}")
        column.get_by_label("Provider").select_option(label="Demo")
        column.get_by_label("Model").fill(model)
        column.get_by_label("Parameters (JSON)").fill('{"max_tokens": 40}')
    page.get_by_role("button", name="Run the comparison").click()

    columns = page.locator("section.compare-column")
    expect(columns).to_have_count(4)
    # The fast columns end while the slow one (3 s before it answers) is still waiting.
    expect(page.locator("#column-4[data-status='done']")).to_be_visible(timeout=20_000)
    expect(page.locator("#column-1[data-status='done']")).to_be_visible(timeout=20_000)
    expect(page.locator("#column-3[data-status='error']")).to_be_visible(timeout=20_000)
    expect(page.locator("#column-3").get_by_role("alert")).not_to_be_empty()
    expect(page.locator("#column-2[data-status='done']")).to_be_visible(timeout=30_000)
    for position in (1, 2, 4):
        stats = page.get_by_label(f"Statistics of column {position}")
        expect(stats).to_contain_text(re.compile(r"Time to first token\s*\d+ ms"))
        expect(stats).to_contain_text(re.compile(r"\d+(\.\d+)? tokens/s"))
    expect(page.locator("#column-1-body")).to_contain_text("Explain tides in 40 words.")
    assert keyboard_problems(page) == {}

    page.get_by_role("button", name="Save column 4's setup as a new version").click()
    expect(page.get_by_role("status").filter(has_text="Saved column 4's setup as version 2")).to_be_visible()
    version = tides_prompt.versions.get(number=2)
    assert (version.model, version.params, version.provider_id) == ("demo-fast", {"max_tokens": 40}, provider.pk)
    assert page.csp_violations == []
