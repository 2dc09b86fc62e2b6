"""factory_boy factories for the objects tests need."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from playground.accounts.models import Membership, Project, Role, Team
from playground.demo.keys import demo_key
from playground.providers import crypto

PASSWORD = "a-long-test-password-42"
# The demo provider's shared key in tests: a real one, since the demo upstream answers only minted keys.
SHARED_KEY = demo_key("team")


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
    """A record written as the upstream client writes them, roll-ups included."""

    class Meta:
        model = "usage.UsageRecord"

    team = factory.SubFactory(TeamFactory)
    model = "demo-chat"
    endpoint = "chat"
    status = "ok"
    http_status = 200
    prompt_tokens = 12
    completion_tokens = 30
    ttft_ms = 250
    total_ms = 900

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from playground.usage.services import usage_record_create

        return usage_record_create(**kwargs)


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "providers.Provider"

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Provider {n}")
    base_url = "https://api.example.com/v1"
    profile = "openai"
    allow_local = False
    # As staff would: allowing the local network is for the address they saw.
    local_url = factory.LazyAttribute(lambda provider: provider.base_url if provider.allow_local else "")


class ApiKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "providers.ApiKey"

    class Params:
        plain = "sk-test-key-0000000000000000"

    provider = factory.SubFactory(ProviderFactory)
    label = "test"
    ciphertext = factory.LazyAttribute(lambda key: crypto.encrypt(key.plain))
    last4 = factory.LazyAttribute(lambda key: key.plain[-4:])
