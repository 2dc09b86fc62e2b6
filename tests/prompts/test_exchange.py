"""Export to JSON and import back: malformed files, partly invalid files, providers matched by name."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from playground.prompts import exchange
from playground.prompts.models import Prompt
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def good_entry(name="Imported", **extra):
    entry = {
        "name": name,
        "tags": ["Imports", "demo"],
        "versions": [
            {"number": 1, "messages": [{"role": "user", "content": "Hi {{who}}"}], "model": "demo-chat"},
            {
                "number": 2,
                "note": "Warmer",
                "author": "grace",
                "created_at": "2025-03-01T10:00:00+00:00",
                "system": "Be warm.",
                "messages": [{"role": "user", "content": "Hello {{who}}"}],
                "provider": "Demo",
                "model": "demo-fast",
                "params": {"temperature": 0.9},
                "variables": {"who": {"description": "A name", "default": "Ada"}, "unused": {"default": "x"}},
            },
        ],
        "current_version": 2,
    }
    entry.update(extra)
    return entry


def file_of(*entries) -> bytes:
    return json.dumps({"format": "playground-prompts", "format_version": 1, "prompts": list(entries)}).encode()


def test_export_then_import_into_another_team_gives_the_same_prompt(prompt, team_with_roles):
    data = exchange.export_json([prompt])
    other = TeamFactory(name="Elsewhere")
    [result] = exchange.import_prompts(data.encode(), team=other, user=team_with_roles.users["owner"])
    assert result.imported and not result.reason
    copy = result.prompt
    assert copy.team == other and copy.name == prompt.name and copy.tag_names == ["summaries"]
    assert [v.number for v in copy.versions.order_by("number")] == [1, 2]
    original, imported = prompt.versions.get(number=2), copy.versions.get(number=2)
    assert (imported.messages, imported.params, imported.model, imported.variables) == (
        original.messages,
        original.params,
        original.model,
        original.variables,
    )
    assert copy.current_version == imported
    # The other team has no provider called Demo: the report says so.
    assert imported.provider is None and imported.provider_name == "Demo"
    assert any("no provider named “Demo”" in note for note in result.notes)


def test_an_export_holds_no_key_and_no_provider_address(prompt):
    data = exchange.export_json([prompt])
    assert "demo.example.com" not in data and "sk-" not in data
    assert json.loads(data)["prompts"][0]["versions"][1]["provider"] == "Demo"


def test_import_matches_providers_by_name_and_keeps_only_variables_in_the_text(team_with_roles, offline_provider):
    [result] = exchange.import_prompts(
        file_of(good_entry()), team=team_with_roles.team, user=team_with_roles.users["member"]
    )
    version = result.prompt.current_version
    assert version.number == 2 and version.provider == offline_provider
    assert version.variables == {"who": {"description": "A name", "default": "Ada"}}
    assert version.note == "Warmer (imported; written by grace, 2025-03-01)"
    assert version.author == team_with_roles.users["member"]
    assert result.prompt.owner == team_with_roles.users["member"]
    assert result.prompt.tag_names == ["demo", "imports"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"prompts": [', "not valid JSON: Expecting value at line 1, column 14"),
        (b"\xff\xfe\x00", "not UTF-8 text"),
        (b"[1, 2]", 'needs an object with a "prompts" list'),
        (b'{"format": "langfuse", "prompts": []}', "format is “langfuse”"),
        (b'{"format_version": 9, "prompts": []}', "newer Playground"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(team_with_roles, raw, message):
    with pytest.raises(exchange.ImportFileError) as refused:
        exchange.import_prompts(raw, team=team_with_roles.team, user=team_with_roles.users["member"])
    assert message in str(refused.value)
    assert not Prompt.objects.exists()


def test_a_partly_invalid_file_imports_the_good_prompts_and_says_why_others_were_rejected(team_with_roles):
    bad_role = good_entry("Bad role")
    bad_role["versions"][0]["messages"][0]["role"] = "robot"
    no_versions = good_entry("Empty", versions=[])
    twice = good_entry("Twice")
    twice["versions"][1]["number"] = 1
    raw = file_of(good_entry("First good"), bad_role, "not an object", no_versions, twice, good_entry("Last good"))

    results = exchange.import_prompts(raw, team=team_with_roles.team, user=team_with_roles.users["member"])

    assert [result.imported for result in results] == [True, False, False, False, False, True]
    reasons = {result.name: result.reason for result in results if not result.imported}
    assert reasons["Bad role"] == "versions[0].messages[0].role: 'robot' is not one of ['user', 'assistant']"
    assert reasons["Entry 3"] == "'not an object' is not of type 'object'"
    assert reasons["Empty"] == "versions: [] should be non-empty"
    assert reasons["Twice"] == "Two versions have the same number."
    assert sorted(Prompt.objects.values_list("name", flat=True)) == ["First good", "Last good"]


def test_the_import_page_reports_each_prompt(client, team_with_roles):
    client.force_login(team_with_roles.users["member"])
    bad = good_entry("Nameless")
    bad["name"] = "   "
    upload = SimpleUploadedFile("prompts.json", file_of(good_entry("Welcome"), bad), content_type="application/json")
    response = client.post(reverse("prompt_import", args=[team_with_roles.team.pk]), {"file": upload})
    page = response.content.decode()
    assert response.status_code == 200
    assert "1 imported, 1 rejected" in page
    assert "Imported:</strong> <a href=" in page and "Welcome" in page
    assert "Rejected:</strong> entry 2" in page and "name: a prompt needs a name." in page


def test_the_import_page_explains_malformed_json_next_to_the_file_field(client, team_with_roles):
    client.force_login(team_with_roles.users["member"])
    upload = SimpleUploadedFile("prompts.json", b"{not json", content_type="application/json")
    response = client.post(reverse("prompt_import", args=[team_with_roles.team.pk]), {"file": upload})
    assert response.status_code == 400
    assert "The file is not valid JSON" in response.content.decode()
    assert not Prompt.objects.exists()


def test_export_all_downloads_the_visible_prompts_as_a_file(client, team_with_roles, prompt, private_prompt):
    client.force_login(team_with_roles.users["viewer"])
    response = client.get(reverse("prompt_export_all", args=[team_with_roles.team.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="prompts-acme.json"'
    names = [entry["name"] for entry in json.loads(response.content)["prompts"]]
    assert names == ["Summary"]


@pytest.mark.parametrize("where", ["top", "params"])
def test_a_file_nested_too_deeply_is_explained_not_a_500(client, team_with_roles, where):
    client.force_login(team_with_roles.users["member"])
    depth = 100_000 if where == "top" else 190
    if where == "top":
        raw = b'{"prompts": [' + b"[" * depth + b"]" * depth + b"]}"
    else:
        entry = good_entry("Deep")
        entry["versions"][0]["params"] = json.loads('{"a":' * depth + "1" + "}" * depth)
        raw = file_of(entry)
    upload = SimpleUploadedFile("prompts.json", raw, content_type="application/json")
    response = client.post(reverse("prompt_import", args=[team_with_roles.team.pk]), {"file": upload})
    assert response.status_code in (200, 400)
    page = response.content.decode()
    assert "levels deep" in page or "Imported:" in page or "Rejected:" in page
