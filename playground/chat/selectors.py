"""Reading conversations: the list of a project, and the thread shown on the chat page."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from playground.accounts.models import Role
from playground.accounts.scoping import scoped_get
from playground.chat.models import Conversation, Message, Status


def conversation_for(user, conversation_id: int, *, role: Role = Role.VIEWER) -> Conversation:
    """The conversation, for a member of its project's team with at least `role` (404/403)."""
    queryset = Conversation.objects.select_related("project__team", "provider")
    return scoped_get(user, queryset, role=role, team_field="project__team", pk=conversation_id)


def streaming_ids(conversation_id: int) -> list[int]:
    """Ids of the conversation's answers still streaming."""
    found = Message.objects.filter(conversation_id=conversation_id, status=Status.STREAMING)
    return list(found.values_list("pk", flat=True))


def conversations_of(project, *, search: str = "") -> QuerySet[Conversation]:
    """Newest first; `search` matches titles and the text of messages. The columns of a
    prompt comparison are conversations too, shown on their comparison page instead."""
    conversations = project.conversations.filter(compare_column__isnull=True)
    search = search.strip()
    if search:
        matching = Message.objects.filter(content__icontains=search).values("conversation_id")
        conversations = conversations.filter(Q(title__icontains=search) | Q(pk__in=matching))
    return conversations.order_by("-updated_at", "-id")


@dataclass
class ThreadItem:
    message: Message
    position: int  # 1-based among its siblings
    siblings: int
    previous_id: int | None
    next_id: int | None


def thread_of(conversation: Conversation) -> list[ThreadItem]:
    """The branch ending at the conversation's current leaf, each message with its siblings."""
    messages = {message.pk: message for message in conversation.messages.all()}
    children: dict[int | None, list[Message]] = {}
    for message in messages.values():
        children.setdefault(message.parent_id, []).append(message)
    path: list[Message] = []
    cursor = messages.get(conversation.current_leaf_id)
    while cursor is not None:
        path.append(cursor)
        cursor = messages.get(cursor.parent_id)
    items = []
    for message in reversed(path):
        siblings = sorted(children[message.parent_id], key=lambda m: (m.created_at, m.pk))
        index = siblings.index(message)
        items.append(
            ThreadItem(
                message=message,
                position=index + 1,
                siblings=len(siblings),
                previous_id=siblings[index - 1].pk if index > 0 else None,
                next_id=siblings[index + 1].pk if index + 1 < len(siblings) else None,
            )
        )
    return items


def leaf_under(conversation: Conversation, message_id: int) -> Message:
    """The newest message at the end of the branch that starts at `message_id`."""
    message = conversation.messages.get(pk=message_id)
    while True:
        child = message.children.order_by("-created_at", "-pk").first()
        if child is None:
            return message
        message = child
