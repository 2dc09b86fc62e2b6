"""Prompts of the Acme team (see tests/conftest.py's team_with_roles) and helpers to make them."""

from __future__ import annotations

import pytest

from playground.prompts import services
from playground.prompts.models import Visibility
from tests.chat.conftest import connect, fresh_rate_limits  # noqa: F401  (fixtures shared with the chat tests)
from tests.factories import ApiKeyFactory, PromptFactory, ProviderFactory

ARTICLE = [
    {"role": "user", "content": "Summarise this article about {{topic}} in {{length}} words:\n\n{{article}}"},
]


def make_prompt(team, user, *, name="Summary", messages=None, **fields):
    fields.setdefault("variables", {"length": {"description": "How many words", "default": "50"}})
    return PromptFactory(
        team=team, owner=user, name=name, tags=["summaries"], messages=messages or list(ARTICLE), **fields
    )


@pytest.fixture
def offline_provider(team_with_roles):
    """A demo-profile provider that is never called (for pages that only read)."""
    provider = ProviderFactory(
        team=team_with_roles.team,
        name="Demo",
        profile="demo",
        base_url="https://demo.example.com/v1",
        default_model="demo-chat",
    )
    ApiKeyFactory(provider=provider, owner=None)
    return provider


@pytest.fixture
def prompt(team_with_roles, offline_provider):
    """A team prompt of the member, with two versions."""
    member = team_with_roles.users["member"]
    prompt = make_prompt(team_with_roles.team, member, provider=offline_provider, params={"temperature": 0.2})
    content = services.Content.of(prompt.current_version)
    content.messages[0]["content"] = content.messages[0]["content"].replace("Summarise", "Briefly summarise")
    content.params = {"temperature": 0.7, "max_tokens": 200}
    services.version_add(prompt=prompt, user=member, content=content, note="Briefer")
    return prompt


@pytest.fixture
def private_prompt(team_with_roles, offline_provider):
    """The member's private prompt: nobody else in the team may see it."""
    return make_prompt(
        team_with_roles.team, team_with_roles.users["member"], name="Secret plan", visibility=Visibility.PRIVATE
    )
