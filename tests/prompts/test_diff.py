"""The diff between two versions: words of each message, and provider, model, parameters, variables."""

from __future__ import annotations

import pytest
from django.urls import reverse

from playground.prompts import services
from playground.prompts.diff import text_segments, version_diff

pytestmark = pytest.mark.django_db


def test_a_changed_word_shows_as_removed_then_added():
    segments = [(segment.kind, segment.text) for segment in text_segments("Be brief and kind.", "Be short and kind.")]
    assert segments == [("same", "Be "), ("removed", "brief"), ("added", "short"), ("same", " and kind.")]


def test_diff_of_two_versions(prompt, team_with_roles):
    member = team_with_roles.users["member"]
    content = services.Content.of(prompt.current_version)
    content.messages.append({"role": "assistant", "content": "Sure."})
    content.system = "Answer in French."
    content.model = "demo-fast"
    content.params = {"max_tokens": 100, "seed": 7}
    services.version_add(prompt=prompt, user=member, content=content, note="French")
    old, new = prompt.versions.get(number=1), prompt.versions.get(number=3)

    diff = version_diff(old, new)

    system, first, second = diff.texts
    assert system.status == "added" and system.segments[0].text == "Answer in French."
    assert first.status == "changed"
    assert [(s.kind, s.text) for s in first.segments if s.kind != "same"] == [
        ("removed", "Summarise"),
        ("added", "Briefly summarise"),
    ]
    assert second.status == "added" and second.new_role == "assistant"
    assert [(c.name, c.status, c.old, c.new) for c in diff.settings] == [("model", "changed", "demo-chat", "demo-fast")]
    assert [(c.name, c.status, c.old, c.new) for c in diff.params] == [
        ("max_tokens", "added", "", "100"),
        ("seed", "added", "", "7"),
        ("temperature", "removed", "0.2", ""),
    ]
    assert not diff.variables
    assert not diff.unchanged


def test_diff_of_a_version_with_itself_is_empty(prompt):
    version = prompt.current_version
    diff = version_diff(version, version)
    assert diff.unchanged and all(text.status == "same" for text in diff.texts)


def test_variable_defaults_show_in_the_diff(prompt, team_with_roles):
    content = services.Content.of(prompt.current_version)
    content.variables["length"]["default"] = "80"
    services.version_add(prompt=prompt, user=team_with_roles.users["member"], content=content, note="Longer")
    diff = version_diff(prompt.versions.get(number=2), prompt.versions.get(number=3))
    assert [(c.name, c.old, c.new) for c in diff.variables] == [
        ("{{length}}", "default “50”, described as “How many words”", "default “80”, described as “How many words”")
    ]


def test_the_diff_page_marks_insertions_and_deletions_accessibly(client, team_with_roles, prompt):
    client.force_login(team_with_roles.users["viewer"])
    page = client.get(reverse("version_diff", args=[prompt.pk]) + "?old=1&new=2").content.decode()
    assert (
        '<del><span class="visually-hidden">[removed: </span>Summarise<span class="visually-hidden">]</span></del>'
        in page
    )
    assert '<ins><span class="visually-hidden">[added: </span>Briefly summarise' in page
    assert "<code>temperature</code>" in page and "<code>max_tokens</code>" in page


def test_the_diff_page_defaults_to_the_two_newest_versions(client, team_with_roles, prompt):
    client.force_login(team_with_roles.users["viewer"])
    response = client.get(reverse("version_diff", args=[prompt.pk]))
    assert (response.context["diff"].old.number, response.context["diff"].new.number) == (1, 2)
    assert client.get(reverse("version_diff", args=[prompt.pk]) + "?old=1&new=9").status_code == 404
