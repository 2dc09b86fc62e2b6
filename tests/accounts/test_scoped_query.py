"""The scoping helper's compiled query (ScopedQuery), as conversation_for uses it: the same
door as scoped_get, and the same objects the ORM would have read."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404

from playground.accounts.models import Role
from playground.chat.models import Conversation
from playground.chat.selectors import conversation_for
from tests.factories import ConversationFactory, MessageFactory, ProviderFactory


def _fields(obj: Model) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def test_each_person_gets_their_own_role_and_a_non_member_nothing(team_with_roles):
    conversation = ConversationFactory(project=team_with_roles.project)
    for role in Role:
        user = team_with_roles.users[role.value]
        assert conversation_for(user, conversation.pk).member_role == role
        if role == Role.VIEWER:
            with pytest.raises(PermissionDenied):
                conversation_for(user, conversation.pk, role=Role.MEMBER)
        else:
            assert conversation_for(user, conversation.pk, role=Role.MEMBER).pk == conversation.pk
    for outsider in (team_with_roles.users["nonmember"], AnonymousUser()):
        with pytest.raises(Http404):
            conversation_for(outsider, conversation.pk)


def test_an_id_that_names_nothing_is_not_found(team_with_roles):
    with pytest.raises(Http404):
        conversation_for(team_with_roles.users["owner"], 987654)


def test_it_reads_what_the_orm_reads_with_the_related_objects_loaded(team_with_roles, django_assert_num_queries):
    provider = ProviderFactory(team=team_with_roles.team, name="Demo", profile="demo", allow_local=True)
    conversation = ConversationFactory(
        project=team_with_roles.project,
        provider=provider,
        params={"temperature": 0.5, "stop": ["\n"], "nested": {"a": [1, None, True]}},
        system="Be brief.",
        title="Ünïcode title",
    )
    leaf = MessageFactory(conversation=conversation, content="Hi")
    conversation.current_leaf = leaf
    conversation.save()
    expected = Conversation.objects.select_related("project__team", "provider").get(pk=conversation.pk)

    with django_assert_num_queries(1):
        found = conversation_for(team_with_roles.users["member"], conversation.pk)
        related = (found.project, found.project.team, found.provider)
    assert _fields(found) == _fields(expected)
    assert [_fields(obj) for obj in related] == [
        _fields(obj) for obj in (expected.project, expected.project.team, expected.provider)
    ]
    assert found.created_at.tzinfo is not None  # aware, as the ORM's
    assert found._state.adding is False  # saving it updates the row, as for any fetched object
    found.title = "Renamed"
    found.save(update_fields=["title"])
    assert Conversation.objects.get(pk=conversation.pk).title == "Renamed"


def test_a_conversation_without_a_provider_has_none_without_a_query(team_with_roles, django_assert_num_queries):
    conversation = ConversationFactory(project=team_with_roles.project, provider=None)
    with django_assert_num_queries(1):
        found = conversation_for(team_with_roles.users["viewer"], conversation.pk)
        assert found.provider is None
        assert found.project.team.name == "Acme"
