"""usable_key's SQL agrees with the ORM rule it stands for (usable_keys, own keys first, newest first)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import F
from django.utils import timezone

from playground.providers.keys import usable_key, usable_keys
from tests.factories import ApiKeyFactory, ProviderFactory, UserFactory

NOW = timezone.now()


def orm_choice(user, provider):
    return usable_keys(user, provider).order_by(F("owner").asc(nulls_last=True), "-created_at", "-id").first()


@pytest.mark.parametrize(
    "keys",
    [
        [],
        [("shared", 0, False)],
        [("shared", 0, False), ("mine", 5, False)],
        [("mine", 0, False), ("shared", 5, False)],
        [("mine", 0, True), ("shared", 5, False)],
        [("theirs", 0, False)],
        [("theirs", 9, False), ("shared", 1, False), ("shared", 2, False)],
        [("mine", 3, False), ("mine", 3, False), ("mine", 1, False)],
        [("shared", 4, True), ("theirs", 4, False)],
    ],
)
def test_the_sql_picks_what_the_orm_rule_picks(db, keys):
    provider = ProviderFactory()
    me, them = UserFactory(), UserFactory()
    for whose, minutes, revoked in keys:
        key = ApiKeyFactory(provider=provider, owner={"mine": me, "theirs": them, "shared": None}[whose])
        key.created_at = NOW - dt.timedelta(minutes=10 - minutes)
        key.revoked_at = NOW if revoked else None
        key.save(update_fields=["created_at", "revoked_at"])
    for user in (me, them):
        assert usable_key(user, provider) == orm_choice(user, provider)
