"""The Django admin lists and edits every model, for staff only."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from playground.providers.models import ProviderHeader
from tests.factories import (
    ApiKeyFactory,
    AuditEntryFactory,
    BudgetFactory,
    EmbeddingRunFactory,
    MessageFactory,
    PriceFactory,
    UsageRecordFactory,
)

PLAYGROUND_MODELS = [model for model in apps.get_models() if model.__module__.startswith("playground.")]
# These apps' own admin tests open a change page of each of their models with real objects
# (tests/images/test_admin.py, tests/prompts/test_admin.py); here, their lists.
OBJECTS_MADE_ELSEWHERE = {"images", "prompts"}


@pytest.mark.parametrize("model", PLAYGROUND_MODELS, ids=lambda model: model.__name__)
def test_every_model_has_an_admin_page_for_staff(client, django_user_model, team_with_roles, model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x-long-password-1"))
    UsageRecordFactory(team=team_with_roles.team)
    key = ApiKeyFactory(provider__team=team_with_roles.team)
    ProviderHeader.objects.create(provider=key.provider, name="X-PROJECT-ID", value="p1")
    MessageFactory(conversation__project=team_with_roles.project, conversation__provider=key.provider)
    EmbeddingRunFactory(project=team_with_roles.project, provider=key.provider)
    PriceFactory(provider=key.provider)
    BudgetFactory(team=team_with_roles.team)
    AuditEntryFactory(actor=team_with_roles.users["admin"], action="key.revoke", obj=key, team=team_with_roles.team)
    assert model in admin.site._registry
    opts = model._meta
    response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200
    if opts.app_label in OBJECTS_MADE_ELSEWHERE:
        return
    obj = model._default_manager.first()
    change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    assert change.status_code == 200
    if model.__name__ == "ApiKey":
        assert key.secret() not in change.content.decode()


def test_non_staff_cannot_open_the_admin(client, team_with_roles):
    client.force_login(team_with_roles.users["owner"])
    response = client.get(reverse("admin:accounts_team_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url
