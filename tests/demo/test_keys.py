"""Demo keys: minted by this installation, the only keys the demo upstream answers, and the Demo provider's."""

from __future__ import annotations

import asyncio
import io
import re
import secrets

import httpx
import pytest
from django.core import signing
from django.core.management import call_command
from django.test import override_settings

from playground.demo.app import application
from playground.demo.keys import PREFIX, demo_key, is_demo_key
from playground.providers.models import Provider
from playground.providers.services import demo_provider_create
from tests.demo.test_demo_app import INVALID_KEY
from tests.factories import TeamFactory

NOT_OURS = [
    "random",
    "random with our prefix",
    "the old any-value key",
    "signed with another salt",
    "signed with no salt",
    "signed with another SECRET_KEY",
    "tampered signature",
    "another label with its signature",
    "no prefix",
    "unsigned",
    "too long",
]
STREAMED_CHAT = {"model": "demo-fast", "messages": [{"role": "user", "content": "Hello"}], "stream": True}


def tampered(key: str) -> str:
    """The key with the last character of its signature changed."""
    return key[:-1] + ("A" if key[-1] != "A" else "B")


def key_not_ours(kind: str) -> str:
    mine = demo_key("victim")
    label, signature = mine.removeprefix(PREFIX).split(".")
    with override_settings(SECRET_KEY="another-installations-secret-key-0123456789"):
        from_another_installation = demo_key("victim")
    keys = {
        "random": f"sk-{secrets.token_urlsafe(32)}",
        "random with our prefix": f"{PREFIX}{secrets.token_urlsafe(8)}.{secrets.token_urlsafe(32)}",
        "the old any-value key": "demo-key-any-value-works",
        "signed with another salt": PREFIX + signing.Signer(salt="another.salt", sep=".").sign("victim"),
        "signed with no salt": PREFIX + signing.Signer(sep=".").sign("victim"),
        "signed with another SECRET_KEY": from_another_installation,
        "tampered signature": tampered(mine),
        "another label with its signature": f"{PREFIX}admin.{signature}",
        "no prefix": mine.removeprefix(PREFIX),
        "unsigned": f"{PREFIX}{label}",
        "too long": mine + "x" * 300,
    }
    return keys[kind]


def test_a_demo_key_looks_like_an_api_key_and_is_the_same_every_time(db):
    key = demo_key()
    assert re.fullmatch(r"demo-demo\.[A-Za-z0-9_-]{43}", key)
    assert demo_key() == key
    assert demo_key("team") != key
    assert is_demo_key(key) and is_demo_key(demo_key("team"))


@pytest.mark.parametrize("label", ["", "has space", "dot.ted", "ü", "x" * 65])
def test_a_label_that_would_not_read_as_one_word_is_refused(label):
    with pytest.raises(ValueError):
        demo_key(label)


@pytest.mark.parametrize("kind", NOT_OURS)
def test_keys_this_installation_did_not_make_are_not_demo_keys(kind):
    assert not is_demo_key(key_not_ours(kind))


@pytest.mark.parametrize("token", ["", " ", None, 42])
def test_nothing_at_all_is_not_a_demo_key(token):
    assert not is_demo_key(token)


def test_a_key_from_before_a_secret_key_rotation_still_works_while_the_old_key_is_a_fallback():
    with override_settings(SECRET_KEY="the-old-secret-key-0123456789-abcdefghij"):
        old = demo_key()
    with override_settings(SECRET_KEY_FALLBACKS=["the-old-secret-key-0123456789-abcdefghij"]):
        assert is_demo_key(old)
    assert not is_demo_key(old)


@pytest.mark.parametrize("kind", NOT_OURS)
def test_the_demo_refuses_a_key_it_did_not_make_with_a_401_and_streams_nothing(demo_upstream_url, kind):
    headers = {"Authorization": f"Bearer {key_not_ours(kind)}"}
    response = httpx.post(demo_upstream_url + "/chat/completions", json=STREAMED_CHAT, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json() == INVALID_KEY
    assert "data:" not in response.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/models", None),
        ("GET", "/models/demo-chat", None),
        ("POST", "/chat/completions", STREAMED_CHAT),
        ("POST", "/completions", {"model": "demo-fast", "prompt": "Once"}),
        ("POST", "/images/generations", {"prompt": "a cat", "size": "256x256"}),
        ("POST", "/embeddings", {"model": "demo-embed", "input": "hello"}),
    ],
)
def test_every_endpoint_that_does_work_refuses_a_random_key_and_answers_a_minted_one(
    demo_upstream_url, method, path, body
):
    url = demo_upstream_url + path
    random_key = {"Authorization": f"Bearer sk-{secrets.token_hex(16)}"}
    refused = httpx.request(method, url, json=body, headers=random_key)
    assert (refused.status_code, refused.json()) == (401, INVALID_KEY)
    minted_key = {"Authorization": f"Bearer {demo_key('every-endpoint')}"}
    assert httpx.request(method, url, json=body, headers=minted_key, timeout=15).status_code == 200


def test_the_openapi_document_needs_no_key(demo_upstream_url):
    response = httpx.get(demo_upstream_url + "/openapi.json")
    assert response.status_code == 200
    assert "only bearer keys made by this Playground installation" in response.json()["info"]["description"]


async def test_a_caller_without_a_key_is_refused_before_its_body_is_read():
    sent = []

    async def receive():
        raise AssertionError("the demo read the body of a caller without a key")

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/demo/v1/chat/completions",
        "headers": [(b"authorization", b"Bearer sk-not-ours")],
        "scheme": "http",
        "server": ("testserver", 80),
    }
    await asyncio.wait_for(application(scope, receive, send), timeout=5)
    assert sent[0]["status"] == 401
    assert len(sent) == 2


@pytest.fixture
def minted(demo_upstream_url):
    with httpx.Client(
        base_url=demo_upstream_url, headers={"Authorization": f"Bearer {demo_key('nosniff')}"}, timeout=15
    ) as client:
        yield client


def test_every_kind_of_demo_response_says_nosniff(minted, demo_upstream_url):
    with minted.stream("POST", "/chat/completions", json=STREAMED_CHAT) as stream:
        body = stream.read().decode()
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert body.rstrip().endswith("data: [DONE]")
    [image] = minted.post(
        "/images/generations", json={"prompt": "a cat", "size": "256x256", "response_format": "url"}
    ).json()["data"]
    responses = {
        "JSON": minted.get("/models"),
        "SSE stream": stream,
        "image": httpx.get(image["url"]),
        "401": httpx.get(demo_upstream_url + "/models"),
        "404": minted.get("/files"),
        "405": minted.get("/chat/completions"),
        "OpenAPI document": httpx.get(demo_upstream_url + "/openapi.json"),
    }
    assert responses["image"].headers["content-type"] == "image/png"
    assert {kind: response.status_code for kind, response in responses.items()} == {
        "JSON": 200,
        "SSE stream": 200,
        "image": 200,
        "401": 401,
        "404": 404,
        "405": 405,
        "OpenAPI document": 200,
    }
    for kind, response in responses.items():
        assert response.headers["x-content-type-options"] == "nosniff", kind


def test_a_new_demo_provider_gets_a_key_the_demo_answers(db, demo_upstream_url):
    provider = demo_provider_create(team=TeamFactory(), by_user=None, key=demo_key())
    [key] = provider.api_keys.all()
    assert key.shared and is_demo_key(key.secret())
    response = httpx.get(demo_upstream_url + "/models", headers={"Authorization": f"Bearer {key.secret()}"})
    assert response.status_code == 200


def test_bootstrap_gives_the_demo_provider_a_minted_key(db):
    call_command("bootstrap", stdout=io.StringIO())
    [key] = Provider.objects.get(name="Demo").api_keys.all()
    assert is_demo_key(key.secret())
