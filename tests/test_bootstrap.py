"""`manage.py bootstrap`: the first admin, the demo team and project, created once."""

from __future__ import annotations

import re
from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command

from playground.accounts.models import Membership, Project, Role, Team
from playground.providers.models import Provider


def bootstrap() -> str:
    out = StringIO()
    call_command("bootstrap", stdout=out)
    return out.getvalue()


def test_first_run_creates_an_admin_with_a_one_time_password(db):
    output = bootstrap()
    password = re.search(r"password: (\S+)", output).group(1)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.must_change_password
    assert admin.check_password(password)
    team = Team.objects.get(name="Demo team")
    assert Membership.objects.get(team=team, user=admin).role == Role.OWNER
    assert admin.current_project == Project.objects.get(team=team, name="Demo project")
    demo = Provider.objects.get(team=team, name="Demo")
    assert demo.profile == "demo" and demo.allow_local and demo.base_url.endswith("/demo/v1")
    [key] = demo.api_keys.all()
    assert key.shared and key.is_active


def test_later_runs_create_nothing(db):
    first = bootstrap()
    second = bootstrap()
    assert "password:" in first
    assert "password:" not in second
    assert "nothing to create" in second
    assert get_user_model().objects.count() == 1
    assert Team.objects.count() == 1
    assert Project.objects.count() == 1
    assert Provider.objects.count() == 1


def test_each_installation_gets_its_own_password(db):
    first = re.search(r"password: (\S+)", bootstrap()).group(1)
    get_user_model().objects.all().delete()
    Team.objects.all().delete()
    second = re.search(r"password: (\S+)", bootstrap()).group(1)
    assert first != second
    assert len(second) >= 16


def test_answers_left_streaming_by_a_stopped_server_become_interrupted_with_their_text(db):
    from tests.factories import MessageFactory

    left = MessageFactory(role="assistant", status="streaming", content="Half an")
    output = bootstrap()
    left.refresh_from_db()
    assert left.status == "interrupted" and left.content == "Half an"
    assert "1 answer(s) left streaming" in output
