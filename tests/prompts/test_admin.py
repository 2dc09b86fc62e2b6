"""Staff see prompts in the Django admin; versions there are read-only too."""

from __future__ import annotations

import pytest
from django.urls import reverse

from playground.prompts import services
from playground.prompts.models import CompareColumn, CompareRun, Prompt, PromptSettings, PromptTag, PromptVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x-long-password-1"))
    return client


def test_every_prompts_model_has_an_admin_list_and_page(staff_client, team_with_roles, prompt):
    services.settings_update(team=team_with_roles.team, viewers_may_run=True)
    version = prompt.current_version
    setup = services.Setup(version.provider, "demo-chat", {})
    services.compare_create(
        version=version,
        project=team_with_roles.project,
        user=team_with_roles.users["member"],
        values={"topic": "t", "length": "1", "article": "a"},
        setups=[setup],
    )
    for model in (Prompt, PromptVersion, PromptTag, PromptSettings, CompareRun, CompareColumn):
        name = model._meta.model_name
        assert staff_client.get(reverse(f"admin:prompts_{name}_changelist")).status_code == 200
        page = staff_client.get(reverse(f"admin:prompts_{name}_change", args=[model.objects.first().pk]))
        assert page.status_code == 200, model


def test_versions_cannot_be_changed_or_deleted_in_the_admin(staff_client, prompt):
    version = prompt.current_version
    url = reverse("admin:prompts_promptversion_change", args=[version.pk])
    assert 'name="note"' not in staff_client.get(url).content.decode()
    assert staff_client.post(url, {"note": "Changed"}).status_code == 403
    delete = reverse("admin:prompts_promptversion_delete", args=[version.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert PromptVersion.objects.get(pk=version.pk).note == "Briefer"
