"""A team's provider pointing at the demo upstream, with a shared key."""

from __future__ import annotations

import pytest

from tests.factories import ApiKeyFactory, ProviderFactory

SHARED_KEY = "sk-shared-team-key-ABCDEFGH12345678"


@pytest.fixture
def demo_provider(team_with_roles, demo_upstream_url):
    provider = ProviderFactory(
        team=team_with_roles.team,
        name="Demo",
        base_url=demo_upstream_url,
        profile="demo",
        allow_local=True,
        default_model="demo-chat",
    )
    ApiKeyFactory(provider=provider, owner=None, plain=SHARED_KEY, label="team")
    return provider
