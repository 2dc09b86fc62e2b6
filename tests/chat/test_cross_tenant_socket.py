"""Every chat socket action with ids that are not this conversation's, and who may stop an answer.

Each action (send with a parent, that is Edit & resend; regenerate; stop) is tried with the
ids of other conversations' messages, of this team and of another, and with ids that are
no id at all. Each gets an error frame, the database is unchanged, and answers streaming
meanwhile in those other conversations stream on to their end.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from playground.chat import generation
from playground.chat.models import Conversation, Message
from playground.chat.selectors import STOP_RULE
from tests.chat.conftest import frames_until_done
from tests.factories import SHARED_KEY, ApiKeyFactory, ConversationFactory, MembershipFactory, ProviderFactory

pytestmark = pytest.mark.django_db(transaction=True)

NOT_HERE = "That message is not part of this conversation."
VIEWERS = "Viewers can watch this conversation but not send or stop."
FRAMES = {
    "send": lambda value: {"type": "send", "text": "A grafted question", "parent": value},
    "regenerate": lambda value: {"type": "regenerate", "message": value},
    "stop": lambda value: {"type": "stop", "message": value},
}


@pytest.fixture
def unlimited(monkeypatch):
    """The matrix sends more frames than one person's burst; the rate limit has its own test."""
    from playground.chat import consumers

    monkeypatch.setattr(consumers, "BURST", 1000)
    monkeypatch.setattr(consumers, "PER_SECOND", 1000.0)


@pytest.fixture
def teammate(team_with_roles):
    """A second member of the team, whose answers the member did not ask for."""
    user = MembershipFactory(team=team_with_roles.team, role="member", user__username="teammate").user
    team_with_roles.users["teammate"] = user
    return user


@pytest.fixture
def long_conversation(conversation):
    """The team's conversation, answered by the demo's long model (about 6 s of streaming)."""
    conversation.model = "demo-long"
    conversation.save()
    return conversation


def another_teams_conversation(team_with_roles, demo_upstream_url) -> Conversation:
    """A conversation of the outsider's own team, on a demo provider of that team."""
    team = team_with_roles.users["nonmember"].memberships.get().team
    provider = ProviderFactory(team=team, base_url=demo_upstream_url, profile="demo", allow_local=True)
    ApiKeyFactory(provider=provider, owner=None, plain=SHARED_KEY)
    return ConversationFactory(project__team=team, provider=provider, model="demo-long")


def tree() -> dict:
    """Every message's place and state, and every conversation's branch shown."""
    return {
        "messages": list(
            Message.objects.order_by("pk").values_list(
                "pk", "conversation_id", "parent_id", "role", "status", "created_by_id"
            )
        ),
        "leaves": dict(Conversation.objects.values_list("pk", "current_leaf_id")),
    }


async def ask(socket, text: str = "Tell me everything") -> dict:
    """Send a question; its "started" frame."""
    await socket.send_json_to({"type": "send", "text": text})
    started = await socket.receive_json_from(timeout=10)
    assert started["type"] == "started", started
    return started


async def next_error(socket) -> dict:
    """The next error frame, past the frames of an answer streaming in the same conversation."""
    while True:
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == "error":
            return frame
        assert frame["type"] in ("delta", "render", "snapshot", "notice"), frame


async def streams_to_the_end(socket, started: dict) -> None:
    """The answer `started` reaches its socket whole, seq after seq, and is saved as done."""
    frames = await frames_until_done(socket, timeout=30)
    deltas = [frame for frame in frames if frame["type"] == "delta"]
    assert [frame["seq"] for frame in deltas] == list(range(1, len(deltas) + 1))
    assert frames[-1]["status"] == "done", frames[-1]
    answer = await Message.objects.aget(pk=started["message"])
    assert answer.status == "done" and answer.content == "".join(frame["text"] for frame in deltas)


async def test_every_action_with_an_id_from_elsewhere_gets_an_error_and_changes_nothing(
    conversation, connect, team_with_roles, demo_upstream_url, unlimited
):
    # This conversation has one exchange; a teammate's conversation and another team's
    # each have a long answer streaming while the frames arrive.
    socket, _, _ = await connect(conversation, who="member")
    await ask(socket, "Hello")
    await frames_until_done(socket)
    teams = await sync_to_async(ConversationFactory)(
        project=conversation.project, provider=conversation.provider, model="demo-long"
    )
    theirs = await sync_to_async(another_teams_conversation)(team_with_roles, demo_upstream_url)
    teams_socket, _, _ = await connect(teams, who="owner")
    theirs_socket, _, _ = await connect(theirs, who="nonmember")
    teams_answer, theirs_answer = await ask(teams_socket), await ask(theirs_socket)
    missing = await sync_to_async(lambda: Message.objects.order_by("-pk").first().pk + 1000)()
    same_team, other_team = teams_answer["message"], theirs_answer["message"]
    ids = {
        "a message of another conversation of the team": same_team,
        "the question of another conversation of the team": teams_answer["parent"],
        "a message of another team's conversation": other_team,
        "an id no message has": missing,
        "a negative id": -same_team,
        "an id too large for the database": 2**64 + same_team,
        "text": "the last one",
        "an id written as text": str(same_team),
        "an empty text": "",
        "a fraction": same_team + 0.5,
        "true": True,
        "false": False,
        "a list": [same_team],
        "an empty list": [],
        "an object": {"id": same_team},
        "an empty object": {},
    }
    before = await sync_to_async(tree)()

    wrong = []
    for action, frame_for in FRAMES.items():
        for kind, value in ids.items():
            await socket.send_json_to(frame_for(value))
            frame = await socket.receive_json_from(timeout=5)
            if frame != {"type": "error", "error": NOT_HERE}:
                wrong.append((action, kind, frame))
    assert wrong == []
    assert await socket.receive_nothing(timeout=0.2)  # nothing started, nothing else said

    # Checked while both answers still stream: the frames came to them, and stopped neither.
    assert {same_team, other_team} <= generation.LIVE.keys(), "the answers must still be streaming for this test"
    assert await sync_to_async(tree)() == before
    await streams_to_the_end(teams_socket, teams_answer)
    await streams_to_the_end(theirs_socket, theirs_answer)
    for opened in (socket, teams_socket, theirs_socket):
        await opened.disconnect()


async def test_a_member_and_a_viewer_cannot_stop_a_teammates_answer_and_it_completes(
    long_conversation, connect, teammate
):
    asker, _, _ = await connect(long_conversation, who="teammate")
    started = await ask(asker)
    member, _, _ = await connect(long_conversation, who="member")
    viewer, _, _ = await connect(long_conversation, who="viewer")
    await member.send_json_to({"type": "stop", "message": started["message"]})
    assert await next_error(member) == {"type": "error", "error": STOP_RULE}
    await viewer.send_json_to({"type": "stop", "message": started["message"]})
    assert await next_error(viewer) == {"type": "error", "error": VIEWERS}
    assert started["message"] in generation.LIVE, "the answer must still be streaming for this test"
    await streams_to_the_end(asker, started)
    for opened in (asker, member, viewer):
        await opened.disconnect()


@pytest.mark.parametrize("who", ["teammate", "admin", "owner"])
async def test_the_asker_an_admin_and_an_owner_may_stop_an_answer(long_conversation, connect, teammate, who):
    asker, _, _ = await connect(long_conversation, who="teammate")
    started = await ask(asker)
    assert (await asker.receive_json_from(timeout=10))["type"] == "delta"  # streaming
    stopper, _, _ = (asker, None, None) if who == "teammate" else await connect(long_conversation, who=who)
    await stopper.send_json_to({"type": "stop", "message": started["message"]})
    frames = await frames_until_done(asker)
    assert frames[-1]["status"] == "stopped"
    assert (await Message.objects.aget(pk=started["message"])).status == "stopped"
    await asker.disconnect()
    await stopper.disconnect()


async def test_an_answer_stopped_before_its_first_token_ends_as_stopped(conversation, connect):
    """demo-slow waits 3 s before it answers at all: the stop comes long before any text."""
    conversation.model = "demo-slow"
    await sync_to_async(conversation.save)()
    socket, _, _ = await connect(conversation, who="member")
    started = await ask(socket)
    await socket.send_json_to({"type": "stop", "message": started["message"]})
    frames = await frames_until_done(socket, timeout=2)
    assert frames == [{"type": "done", "message": started["message"], "seq": 0, "status": "stopped", "error": ""}]
    answer = await Message.objects.aget(pk=started["message"])
    assert (answer.status, answer.content) == ("stopped", "")
    assert started["message"] not in generation.LIVE
    await socket.disconnect()


async def test_a_viewer_can_neither_send_nor_regenerate_nor_stop(conversation, connect):
    member, _, _ = await connect(conversation, who="member")
    started = await ask(member, "Hello")
    await frames_until_done(member)
    before = await sync_to_async(tree)()
    viewer, _, _ = await connect(conversation, who="viewer")
    for frame in (
        {"type": "send", "text": "Hello from a viewer"},
        {"type": "send", "text": "An edit from a viewer", "parent": started["message"]},
        {"type": "send", "text": "A new start from a viewer", "parent": None},
        {"type": "regenerate", "message": started["message"]},
        {"type": "stop", "message": started["message"]},
    ):
        await viewer.send_json_to(frame)
        assert await viewer.receive_json_from(timeout=5) == {"type": "error", "error": VIEWERS}, frame
    assert await sync_to_async(tree)() == before
    await member.disconnect()
    await viewer.disconnect()
