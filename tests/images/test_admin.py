"""Staff see generations and pictures in the Django admin."""

from __future__ import annotations

import pytest
from django.urls import reverse


@pytest.mark.parametrize("model", ["imagegeneration", "generatedimage"])
def test_staff_list_and_open_generations_and_pictures(client, django_user_model, make_image, model):
    image = make_image("member")
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x-long-password-1"))
    assert client.get(reverse(f"admin:images_{model}_changelist")).status_code == 200
    pk = image.generation_id if model == "imagegeneration" else image.pk
    page = client.get(reverse(f"admin:images_{model}_change", args=[pk]))
    assert page.status_code == 200 and image.file_name in page.content.decode()
