"""Migration providers 0003: an installation's old any-value demo key becomes a minted one the demo answers."""

from __future__ import annotations

import httpx
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from playground.demo.keys import is_demo_key
from playground.providers.models import ApiKey
from tests.factories import ApiKeyFactory, ProviderFactory

BEFORE = [("providers", "0002_local_url_approved")]
AFTER = [("providers", "0003_demo_key_minted")]
OLD_DEMO_KEY = "demo-key-any-value-works"


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def migrate_to_latest():
    """Every app's latest migration: later tests need the schema as it is now."""
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.fixture
def before_the_migration(transactional_db):
    """The database as it was at providers 0002; put back to the latest state afterwards."""
    migrate(BEFORE)
    yield
    migrate_to_latest()


def test_the_old_demo_key_is_replaced_by_one_the_demo_answers(before_the_migration, demo_upstream_url):
    demo = ProviderFactory(name="Demo", profile="demo", base_url=demo_upstream_url, allow_local=True)
    old = ApiKeyFactory(provider=demo, owner=None, plain=OLD_DEMO_KEY, label="Demo")
    refused = httpx.get(demo_upstream_url + "/models", headers={"Authorization": f"Bearer {OLD_DEMO_KEY}"})
    assert refused.status_code == 401

    migrate(AFTER)

    key = ApiKey.objects.get(pk=old.pk)
    plain = key.secret()
    assert plain != OLD_DEMO_KEY and is_demo_key(plain)
    assert key.last4 == plain[-4:]
    assert (key.label, key.owner_id, key.revoked_at) == ("Demo", None, None)
    answered = httpx.get(demo_upstream_url + "/models", headers={"Authorization": f"Bearer {plain}"})
    assert answered.status_code == 200


def test_other_keys_are_left_as_they_were(before_the_migration):
    provider = ProviderFactory()
    # Ends like the old demo key, so the migration has to read it to tell them apart.
    lookalike = ApiKeyFactory(provider=provider, owner=None, plain="sk-real-key-that-also-works")
    other = ApiKeyFactory(provider=provider, owner=None, plain="sk-some-other-key-1234")
    stored = {key.pk: (bytes(key.ciphertext), key.last4) for key in (lookalike, other)}

    migrate(AFTER)

    for key in ApiKey.objects.filter(pk__in=stored):
        assert (bytes(key.ciphertext), key.last4) == stored[key.pk]
    assert ApiKey.objects.get(pk=lookalike.pk).secret() == "sk-real-key-that-also-works"


def test_it_goes_back_without_undoing_anything(transactional_db):
    provider = ProviderFactory()
    key = ApiKeyFactory(provider=provider, owner=None, plain="sk-some-other-key-1234")
    migrate(BEFORE)
    migrate_to_latest()
    assert ApiKey.objects.get(pk=key.pk).secret() == "sk-some-other-key-1234"
