"""factory_boy factories for the objects tests need."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from playground.accounts.models import Membership, Project, Role, Team

PASSWORD = "a-long-test-password-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Project {n}")


class UsageRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "usage.UsageRecord"

    team = factory.SubFactory(TeamFactory)
    model = "demo-chat"
    endpoint = "chat"
    status = "ok"
    http_status = 200
