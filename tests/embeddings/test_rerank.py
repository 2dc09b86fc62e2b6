"""The rerank page: a query and documents in, the documents ranked with scores in a table out,
against the demo upstream over a real socket (and a JamAI-shaped answer from a scripted server)."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from playground.accounts.models import Role
from playground.demo.rerank import relevance_scores
from playground.providers.profiles import profile_document
from playground.schema.specs import endpoints_of
from playground.usage.models import UsageRecord
from tests.access import ACTORS, assert_access
from tests.factories import ApiKeyFactory, ProviderFactory
from tests.upstream.raw_server import RawServer, json_reply

QUERY = "cats purring on a warm sofa"
DOCUMENTS = [
    "Quarterly revenue grew by eight percent",
    "sleepy cats purr on the warm sofa",
    "rockets burn fuel to reach orbit",
    "cats chase mice then purr",
]


@pytest.fixture
def url(project):
    return reverse("rerank", args=[project.pk])


def post(client, url, provider, documents=DOCUMENTS, query=QUERY, **fields):
    text = "\n".join(documents) if isinstance(documents, list) else documents
    data = {"provider": provider.pk, "model": "demo-rerank", "query": query, "documents": text, **fields}
    return client.post(url, data)


def test_documents_are_ranked_most_relevant_first_with_scores_and_a_table(client, member, demo_provider, url):
    client.force_login(member)
    response = post(client, url, demo_provider)
    assert response.status_code == 200
    ranking = response.context["ranking"]
    scores = relevance_scores(QUERY, DOCUMENTS)
    expected = sorted(range(len(DOCUMENTS)), key=lambda i: -scores[i])
    assert [document.position for document in ranking.documents] == [i + 1 for i in expected]
    assert [document.text for document in ranking.documents][:2] == [DOCUMENTS[1], DOCUMENTS[3]]
    assert [document.score for document in ranking.documents] == pytest.approx([scores[i] for i in expected])
    page = response.content.decode()
    assert f'<caption id="ranking-caption">Documents ranked by relevance to “{QUERY}”</caption>' in page
    assert '<th scope="col">Rank</th><th scope="col">Score</th><th scope="col">Document</th>' in page
    first = f'<tr><td>1</td><td>{scores[1]:.4f}</td><th scope="row">{DOCUMENTS[1]}</th><td>2</td></tr>'
    assert first in page
    assert "4 of 4 documents, most relevant first, ranked by demo-rerank" in page


def test_the_call_is_recorded_once_with_its_tokens(client, member, demo_provider, url, project):
    client.force_login(member)
    post(client, url, demo_provider)
    record = UsageRecord.objects.get()
    words = len(QUERY.split())
    assert (record.endpoint, record.status, record.http_status, record.model) == ("rerank", "ok", 200, "demo-rerank")
    assert record.project_id == project.pk and record.user_id == member.pk and record.provider_id == demo_provider.pk
    assert record.prompt_tokens == sum(words + len(text.split()) for text in DOCUMENTS)
    assert record.get_endpoint_display() == "Rerank"


def test_top_n_from_the_providers_schema_keeps_the_best(client, member, demo_provider, url):
    client.force_login(member)
    response = post(client, url, demo_provider, **{"p-top_n": "2"})
    ranking = response.context["ranking"]
    assert [document.text for document in ranking.documents] == [DOCUMENTS[1], DOCUMENTS[3]]
    assert "2 of 4 documents" in response.content.decode()


def test_blank_lines_are_skipped_and_positions_count_documents(client, member, demo_provider, url):
    client.force_login(member)
    response = post(client, url, demo_provider, documents="\n  \nrockets fly\n\ncats purr on sofas\n")
    ranking = response.context["ranking"]
    assert [(document.position, document.text) for document in ranking.documents] == [
        (2, "cats purr on sofas"),
        (1, "rockets fly"),
    ]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"documents": " \n\n"}, "documents", "Write the documents to rank, one per line."),
        (
            {"documents": "\n".join(f"doc {i}" for i in range(1001))},
            "documents",
            "There are 1,001 documents; at most 1,000 can be ranked at once.",
        ),
        ({"documents": "short\n" + "x" * 10_001}, "documents", "Document 2 is longer than 10,000 characters."),
        ({"query": "  "}, "query", "Write the query that the documents are ranked against."),
        ({"query": "q" * 4001}, "query", "Ensure this value has at most 4000 characters (it has 4001)."),
    ],
)  # fmt: skip
def test_problems_are_shown_beside_their_field_before_anything_is_sent(
    client, member, demo_provider, url, fields, field, message
):
    client.force_login(member)
    response = post(client, url, demo_provider, **fields)
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert f'id="id_{field}_error"' in response.content.decode()
    assert "ranking" not in response.context
    assert not UsageRecord.objects.exists()


def test_a_parameter_out_of_the_schemas_range_is_refused_before_sending(client, member, demo_provider, url):
    client.force_login(member)
    response = post(client, url, demo_provider, **{"p-top_n": "0"})
    assert response.status_code == 400
    assert "top_n must be ≥ 1" in str(response.context["params"].errors["top_n"])
    assert not UsageRecord.objects.exists()


def test_an_unknown_model_is_named_beside_the_model_in_the_providers_words(client, member, demo_provider, url):
    client.force_login(member)
    response = post(client, url, demo_provider, model="no-such-model")
    assert response.status_code == 400
    assert "The model `no-such-model` does not exist" in str(response.context["form"].errors["model"])
    record = UsageRecord.objects.get()
    assert (record.endpoint, record.status, record.http_status) == ("rerank", "error", 404)


def test_a_provider_without_a_usable_key_is_named_beside_the_provider(client, member, demo_provider, url):
    demo_provider.api_keys.update(revoked_at="2025-01-01T00:00:00Z")
    client.force_login(member)
    response = post(client, url, demo_provider)
    assert response.status_code == 400
    assert "There is no API key for Demo" in str(response.context["form"].errors["provider"])


def test_htmx_gets_the_workspace_alone_even_with_errors(client, member, demo_provider, url):
    client.force_login(member)
    ok = client.post(
        url,
        {"provider": demo_provider.pk, "model": "demo-rerank", "query": QUERY, "documents": "\n".join(DOCUMENTS)},
        headers={"HX-Request": "true"},
    )
    page = ok.content.decode()
    assert ok.status_code == 200 and page.lstrip().startswith('<div id="rerank-workspace"') and "<html" not in page
    assert 'id="ranking-caption"' in page
    failed = client.post(url, {"provider": demo_provider.pk, "query": QUERY}, headers={"HX-Request": "true"})
    assert failed.status_code == 200 and "Write the documents to rank, one per line." in failed.content.decode()


def test_documents_and_the_query_are_shown_as_text(client, member, demo_provider, url):
    client.force_login(member)
    hostile = ['<script>alert("doc")</script> cats', "<img src=x onerror=alert(1)> purr"]
    response = post(client, url, demo_provider, documents=hostile, query="<b>cats</b>")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>cats</b>" not in page
    assert "&lt;script&gt;alert(&quot;doc&quot;)&lt;/script&gt; cats" in page


def test_a_provider_whose_schema_has_no_rerank_is_not_offered_and_the_page_says_why(
    client, member, demo_provider, url, team_with_roles
):
    chat_only = ProviderFactory(team=team_with_roles.team, name="Research", profile="research")
    client.force_login(member)
    response = client.get(url, {"provider": chat_only.pk})
    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["providers"] == [demo_provider]
    assert "The API schema of Research has no rerank endpoint, so it is not offered here." in page
    # Posting it anyway is refused beside the provider, without a call.
    refused = post(client, url, chat_only)
    assert refused.status_code == 400 and "provider" in refused.context["form"].errors
    assert not UsageRecord.objects.exists()


def test_a_team_without_any_rerank_provider_is_told_so(client, member, team_with_roles, url):
    ProviderFactory(team=team_with_roles.team, name="OpenAI", profile="openai")
    client.force_login(member)
    page = client.get(url).content.decode()
    assert "None of the team's providers has a rerank endpoint in its API schema." in page
    assert '<form id="rerank-form"' not in page


def test_rerank_operations_are_recognised_in_api_schemas():
    jamai = endpoints_of(profile_document("jamai-base"))["rerank"]
    assert jamai.path == "/api/v1/rerank"
    assert jamai.content_fields == ("model", "query", "documents") and jamai.params == ()
    demo = endpoints_of(profile_document("demo"))["rerank"]
    assert [(param.name, param.common) for param in demo.params] == [("top_n", True), ("return_documents", True)]
    assert "rerank" not in endpoints_of(profile_document("openai"))
    # A chat API's own `documents` field is still a parameter there.
    chat = {
        "paths": {
            "/chat": {},
            "/v1/chat/completions": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "properties": {"documents": {"type": "array"}}}
                            }
                        }
                    }
                }
            },
        }
    }
    assert [param.name for param in endpoints_of(chat)["chat"].params] == ["documents"]


def test_the_provider_select_brings_that_providers_settings(client, member, demo_provider, url, team_with_roles):
    jamai = ProviderFactory(team=team_with_roles.team, name="JamAI", profile="jamai-base")
    client.force_login(member)
    response = client.get(url, {"provider": jamai.pk}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="provider-settings"')
    assert "Parameters of /api/v1/rerank" in page
    assert "This endpoint takes no parameters besides the model, the query and the documents." in page


def test_the_navigation_and_the_embeddings_page_link_here(client, member, project, url):
    member.current_project = project
    member.save(update_fields=["current_project"])
    client.force_login(member)
    page = client.get(reverse("embedding_runs", args=[project.pk])).content.decode()
    assert page.count(f'href="{url}"') == 2  # the main navigation and the page's own text


ENDPOINTS = [("get", Role.VIEWER, None), ("post", Role.MEMBER, {"query": QUERY, "documents": "cats\nrockets"})]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("method", "lowest_role", "data"), ENDPOINTS)
def test_access(client, team_with_roles, demo_provider, url, actor, method, lowest_role, data):
    if actor != "anonymous":
        client.force_login(team_with_roles.users[actor])
    if data is not None:
        data = {**data, "provider": demo_provider.pk, "model": "demo-rerank"}
    response = client.post(url, data) if method == "post" else client.get(url)
    assert_access(response, actor, lowest_role)


def test_viewers_see_no_form_that_calls_the_api(client, team_with_roles, demo_provider, url):
    client.force_login(team_with_roles.users["viewer"])
    page = client.get(url).content.decode()
    assert "Members of the team can rerank documents here" in page
    assert "Rerank documents</button>" not in page


@pytest.mark.django_db(transaction=True)
async def test_an_answer_in_jamais_shape_is_ranked_and_its_tokens_counted(team_with_roles):
    """JamAI Base answers `results` without the documents, possibly unsorted, and counts tokens
    as usage.input_tokens; its rerank path comes from its profile."""
    answer = {
        "object": "list",
        "results": [
            {"object": "reranking", "index": 0, "relevance_score": 0.12},
            {"object": "reranking", "index": 2, "relevance_score": 0.91},
            {"object": "reranking", "index": 1, "relevance_score": 0.55},
        ],
        "usage": {"documents": 3, "input_tokens": 42},
        "meta": {"model": "cohere/rerank-multilingual-v3.0"},
    }
    async with RawServer(json_reply(200, answer)) as server:
        provider = await sync_to_async(ProviderFactory)(
            team=team_with_roles.team,
            name="JamAI",
            base_url=server.url.removesuffix("/v1"),
            profile="jamai-base",
            allow_local=True,
        )
        await sync_to_async(ApiKeyFactory)(provider=provider, owner=None)
        client = Client()
        await sync_to_async(client.force_login)(team_with_roles.users["member"])
        data = {
            "provider": provider.pk,
            "model": "cohere/rerank-multilingual-v3.0",
            "query": "which is best",
            "documents": "first\nsecond\nthird",
        }
        response = await sync_to_async(client.post)(reverse("rerank", args=[team_with_roles.project.pk]), data)
        request_line, _, sent = server.requests[0]
    assert request_line.startswith("POST /api/v1/rerank ")
    assert json.loads(sent) == {
        "model": "cohere/rerank-multilingual-v3.0",
        "query": "which is best",
        "documents": ["first", "second", "third"],
    }
    ranking = response.context["ranking"]
    assert [(document.text, document.score) for document in ranking.documents] == [
        ("third", 0.91),
        ("second", 0.55),
        ("first", 0.12),
    ]
    assert ranking.model == "cohere/rerank-multilingual-v3.0"
    record = await UsageRecord.objects.aget()
    assert (record.endpoint, record.status, record.prompt_tokens) == ("rerank", "ok", 42)


@pytest.mark.django_db(transaction=True)
async def test_an_answer_naming_a_document_that_was_not_sent_is_an_error(team_with_roles):
    answer = {"results": [{"index": 7, "relevance_score": 0.5}]}
    async with RawServer(json_reply(200, answer)) as server:
        provider = await sync_to_async(ProviderFactory)(
            team=team_with_roles.team,
            name="JamAI",
            base_url=server.url.removesuffix("/v1"),
            profile="jamai-base",
            allow_local=True,
        )
        await sync_to_async(ApiKeyFactory)(provider=provider, owner=None)
        client = Client()
        await sync_to_async(client.force_login)(team_with_roles.users["member"])
        data = {"provider": provider.pk, "model": "m", "query": "q", "documents": "only one"}
        response = await sync_to_async(client.post)(reverse("rerank", args=[team_with_roles.project.pk]), data)
    assert response.status_code == 400
    assert "names document 7, which was not sent" in str(response.context["form"].non_field_errors())
    record = await UsageRecord.objects.aget()
    assert (record.endpoint, record.status, record.error_kind) == ("rerank", "error", "invalid_response")
