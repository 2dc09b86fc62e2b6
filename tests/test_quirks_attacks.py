"""An attacker's pass over the rerank page, provider headers, the schema refresh and providers'
error bodies: hostile input and hostile providers get a clear answer, never a 500, never
markup that runs, never a secret, and never a call to another host.

Providers here are real sockets (RawServer, or the demo upstream).
"""

from __future__ import annotations

import copy
import json
import logging

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from playground.accounts.models import Role
from playground.chat.models import Message
from playground.demo.openapi import document as demo_document
from playground.providers.models import Provider, ProviderHeader
from playground.usage.models import UsageRecord
from tests.chat.conftest import connect, conversation, frames_until_done  # noqa: F401 (fixtures)
from tests.chat.test_consumer import answered_by
from tests.factories import ApiKeyFactory, MembershipFactory, ProjectFactory, ProviderFactory
from tests.upstream.raw_server import RawServer, Reply, json_reply

QUERY = "which is best"
DOCUMENTS = ["first", "second", "third"]
JAMAI_KEY = "jamai_pat_0123456789abcdef"
PROJECT_SECRET = "proj_0a1b2c3d4e5f6789"
RANKED = {"results": [{"index": 2, "relevance_score": 0.9}, {"index": 0, "relevance_score": 0.5}]}
SCRIPT = '<script>alert("x")</script>'
IMG = "<img src=x onerror=alert(1)>"


def browser(user) -> Client:
    """A signed-in client that gets a server error as the 500 page a person would see."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def jamai_provider(team, server: RawServer, **fields) -> Provider:
    """A JamAI Base provider at the scripted server (rerank at /api/v1/rerank), with a shared key."""
    origin = server.url.removesuffix("/v1")
    fields = {"name": "JamAI", "base_url": origin, "profile": "jamai-base", "allow_local": True, **fields}
    provider = ProviderFactory(team=team, **fields)
    ApiKeyFactory(provider=provider, owner=None, plain=JAMAI_KEY)
    return provider


def rerank_post(user, project, provider_id, **fields):
    data = {"provider": provider_id, "model": "rerank-m", "query": QUERY, "documents": "\n".join(DOCUMENTS), **fields}
    return browser(user).post(reverse("rerank", args=[project.pk]), data)


async def rank_at(team_with_roles, *replies: Reply, header: tuple[str, str] | None = None, **fields):
    """The member's rerank of DOCUMENTS by a JamAI provider answering `replies`: (response, server)."""
    async with RawServer(*replies) as server:

        def post():
            provider = jamai_provider(team_with_roles.team, server)
            if header is not None:
                stored = ProviderHeader(provider=provider, name=header[0], secret=True)
                stored.set_value(header[1])
                stored.save()
            return rerank_post(team_with_roles.users["member"], team_with_roles.project, provider.pk, **fields)

        response = await sync_to_async(post)()
    return response, server


def errors_of(response) -> str:
    """Every problem the page shows beside a field or above the form, as text."""
    form, params = response.context["form"], response.context["params"]
    found = [str(error) for errors in form.errors.values() for error in errors]
    if params is not None:
        found += [str(error) for errors in params.errors.values() for error in errors]
    return " ".join(found)


def raw_json(status: int, body: bytes) -> Reply:
    return Reply(status=status, headers={"Content-Type": "application/json"}, parts=[(0, body)])


# --- Rerank: whose provider, whose project --------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_another_teams_provider_posted_to_the_rerank_page_is_refused_and_never_called(team_with_roles):
    async with RawServer(json_reply(200, RANKED)) as theirs:

        def post():
            ProviderFactory(team=team_with_roles.team, name="Ours", profile="demo")
            rival = MembershipFactory(role=Role.OWNER).team
            provider = jamai_provider(rival, theirs, name="Rival Labs")
            return rerank_post(team_with_roles.users["member"], team_with_roles.project, provider.pk)

        response = await sync_to_async(post)()
    assert response.status_code == 400
    assert "Select a valid choice" in " ".join(response.context["form"].errors["provider"])
    assert "Rival Labs" not in response.content.decode()
    assert theirs.requests == []
    assert not await UsageRecord.objects.aexists()


def test_a_member_of_two_teams_cannot_rank_in_one_with_the_others_provider(team_with_roles, demo_provider):
    member = team_with_roles.users["member"]
    other = ProjectFactory(name="Elsewhere")
    MembershipFactory(team=other.team, user=member, role=Role.OWNER)
    ProviderFactory(team=other.team, name="Their rerank", profile="demo")
    response = rerank_post(member, other, demo_provider.pk, model="demo-rerank")
    assert response.status_code == 400
    assert "Select a valid choice" in " ".join(response.context["form"].errors["provider"])
    assert "ranking" not in response.context
    assert not UsageRecord.objects.exists()


def test_ones_own_provider_on_another_teams_project_is_not_found(team_with_roles, demo_provider):
    other = ProjectFactory(name="Not yours")
    response = rerank_post(team_with_roles.users["member"], other, demo_provider.pk, model="demo-rerank")
    assert response.status_code == 404
    assert not UsageRecord.objects.exists()


def test_asking_for_another_teams_provider_by_id_does_not_name_it(team_with_roles, demo_provider):
    rival = ProviderFactory(name="Rival Labs", profile="openai")
    client = browser(team_with_roles.users["member"])
    response = client.get(reverse("rerank", args=[team_with_roles.project.pk]), {"provider": rival.pk})
    assert response.status_code == 200
    assert response.context["not_offered"] is None
    assert "Rival Labs" not in response.content.decode()


@pytest.mark.parametrize("value", ["99999999999999999999999", "-1", "1e3", SCRIPT, "1\x00", " ", "1.0"])
def test_a_provider_id_that_is_not_one_is_refused_beside_the_provider(team_with_roles, demo_provider, value):
    response = rerank_post(team_with_roles.users["member"], team_with_roles.project, value, model="demo-rerank")
    assert response.status_code == 400
    assert response.context["form"].errors["provider"]
    assert SCRIPT not in response.content.decode()
    assert not UsageRecord.objects.exists()


# --- Rerank: hostile text in the form ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("query", "cats\x00purr"), ("documents", "first\nsec\x00ond"), ("model", "demo\x00rerank")],
)
def test_a_nul_character_is_refused_beside_its_field_before_sending(team_with_roles, demo_provider, field, value):
    fields = {"model": "demo-rerank", field: value}
    response = rerank_post(team_with_roles.users["member"], team_with_roles.project, demo_provider.pk, **fields)
    assert response.status_code == 400
    assert response.context["form"].errors[field] == ["Null characters are not allowed."]
    assert not UsageRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_hostile_text_is_sent_as_written_and_shown_as_text(team_with_roles):
    documents = [SCRIPT, "\u202egnp.exe harmless", IMG, "first line"]
    answer = {
        "results": [{"index": i, "relevance_score": 1 - i / 10} for i in range(4)],
        "meta": {"model": f"<b>bold</b>{SCRIPT}"},
    }
    # A CR LF pair, a lone CR and a trailing CR each end a document: they are lines.
    text = f"{documents[0]}\r\n{documents[1]}\r{documents[2]}\n{documents[3]}\r"
    response, server = await rank_at(
        team_with_roles, json_reply(200, answer), documents=text, query=f"{IMG} cats", model="m\r\nX-Injected: 1"
    )
    [(_, headers, sent)] = server.requests
    assert json.loads(sent) == {"model": "m\r\nX-Injected: 1", "query": f"{IMG} cats", "documents": documents}
    assert "x-injected" not in headers
    page = response.content.decode()
    assert response.status_code == 200
    assert [document.text for document in response.context["ranking"].documents] == documents
    assert SCRIPT not in page and IMG not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page  # the model the provider named, as text


@pytest.mark.parametrize(("name", "value"), [("top_n", SCRIPT), ("top_n", "1e400"), ("return_documents", IMG)])
def test_a_hostile_parameter_is_refused_beside_it_as_text(team_with_roles, demo_provider, name, value):
    response = rerank_post(
        team_with_roles.users["member"], team_with_roles.project, demo_provider.pk, model="demo-rerank",
        **{f"p-{name}": value},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.context["params"].errors[name]
    assert SCRIPT not in response.content.decode() and IMG not in response.content.decode()
    assert not UsageRecord.objects.exists()


@pytest.mark.parametrize("value", [str(10**30), "1e300"])
def test_a_parameter_too_large_to_send_is_refused_beside_it(team_with_roles, demo_provider, value):
    response = rerank_post(
        team_with_roles.users["member"], team_with_roles.project, demo_provider.pk, model="demo-rerank",
        **{"p-top_n": value},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.context["params"].errors["top_n"]


# --- Rerank: hostile answers -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"results": [{"index": 3, "relevance_score": 0.5}]}, "names document 3, which was not sent"),
        ({"results": [{"index": -1, "relevance_score": 0.5}]}, "names document -1, which was not sent"),
        ({"results": [{"index": 1.0, "relevance_score": 0.5}]}, "names document 1.0, which was not sent"),
        ({"results": [{"index": "0", "relevance_score": 0.5}]}, "names document '0', which was not sent"),
        ({"results": [{"index": True, "relevance_score": 0.5}]}, "names document True, which was not sent"),
        ({"results": [{"index": 10**30, "relevance_score": 0.5}]}, "which was not sent"),
        ({"results": [{"index": SCRIPT, "relevance_score": 0.5}]}, "which was not sent"),
        ({"results": [{"relevance_score": 0.5}]}, "names document None, which was not sent"),
        (
            {"results": [{"index": 0, "relevance_score": 0.5}, {"index": 0, "relevance_score": 0.4}]},
            "ranks the same document twice",
        ),
        ({"results": [{"index": 0, "relevance_score": "0.9"}]}, "has no relevance score"),
        ({"results": [{"index": 0, "relevance_score": None}]}, "has no relevance score"),
        ({"results": [{"index": 0, "relevance_score": True}]}, "has no relevance score"),
        ({"results": [{"index": 0}]}, "has no relevance score"),
        ({"results": [{"index": 0, "relevance_score": [1]}]}, "has no relevance score"),
        ({"results": None}, "had no results"),
        ({"results": {"0": 0.5}}, "had no results"),
        ({"unexpected": True}, "had no results"),
        ({"results": ["first", 0.5]}, "is not an object"),
    ],
)
async def test_an_answer_that_is_not_a_ranking_of_what_was_sent_is_said_plainly(team_with_roles, answer, message):
    response, _ = await rank_at(team_with_roles, json_reply(200, answer))
    assert response.status_code == 400
    assert message in errors_of(response)
    assert "ranking" not in response.context
    assert SCRIPT not in response.content.decode()
    record = await UsageRecord.objects.aget()
    assert (record.endpoint, record.status, record.error_kind) == ("rerank", "error", "invalid_response")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "body",
    [
        b'{"results": [{"index": 0, "relevance_score": NaN}]}',
        b'{"results": [{"index": 0, "relevance_score": 1e400}]}',
        b'{"results": [{"index": 0, "relevance_score": -Infinity}]}',
        b'{"results": [{"index": 0, "relevance_score": 0.5}',
        b"[]",
        b"",
    ],
)
async def test_an_answer_that_is_not_json_or_not_finite_is_said_plainly(team_with_roles, body):
    response, _ = await rank_at(team_with_roles, raw_json(200, body))
    assert response.status_code == 400
    assert "The provider's answer" in errors_of(response)
    assert (await UsageRecord.objects.aget()).error_kind == "invalid_response"


@pytest.mark.django_db(transaction=True)
async def test_scores_at_the_ends_of_the_float_range_are_ranked_and_shown(team_with_roles):
    answer = {
        "results": [
            {"index": 0, "relevance_score": -1.7e308},
            {"index": 1, "relevance_score": 5e-324},
            {"index": 2, "relevance_score": 1.7e308},
        ]
    }
    response, _ = await rank_at(team_with_roles, json_reply(200, answer))
    assert response.status_code == 200
    ranking = response.context["ranking"]
    assert [(document.text, document.score) for document in ranking.documents] == [
        ("third", 1.7e308),
        ("second", 5e-324),
        ("first", -1.7e308),
    ]
    assert "3 of 3 documents" in response.content.decode()


@pytest.mark.django_db(transaction=True)
async def test_the_providers_copy_of_a_document_and_extra_fields_are_not_shown(team_with_roles):
    answer = {
        "results": [
            {"index": 1, "relevance_score": 0.8, "document": {"text": SCRIPT}, "debug": {"html": IMG}},
            {"index": 0, "relevance_score": 0.2, "document": IMG, "object": "reranking"},
        ],
        "model": ["not", "a", "name"],
        "usage": {"input_tokens": -5, "total_tokens": "many"},
        "extra": IMG,
    }
    response, _ = await rank_at(team_with_roles, json_reply(200, answer))
    page = response.content.decode()
    assert response.status_code == 200
    assert [document.text for document in response.context["ranking"].documents] == ["second", "first"]
    assert SCRIPT not in page and IMG not in page and "&lt;script&gt;" not in page
    assert "ranked by rerank-m" in page  # the model asked for, since the answer names none
    record = await UsageRecord.objects.aget()
    assert (record.status, record.prompt_tokens) == ("ok", None)


@pytest.mark.django_db(transaction=True)
async def test_an_answer_ranking_nothing_says_so_without_failing(team_with_roles):
    response, _ = await rank_at(team_with_roles, json_reply(200, {"results": []}))
    assert response.status_code == 200
    assert "0 of 3 documents" in response.content.decode()


# --- Error bodies from providers ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "reply",
    [
        json_reply(400, {"error": {"message": f"{SCRIPT} and {IMG}"}}),
        json_reply(500, {"detail": [{"msg": SCRIPT}, {"msg": IMG}]}),
        json_reply(200, {"error": f"{SCRIPT} {IMG}"}),
        Reply(status=400, headers={"Content-Type": "text/plain"}, parts=[(0, f"Bad: {SCRIPT} {IMG}".encode())]),
    ],
)
async def test_hostile_html_in_a_providers_error_is_shown_as_text(team_with_roles, reply, settings):
    settings.UPSTREAM_MAX_RETRIES = 0
    response, _ = await rank_at(team_with_roles, reply)
    page = response.content.decode()
    assert response.status_code == 400
    assert SCRIPT in errors_of(response) and IMG in errors_of(response)
    assert SCRIPT not in page and IMG not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


@pytest.mark.django_db(transaction=True)
async def test_a_redirect_from_the_rerank_endpoint_is_not_followed_and_its_address_is_text(team_with_roles):
    async with RawServer(json_reply(200, RANKED)) as elsewhere:
        location = f"{elsewhere.url.removesuffix('/v1')}/{IMG}"
        response, _ = await rank_at(team_with_roles, json_reply(302, {}, Location=location))
    assert response.status_code == 400
    assert "redirects are not followed" in errors_of(response)
    assert IMG not in response.content.decode()
    assert elsewhere.requests == []


@pytest.mark.django_db(transaction=True)
async def test_a_huge_error_body_that_is_not_json_is_cut(team_with_roles):
    body = ("The provider is very sorry. " * 8000).encode()  # over 200 KB
    response, _ = await rank_at(team_with_roles, Reply(status=400, headers={}, parts=[(0, body)]))
    assert response.status_code == 400
    assert 0 < len(errors_of(response)) < 1000
    record = await UsageRecord.objects.aget()
    assert len(record.error_message) <= 500


@pytest.mark.django_db(transaction=True)
async def test_a_huge_error_message_in_a_json_body_is_cut(team_with_roles):
    message = "The provider is very sorry. " * 2000  # 56 KB, under the 64 KB read limit
    response, _ = await rank_at(team_with_roles, json_reply(400, {"error": {"message": message}}))
    assert response.status_code == 400
    assert "The provider is very sorry." in errors_of(response)
    assert len(errors_of(response)) < 1000


@pytest.mark.django_db(transaction=True)
async def test_an_echoed_api_key_never_reaches_the_page_or_the_usage_record(team_with_roles):
    body = {"error": {"message": f"Incorrect API key provided: {JAMAI_KEY}."}}
    response, _ = await rank_at(team_with_roles, json_reply(401, body))
    assert response.status_code == 400
    assert "The API key was refused (401)" in " ".join(response.context["form"].errors["provider"])
    assert JAMAI_KEY not in response.content.decode()
    assert JAMAI_KEY not in (await UsageRecord.objects.aget()).error_message


@pytest.mark.django_db(transaction=True)
async def test_an_echoed_secret_header_value_never_reaches_the_page_or_the_usage_record(team_with_roles):
    body = {"object": "error", "error": "ResourceNotFoundError", "message": f"Project {PROJECT_SECRET} not found."}
    response, server = await rank_at(team_with_roles, json_reply(404, body), header=("X-PROJECT-ID", PROJECT_SECRET))
    assert server.requests[0][1]["x-project-id"] == PROJECT_SECRET
    assert response.status_code == 400
    assert "Project" in errors_of(response)
    assert PROJECT_SECRET not in response.content.decode()
    assert PROJECT_SECRET not in (await UsageRecord.objects.aget()).error_message


@pytest.mark.django_db(transaction=True)
async def test_hostile_html_in_a_chat_error_is_text_on_the_socket_and_the_page(
    conversation,  # noqa: F811
    connect,  # noqa: F811
    team_with_roles,
    settings,
):
    settings.UPSTREAM_MAX_RETRIES = 0
    async with RawServer(json_reply(400, {"error": {"message": f"{SCRIPT} {IMG}"}})) as server:
        await answered_by(server, conversation)
        socket, _, _ = await connect(conversation)
        try:
            await socket.send_json_to({"type": "send", "text": "Hello"})
            frames = await frames_until_done(socket)
        finally:
            await socket.disconnect()
    done = frames[-1]
    assert done["status"] == "error" and SCRIPT in done["error"]  # the page sets it as text
    answer = await Message.objects.aget(pk=done["message"])

    def page() -> str:
        client = browser(team_with_roles.users["member"])
        return client.get(reverse("message_fragment", args=[answer.pk])).content.decode()

    html = await sync_to_async(page)()
    assert SCRIPT not in html and IMG not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


@pytest.mark.django_db(transaction=True)
async def test_a_huge_chat_error_message_is_cut(conversation, connect, settings):  # noqa: F811
    settings.UPSTREAM_MAX_RETRIES = 0
    message = "The provider is very sorry. " * 2000
    async with RawServer(json_reply(400, {"error": {"message": message}})) as server:
        await answered_by(server, conversation)
        socket, _, _ = await connect(conversation)
        try:
            await socket.send_json_to({"type": "send", "text": "Hello"})
            frames = await frames_until_done(socket)
        finally:
            await socket.disconnect()
    assert frames[-1]["status"] == "error"
    assert "The provider is very sorry." in frames[-1]["error"]
    assert len(frames[-1]["error"]) < 1000


# --- Provider headers ------------------------------------------------------------------------

NO_FREE_ROWS = {"headers-TOTAL_FORMS": "0", "headers-INITIAL_FORMS": "0"}


def jamai_form(base_url: str = "https://api.jamaibase.com", **fields) -> dict:
    return {"name": "JamAI", "base_url": base_url, "profile": "jamai-base", "default_model": "", **fields}


def free_rows(*rows: tuple[str, str, bool]) -> dict:
    data = {"headers-TOTAL_FORMS": str(len(rows)), "headers-INITIAL_FORMS": "0"}
    for index, (name, value, secret) in enumerate(rows):
        data |= {f"headers-{index}-name": name, f"headers-{index}-value": value}
        if secret:
            data[f"headers-{index}-secret"] = "on"
    return data


@pytest.mark.parametrize("value", ["user\r\nX-Evil: 1", "user\rX-Evil: 1", "user\x00", "user\x7f", "user\tx"])
def test_a_header_value_with_control_characters_is_refused_in_a_free_row_and_a_profile_box(team_with_roles, value):
    client = browser(team_with_roles.users["admin"])
    url = reverse("provider_list", args=[team_with_roles.team.pk])
    in_box = client.post(url, jamai_form(**NO_FREE_ROWS, **{"header-jamai-base-1": value}))
    in_row = client.post(url, jamai_form(**free_rows(("X-Tenant", value, True))))
    assert in_box.status_code == in_row.status_code == 200
    assert in_box.context["form"].errors["header-jamai-base-1"]
    assert in_row.context["headers"].forms[0].errors["value"]
    assert not Provider.objects.exists()


@pytest.mark.parametrize("name", ["X-Evil\r\nHost", "X Evil", "X-Evil:", "Authorization", "HOST", "Content-Length"])
def test_a_typed_header_name_that_is_not_a_plain_name_or_is_ours_is_refused(team_with_roles, name):
    client = browser(team_with_roles.users["admin"])
    response = client.post(
        reverse("provider_list", args=[team_with_roles.team.pk]), jamai_form(**free_rows((name, "v", False)))
    )
    assert response.status_code == 200
    assert response.context["headers"].forms[0].errors["name"]
    assert not Provider.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        jamai_form(**NO_FREE_ROWS, **{"header-jamai-base-0": "próject-1234"}),
        jamai_form(**free_rows(("X-Prójekt", "1", False))),
        jamai_form(**free_rows(("X-Tenant", "naïve", True))),
        jamai_form(**free_rows(("X-Tenant", "a\u2028b", False))),
    ],
)
def test_a_header_that_cannot_go_on_the_wire_is_refused_in_the_form(team_with_roles, data):
    client = browser(team_with_roles.users["admin"])
    response = client.post(reverse("provider_list", args=[team_with_roles.team.pk]), data)
    assert response.status_code == 200
    assert not Provider.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("value", ["próject-1234", "proj\r\nX-Evil: 1"])
async def test_a_stored_header_that_cannot_go_on_the_wire_is_said_plainly_not_a_server_error(
    team_with_roles, caplog, value
):
    response, server = await rank_at(team_with_roles, json_reply(200, RANKED), header=("X-PROJECT-ID", value))
    assert response.status_code == 400
    assert "X-PROJECT-ID" in errors_of(response)
    assert server.requests == []
    # The secret value itself is named neither on the page nor in the log.
    assert value not in response.content.decode() and repr(value.encode())[2:-1] not in response.content.decode()
    assert repr(value.encode())[2:-1] not in caplog.text


@pytest.mark.django_db(transaction=True)
async def test_secret_header_values_appear_in_no_page_snippet_export_or_log(team_with_roles, caplog):
    caplog.set_level(logging.DEBUG)
    extra_secret = "xs_9f8e7d6c5b4a3210"
    admin = team_with_roles.users["admin"]
    admin.is_staff = True  # the scripted provider is on this machine
    await sync_to_async(admin.save)()
    async with RawServer(json_reply(200, RANKED), json_reply(400, {"error": {"message": "no such model"}})) as server:

        def use_and_look() -> list[str]:
            client = browser(admin)
            data = jamai_form(
                server.url.removesuffix("/v1"), allow_local="on", **free_rows(("X-Extra", extra_secret, True)),
                **{"header-jamai-base-0": PROJECT_SECRET},
            )  # fmt: skip
            created = client.post(reverse("provider_list", args=[team_with_roles.team.pk]), data)
            provider = Provider.objects.get(name="JamAI")
            ApiKeyFactory(provider=provider, owner=None, plain=JAMAI_KEY)
            ranked = rerank_post(admin, team_with_roles.project, provider.pk)
            failed = rerank_post(admin, team_with_roles.project, provider.pk)
            code = client.post(reverse("parameters", args=[provider.pk, "chat"]), {"model": "m"})
            export = client.get(reverse("usage_export"), {"team": team_with_roles.team.pk})
            pages = [
                created,
                ranked,
                failed,
                code,
                client.get(reverse("provider_detail", args=[provider.pk])),
                client.get(reverse("provider_edit", args=[provider.pk])),
                client.get(reverse("audit_list"), {"team": team_with_roles.team.pk}),
            ]
            assert ranked.status_code == 200 and failed.status_code == 400 and code.status_code == 200
            assert "X_EXTRA" in code.content.decode()  # the snippet reads it from a variable
            return [page.content.decode() for page in pages] + [b"".join(export.streaming_content).decode()]

        shown = await sync_to_async(use_and_look)()
    sent = server.requests[0][1]
    assert (sent["x-project-id"], sent["x-extra"]) == (PROJECT_SECRET, extra_secret)
    for secret in (PROJECT_SECRET, extra_secret):
        for text in [*shown, caplog.text]:
            assert secret not in text and secret[:-4] not in text


# --- Schema refresh: where it may fetch, and where calls go after it --------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["redirect", "404 then redirect"])
@pytest.mark.parametrize("target", ["decoy", "metadata", "hostile"])
async def test_a_redirect_while_looking_for_the_schema_is_not_followed(team_with_roles, first, target):
    async with RawServer(json_reply(200, demo_document())) as decoy:
        decoy_origin = decoy.url.removesuffix("/v1")
        location = {
            "decoy": f"{decoy_origin}/openapi.json",
            "metadata": "http://169.254.169.254/latest/meta-data/",
            "hostile": f"{decoy_origin}/{SCRIPT}",
        }[target]
        redirect = json_reply(302, {}, Location=location)
        replies = [redirect] if first == "redirect" else [json_reply(404, {"detail": "Not Found"}), redirect]
        async with RawServer(*replies) as server:

            def refresh() -> str:
                provider = jamai_provider(team_with_roles.team, server, base_url=server.url, profile="openai")
                client = browser(team_with_roles.users["admin"])
                response = client.post(reverse("schema_refresh", args=[provider.pk]), follow=True)
                provider.refresh_from_db()
                assert provider.schema_source == "profile"
                return response.content.decode()

            page = await sync_to_async(refresh)()
    assert len(server.requests) == len(replies)
    assert decoy.requests == []
    assert "redirects are not followed" in page
    assert SCRIPT not in page


HOSTILE_PATHS = [
    "//{decoy}/rerank",
    "http://{decoy}/rerank",
    "/@{decoy}/rerank",
    "/\\\\{decoy}/rerank",
    "/../../../{decoy}/rerank",
    "/%2F%2F{decoy}/rerank",
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", HOSTILE_PATHS)
async def test_a_fetched_schema_whose_servers_and_paths_point_elsewhere_keeps_calls_on_the_provider(
    team_with_roles, path
):
    async with RawServer(json_reply(200, RANKED)) as decoy:
        host = decoy.url.removeprefix("http://").removesuffix("/v1")
        document = copy.deepcopy(demo_document())
        document["servers"] = [{"url": decoy.url}, {"url": "http://169.254.169.254/v1"}]
        document["paths"] = {path.format(decoy=host): document["paths"]["/rerank"]}
        async with RawServer(json_reply(200, document), json_reply(200, RANKED)) as server:

            def refresh_and_rank():
                provider = jamai_provider(team_with_roles.team, server, base_url=server.url, profile="openai")
                admin = team_with_roles.users["admin"]
                browser(admin).post(reverse("schema_refresh", args=[provider.pk]))
                provider.refresh_from_db()
                assert provider.schema_source == "fetched"
                return rerank_post(admin, team_with_roles.project, provider.pk)

            response = await sync_to_async(refresh_and_rank)()
    assert decoy.requests == []
    assert [request[0].split(" ")[0] for request in server.requests] == ["GET", "POST"]
    assert response.status_code == 200
    assert [document.text for document in response.context["ranking"].documents] == ["third", "first"]
