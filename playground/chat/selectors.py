"""Reading conversations: the list of a project, and the thread shown on the chat page."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from playground.accounts.models import Role
from playground.accounts.scoping import ScopedQuery
from playground.chat.models import Conversation, Message, Status

# Compiled once: every page of a conversation, its socket's connect and each chat action wait for it.
_conversations = ScopedQuery(Conversation, team_field="project__team", related=("project__team", "provider"))


def conversation_for(user, conversation_id: int, *, role: Role = Role.VIEWER) -> Conversation:
    """The conversation, for a member of its project's team with at least `role` (404/403)."""
    return _conversations.get(user, conversation_id, role=role)


STOP_RULE = "Only the person who asked, or a team admin or owner, can stop this answer."


class StopRefused(PermissionDenied):
    """A member asked to stop a teammate's answer."""


def may_stop(conversation: Conversation, user, answer: Message) -> bool:
    """Who may stop an answer in a shared conversation: whoever asked for it (they may want
    it finished, or not), and the team's admins and owners. Other members and viewers watch."""
    role = conversation.member_role
    return role.at_least(Role.ADMIN) or (role.at_least(Role.MEMBER) and answer.created_by_id == user.pk)


def answer_to_stop(conversation: Conversation, user, message_id: int) -> Message:
    """An answer of this conversation that `user` may stop. Message.DoesNotExist for an id
    of another conversation (or none); StopRefused for an answer they may not stop."""
    answer = conversation.messages.only("pk", "created_by_id").get(pk=message_id, role="assistant")
    if not may_stop(conversation, user, answer):
        raise StopRefused(STOP_RULE)
    return answer


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


@dataclass
class _Branch:
    """The ids of the branch shown, and what is needed to number each one's siblings."""

    path: list[int]
    parents: dict[int, int | None]
    children: dict[int | None, list[int]]  # oldest first

    @classmethod
    def of(cls, conversation: Conversation) -> _Branch:
        rows = conversation.messages.order_by("created_at", "pk").values_list("pk", "parent_id")
        parents = dict(rows)
        children: dict[int | None, list[int]] = {}
        for pk, parent_id in parents.items():
            children.setdefault(parent_id, []).append(pk)
        path: list[int] = []
        cursor = conversation.current_leaf_id if conversation.current_leaf_id in parents else None
        while cursor is not None:
            path.append(cursor)
            cursor = parents[cursor]
        path.reverse()
        return cls(path=path, parents=parents, children=children)

    def items(self, conversation: Conversation, ids: list[int]) -> list[ThreadItem]:
        rows = conversation.messages.in_bulk(ids)
        items = []
        for pk in ids:
            siblings = self.children[self.parents[pk]]
            index = siblings.index(pk)
            items.append(
                ThreadItem(
                    message=rows[pk],
                    position=index + 1,
                    siblings=len(siblings),
                    previous_id=siblings[index - 1] if index > 0 else None,
                    next_id=siblings[index + 1] if index + 1 < len(siblings) else None,
                )
            )
        return items


def thread_of(conversation: Conversation) -> list[ThreadItem]:
    """The branch ending at the conversation's current leaf, each message with its siblings."""
    branch = _Branch.of(conversation)
    return branch.items(conversation, branch.path)


@dataclass
class Window:
    """Some consecutive messages of the branch shown, and how many come before and after."""

    items: list[ThreadItem]
    earlier: int
    later: int


def thread_window(conversation: Conversation, *, last: int, before: int | None = None) -> Window:
    """The last `last` messages of the branch (those before the message `before`, when
    given). The tree is read as ids; whole rows only for the messages returned, so a long
    conversation's page costs what it shows."""
    branch = _Branch.of(conversation)
    end = branch.path.index(before) if before in branch.path else len(branch.path)
    start = max(0, end - last)
    items = branch.items(conversation, branch.path[start:end])
    return Window(items=items, earlier=start, later=len(branch.path) - end)


def thread_item(conversation: Conversation, message: Message) -> ThreadItem:
    """One message with its siblings, as the thread shows it."""
    branch = _Branch.of(conversation)
    if message.pk not in branch.parents:
        return ThreadItem(message=message, position=1, siblings=1, previous_id=None, next_id=None)
    item = branch.items(conversation, [message.pk])[0]
    item.message = message
    return item


def leaf_under(conversation: Conversation, message_id: int) -> Message:
    """The newest message at the end of the branch that starts at `message_id`; 404 for an id
    that is not a message of this conversation."""
    message = get_object_or_404(conversation.messages, pk=message_id)
    while True:
        child = message.children.order_by("-created_at", "-pk").first()
        if child is None:
            return message
        message = child
