"""Every URL of Playground, and how to reach it with seeded objects: shared by the hostile
crawl (tests/browser/test_hostile_crawl.py) and the no-500 test (tests/test_every_url.py).

`seed_world` fills a team with one object of every kind, every text in it hostile (HTML,
htmx attributes, template syntax, markdown links), each payload carrying a marker of its
own so that a leak names the field it came from. `ROUTES` says, for every URL name, which
seeded object each argument is, or why the crawl does not open it; `uncovered_patterns`
lists the patterns it does not know, so a new page without an entry fails both tests.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter
from django.utils import timezone
from PIL import Image

from playground.accounts.models import Membership, Project, Team
from playground.audit.services import audit_record
from playground.chat.models import Conversation, Message
from playground.converters import IdConverter
from playground.demo.embeddings import embed
from playground.embeddings.models import EmbeddingRun, Status
from playground.images import storage
from playground.images.models import GeneratedImage, ImageGeneration
from playground.prompts import services as prompts
from playground.prompts.models import Prompt, PromptSettings, PromptTag, PromptVersion
from playground.providers import services as providers
from playground.providers.models import ApiKey, Provider, ProviderHeader
from playground.routing import websocket_urlpatterns
from playground.usage import services as usage
from playground.usage.models import Price, UsageRecord
from tests.factories import ApiKeyFactory, UsageRecordFactory

User = get_user_model()

# A payload's MARK becomes its marker: "pwn-MARK" is a class to look for, "/pwn/MARK" a URL
# that must never be requested. The first ones are the review's attack on the prompt
# variable description; the rest break out of attributes, textareas, scripts and templates.
PAYLOADS: tuple[str, ...] = (
    '<span class="pwn-MARK" hx-get="/pwn/MARK" hx-trigger="load">',
    '<div class="pwn-MARK" hx-post="/pwn/MARK" hx-trigger="load" hx-vals=\'{"role":"admin"}\'>',
    '<img src=x onerror="fetch(\'/pwn/MARK\')" class="pwn-MARK">',
    '<svg onload="fetch(\'/pwn/MARK\')" class="pwn-MARK">',
    "<script>fetch('/pwn/MARK')</script>",
    '<a href="javascript:fetch(\'/pwn/MARK\')" class="pwn-MARK">x</a>',
    '<div hx-on:htmx:load="fetch(\'/pwn/MARK\')" class="pwn-MARK">',
    '{{ "pwn"|add:"MARK" }}{% now "Y" %}',
    "${7*7}MARK",
    "[pwn-MARK](javascript:alert('MARK'))",
    '"><img src=/pwn/MARK class=pwn-MARK>',
    "'><img src=/pwn/MARK class=pwn-MARK>",
    "</textarea><img src=/pwn/MARK class=pwn-MARK>",
    "</script><img src=/pwn/MARK class=pwn-MARK>",
    "</title><img src=/pwn/MARK class=pwn-MARK>",
    '<style>@import "/pwn/MARK";</style>',
    '<link rel="stylesheet" href="/pwn/MARK">',
    '<iframe srcdoc="<img src=/pwn/MARK>" class="pwn-MARK"></iframe>',
    '<form action="/pwn/MARK" class="pwn-MARK"><button>pwn</button></form>',
    '<meta http-equiv="refresh" content="0;url=/pwn/MARK">',
    '<base href="/pwn/MARK/">',
)

# For URLs, which hold no spaces (Django's URLValidator accepts all of these).
URL_PAYLOADS: tuple[str, ...] = (
    '"><img/src=/pwn/MARK/class=pwn-MARK>',
    "'><svg/onload=fetch('/pwn/MARK')>",
    "javascript:fetch('/pwn/MARK')",
)

# For query strings, short enough that ten of them make a URL servers accept: what breaks
# out of attributes, textareas, scripts and titles, and the htmx and handler attacks.
REFLECTED_PAYLOADS: tuple[str, ...] = (
    *(payload for payload in PAYLOADS if payload.startswith(('"', "'", "</"))),
    PAYLOADS[0],
    PAYLOADS[2],
    URL_PAYLOADS[2],
)

MISSING_ID = 987654


class Marks:
    """Hands out hostile texts, a fresh marker for each payload, and remembers where each went."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.where: dict[str, str] = {}  # marker -> "Model.field: payload"
        self.texts: dict[str, str] = {}  # label -> the whole text
        self.pieces: dict[str, list[str]] = {}  # label -> its payloads, markers filled in
        self._markers = itertools.count(1)
        self._turn = itertools.count()

    def text(self, label: str, limit: int | None = None, payloads: tuple[str, ...] = PAYLOADS) -> str:
        """Every payload (no `limit`), or as many as fit in `limit` characters, starting at a
        different payload for each field so that short fields between them get all kinds."""
        if label in self.texts:
            raise ValueError(f"Two fields are labelled {label}: name them apart so a leak says which")
        start = next(self._turn) % len(payloads)
        order = payloads[start:] + payloads[:start]
        pieces: list[str] = []
        for payload in order:
            marker = f"{self.prefix}{next(self._markers)}"
            piece = payload.replace("MARK", marker)
            if limit is not None and len(" ".join([*pieces, piece])) > limit:
                continue
            pieces.append(piece)
            self.where[marker] = f"{label}: {payload}"
        if not pieces:
            raise ValueError(f"No payload fits in {limit} characters ({label})")
        text = " ".join(pieces) if limit is not None else "\n".join(pieces)
        self.texts[label] = text
        self.pieces[label] = pieces
        return text

    def of(self, model: type[models.Model], name: str, suffix: str = "") -> str:
        """A hostile value for a model field, as long as the field allows."""
        limit = model._meta.get_field(name).max_length
        return self.text(f"{model.__name__}.{name}{suffix}", limit)

    def short(self, label: str) -> str:
        """A short hostile text (48 characters at most), for enum values, keys, tokens."""
        return self.text(label, 48)

    def found_in(self, text: str) -> list[str]:
        """Where the markers found in `text` were seeded."""
        return sorted({self.where[marker] for marker in self.markers_in(text)})

    def markers_in(self, text: str) -> set[str]:
        return {marker for marker in re.findall(rf"pwn[-/]({self.prefix}\d+)\b", text) if marker in self.where}


# What the seed made, by kind. An index kind (a version number, a column position) names an
# object inside another one, so only a missing value of it, not another team's, is tried.
INDEX_KINDS = {"version", "column"}


@dataclass
class World:
    """One team with one hostile object of every kind; `world.ids[kind]` is an id (or a list of
    them: the crawl opens each, the no-500 test uses the first)."""

    team: Any
    project: Any
    users: dict[str, Any]
    marks: Marks
    ids: dict[str, Any] = field(default_factory=dict)
    other: World | None = None  # another team's world, when a test seeds two

    @property
    def owner(self):
        return self.users["owner"]

    @property
    def author(self):
        """Who made the team's things: its member, or its owner in a team of one."""
        return self.users.get("member", self.owner)

    def first(self, kind: str) -> Any:
        value = self.ids[kind]
        return value[0] if isinstance(value, list) else value


def png_bytes(width: int = 40, height: int = 30) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def hostile_schema(marks: Marks, source: str) -> dict[str, Any]:
    """An OpenAPI document a provider could serve or an admin upload: every title,
    description, enum value, default and example hostile, and one hostile property name.
    Its texts are labelled "<source> schema.<endpoint>.<field>..."."""

    def text(label: str) -> str:
        return marks.text(f"{source} schema.{label}")

    def short(label: str) -> str:
        return marks.short(f"{source} schema.{label}")

    def knobs(endpoint: str) -> dict[str, Any]:
        first, second = short(f"{endpoint}.mood.enum"), short(f"{endpoint}.mood.enum2")
        return {
            "temperature": {
                "type": "number",
                "minimum": 0,
                "maximum": 2,
                "default": 1,
                "title": text(f"{endpoint}.temperature.title"),
                "description": text(f"{endpoint}.temperature.description"),
            },
            "mood": {
                "type": "string",
                "enum": [first, second, "calm"],
                "default": first,
                "description": text(f"{endpoint}.mood.description"),
            },
            "style": {
                "type": "string",
                "default": short(f"{endpoint}.style.default"),
                "examples": [text(f"{endpoint}.style.example")],
                "description": text(f"{endpoint}.style.description"),
            },
            "stop": {
                "type": "array",
                "items": {"type": "string"},
                "default": [short(f"{endpoint}.stop.default")],
            },
            "extras": {
                "type": "object",
                "default": {short(f"{endpoint}.extras.key"): short(f"{endpoint}.extras.value")},
                "example": {"note": text(f"{endpoint}.extras.example")},
                "description": text(f"{endpoint}.extras.description"),
            },
            short(f"{endpoint}.property-name"): {"type": "integer", "minimum": 0, "maximum": 9},
        }

    def request(endpoint: str, content: dict[str, Any], required: list[str]) -> dict[str, Any]:
        properties = {"model": {"type": "string", "description": text(f"{endpoint}.model.description")}, **content}
        schema = {"type": "object", "required": ["model", *required], "properties": {**properties, **knobs(endpoint)}}
        return {
            "post": {
                "summary": text(f"{endpoint}.summary"),
                "requestBody": {"content": {"application/json": {"schema": schema}}},
                "responses": {"200": {"description": text(f"{endpoint}.response")}},
            }
        }

    roles = ["system", "user", "assistant", short("chat.role")]
    message = {
        "type": "object",
        "required": ["role", "content"],
        "properties": {"role": {"type": "string", "enum": roles}, "content": {"type": "string"}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": text("info.title"), "description": text("info.description"), "version": "1"},
        "paths": {
            "/chat/completions": request("chat", {"messages": {"type": "array", "items": message}}, ["messages"]),
            "/completions": request("completions", {"prompt": {"type": "string"}}, ["prompt"]),
            "/images/generations": request(
                "images",
                {
                    "prompt": {"type": "string"},
                    "size": {"type": "string", "enum": ["256x256", short("images.size")]},
                },
                ["prompt"],
            ),
            "/embeddings": request(
                "embeddings",
                {"input": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}},
                ["input"],
            ),
            "/rerank": request(
                "rerank",
                {"query": {"type": "string"}, "documents": {"type": "array", "items": {"type": "string"}}},
                ["query", "documents"],
            ),
            "/models": {"get": {"responses": {"200": {"description": "OK"}}}},
        },
    }


def seed_world(team, users: dict[str, Any], *, prefix: str) -> World:
    """Fill `team` (whose members are `users`, by role; "owner" at least) with hostile objects
    of every kind, through the app's services where they exist, and note their ids."""
    marks = Marks(prefix)
    for role, user in users.items():
        user.username = marks.of(User, "username", f" ({role})")
        user.first_name = marks.of(User, "first_name", f" ({role})")
        user.last_name = marks.of(User, "last_name", f" ({role})")
        user.email = marks.of(User, "email", f" ({role})")
        user.save()
    team.name = marks.of(Team, "name")
    team.save()
    project = team.projects.first() or Project.objects.create(team=team, name="project")
    project.name = marks.of(Project, "name")
    project.save()
    Project.objects.create(team=team, name=marks.of(Project, "name", " (archived)"), archived_at=timezone.now())
    PromptSettings.objects.update_or_create(team=team, defaults={"viewers_may_run": True})
    world = World(team=team, project=project, users=users, marks=marks)
    membership = Membership.objects.filter(team=team).order_by("pk").first()
    world.ids.update(team=team.pk, project=project.pk, membership=membership.pk)
    provider = _seed_providers(world)
    _seed_chat(world, provider)
    _seed_prompts(world, provider)
    _seed_images(world, provider)
    _seed_embeddings(world, provider)
    _seed_usage(world, provider)
    return world


def _seed_providers(world: World) -> Provider:
    """A provider with an uploaded schema, headers and keys, and one whose schema it served itself."""
    marks, team, owner = world.marks, world.team, world.owner
    provider = Provider(
        team=team,
        name=marks.of(Provider, "name"),
        base_url="https://api.example.com/v1/" + marks.text("Provider.base_url", 400, URL_PAYLOADS).replace(" ", "/"),
        profile="openai",
        default_model=marks.of(Provider, "default_model"),
        models_cache=[marks.short("Provider.models_cache"), marks.short("Provider.models_cache 2")],
    )
    providers.provider_save(
        provider=provider,
        by_user=owner,
        headers=[
            {"name": marks.of(ProviderHeader, "name"), "value": marks.of(ProviderHeader, "value"), "secret": False},
            {"name": marks.of(ProviderHeader, "name", " (secret)"), "value": "hidden-value'\"<>", "secret": True},
        ],
    )
    providers.schema_upload(provider=provider, text=json.dumps(hostile_schema(marks, "uploaded")), by_user=owner)
    Provider.objects.create(
        team=team,
        name=marks.of(Provider, "name", " (fetched)"),
        base_url="https://fetched.example.com/v1",
        fetched_schema=hostile_schema(marks, "fetched"),
        fetched_at=timezone.now(),
    )
    key = ApiKeyFactory(provider=provider, owner=None, label=marks.of(ApiKey, "label"), plain="sk-shared-0000'\"<>")
    ApiKeyFactory(provider=provider, owner=world.author, label=marks.of(ApiKey, "label", " (personal)"))
    world.ids.update(
        provider=provider.pk, key=key.pk, endpoint=["chat", "completions", "images", "embeddings", "rerank"]
    )
    return provider


def _seed_chat(world: World, provider: Provider) -> None:
    """A conversation: a question, an answer with everything an upstream can send, a failed sibling."""
    marks, author = world.marks, world.author
    conversation = Conversation.objects.create(
        project=world.project,
        provider=provider,
        model=marks.of(Conversation, "model"),
        title=marks.of(Conversation, "title"),
        system=marks.of(Conversation, "system"),
        params={"temperature": 0.5, marks.short("Conversation.params key"): marks.text("Conversation.params value")},
        created_by=author,
    )
    question = Message.objects.create(
        conversation=conversation, role="user", content=marks.text("Message.content (question)"), created_by=author
    )
    answer = Message.objects.create(
        conversation=conversation,
        parent=question,
        role="assistant",
        content=marks.text("Message.content (answer)"),
        model=marks.of(Message, "model"),
        finish_reason=marks.of(Message, "finish_reason"),
        system_fingerprint=marks.of(Message, "system_fingerprint"),
        params={"model": marks.short("Message.params model"), "note": marks.text("Message.params")},
        prompt_tokens=12,
        completion_tokens=30,
        ttft_ms=200,
        total_ms=900,
        tool_calls=[
            {"name": marks.short("Message.tool_calls name"), "arguments": marks.text("Message.tool_calls args")}
        ],
        references={
            "chunks": [
                {
                    "title": marks.text("Message.references title", 200),
                    "file_name": marks.text("Message.references file_name", 200),
                    "text": marks.text("Message.references text"),
                    "page": marks.short("Message.references page"),
                }
            ]
        },
        logprobs=[
            {
                "token": marks.short("Message.logprobs token"),
                "logprob": -0.1,
                "top_logprobs": [{"token": marks.short("Message.logprobs alternative"), "logprob": -2.0}],
            }
        ],
        created_by=author,
    )
    failed = Message.objects.create(
        conversation=conversation,
        parent=question,
        role="assistant",
        status="error",
        content=marks.text("Message.content (failed answer)"),
        error=marks.text("Message.error"),
        model=marks.of(Message, "model", " (failed)"),
        created_by=author,
    )
    conversation.current_leaf = answer
    conversation.save(update_fields=["current_leaf"])
    world.ids["conversation"] = conversation.pk
    world.ids["message"] = [question.pk, answer.pk, failed.pk]
    world.ids["answer"] = answer.pk


def _seed_prompts(world: World, provider: Provider) -> None:
    """A prompt with two versions whose variables' descriptions are the review's sink (the
    first holds the review's own attack), a compare run of it, and a deleted prompt."""
    marks, team, owner, author = world.marks, world.team, world.owner, world.author
    variables = {
        "topic": {
            "description": marks.text("PromptVersion.variables topic description", 500, PAYLOADS[:4]),
            "default": marks.text("PromptVersion.variables topic default"),
        },
        "audience": {"description": marks.text("PromptVersion.variables audience description", 500), "default": ""},
    }
    content = prompts.Content(
        system=marks.text("PromptVersion.system") + "\nFor {{audience}}.",
        messages=[
            {"role": "user", "content": marks.text("PromptVersion.messages user") + "\nAbout {{topic}}."},
            {"role": "assistant", "content": marks.text("PromptVersion.messages assistant")},
            {"role": "user", "content": "More on {{topic}}: " + marks.text("PromptVersion.messages user 2")},
        ],
        provider=provider,
        model=marks.of(PromptVersion, "model"),
        params={"temperature": 0.3, marks.short("PromptVersion.params key"): marks.text("PromptVersion.params value")},
        variables=variables,
    )
    prompt = prompts.prompt_create(
        team=team,
        user=author,
        name=marks.of(Prompt, "name"),
        description=marks.text("Prompt.description"),
        content=content,
        note=marks.of(PromptVersion, "note"),
    )
    PromptTag.objects.create(prompt=prompt, name=marks.of(PromptTag, "name"))
    PromptTag.objects.create(prompt=prompt, name=marks.of(PromptTag, "name", " 2"))
    content.messages[0]["content"] += "\n" + marks.text("PromptVersion.messages user (v2)")
    prompts.version_add(prompt=prompt, user=author, content=content, note=marks.of(PromptVersion, "note", " (v2)"))
    world.ids["prompt"], world.ids["version"] = prompt.pk, [2, 1]
    world.ids["diff_query"] = "old=1&new=2"
    world.ids["tag_query"] = urlencode({"tag": prompt.tags.first().name})
    deleted = prompts.prompt_create(
        team=team, user=author, name=marks.of(Prompt, "name", " (deleted)"), content=prompts.Content(system="x")
    )
    prompts.prompt_delete(prompt=deleted, user=owner)
    world.ids["deleted_prompt"] = deleted.pk
    values = {"topic": marks.text("CompareRun.values topic"), "audience": marks.text("CompareRun.values audience")}
    version = prompt.versions.get(number=2)
    run = prompts.compare_create(
        version=version,
        project=world.project,
        user=author,
        values=values,
        setups=[prompts.Setup(provider, marks.text("Setup.model", 200), {"temperature": 0.1})],
    )
    column = run.columns.get()
    column.answer = Message.objects.create(
        conversation=column.conversation,
        parent=column.conversation.current_leaf,
        role="assistant",
        content=marks.text("Message.content (compare answer)"),
        error=marks.text("Message.error (compare)"),
        status="error",
        model=marks.of(Message, "model", " (compare)"),
    )
    column.save(update_fields=["answer"])
    world.ids["compare_run"], world.ids["column"] = run.pk, 1


def _seed_images(world: World, provider: Provider) -> None:
    """A picture (with the provider's revised prompt) and a failed generation."""
    marks, author = world.marks, world.author
    stored = storage.store(png_bytes())
    generation = ImageGeneration.objects.create(
        project=world.project,
        user=author,
        provider=provider,
        provider_name=marks.of(ImageGeneration, "provider_name"),
        model=marks.of(ImageGeneration, "model"),
        prompt=marks.text("ImageGeneration.prompt"),
        params={"size": marks.short("ImageGeneration.params size"), "note": marks.text("ImageGeneration.params")},
        duration_ms=40,
    )
    image = GeneratedImage.objects.create(
        generation=generation,
        file_name=stored.file_name,
        content_type=stored.content_type,
        width=stored.width,
        height=stored.height,
        bytes=stored.bytes,
        revised_prompt=marks.text("GeneratedImage.revised_prompt"),
    )
    ImageGeneration.objects.create(
        project=world.project,
        user=author,
        provider=provider,
        provider_name=marks.of(ImageGeneration, "provider_name", " (failed)"),
        model=marks.of(ImageGeneration, "model", " (failed)"),
        prompt=marks.text("ImageGeneration.prompt (failed)"),
        error=marks.text("ImageGeneration.error"),
    )
    world.ids["image"], world.ids["generation"] = image.pk, generation.pk


def _seed_embeddings(world: World, provider: Provider) -> None:
    """Two finished runs over the same texts (to compare) and a failed one."""
    marks, author = world.marks, world.author
    texts = [marks.text(f"EmbeddingRun.texts {n}", 300) + f" cats purr {n}" for n in range(4)]
    labels = [marks.text(f"EmbeddingRun.labels {n}", 60) for n in range(4)]
    runs = []
    for n in range(2):
        embedding_run = EmbeddingRun(
            project=world.project,
            user=author,
            provider=provider,
            provider_name=marks.of(EmbeddingRun, "provider_name", f" {n}"),
            name=marks.of(EmbeddingRun, "name", f" {n}"),
            model=marks.of(EmbeddingRun, "model", f" {n}"),
            params={"dimensions": 16, "note": marks.text(f"EmbeddingRun.params {n}")},
            texts=texts,
            labels=labels,
            text_count=len(texts),
            first_text=texts[0][:200],
            status=Status.DONE,
            done_count=len(texts),
            duration_ms=20,
        )
        embedding_run.set_matrix(embed(texts, 16))
        embedding_run.save()
        runs.append(embedding_run)
    failed_run = EmbeddingRun.objects.create(
        project=world.project,
        user=author,
        provider=provider,
        provider_name=marks.of(EmbeddingRun, "provider_name", " (failed)"),
        model=marks.of(EmbeddingRun, "model", " (failed)"),
        texts=texts[:2],
        labels=labels[:2],
        text_count=2,
        first_text=marks.of(EmbeddingRun, "first_text"),
        status=Status.ERROR,
        error=marks.text("EmbeddingRun.error"),
        error_kind=marks.of(EmbeddingRun, "error_kind"),
    )
    world.ids["embedding_run"] = [runs[0].pk, failed_run.pk]
    world.ids["done_run"] = runs[0].pk
    world.ids["compare_query"] = f"other={runs[1].pk}&k=3"


def _seed_usage(world: World, provider: Provider) -> None:
    """Usage records (one failed), a price, a budget, and an audit entry with hostile changes."""
    marks, team, owner, author = world.marks, world.team, world.owner, world.author
    for status in ("ok", "error"):
        UsageRecordFactory(
            team=team,
            project=world.project,
            user=author,
            provider_id=provider.pk,
            provider_name=marks.of(UsageRecord, "provider_name", f" ({status})"),
            model=marks.of(UsageRecord, "model", f" ({status})"),
            status=status,
            http_status=200 if status == "ok" else 500,
            error_kind=marks.of(UsageRecord, "error_kind") if status == "error" else "",
            error_message=marks.of(UsageRecord, "error_message") if status == "error" else "",
        )
    price = usage.price_set(
        provider=provider,
        model=marks.of(Price, "model"),
        input_per_million=Decimal("1.5"),
        output_per_million=Decimal("2"),
        by_user=owner,
    )
    budget = usage.budget_set(team=team, user=author, kind="tokens", limit=Decimal(100000), by_user=owner)
    world.ids["price"], world.ids["budget"] = price.pk, budget.pk
    audit_record(
        actor=owner,
        action="provider.update",
        team=team,
        object_type=marks.text("AuditEntry.object_type", 30),
        object_id=provider.pk,
        label=marks.text("AuditEntry.object_label", 300),
        before={marks.short("AuditEntry.before key"): marks.text("AuditEntry.before value")},
        after={marks.short("AuditEntry.after key"): marks.text("AuditEntry.after value")},
    )


# The URL map. `args` names the seeded kind of each URL argument; `queries` are the query
# strings the crawl opens the page with (formatted with the world's ids); `not_page` says
# why the crawl does not open it (the no-500 test still requests it).
POST_ONLY = "POST only: a form's action, no page of its own"


@dataclass(frozen=True)
class Route:
    args: dict[str, str] = field(default_factory=dict)
    queries: tuple[str, ...] = ("",)
    not_page: str = ""
    # A query string whose every {h} becomes hostile text: what a page reads from its URL,
    # which anyone can put in a link sent to a victim.
    reflect: str = ""


ROUTES: dict[str, Route] = {
    # accounts
    "home": Route(),
    "login": Route(reflect="next={h}"),
    "logout": Route(not_page=POST_ONLY),
    "password_change": Route(),
    "team_list": Route(),
    "team_detail": Route({"team_id": "team"}),
    "team_delete": Route({"team_id": "team"}),
    "member_list": Route({"team_id": "team"}),
    "member_role": Route({"team_id": "team", "membership_id": "membership"}, not_page=POST_ONLY),
    "member_remove": Route({"team_id": "team", "membership_id": "membership"}, not_page=POST_ONLY),
    "project_switch": Route(not_page=POST_ONLY),
    "project_detail": Route({"project_id": "project"}),
    "project_rename": Route({"project_id": "project"}, not_page=POST_ONLY),
    "project_archive": Route({"project_id": "project"}, not_page=POST_ONLY),
    "project_delete": Route({"project_id": "project"}),
    # chat
    "conversation_list": Route({"project_id": "project"}, queries=("", "q=pwn"), reflect="q={h}"),
    "conversation_start": Route({"project_id": "project"}),
    "conversation_detail": Route({"conversation_id": "conversation"}, reflect="show={h}"),
    "conversation_code": Route({"conversation_id": "conversation"}, reflect="text={h}"),
    "conversation_rename": Route({"conversation_id": "conversation"}, not_page=POST_ONLY),
    "conversation_delete": Route({"conversation_id": "conversation"}),
    "conversation_branch": Route({"conversation_id": "conversation", "message_id": "answer"}, not_page=POST_ONLY),
    "conversation_earlier": Route(
        {"conversation_id": "conversation"}, queries=("before={answer}",), reflect="before={h}"
    ),
    "message_fragment": Route({"message_id": "message"}),
    # prompts
    "project_prompts": Route({"project_id": "project"}),
    "prompt_library": Route(
        {"team_id": "team"}, queries=("", "q=pwn", "{tag_query}"), reflect="q={h}&tag={h}&owner={h}&sort={h}"
    ),
    "prompt_create": Route(
        {"team_id": "team"}, queries=("", "conversation={conversation}"), reflect="conversation={h}"
    ),
    "prompt_import": Route({"team_id": "team"}),
    "prompt_export_all": Route({"team_id": "team"}, not_page="a JSON download"),
    "prompts_deleted": Route({"team_id": "team"}),
    "prompt_settings": Route({"team_id": "team"}, not_page=POST_ONLY),
    "prompt_detail": Route({"prompt_id": "prompt"}),
    "prompt_edit": Route({"prompt_id": "prompt"}),
    "prompt_visibility": Route({"prompt_id": "prompt"}, not_page=POST_ONLY),
    "prompt_delete": Route({"prompt_id": "prompt"}),
    "prompt_undelete": Route({"prompt_id": "deleted_prompt"}, not_page=POST_ONLY),
    "prompt_export": Route({"prompt_id": "prompt"}, not_page="a JSON download"),
    "version_create": Route({"prompt_id": "prompt"}, queries=("", "from=1"), reflect="from={h}"),
    "version_diff": Route({"prompt_id": "prompt"}, queries=("", "{diff_query}"), reflect="old={h}&new={h}"),
    "version_detail": Route({"prompt_id": "prompt", "number": "version"}),
    "version_current": Route({"prompt_id": "prompt", "number": "version"}, not_page=POST_ONLY),
    "version_restore": Route({"prompt_id": "prompt", "number": "version"}, not_page=POST_ONLY),
    "version_run": Route({"prompt_id": "prompt", "number": "version"}),
    "version_preview": Route({"prompt_id": "prompt", "number": "version"}, not_page=POST_ONLY),
    "version_compare": Route({"prompt_id": "prompt", "number": "version"}),
    "compare_detail": Route({"run_id": "compare_run"}),
    "compare_column": Route({"run_id": "compare_run", "position": "column"}),
    "compare_save": Route({"run_id": "compare_run", "position": "column"}, not_page=POST_ONLY),
    # images
    "image_gallery": Route(
        {"project_id": "project"}, queries=("", "again={generation}"), reflect="prompt={h}&provider={h}&page={h}"
    ),
    "image_generate": Route({"project_id": "project"}, not_page=POST_ONLY),
    "image_detail": Route({"image_id": "image"}),
    "image_file": Route({"image_id": "image"}, not_page="the picture's bytes"),
    "image_thumbnail": Route({"image_id": "image"}, not_page="the thumbnail's bytes"),
    "image_download": Route({"image_id": "image"}, not_page="the picture as a download"),
    "image_delete": Route({"image_id": "image"}),
    # embeddings
    "embedding_runs": Route({"project_id": "project"}),
    "embedding_run_create": Route(
        {"project_id": "project"}, queries=("", "provider={provider}"), reflect="provider={h}"
    ),
    "embedding_run_detail": Route({"run_id": "embedding_run"}),
    "embedding_run_progress": Route({"run_id": "embedding_run"}),
    "embedding_run_retry": Route({"run_id": "embedding_run"}, not_page=POST_ONLY),
    "embedding_run_neighbours": Route({"run_id": "embedding_run"}, not_page=POST_ONLY),
    "embedding_run_compare": Route(
        {"run_id": "embedding_run"}, queries=("", "{compare_query}"), reflect="other={h}&k={h}"
    ),
    "embedding_run_vectors_csv": Route({"run_id": "done_run"}, not_page="a CSV download"),
    "embedding_run_similarity_csv": Route({"run_id": "done_run"}, not_page="a CSV download"),
    "embedding_run_delete": Route({"run_id": "embedding_run"}),
    "rerank": Route({"project_id": "project"}, queries=("", "provider={provider}"), reflect="provider={h}"),
    # providers
    "provider_list": Route({"team_id": "team"}),
    "provider_detail": Route({"provider_id": "provider"}),
    "provider_edit": Route({"provider_id": "provider"}),
    "provider_delete": Route({"provider_id": "provider"}),
    "key_add": Route({"provider_id": "provider"}, not_page=POST_ONLY),
    "models_refresh": Route({"provider_id": "provider"}, not_page=POST_ONLY),
    "schema_upload": Route({"provider_id": "provider"}, not_page=POST_ONLY),
    "schema_refresh": Route({"provider_id": "provider"}, not_page=POST_ONLY),
    "schema_reset": Route({"provider_id": "provider"}, not_page=POST_ONLY),
    "parameters": Route({"provider_id": "provider", "endpoint": "endpoint"}),
    "key_test": Route({"key_id": "key"}, not_page=POST_ONLY),
    "key_revoke": Route({"key_id": "key"}, not_page=POST_ONLY),
    # usage
    "usage_dashboard": Route(
        queries=("", "team={team}"),
        reflect="range={h}&start={h}&end={h}&project={h}&user={h}&provider={h}&model={h}&key={h}&endpoint={h}&status={h}",
    ),
    "usage_export": Route(not_page="a CSV download"),
    "usage_prices": Route({"team_id": "team"}),
    "usage_price_delete": Route({"price_id": "price"}, not_page=POST_ONLY),
    "usage_budgets": Route({"team_id": "team"}),
    "usage_budget_delete": Route({"budget_id": "budget"}, not_page=POST_ONLY),
    # audit
    "audit_list": Route(
        queries=("", "team={team}"), reflect="team={h}&action={h}&actor={h}&start={h}&end={h}&page={h}"
    ),
}

# Whole namespaces covered another way.
NAMESPACES = {
    "admin": "Django's admin, staff only: the crawl opens every registered model's changelist and change page as staff",
}

# Websocket routes (playground/routing.py) are not Django URL patterns but must be listed too.
WEBSOCKETS = {
    "ws/chat/<id:conversation_id>/": "the chat socket: tests/chat/test_consumer.py checks who may connect and act",
    "": "every other socket path is refused with 4404 (tests/chat/test_consumer.py)",
}


@dataclass(frozen=True)
class Pattern:
    name: str  # namespaced: "admin:index"; "" when the pattern has none
    namespace: str
    route: str
    int_args: tuple[str, ...]


def url_patterns() -> Iterator[Pattern]:
    """Every pattern of the resolver, nested includes and namespaces followed."""

    def walk(patterns, namespace: str, prefix: str, converters: dict) -> Iterator[Pattern]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            found = {**converters, **getattr(pattern.pattern, "converters", {})}
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner, route, found)
            elif isinstance(pattern, URLPattern):
                ids = IntConverter | IdConverter
                ints = tuple(name for name, converter in found.items() if isinstance(converter, ids))
                name = f"{namespace}{pattern.name}" if pattern.name else ""
                yield Pattern(name, namespace.rstrip(":"), route, ints)

    yield from walk(get_resolver().url_patterns, "", "/", {})


def uncovered_patterns() -> list[str]:
    """Patterns (and websocket routes) neither ROUTES, NAMESPACES nor WEBSOCKETS account for."""
    missing = []
    for pattern in url_patterns():
        if pattern.namespace.split(":")[0] in NAMESPACES:
            continue
        if not pattern.name:
            missing.append(f"{pattern.route} (a pattern with no name: name it and add it to tests/urlmap.py ROUTES)")
        elif pattern.name not in ROUTES:
            missing.append(f"{pattern.name} ({pattern.route}): add it to ROUTES in tests/urlmap.py")
    for socket in websocket_urlpatterns:
        if str(socket.pattern) not in WEBSOCKETS:
            missing.append(f"websocket {socket.pattern}: add it to WEBSOCKETS in tests/urlmap.py")
    return missing


def stale_routes() -> list[str]:
    """ROUTES entries whose URL name no longer exists, or whose arguments differ from the pattern's."""
    patterns = {pattern.name: pattern for pattern in url_patterns()}
    stale = []
    for name, route in ROUTES.items():
        if name not in patterns:
            stale.append(f"{name}: no such URL")
        elif set(re.findall(r"<(?:\w+:)?(\w+)>", patterns[name].route)) != set(route.args):
            stale.append(f"{name}: arguments {sorted(route.args)} but the pattern is {patterns[name].route}")
    return stale


def _choices(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def page_urls(name: str, world: World) -> list[str]:
    """Every URL the crawl opens for `name`: each id of a kind with several, each query."""
    route = ROUTES[name]
    firsts = {kind: world.first(kind) for kind in world.ids}
    urls = []
    for kwargs in _kwargs_sets(route, world):
        path = reverse(name, kwargs=kwargs)
        urls += [f"{path}?{query.format_map(firsts)}" if query else path for query in route.queries]
    return urls


def reflected_urls(world: World) -> list[str]:
    """Each page that reads its query string, with hostile text in every parameter it reads."""
    text = world.marks.text("reflected from the query string", payloads=REFLECTED_PAYLOADS)
    hostile = quote(text, safe="")
    return [
        f"{reverse(name, kwargs=own_kwargs(name, world))}?{route.reflect.replace('{h}', hostile)}"
        for name, route in ROUTES.items()
        if route.reflect
    ]


def _kwargs_sets(route: Route, world: World) -> list[dict[str, Any]]:
    return [
        dict(zip(route.args, values, strict=True))
        for values in itertools.product(*(_choices(world.ids[kind]) for kind in route.args.values()))
    ]


def own_kwargs(name: str, world: World) -> dict[str, Any]:
    return {arg: world.first(kind) for arg, kind in ROUTES[name].args.items()}


# Fields the seed leaves alone, and why; every other text or JSON field of our models must
# hold a hostile value somewhere after seeding (see unseeded_fields).
NOT_SEEDED = {
    "User.password": "a password hash",
    "Message.role": "written by Playground: user or assistant",
    "Message.html": "Playground's own nh3-sanitised rendering of the content, made from the hostile content",
    "PromptVersion.search_text": "derived from the version's hostile texts",
    "Provider.profile": "a key of the built-in profiles, chosen from a list",
    "Provider.local_url": "the base URL staff saw when they allowed local access",
    "GeneratedImage.file_name": "sha256 of the bytes Playground checked",
    "GeneratedImage.content_type": "from the type Pillow found",
    "UsageHourTimes.ttft_values": "hex digits Playground writes",
    "UsageHourTimes.total_values": "hex digits Playground writes",
    "UsageDayTimes.ttft_values": "hex digits Playground writes",
    "UsageDayTimes.total_values": "hex digits Playground writes",
}
_TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def unseeded_fields() -> list[str]:
    """Text and JSON fields of Playground's models that no seeded row holds hostile text in."""
    missing = []
    for model in apps.get_models():
        if not model.__module__.startswith("playground."):
            continue
        for model_field in model._meta.concrete_fields:
            label = f"{model.__name__}.{model_field.name}"
            if not isinstance(model_field, _TEXT_FIELDS) or model_field.choices or label in NOT_SEEDED:
                continue
            values = model._default_manager.values_list(model_field.attname, flat=True)
            if not any("<" in (value if isinstance(value, str) else json.dumps(value)) for value in values):
                missing.append(label)
    return missing
