"""Conversation changes: create, send a message, regenerate; the request an answer is made from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from playground import upstream
from playground.audit.models import Action
from playground.audit.services import audit_record
from playground.chat.models import ANSWER_LEASE, INTERRUPTED_TEXT, Conversation, Message, Mode, Status
from playground.providers.keys import endpoint_schema, provider_schema, target_for
from playground.schema.forms import APP_SET_FIELDS
from playground.schema.roles import history_policy
from playground.schema.specs import model_names_in

MAX_MESSAGE_CHARS = 100_000


def conversation_create(*, project, user, provider=None, model: str = "", params: dict | None = None) -> Conversation:
    return Conversation.objects.create(
        project=project,
        provider=provider,
        model=model or (provider.default_model if provider else ""),
        params=params or {},
        created_by=user,
    )


def conversation_new(*, project, user) -> Conversation:
    """A new conversation on the team's first provider (by name), at its default model."""
    provider = project.team.providers.order_by("name").first()
    return conversation_create(project=project, user=user, provider=provider)


class ModelChoice(NamedTuple):
    """The model a conversation continues with on another provider, and what to tell the person."""

    model: str
    note: str = ""


def model_for_provider(provider, *, endpoint: str, typed: str = "") -> ModelChoice:
    """The model for a conversation moving to `provider`: `typed` (chosen in the same submit)
    if the provider accepts it, else its default model, else the first of its listed models,
    else the first model its schema names; else none, and the note asks for one.

    A provider "accepts" any model unless it says which ones it has: its schema's enum, or
    else the models it listed (GET /models). A model the old provider used is not carried
    over: the new one has usually never heard of it.
    """
    schema_models, closed = _schema_models(endpoint_schema(provider, endpoint))
    cached = [name for name in provider.models_cache or [] if isinstance(name, str) and name]
    allowed = schema_models if closed else [*cached, provider.default_model] if cached else None
    if typed and (allowed is None or typed in allowed):
        return ModelChoice(typed)
    if provider.default_model:
        model, source = provider.default_model, f"{provider.name}'s default model"
    elif cached:
        model, source = cached[0], f"the first model {provider.name} lists"
    elif schema_models:
        model, source = schema_models[0], f"the first model {provider.name}'s API schema names"
    else:
        return ModelChoice("", f"{provider.name} names no models: type the model to use under Model.")
    refused = f"{provider.name} does not list the model {typed}. " if typed else ""
    return ModelChoice(model, f"{refused}Model set to {model}, {source}.")


def _schema_models(endpoint) -> tuple[list[str], bool]:
    """The model names the endpoint's schema gives (enum, default, examples), and whether its
    enum allows those only."""
    names, closed = model_names_in(endpoint)
    return list(names), closed


def conversation_delete(*, conversation: Conversation, by_user) -> None:
    """Delete a conversation and its messages; the audit log keeps who and what."""
    before = {
        "title": str(conversation),
        "project": conversation.project.name,
        "messages": conversation.messages.count(),
    }
    with transaction.atomic():
        audit_record(
            actor=by_user,
            action=Action.CONVERSATION_DELETE,
            obj=conversation,
            team=conversation.project.team,
            before=before,
        )
        conversation.delete()


class Turn(NamedTuple):
    """A message as a request replays it."""

    role: str
    content: str


def path_to(message: Message | None) -> list[Turn]:
    """The turns from the root of the tree down to `message`."""
    if message is None:
        return []
    return [*path_ending_at(message.conversation_id, message.parent_id), Turn(message.role, message.content)]


MAX_BRANCH_DEPTH = 100_000  # a guard: parent links form a tree, but a loop must not hang a send
_BRANCH_SQL = """
WITH RECURSIVE branch (id, parent_id, role, content, depth) AS (
    SELECT id, parent_id, role, content, 0 FROM {table} WHERE id = %s AND conversation_id = %s
    UNION ALL
    SELECT m.id, m.parent_id, m.role, m.content, branch.depth + 1
    FROM {table} m JOIN branch ON m.id = branch.parent_id
    WHERE m.conversation_id = %s AND branch.depth < %s
)
SELECT role, content FROM branch ORDER BY depth DESC
"""


def path_ending_at(conversation_id: int, message_id: int | None) -> list[Turn]:
    """The turns from the root of the tree down to the message `message_id`, included.

    One query whatever the depth, and only the branch is read: a recursive walk up `parent`
    in SQL (SQLite and PostgreSQL alike), which the ORM cannot express. Walking up in Python
    costs a query per message, and reading the whole tree reads every other branch too.
    Raises Message.DoesNotExist if the message is not one of the conversation's.
    """
    if message_id is None:
        return []
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            _BRANCH_SQL.format(table=table), [message_id, conversation_id, conversation_id, MAX_BRANCH_DEPTH]
        )
        rows = cursor.fetchall()
    if not rows:
        raise Message.DoesNotExist(f"Message {message_id} is not part of conversation {conversation_id}.")
    return [Turn(role, content) for role, content in rows]


def endpoint_of(conversation: Conversation) -> str:
    """The provider endpoint the conversation's answers come from: "chat" or "completions"."""
    return "completions" if conversation.mode == Mode.COMPLETION else "chat"


def request_for(conversation: Conversation, history: list[Turn]) -> dict[str, Any]:
    """The request body for answering the last message of `history`.

    In text-completion mode the last message is the prompt the model continues (legacy
    completions have no roles, so no history or system prompt is sent).
    """
    # Parameters saved before the form stopped offering the ones Playground sets itself.
    params = {
        name: value
        for name, value in conversation.params.items()
        if name not in APP_SET_FIELDS[endpoint_of(conversation)]
    }
    if conversation.mode == Mode.COMPLETION:
        return {"model": conversation.model, "prompt": history[-1].content, **params}
    chat = provider_schema(conversation.provider).endpoints.get("chat")
    roles = chat.message_roles if chat else None
    replayable = history_policy(roles) is None
    messages: list[dict[str, str]] = []
    if conversation.system.strip() and (roles is None or "system" in roles):
        messages.append({"role": "system", "content": conversation.system})
    turns = history if replayable else history[-1:]
    messages.extend({"role": m.role, "content": m.content} for m in turns if m.role in ("user", "assistant"))
    return {"model": conversation.model, "messages": messages, **params}


@dataclass
class Send:
    """A message about to be sent: its answer's request and call, and the rows to write."""

    conversation: Conversation
    parent_id: int | None  # the message the question follows; None for a first question
    text: str
    user: Any
    request: dict[str, Any]
    call: tuple


def message_prepare(
    *, conversation: Conversation, user, text: str, parent_id: int | None = None, from_root: bool = False
) -> Send:
    """Check a message and build its answer's request, writing nothing yet (reads only), so
    that the upstream call can start before the rows are written (message_save).

    By default the message continues the branch shown; with `parent_id` (Edit & resend) it
    becomes a sibling of that parent's other children, and `from_root` starts a new first
    question beside the original one. Nothing is deleted either way.
    """
    text = text.strip()
    if not text:
        raise ValidationError("Write a message first.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ValidationError(f"A message may have at most {MAX_MESSAGE_CHARS:,} characters.")
    if conversation.provider is None or not conversation.model:
        raise ValidationError("Choose a provider and a model first.")
    call = target_for(user, conversation.provider, project=conversation.project)
    # The branch the message continues, read with its ancestors in one query (not the
    # parent first and then its path).
    if from_root:
        follows = None
    elif parent_id is not None:
        follows = parent_id
    else:
        follows = conversation.current_leaf_id
    history = path_ending_at(conversation.pk, follows)
    request = request_for(conversation, [*history, Turn("user", text)])
    return Send(conversation=conversation, parent_id=follows, text=text, user=user, request=request, call=call)


def next_request(conversation: Conversation, text: str) -> dict[str, Any]:
    """The request body the next message `text` would be answered with, on the branch shown
    ("View code"); the same history and parameters message_prepare uses."""
    history = path_ending_at(conversation.pk, conversation.current_leaf_id)
    return request_for(conversation, [*history, Turn("user", text)])


def message_save(send: Send) -> Message:
    """Write the question and its empty streaming answer; returns the answer."""
    conversation, user = send.conversation, send.user
    with transaction.atomic():
        question = Message.objects.create(
            conversation=conversation, parent_id=send.parent_id, role="user", content=send.text, created_by=user
        )
        if not conversation.title:
            conversation.title = send.text.splitlines()[0][:80]
        return _answer_create(conversation, question, user, send.request, send.call)


def message_send(
    *, conversation: Conversation, user, text: str, parent_id: int | None = None, from_root: bool = False
) -> tuple[Message, dict, tuple]:
    """Add the user's message and an empty streaming answer; returns (answer, request, call)."""
    send = message_prepare(conversation=conversation, user=user, text=text, parent_id=parent_id, from_root=from_root)
    return message_save(send), send.request, send.call


def message_regenerate(*, conversation: Conversation, user, message_id: int) -> tuple[Message, dict, tuple]:
    """A new answer beside an earlier one (the earlier one stays, as a sibling)."""
    call = target_for(user, conversation.provider, project=conversation.project)
    with transaction.atomic():
        old = conversation.messages.select_related("parent").get(pk=message_id, role="assistant")
        answer, request = _answer_to(conversation, old.parent, user, call)
    return answer, request, call


def _answer_to(conversation: Conversation, question: Message, user, call: tuple) -> tuple[Message, dict]:
    request = request_for(conversation, path_to(question))
    return _answer_create(conversation, question, user, request, call), request


# Left out of an answer's "Request body sent": the thread shows them (the turns, or the prompt).
SHOWN_ABOVE = ("messages", "prompt")


def sent_params(request: dict[str, Any], call: tuple) -> dict[str, Any]:
    """The body the answer's call sends (upstream.streamed_body: with the `stream` and
    `stream_options` the client adds), without the messages or prompt the thread shows."""
    target = call[0]
    return {key: value for key, value in upstream.streamed_body(target, request).items() if key not in SHOWN_ABOVE}


def _answer_create(
    conversation: Conversation, question: Message, user, request: dict[str, Any], call: tuple
) -> Message:
    answer = Message.objects.create(
        conversation=conversation,
        parent=question,
        role="assistant",
        status=Status.STREAMING,
        lease_until=timezone.now() + ANSWER_LEASE,  # the generation renews it while it runs
        model=conversation.model,
        params=sent_params(request, call),
        created_by=user,
    )
    conversation.current_leaf = answer
    conversation.save(update_fields=["current_leaf", "title", "updated_at"])
    return answer


def orphans() -> QuerySet[Message]:
    """Answers still "streaming" whose owner stopped renewing their lease: it is gone. (No
    lease at all: left by a version before leases.)"""
    expired = Q(lease_until__lt=timezone.now()) | Q(lease_until__isnull=True)
    return Message.objects.filter(expired, status=Status.STREAMING)


def interrupted_mark_all() -> int:
    """At server start: answers a process that died left "streaming" keep their text. Only
    those whose lease ran out: another worker may be generating the rest right now."""
    return orphans().update(status=Status.INTERRUPTED, error=INTERRUPTED_TEXT, lease_until=None)


def answer_choices_add(*, answer_id: int, choices: list[dict[str, Any]]) -> list[Message]:
    """The other choices of an answer asked for with n > 1, saved as its siblings (the
    thread shows them as its other versions), in the order the provider numbered them."""
    answer = Message.objects.get(pk=answer_id)
    siblings = [
        Message(
            conversation_id=answer.conversation_id,
            parent_id=answer.parent_id,
            role="assistant",
            model=answer.model,
            params=answer.params,
            created_by_id=answer.created_by_id,
            ttft_ms=answer.ttft_ms,
            total_ms=answer.total_ms,
            system_fingerprint=answer.system_fingerprint,
            **fields,
        )
        for fields in choices
    ]
    return Message.objects.bulk_create(siblings)
