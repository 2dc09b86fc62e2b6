"""Changes to prompts: create, add and restore versions, delete with undo, and run a version.

Running goes through the chat app's public functions: `conversation_create` makes the
conversation, `message_send` adds the question and the empty answer, and
`chat.generation.start` streams it (in the event loop, independent of any socket).
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from playground.audit.models import Action
from playground.audit.services import audit_record
from playground.chat import generation
from playground.chat import services as chat_services
from playground.chat.models import Conversation, Message
from playground.chat.selectors import thread_of
from playground.prompts import variables
from playground.prompts.models import (
    UNDO_DAYS,
    CompareColumn,
    CompareRun,
    Prompt,
    PromptSettings,
    PromptTag,
    PromptVersion,
    Visibility,
)
from playground.providers.keys import usable_key

MAX_COLUMNS = 4
ROLES = ("user", "assistant")
MAX_TAGS = 20
_TAG = re.compile(r"[^\w\- .]+")


@dataclass
class Content:
    """What one version holds."""

    system: str = ""
    messages: list[dict[str, str]] = field(default_factory=list)
    provider: Any = None  # providers.Provider or None
    model: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, version: PromptVersion) -> Content:
        return cls(
            system=version.system,
            messages=[dict(message) for message in version.messages],
            provider=version.provider,
            model=version.model,
            params=dict(version.params),
            variables=dict(version.variables),
        )


@dataclass
class Setup:
    """One column of a compare run: where the prompt is sent and with which parameters."""

    provider: Any
    model: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Send:
    """An answer created and waiting for its generation to start (see `generations_start`)."""

    conversation_id: int
    answer: Message
    request: dict[str, Any]
    call: tuple


def clean_tags(tags: str | Iterable[str]) -> list[str]:
    """Tags as stored: lower case, trimmed, at most 40 characters, no duplicates, sorted.

    A text is split at commas. Raises ValidationError for more than 20 tags.
    """
    parts = tags.split(",") if isinstance(tags, str) else [str(tag) for tag in tags]
    cleaned = {" ".join(_TAG.sub(" ", part).split()).lower()[:40] for part in parts}
    cleaned.discard("")
    if len(cleaned) > MAX_TAGS:
        raise ValidationError(f"A prompt may have at most {MAX_TAGS} tags.")
    return sorted(cleaned)


def tags_set(prompt: Prompt, tags: list[str]) -> None:
    prompt.tags.exclude(name__in=tags).delete()
    existing = set(prompt.tags.values_list("name", flat=True))
    PromptTag.objects.bulk_create([PromptTag(prompt=prompt, name=name) for name in tags if name not in existing])


@transaction.atomic
def prompt_create(
    *,
    team,
    user,
    name: str,
    content: Content,
    description: str = "",
    tags: list[str] | None = None,
    visibility: str = Visibility.TEAM,
    note: str = "",
) -> Prompt:
    prompt = Prompt.objects.create(team=team, owner=user, name=name, description=description, visibility=visibility)
    tags_set(prompt, tags or [])
    version_add(prompt=prompt, user=user, content=content, note=note or "First version")
    return prompt


def _checked(content: Content) -> Content:
    for message in content.messages:
        if message.get("role") not in ROLES or not isinstance(message.get("content"), str):
            raise ValidationError("Each message needs the role user or assistant and a text.")
    names = variables.names_of(content.system, content.messages)
    content.variables = variables.described(names, content.variables)
    return content


@transaction.atomic
def version_add(*, prompt: Prompt, user, content: Content, note: str = "", make_current: bool = True) -> PromptVersion:
    """A new version numbered after the last one; by default it becomes the current version."""
    content = _checked(content)
    # Lock the prompt so two saves at once get consecutive numbers rather than a clash.
    Prompt.objects.select_for_update().filter(pk=prompt.pk).first()
    number = (prompt.versions.aggregate(last=Max("number"))["last"] or 0) + 1
    version = PromptVersion.objects.create(
        prompt=prompt,
        number=number,
        author=user,
        note=note.strip()[:300],
        system=content.system,
        messages=content.messages,
        provider=content.provider,
        model=content.model,
        params=content.params,
        variables=content.variables,
    )
    fields = {"changed_at": timezone.now()}
    if make_current or prompt.current_version_id is None:
        fields["current_version"] = version
    Prompt.objects.filter(pk=prompt.pk).update(**fields)
    for name, value in fields.items():
        setattr(prompt, name, value)
    return version


def version_restore(*, prompt: Prompt, version: PromptVersion, user) -> PromptVersion:
    """An old version back as the newest one (the versions in between stay)."""
    return version_add(prompt=prompt, user=user, content=Content.of(version), note=f"Restored version {version.number}")


def version_make_current(*, prompt: Prompt, version: PromptVersion) -> None:
    prompt.current_version = version
    prompt.save(update_fields=["current_version"])


def prompt_update(*, prompt: Prompt, name: str, description: str, tags: list[str]) -> None:
    with transaction.atomic():
        prompt.name, prompt.description, prompt.changed_at = name, description, timezone.now()
        prompt.save(update_fields=["name", "description", "changed_at"])
        tags_set(prompt, tags)


def prompt_set_visibility(*, prompt: Prompt, visibility: str) -> None:
    prompt.visibility = Visibility(visibility)
    prompt.save(update_fields=["visibility"])


def _prompt_snapshot(prompt: Prompt) -> dict[str, Any]:
    version = prompt.current_version.number if prompt.current_version_id else None
    return {"name": prompt.name, "current_version": version, "deleted": prompt.deleted_at is not None}


def prompt_delete(*, prompt: Prompt, user) -> None:
    """Hidden at once, restorable for 30 days, then removed by `prompts_purge`."""
    before = _prompt_snapshot(prompt)
    prompt.deleted_at, prompt.deleted_by = timezone.now(), user
    with transaction.atomic():
        prompt.save(update_fields=["deleted_at", "deleted_by"])
        audit_record(
            actor=user,
            action=Action.PROMPT_DELETE,
            obj=prompt,
            team=prompt.team,
            before=before,
            after=_prompt_snapshot(prompt),
        )


def prompt_undelete(*, prompt: Prompt, user) -> None:
    before = _prompt_snapshot(prompt)
    prompt.deleted_at, prompt.deleted_by = None, None
    with transaction.atomic():
        prompt.save(update_fields=["deleted_at", "deleted_by"])
        audit_record(
            actor=user,
            action=Action.PROMPT_RESTORE,
            obj=prompt,
            team=prompt.team,
            before=before,
            after=_prompt_snapshot(prompt),
        )


def prompts_purge(*, now=None) -> int:
    """Remove for good the prompts deleted more than 30 days ago; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=UNDO_DAYS)
    expired = Prompt.objects.filter(deleted_at__lt=cutoff)
    count = expired.count()
    expired.delete()
    return count


def settings_update(*, team, viewers_may_run: bool) -> PromptSettings:
    settings, _ = PromptSettings.objects.update_or_create(team=team, defaults={"viewers_may_run": viewers_may_run})
    return settings


def content_from_conversation(conversation: Conversation) -> Content:
    """The conversation's setup and the messages of the branch shown, as a prompt.

    Answers at the end are left out, so that running the prompt asks the model again;
    answers between questions stay (they are examples the model sees).
    """
    messages = [
        {"role": item.message.role, "content": item.message.content}
        for item in thread_of(conversation)
        if item.message.role in ROLES and item.message.content.strip()
    ]
    while messages and messages[-1]["role"] == "assistant":
        messages.pop()
    content = Content(
        system=conversation.system,
        messages=messages,
        provider=conversation.provider,
        model=conversation.model,
        params=dict(conversation.params),
    )
    return _checked(content)


def _mark_used(prompt: Prompt) -> None:
    Prompt.objects.filter(pk=prompt.pk).update(last_used_at=timezone.now())


def _conversation_with(*, version: PromptVersion, project, user, values, setup: Setup, title: str):
    """A conversation holding the rendered prompt up to its final question, and that question.

    The question (the last message, when it is a user message) is not added here: sending it
    with `_send` creates the question and its streaming answer together.
    """
    system, messages = variables.render_prompt(version.system, version.messages, values)
    conversation = chat_services.conversation_create(
        project=project, user=user, provider=setup.provider, model=setup.model, params=setup.params
    )
    conversation.system, conversation.title = system, title[:200]
    question = messages.pop()["content"] if messages and messages[-1]["role"] == "user" else None
    parent = None
    for message in messages:
        parent = Message.objects.create(
            conversation=conversation, parent=parent, role=message["role"], content=message["content"], created_by=user
        )
    conversation.current_leaf = parent
    conversation.save(update_fields=["system", "title", "current_leaf", "updated_at"])
    return conversation, question


def _send(conversation: Conversation, user, question: str) -> Send:
    answer, request, call = chat_services.message_send(conversation=conversation, user=user, text=question)
    return Send(conversation.pk, answer, request, call)


@transaction.atomic
def conversation_open(
    *, version: PromptVersion, project, user, values: dict[str, str]
) -> tuple[Conversation, Send | None]:
    """A new conversation from the version; its last question is sent when it ends with one.

    Raises variables.MissingValues for empty variables, ValidationError or providers' NoKey
    when the question cannot be sent. Start the returned Send with `generations_start`.
    """
    setup = Setup(version.provider, version.model, dict(version.params))
    title = f"{version.prompt.name} (v{version.number})"
    conversation, question = _conversation_with(
        version=version, project=project, user=user, values=values, setup=setup, title=title
    )
    _mark_used(version.prompt)
    return conversation, (_send(conversation, user, question) if question is not None else None)


def setup_problems(setup: Setup, user) -> list[tuple[str, str]]:
    """Why a setup cannot run, as (field, message): no provider, no model, no key."""
    if setup.provider is None:
        return [("provider", "Choose a provider.")]
    problems = [] if setup.model.strip() else [("model", "Choose a model.")]
    if usable_key(user, setup.provider) is None:
        problems.append(("provider", f"There is no API key for {setup.provider.name} you may use."))
    return problems


@transaction.atomic
def compare_create(*, version: PromptVersion, project, user, values: dict[str, str], setups: list[Setup]) -> CompareRun:
    """One conversation per setup, each holding the rendered prompt up to its final question.

    `compare_start` then sends the question in every column.
    """
    if not 1 <= len(setups) <= MAX_COLUMNS:
        raise ValidationError(f"Compare between 1 and {MAX_COLUMNS} setups.")
    if not version.messages or version.messages[-1]["role"] != "user":
        raise ValidationError("Compare needs a prompt whose last message is a user message.")
    run = CompareRun.objects.create(version=version, project=project, values=dict(values), created_by=user)
    for position, setup in enumerate(setups, start=1):
        title = f"{version.prompt.name} (v{version.number}) · compare {run.pk} · {setup.model}"
        conversation, _ = _conversation_with(
            version=version, project=project, user=user, values=values, setup=setup, title=title
        )
        CompareColumn.objects.create(run=run, position=position, conversation=conversation)
    _mark_used(version.prompt)
    return run


@transaction.atomic
def compare_start(*, run: CompareRun, user) -> list[Send]:
    """Send the question in every column of `run`; start the Sends with `generations_start`.

    Each streams on its own, so a slow or failing column does not hold up the others.
    """
    version = run.version
    _, messages = variables.render_prompt(version.system, version.messages, run.values)
    sends = []
    for column in run.columns.select_related("conversation__provider", "conversation__project"):
        send = _send(column.conversation, user, messages[-1]["content"])
        column.answer = send.answer
        column.save(update_fields=["answer"])
        sends.append(send)
    return sends


def generations_start(sends: list[Send | None]) -> None:
    """Start the answers' generations; call it from the event loop that serves the sockets.

    Each task starts in an empty context. A task inherits the context it is created in, and
    a request's context can tie its sync_to_async calls (saving the answer, the usage record)
    to a thread of that request, which is gone once the response is sent.
    """
    for send in sends:
        if send is not None:
            args = (send.answer.pk, send.conversation_id, send.request, send.call)
            contextvars.Context().run(generation.start, *args)


def version_from_column(*, column: CompareColumn, user) -> PromptVersion:
    """ "Save this setup": the run's version with the column's provider, model and parameters."""
    version = column.run.version
    conversation = column.conversation
    content = Content.of(version)
    content.provider, content.model, content.params = conversation.provider, conversation.model, conversation.params
    note = f"Setup of column {column.position} in compare run {column.run_id}: {conversation.model}"
    return version_add(prompt=version.prompt, user=user, content=content, note=note)
