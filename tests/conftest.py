"""Shared fixtures: a team with one user per role, and a client signed in as any of them."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from playground import upstream
from playground.accounts.models import Role
from tests.factories import (
    SHARED_KEY,
    ApiKeyFactory,
    MembershipFactory,
    ProjectFactory,
    ProviderFactory,
    TeamFactory,
    UserFactory,
)

# The demo upstream served over a real socket (fixture `demo_upstream_url`).
pytest_plugins = ["tests.demo_server"]


def pytest_collection_modifyitems(items):
    """Mark browser tests, and run them last.

    Playwright's sync API keeps an event loop running in the main thread while the browser is
    open, which would stop async tests that come after it from starting their own.
    """
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)
        if inspect.iscoroutinefunction(getattr(item, "function", None)):
            item.fixturenames.append("close_upstream_clients")
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture
async def close_upstream_clients():
    """Each async test has its own event loop: close the upstream clients made on it, and
    the database connection of the thread that ran its sync_to_async work (usage records),
    which PostgreSQL would otherwise count as a session still using the test database."""
    yield
    await upstream.close_clients()
    await sync_to_async(connections.close_all, thread_sensitive=True)()


@dataclass
class TeamWithRoles:
    team: object
    project: object
    users: dict  # role name -> user; "nonmember" is a user of another team


@pytest.fixture
def team_with_roles(db) -> TeamWithRoles:
    team = TeamFactory(name="Acme")
    project = ProjectFactory(team=team, name="Launch")
    users = {}
    for role in Role:
        users[role.value] = MembershipFactory(team=team, role=role, user__username=role.value).user
    # Someone with full rights in another team: they still must not see this one.
    users["nonmember"] = MembershipFactory(role=Role.OWNER, user__username="outsider").user
    return TeamWithRoles(team=team, project=project, users=users)


@pytest.fixture
def demo_provider(team_with_roles, demo_upstream_url):
    """The team's provider for the demo upstream (over a real socket), with a shared key it accepts."""
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


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def signed_in(client):
    """Sign the test client in as `user` and return the client."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
