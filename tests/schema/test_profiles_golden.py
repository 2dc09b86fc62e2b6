"""Golden tests: each built-in profile, read through the schema package, gives the form its API documents."""

from __future__ import annotations

import pytest

from playground.providers.profiles import profile_document, profile_names
from playground.schema.forms import parameter_form
from playground.schema.roles import history_policy
from playground.schema.specs import endpoints_of, models_path_of

# profile -> {endpoint: path}
ENDPOINTS = {
    "demo": {
        "chat": "/chat/completions",
        "completions": "/completions",
        "images": "/images/generations",
        "embeddings": "/embeddings",
        "rerank": "/rerank",
    },
    "openai": {
        "chat": "/chat/completions",
        "completions": "/completions",
        "images": "/images/generations",
        "embeddings": "/embeddings",
    },
    "ionos-model-hub": {
        "chat": "/chat/completions",
        "completions": "/completions",
        "images": "/images/generations",
        "embeddings": "/embeddings",
    },
    "ionos-legacy": {
        "chat": "/chat/completions",
        "completions": "/completions",
        "images": "/images/generations",
        "embeddings": "/embeddings",
    },
    "research": {"chat": "/chat/completions"},
    "jamai-base": {"chat": "/api/v1/chat/completions", "embeddings": "/api/v1/embeddings", "rerank": "/api/v1/rerank"},
    "vllm": {"chat": "/chat/completions", "completions": "/completions", "embeddings": "/embeddings"},
    "ollama": {"chat": "/chat/completions", "completions": "/completions", "embeddings": "/embeddings"},
    "llamacpp": {"chat": "/chat/completions", "completions": "/completions", "embeddings": "/embeddings"},
}

# (profile, endpoint, field) -> expected (kind, minimum, maximum, default); None = not stated
FIELDS = [
    ("demo", "chat", "temperature", ("number", 0, 2, 1)),
    ("openai", "chat", "temperature", ("number", 0, 2, 1)),
    ("openai", "chat", "top_p", ("number", 0, 1, 1)),
    ("openai", "chat", "n", ("integer", 1, 128, 1)),
    ("ionos-model-hub", "chat", "temperature", ("number", None, None, 1)),
    ("ionos-model-hub", "chat", "top_p", ("number", None, None, -1)),
    ("ionos-model-hub", "chat", "max_tokens", ("integer", None, None, 16)),
    ("research", "chat", "temperature", ("number", 0, 2, None)),
    ("research", "chat", "top_p", ("number", 0, 1, None)),
    ("research", "chat", "presence_penalty", ("number", -2, 2, None)),
    ("jamai-base", "chat", "temperature", ("number", 0.001, None, 0.2)),
    ("jamai-base", "chat", "top_p", ("number", 0.001, None, 0.6)),
    ("jamai-base", "chat", "max_tokens", ("integer", None, None, 2048)),
]


def spec_of(profile: str, endpoint: str, name: str):
    specs = {spec.name: spec for spec in endpoints_of(profile_document(profile))[endpoint].params}
    return specs[name]


def test_every_profile_is_covered():
    assert set(profile_names()) == set(ENDPOINTS)


@pytest.mark.parametrize("profile", sorted(ENDPOINTS))
def test_endpoints_and_paths(profile):
    document = profile_document(profile)
    found = {name: endpoint.path for name, endpoint in endpoints_of(document).items()}
    assert found == ENDPOINTS[profile]
    # The research API documents chat only; every other one lists its models.
    assert (models_path_of(document) is None) == (profile == "research")


@pytest.mark.parametrize(("profile", "endpoint", "name", "expected"), FIELDS)
def test_field_kind_range_and_default(profile, endpoint, name, expected):
    spec = spec_of(profile, endpoint, name)
    kind, minimum, maximum, default = expected
    assert spec.kind == kind
    if minimum is not None:
        assert spec.minimum == pytest.approx(minimum)
    if maximum is not None:
        assert spec.maximum == pytest.approx(maximum)
    if default is None:
        assert not spec.has_default
    else:
        assert spec.has_default and spec.default == pytest.approx(default)


@pytest.mark.parametrize(("profile", "maximum"), [("openai", 4), ("ionos-model-hub", 4)])
def test_stop_is_a_list_of_at_most_four(profile, maximum):
    stop = spec_of(profile, "chat", "stop")
    assert stop.kind == "string_list" and stop.max_items == maximum


def test_image_sizes_follow_each_apis_dialect():
    assert "1024*1024" in spec_of("ionos-model-hub", "images", "size").choices
    assert "1024x1024" in spec_of("openai", "images", "size").choices
    assert spec_of("ionos-model-hub", "images", "response_format").choices == ("b64_json",)


def test_legacy_ionos_offers_no_field_it_does_not_accept():
    names = {spec.name for spec in endpoints_of(profile_document("ionos-legacy"))["chat"].params}
    assert not names & {"response_format", "max_completion_tokens", "tool_choice"}


def test_jamai_rag_params_is_a_json_editor_and_validates_against_its_schema():
    endpoint = endpoints_of(profile_document("jamai-base"))["chat"]
    assert spec_of("jamai-base", "chat", "rag_params").kind == "json"
    form = parameter_form(endpoint, {"p-rag_params": '{"k": 0}'})
    assert not form.is_valid()
    assert "rag_params" in form.errors


def test_research_roles_forbid_replaying_history():
    chat = endpoints_of(profile_document("research"))["chat"]
    assert chat.message_roles == ("user", "system", "developer")
    policy = history_policy(chat.message_roles)
    assert "no assistant messages" in policy and "your latest message" in policy
    assert history_policy(endpoints_of(profile_document("openai"))["chat"].message_roles) is None


@pytest.mark.parametrize("profile", sorted(ENDPOINTS))
def test_every_endpoint_form_renders(profile):
    for endpoint in endpoints_of(profile_document(profile)).values():
        html = str(parameter_form(endpoint))
        assert "<form" not in html  # a fragment for a page's own form
        assert "style=" not in html
