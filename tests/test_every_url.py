"""Every URL with an id, asked for a missing id and for another team's, by every kind of
person: the answer is 404, 403, 405 or (signed out) the sign-in page, never a server error
and never another team's object. The URL map is tests/urlmap.py's, shared with the
hostile crawl, so a new URL missing from it fails here too."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.access import ACTORS
from tests.urlmap import (
    INDEX_KINDS,
    MISSING_ID,
    POST_ONLY,
    ROUTES,
    own_kwargs,
    page_urls,
    seed_world,
    stale_routes,
    uncovered_patterns,
    unseeded_fields,
    url_patterns,
)

TEAM_ROLES = ("owner", "admin", "member", "viewer")
# No database column holds this (64-bit at most). Ids in URLs are at most 18 digits
# (playground/converters.py), so reverse() cannot build such a URL: it is put in by hand.
TOO_LARGE_ID = 2**64
PLACEHOLDER_ID = 424242424242


def url_with(name: str, kwargs: dict, arg: str, value: int) -> str:
    return reverse(name, kwargs={**kwargs, arg: PLACEHOLDER_ID}).replace(str(PLACEHOLDER_ID), str(value))


WITH_IDS = sorted(pattern.name for pattern in url_patterns() if pattern.int_args and pattern.name in ROUTES)


@pytest.fixture
def worlds(team_with_roles, settings, tmp_path):
    """Acme (the team of the four roles) and the outsider's team, both seeded with hostile objects."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "media"
    users = team_with_roles.users
    acme = seed_world(team_with_roles.team, {role: users[role] for role in TEAM_ROLES}, prefix="a")
    outsider = users["nonmember"]
    other = seed_world(outsider.memberships.get().team, {"owner": outsider}, prefix="o")
    return {"acme": acme, "other": other}


def test_every_url_pattern_is_in_the_map():
    assert uncovered_patterns() == []
    assert stale_routes() == []


def test_the_seed_makes_every_text_field_hostile(worlds):
    assert unseeded_fields() == []


def test_the_map_reaches_every_page_and_download_as_the_owner(client, team_with_roles, worlds):
    """The control for the test below: the map's own ids do find the objects (so the 404s
    there come from the id being missing or foreign, not from a wrong map)."""
    client.force_login(team_with_roles.users["owner"])
    answers = {}
    for name, route in ROUTES.items():
        if route.not_page == POST_ONLY:
            continue
        for url in page_urls(name, worlds["acme"]):
            answers[url] = client.get(url).status_code
    assert {url: status for url, status in answers.items() if status not in (200, 302, 400)} == {}


def answer_problem(response, actor: str, foreign_marks) -> str | None:
    """Why the answer is wrong, or None."""
    status = response.status_code
    if actor == "anonymous" and status == 302:
        return None if response.url.startswith(reverse("login")) else f"redirect to {response.url}"
    if status not in (403, 404, 405):
        return f"status {status}"
    leaked = foreign_marks.found_in(response.content.decode(errors="replace"))
    return f"{status} showing another team's {leaked}" if leaked else None


@pytest.mark.parametrize("name", WITH_IDS)
def test_a_missing_or_foreign_id_is_refused_without_error(client, team_with_roles, worlds, name):
    pattern = next(pattern for pattern in url_patterns() if pattern.name == name)
    problems = []
    for actor in ACTORS:
        own, foreign = (worlds["other"], worlds["acme"]) if actor == "nonmember" else (worlds["acme"], worlds["other"])
        if actor == "anonymous":
            client.logout()
        else:
            client.force_login(team_with_roles.users[actor])
        for arg in pattern.int_args:
            kind = ROUTES[name].args[arg]
            tries = [("missing", MISSING_ID), ("too large for the database", TOO_LARGE_ID)]
            if kind not in INDEX_KINDS:
                tries.append(("another team's", foreign.first(kind)))
            for label, value in tries:
                url = url_with(name, own_kwargs(name, own), arg, value)
                for method in ("get", "post"):
                    try:
                        response = getattr(client, method)(url)
                    except Exception as error:
                        raise AssertionError(f"{actor}: {method.upper()} {url} ({label} {arg}) raised") from error
                    problem = answer_problem(response, actor, foreign.marks)
                    if problem:
                        problems.append(f"{actor}: {method.upper()} {url} ({label} {arg}): {problem}")
    assert problems == []


def test_a_too_large_number_in_a_query_string_is_no_error(client, team_with_roles, worlds):
    """Pages read ids and numbers from their query string too (the filters tests/urlmap.py
    lists as `reflect`): one no column can hold is not found, or not valid, never a 500."""
    client.force_login(team_with_roles.users["owner"])
    for name, route in ROUTES.items():
        if not route.reflect:
            continue
        query = route.reflect.replace("{h}", str(TOO_LARGE_ID))
        url = f"{reverse(name, kwargs=own_kwargs(name, worlds['acme']))}?{query}"
        try:
            response = client.get(url)
        except Exception as error:
            raise AssertionError(f"GET {url} raised") from error
        assert response.status_code < 500, url
