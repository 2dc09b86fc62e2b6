"""Each seed system end to end through the app, as a person uses it, against a strict stand-in
written from that system's own document (tests/seeds/standin.py): the provider added through
its form (with the headers its profile declares), a key added and tested, models listed or
suggested, the parameter form's examples sent in a streamed chat, and embeddings, pictures and
reranking where the system has them. Every request the stand-in received validated against
the document, except the refusals a test provokes on purpose."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass

import httpx
import numpy as np
import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from playground.chat.models import Conversation, Message
from playground.embeddings.models import EmbeddingRun, Status
from playground.images.models import GeneratedImage
from playground.providers.models import ApiKey, Provider
from playground.usage.models import UsageRecord
from tests.chat.conftest import frames_until_done
from tests.seeds.standin import KEY, StandIn


@dataclass(frozen=True)
class Seed:
    name: str  # the provider's name in the team
    chat_model: str
    embed_model: str = ""
    image_model: str = ""
    rerank_model: str = ""


IONOS = {
    "chat_model": "meta-llama/Meta-Llama-3-70B-Instruct",
    "embed_model": "intfloat/e5-large-v2",
    "image_model": "stabilityai/stable-diffusion-xl-base-1.0",
}
SEEDS = {
    "ionos-model-hub": Seed("IONOS", **IONOS),
    "ionos-legacy": Seed("IONOS legacy", **IONOS),
    "research": Seed("Research", "researcher"),
    "jamai-base": Seed(
        "JamAI", "openai/gpt-4o-mini", "ellm/BAAI/bge-m3", rerank_model="cohere/rerank-multilingual-v3.0"
    ),
}
PROJECT_ID, USER_ID = "proj_0a1b2c3d4e5f6789", "user_42"
# What the stand-in checks each call carries: JamAI's boxes are filled in the provider form.
HEADERS = {"jamai-base": {"X-PROJECT-ID": PROJECT_ID, "X-USER-ID": USER_ID}}
BOXES = {"jamai-base": {"header-jamai-base-0": PROJECT_ID, "header-jamai-base-1": USER_ID}}
SYSTEM = "Answer in one line."
QUESTION = "Hello there, what can you do?"


def visible(markup: str) -> str:
    """The text a person reads in some HTML."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def notices(response) -> str:
    page = response.content.decode()
    start = page.index('<div id="notices"')
    return visible(page[start : page.index("</div>", start)])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff_admin(team_with_roles) -> Client:
    """The team's admin, who is staff too: a provider on this machine needs staff's permission."""
    admin = team_with_roles.users["admin"]
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    return signed_in(admin)


def provider_added(client: Client, team, server: StandIn, **boxes: str) -> Provider:
    """Added through the provider form, at the address the stand-in serves its document's paths under."""
    name = SEEDS[server.profile].name
    data = {
        "name": name,
        "base_url": server.base_url,
        "profile": server.profile,
        "default_model": "",
        "allow_local": "on",
        "headers-TOTAL_FORMS": "0",
        "headers-INITIAL_FORMS": "0",
        **boxes,
    }
    response = client.post(reverse("provider_list", args=[team.pk]), data, follow=True)
    assert f"Provider “{name}” added. Add an API key to start using it." in notices(response)
    return Provider.objects.get(team=team, name=name)


def key_added(client: Client, provider: Provider) -> ApiKey:
    data = {"key": KEY, "label": "team", "shared": "on"}
    response = client.post(reverse("key_add", args=[provider.pk]), data, follow=True)
    key = ApiKey.objects.get(provider=provider)
    assert f"Key {key.masked} saved, shared with the team." in notices(response)
    return key


def key_tested(client: Client, key: ApiKey) -> str:
    return notices(client.post(reverse("key_test", args=[key.pk]), follow=True))


def ready(team_with_roles, server: StandIn) -> Provider:
    """The seed's provider, added by the team's admin with the headers its profile declares, and
    a shared key that "Test key" found working (listing the models, where the API lists them)."""
    admin = staff_admin(team_with_roles)
    provider = provider_added(admin, team_with_roles.team, server, **BOXES.get(server.profile, {}))
    assert "The key works" in key_tested(admin, key_added(admin, provider))
    provider.refresh_from_db()
    return provider


def streamed_chats(server: StandIn) -> list:
    """The chat requests of answers (a key test's one-token request is not streamed)."""
    return [call for call in server.calls_to("chat") if call.body.get("stream")]


def stand_in(profile: str, **options) -> StandIn:
    return StandIn(profile, needs=HEADERS.get(profile), **options)


# --- Adding the provider ------------------------------------------------------------------------


@pytest.mark.parametrize("profile", SEEDS)
def test_the_provider_is_added_from_its_form_its_key_tested_and_its_models_found(team_with_roles, profile):
    seed, team = SEEDS[profile], team_with_roles.team
    admin = staff_admin(team_with_roles)
    form = admin.get(reverse("provider_list", args=[team.pk])).content.decode()
    if profile == "jamai-base":
        start = form.index('id="profile-headers-jamai-base"')
        group = form[start : form.index("</fieldset>", start)]
        assert "Headers for the JamAI Base profile" in group
        # Both named; neither marked required: the seed says a personal access token needs neither.
        assert '<label for="id_header-jamai-base-0">X-PROJECT-ID:</label>' in group
        assert '<label for="id_header-jamai-base-1">X-USER-ID:</label>' in group
        assert "(required)" not in group and "aria-required" not in group
    else:
        assert f'id="profile-headers-{profile}"' not in form

    with stand_in(profile) as server:
        provider = provider_added(admin, team, server, **BOXES.get(profile, {}))
        key = key_added(admin, provider)
        said = key_tested(admin, key)
        detail = admin.get(reverse("provider_detail", args=[provider.pk])).content.decode()
        if profile == "research":
            assert (
                f"Key {key.masked}: The key works: Research has no model list (its API description has none), so a "
                "one-token chat request to researcher was sent, and it was answered."
            ) in said
            assert "Refresh models" not in detail and "<code>researcher</code>" in detail
            [tried] = server.received
            assert (tried.method, tried.path) == ("POST", "/v1/chat/completions")
            assert tried.body == {
                "model": "researcher",
                "messages": [{"role": "user", "content": "Hi"}],
                "max_tokens": 1,
                "stream": False,
            }
            assert server.answers == ["Heard "]  # one token, answered in one JSON body
        else:
            listed = [model["id"] for model in server.system.models]
            assert f"Key {key.masked}: The key works: {seed.name} lists 3 models." in said
            assert all(f"<code>{model}</code>" in detail for model in listed)
            refreshed = notices(admin.post(reverse("models_refresh", args=[provider.pk]), follow=True))
            assert f"{seed.name} lists 3 models." in refreshed
            assert [(r.method, r.path) for r in server.received] == [("GET", server.path_of("models"))] * 2
        for endpoint in ("chat", "embeddings", "images", "rerank"):
            page = admin.get(reverse("parameters", args=[provider.pk, endpoint]))
            assert page.status_code == (200 if endpoint in server.endpoints else 404)
    assert server.refusals == []
    if profile == "jamai-base":
        assert {(r.headers["x-project-id"], r.headers["x-user-id"]) for r in server.received} == {(PROJECT_ID, USER_ID)}


def test_a_jamai_service_key_without_its_project_id_is_refused_and_the_headers_not_set_are_named(team_with_roles):
    admin = staff_admin(team_with_roles)
    with StandIn("jamai-base", needs={"X-PROJECT-ID": PROJECT_ID}) as server:  # a service key
        provider = provider_added(admin, team_with_roles.team, server)  # the header boxes left empty
        key = key_added(admin, provider)
        assert (
            f"Key {key.masked}: The API key was refused (401): You are not authorized to access this project. "
            "Check the key in the provider settings. JamAI Base also takes the headers X-PROJECT-ID, X-USER-ID, "
            "not set here."
        ) in key_tested(admin, key)
        assert len(server.refusals) == 1  # provoked: no X-PROJECT-ID

        edit = reverse("provider_edit", args=[provider.pk])
        assert '<label for="id_header-jamai-base-0">X-PROJECT-ID:</label>' in admin.get(edit).content.decode()
        data = {
            "name": "JamAI",
            "base_url": server.base_url,
            "profile": "jamai-base",
            "default_model": "",
            "allow_local": "on",
            "headers-TOTAL_FORMS": "0",
            "headers-INITIAL_FORMS": "0",
            "header-jamai-base-0": PROJECT_ID,
        }
        assert "Provider “JamAI” saved." in notices(admin.post(edit, data, follow=True))
        assert f"Key {key.masked}: The key works: JamAI lists 3 models." in key_tested(admin, key)
    assert server.received[-1].headers["x-project-id"] == PROJECT_ID
    assert len(server.refusals) == 1


# --- Chat ------------------------------------------------------------------------------------


def chat_prepared(team_with_roles, server: StandIn) -> tuple[Conversation, dict]:
    """A member's conversation with the seed's provider, its chat model and, in the parameter
    form, every "Insert example" value and a temperature; (conversation, parameters sent)."""
    seed = SEEDS[server.profile]
    provider = ready(team_with_roles, server)
    member = signed_in(team_with_roles.users["member"])
    response = member.post(reverse("conversation_list", args=[team_with_roles.project.pk]), follow=True)
    conversation = Conversation.objects.get(provider=provider)
    page = response.content.decode()
    assert f'<option value="{seed.chat_model}">' in page  # offered: listed, or suggested by the schema
    examples = {
        control.removeprefix("id_p-"): html.unescape(example)
        for control, example in re.findall(r'data-param-example="([^"]+)" data-example="([^"]*)"', page)
    }
    assert examples, "the chat form of every seed has a JSON field with an example"
    data = {
        "provider": provider.pk,
        "model": seed.chat_model,
        "mode": "chat",
        "system": SYSTEM,
        "p-temperature": "0.5",
        **{f"p-{name}": text for name, text in examples.items()},
    }
    saved = member.post(reverse("conversation_detail", args=[conversation.pk]), data, follow=True)
    assert "Settings saved; they apply to the next message." in notices(saved)
    conversation.refresh_from_db()
    params = {"temperature": 0.5, **{name: json.loads(text) for name, text in examples.items()}}
    assert conversation.params == params
    return conversation, params


def conversation_page(conversation: Conversation) -> str:
    """The conversation's page, as the member who started it sees it."""
    return (
        signed_in(conversation.created_by).get(reverse("conversation_detail", args=[conversation.pk])).content.decode()
    )


def message_shown(conversation: Conversation, message_id: int) -> str:
    """The text of one message on the conversation's page."""
    page = conversation_page(conversation)
    start = page.index(f'<article id="message-{message_id}"')
    return visible(page[start : page.index("</article>", start)])


async def asked(connect, conversation: Conversation, text: str) -> list[dict]:
    socket, connected, _ = await connect(conversation)
    assert connected
    await socket.send_json_to({"type": "send", "text": text})
    frames = await frames_until_done(socket)
    await socket.disconnect()
    return frames


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("profile", SEEDS)
async def test_a_chat_with_the_forms_examples_streams_and_keeps_what_was_sent(team_with_roles, connect, profile):
    with stand_in(profile) as server:
        conversation, params = await sync_to_async(chat_prepared)(team_with_roles, server)
        frames = await asked(connect, conversation, QUESTION)
        answer = await Message.objects.aget(pk=frames[0]["message"])
        shown = await sync_to_async(message_shown)(conversation, answer.pk)

    [call] = streamed_chats(server)
    assert call.body == {
        "model": SEEDS[profile].chat_model,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
        **params,
        "stream": True,
    }
    sent = server.answers[-1]
    assert "".join(frame["text"] for frame in frames if frame["type"] == "delta") == sent
    assert frames[-1]["status"] == "done" and (answer.status, answer.content) == ("done", sent)
    assert " ".join(sent.split()) in shown
    if profile == "ionos-legacy":  # its chunks carry the backend's fingerprint
        assert "fingerprint: fp_ionos_inference_2024" in shown
    else:
        assert "fingerprint" not in shown
    if profile == "jamai-base":  # rag_params' example asked for sources: the references event came first
        assert answer.references["chunks"][0]["chunk_id"] == "your_table_id-0"
        assert "Sources" in shown
        assert "Onboarding handbook (handbook.pdf, page 3) New starters get a laptop." in shown
        assert "Travel policy (travel.md) Trains are booked first class." in shown
        usage = f"{len(QUESTION.split())} in / {len(sent.split())} out"  # JamAI counts them in its last chunk
        assert usage in shown and "(estimated)" not in shown
    else:
        assert "Sources" not in shown
    assert server.refusals == []


@pytest.mark.django_db(transaction=True)
async def test_the_research_api_is_sent_each_question_on_its_own(team_with_roles, connect):
    """It has no assistant role: earlier answers cannot go back to it, and the page says so."""
    with stand_in("research") as server:
        conversation, _ = await sync_to_async(chat_prepared)(team_with_roles, server)
        first = await asked(connect, conversation, QUESTION)
        second = await asked(connect, conversation, "And in one word?")
        page = await sync_to_async(conversation_page)(conversation)

    first_call, second_call = streamed_chats(server)
    assert second_call.body["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "And in one word?"},
    ]
    assert first[-1]["status"] == second[-1]["status"] == "done"
    assert [message.content async for message in Message.objects.filter(role="assistant").order_by("pk")] == (
        server.answers[-2:]
    )
    assert (
        "This API accepts only the roles user, system, developer — no assistant messages — so earlier answers "
        "cannot be sent back to it. Each message is sent on its own: the system prompt and your latest message, "
        "without the conversation before it."
    ) in visible(page)
    assert server.refusals == []


def completion_prepared(team_with_roles, server: StandIn) -> Conversation:
    """A member's conversation in text completion mode, with at most 20 tokens."""
    provider = ready(team_with_roles, server)
    member = signed_in(team_with_roles.users["member"])
    member.post(reverse("conversation_list", args=[team_with_roles.project.pk]))
    conversation = Conversation.objects.get(provider=provider)
    url = reverse("conversation_detail", args=[conversation.pk])
    data = {"provider": provider.pk, "model": SEEDS[server.profile].chat_model, "mode": "completion"}
    member.post(url, data)  # another mode: the parameters start afresh, from its own form
    assert 'name="p-max_tokens"' in member.get(url).content.decode()
    assert "Settings saved" in notices(member.post(url, {**data, "p-max_tokens": "20"}, follow=True))
    return conversation


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("profile", ["ionos-model-hub", "ionos-legacy"])
async def test_a_text_completion_streams_from_the_completions_endpoint(team_with_roles, connect, profile):
    with stand_in(profile) as server:
        conversation = await sync_to_async(completion_prepared)(team_with_roles, server)
        frames = await asked(connect, conversation, "Say this is a test")
        answer = await Message.objects.aget(pk=frames[0]["message"])
    [call] = server.calls_to("completions")
    model = SEEDS[profile].chat_model
    assert call.body == {"model": model, "prompt": "Say this is a test", "max_tokens": 20, "stream": True}
    sent = server.answers[-1]
    assert "".join(frame["text"] for frame in frames if frame["type"] == "delta") == sent
    assert (answer.status, answer.content, answer.system_fingerprint) == ("done", sent, "")
    assert server.refusals == []


# --- Embeddings, pictures, reranking -------------------------------------------------------------

TEXTS = ["The food was delicious and the waiter.", "The waiter was rude.", "Rockets need fuel."]


@pytest.mark.parametrize(
    ("profile", "params", "dimensions"),
    [
        ("ionos-model-hub", {}, 1024),
        ("ionos-legacy", {}, 1024),
        ("jamai-base", {"p-type": "document", "p-encoding_format": "base64", "p-dimensions": "256"}, 256),
    ],
)
def test_texts_are_embedded(team_with_roles, profile, params, dimensions):
    seed = SEEDS[profile]
    with stand_in(profile) as server:
        provider = ready(team_with_roles, server)
        member = signed_in(team_with_roles.users["member"])
        url = reverse("embedding_run_create", args=[team_with_roles.project.pk])
        form = member.get(url).content.decode()
        assert f'<option value="{provider.pk}" selected>{seed.name}</option>' in form
        assert f'<option value="{seed.embed_model}">' in form
        data = {"provider": provider.pk, "model": seed.embed_model, "texts": "\n".join(TEXTS), **params}
        page = member.post(url, data, follow=True).content.decode()

    run = EmbeddingRun.objects.get()
    assert run.status == Status.DONE, run.error
    assert (run.text_count, run.dim) == (3, dimensions)
    np.testing.assert_allclose(run.matrix(), [StandIn.vector(text, dimensions) for text in TEXTS], atol=1e-6)
    assert "Cosine similarity values" in page
    [call] = server.calls_to("embeddings")
    assert call.body["input"] == TEXTS and call.body["model"] == seed.embed_model
    assert server.refusals == []


@pytest.mark.parametrize("profile", ["ionos-model-hub", "ionos-legacy"])
def test_pictures_come_as_base64_in_the_sizes_written_with_an_asterisk(team_with_roles, settings, tmp_path, profile):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "media"
    seed = SEEDS[profile]
    with stand_in(profile) as server:
        provider = ready(team_with_roles, server)
        member = signed_in(team_with_roles.users["member"])
        gallery = reverse("image_gallery", args=[team_with_roles.project.pk])
        form = member.get(gallery).content.decode()
        for size in ("1024*1024", "1792*1024", "1024*1792"):
            assert f'<option value="{size}">{size}</option>' in form
        formats = form[
            form.index('name="p-response_format"') : form.index("</select>", form.index('name="p-response_format"'))
        ]
        assert re.findall(r'<option value="([^"]*)"', formats) == ["", "b64_json"]  # the default, or b64_json
        data = {
            "prompt": "A beautiful sunset over the ocean",
            "provider": provider.pk,
            "params_for": provider.pk,
            "model": seed.image_model,
            "p-size": "1792*1024",
            "p-response_format": "b64_json",
        }
        page = member.post(reverse("image_generate", args=[team_with_roles.project.pk]), data, follow=True)

    image = GeneratedImage.objects.get()
    assert (image.width, image.height) == (1792, 1024)
    assert f"{seed.image_model} · 1792×1024" in visible(page.content.decode())
    [call] = server.calls_to("images")
    assert call.body == {key: data[f"p-{key}"] for key in ("size", "response_format")} | {
        "model": seed.image_model,
        "prompt": "A beautiful sunset over the ocean",
    }
    assert server.refusals == []


def test_a_rate_limited_picture_names_the_providers_limits(team_with_roles, settings, tmp_path):
    """IONOS says how long to wait and its contract's limits in headers: the person sees them."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "media"
    settings.UPSTREAM_BACKOFF_BASE = 0.01
    with stand_in("ionos-model-hub") as server:
        provider = ready(team_with_roles, server)
        server.rate_limited = settings.UPSTREAM_MAX_RETRIES + 1  # the first try and every retry
        member = signed_in(team_with_roles.users["member"])
        data = {
            "prompt": "A fox",
            "provider": provider.pk,
            "params_for": provider.pk,
            "model": SEEDS["ionos-model-hub"].image_model,
        }
        page = member.post(reverse("image_generate", args=[team_with_roles.project.pk]), data)
    assert page.status_code == 502
    assert (
        "Rate limited by the provider: Rate limit exceeded. Try again in 0 s. "
        "The provider's limits: limit 60/minute, burst 10."
    ) in visible(page.content.decode())
    assert len(server.refusals) == len(server.calls_to("images")) == settings.UPSTREAM_MAX_RETRIES + 1  # provoked


def test_jamai_reranks_documents_on_a_page_next_to_embeddings(team_with_roles):
    seed = SEEDS["jamai-base"]
    documents = ["Quarterly revenue grew", "sleepy cats purr on the warm sofa", "cats chase mice"]
    with stand_in("jamai-base") as server:
        provider = ready(team_with_roles, server)
        member = signed_in(team_with_roles.users["member"])
        url = reverse("rerank", args=[team_with_roles.project.pk])
        embeddings = member.get(reverse("embedding_runs", args=[team_with_roles.project.pk])).content.decode()
        assert f'href="{url}"' in embeddings
        form = member.get(url).content.decode()
        assert f'<option value="{provider.pk}" selected>JamAI</option>' in form
        data = {
            "provider": provider.pk,
            "model": seed.rerank_model,
            "query": "cats on a sofa",
            "documents": "\n".join(documents),
        }
        response = member.post(url, data)

    assert response.status_code == 200
    ranking = response.context["ranking"]
    assert [(d.position, d.text) for d in ranking.documents] == [
        (2, documents[1]),
        (3, documents[2]),
        (1, documents[0]),
    ]
    page = visible(response.content.decode())
    assert "3 of 3 documents, most relevant first, ranked by cohere/rerank-multilingual-v3.0" in page
    [call] = server.calls_to("rerank")
    assert call.body == {"model": seed.rerank_model, "query": "cats on a sofa", "documents": documents}
    record = UsageRecord.objects.get(endpoint="rerank")
    assert (record.status, record.prompt_tokens) == ("ok", sum(len(t.split()) for t in ["cats on a sofa", *documents]))
    assert server.refusals == []


def test_the_research_api_is_offered_for_chat_only(team_with_roles):
    with stand_in("research") as server:
        ready(team_with_roles, server)
        member = signed_in(team_with_roles.users["member"])
        project = team_with_roles.project.pk
        pages = {
            name: visible(member.get(reverse(name, args=[project])).content.decode())
            for name in ("rerank", "embedding_run_create", "image_gallery")
        }
    assert "None of the team's providers has a rerank endpoint in its API schema." in pages["rerank"]
    assert "None of the team's providers has an embeddings endpoint." in pages["embedding_run_create"]
    assert "No provider of Acme offers image generation yet." in pages["image_gallery"]
    assert len(server.received) == 1 and server.refusals == []  # the key test's one-token chat, no more


# --- The stand-in itself ----------------------------------------------------------------------


USER = {"role": "user", "content": "Hi"}


def openai_said(message: str, param: str) -> dict:
    return {"error": {"message": f"{param}: {message}", "type": "validation_error", "param": param, "code": None}}


REFUSED = {  # profile -> (a body its document does not allow, the status and body it answers)
    "ionos-model-hub": (
        {"model": "m", "messages": [USER], "stop": list("abcde")},
        400,
        openai_said("['a', 'b', 'c', 'd', 'e'] is too long", "stop"),
    ),
    "ionos-legacy": (  # a field of the current revision only
        {"model": "m", "messages": [USER], "max_completion_tokens": 5},
        400,
        openai_said("Extra inputs are not permitted", "max_completion_tokens"),
    ),
    "research": (
        {"messages": [{"role": "assistant", "content": "Hi"}]},
        422,
        {
            "detail": [
                {
                    "type": "enum",
                    "loc": ["body", "messages", 0, "role"],
                    "msg": "'assistant' is not one of ['user', 'system', 'developer']",
                    "input": "assistant",
                }
            ]
        },
    ),
    "jamai-base": (
        {"messages": [USER], "temperature": 0},
        422,
        {
            "object": "error",
            "error": "validation_error",
            "message": "temperature: 0 is less than the minimum of 0.001",
            "detail": [
                {
                    "type": "minimum",
                    "loc": ["body", "temperature"],
                    "msg": "0 is less than the minimum of 0.001",
                    "input": 0,
                }
            ],
        },
    ),
}


@pytest.mark.parametrize("profile", SEEDS)
def test_the_stand_in_refuses_what_its_document_does_not_allow(profile):
    body, status, said = REFUSED[profile]
    with StandIn(profile) as server, httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as http:
        chat = server.path_of("chat")
        bearer = {"Authorization": f"Bearer {KEY}"}
        refused = http.post(chat, json=body, headers=bearer)
        assert (refused.status_code, refused.json()) == (status, said)
        assert http.post(chat, json=body).status_code == 401
        assert http.get("/v1/openapi.json", headers=bearer).status_code == 404
        if profile == "research":  # no model list
            assert http.get("/v1/models", headers=bearer).json() == {"detail": "Not Found"}
    assert len(server.refusals) == len(server.received) == 3 + (profile == "research")
