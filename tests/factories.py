"""factory_boy factories for the objects tests need."""

from __future__ import annotations

from decimal import Decimal

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


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "chat.Conversation"

    project = factory.SubFactory(ProjectFactory)
    # A conversation may only use a provider of its project's team.
    provider = factory.SubFactory(ProviderFactory, team=factory.SelfAttribute("..project.team"))
    model = "demo-chat"


class MessageFactory(factory.django.DjangoModelFactory):
    """A finished message. It does not become the conversation's `current_leaf` by itself."""

    class Meta:
        model = "chat.Message"

    conversation = factory.SubFactory(ConversationFactory)
    role = "user"
    content = "Hello"


class PromptFactory(factory.django.DjangoModelFactory):
    """A prompt saved as the library saves it: with a first version, which is current.

    `system`, `messages`, `provider`, `model`, `params` and `variables` are that version's.
    """

    class Meta:
        model = "prompts.Prompt"

    team = factory.SubFactory(TeamFactory)
    owner = None  # also the first version's author
    name = factory.Sequence(lambda n: f"Prompt {n}")
    visibility = "team"
    system = ""
    messages = factory.List([factory.Dict({"role": "user", "content": "Write a haiku about the sea."})])
    provider = None
    model = "demo-chat"
    params = factory.Dict({})
    variables = factory.Dict({})

    @classmethod
    def _create(cls, model_class, *args, owner, system, messages, provider, model, params, variables, **kwargs):
        from playground.prompts.services import Content, prompt_create

        content = Content(
            system=system, messages=messages, provider=provider, model=model, params=params, variables=variables
        )
        return prompt_create(user=owner, content=content, **kwargs)


class ImageGenerationFactory(factory.django.DjangoModelFactory):
    """A generation that worked. Its pictures (GeneratedImage) need real files: tests/images/conftest.py."""

    class Meta:
        model = "images.ImageGeneration"

    project = factory.SubFactory(ProjectFactory)
    provider = factory.SubFactory(ProviderFactory, team=factory.SelfAttribute("..project.team"))
    provider_name = factory.LazyAttribute(lambda generation: generation.provider.name if generation.provider else "")
    model = "demo-image"
    prompt = "A lighthouse at dusk"


class EmbeddingRunFactory(factory.django.DjangoModelFactory):
    """A run as `embeddings.services.run_create` writes it: waiting, no vectors yet."""

    class Meta:
        model = "embeddings.EmbeddingRun"

    project = factory.SubFactory(ProjectFactory)
    provider = factory.SubFactory(ProviderFactory, team=factory.SelfAttribute("..project.team"))
    provider_name = factory.LazyAttribute(lambda run: run.provider.name if run.provider else "")
    model = "demo-embed"
    texts = factory.List(["cats purr", "rockets fly"])
    text_count = factory.LazyAttribute(lambda run: len(run.texts))
    first_text = factory.LazyAttribute(lambda run: run.texts[0][:200] if run.texts else "")


class AuditEntryFactory(factory.django.DjangoModelFactory):
    """An entry written by `audit.services.audit_record`, which fills in the names and refuses bytes."""

    class Meta:
        model = "audit.AuditEntry"

    actor = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    action = "budget.set"
    obj = None
    # Given an `obj`, audit_record takes its type and label from it.
    object_type = factory.LazyAttribute(lambda entry: "" if entry.obj else "budget")
    label = factory.LazyAttribute(lambda entry: "" if entry.obj else "Monthly budget")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from playground.audit.services import audit_record

        return audit_record(**kwargs)


class PriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "usage.Price"

    provider = factory.SubFactory(ProviderFactory)
    model = "demo-chat"
    input_per_million = Decimal("1")
    output_per_million = Decimal("2")


class BudgetFactory(factory.django.DjangoModelFactory):
    """A monthly token budget of the whole team (give `user` for one person's)."""

    class Meta:
        model = "usage.Budget"

    team = factory.SubFactory(TeamFactory)
    user = None
    kind = "tokens"
    limit = 1000
