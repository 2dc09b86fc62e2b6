"""A message sent over a used-up budget: the answer ends at once with the budget's message in
the conversation, and no call reaches the provider."""

from __future__ import annotations

from asgiref.sync import sync_to_async

from playground.chat.models import Message
from playground.usage.models import UsageRecord
from tests.chat.conftest import frames_until_done
from tests.factories import BudgetFactory, UsageRecordFactory


async def test_a_used_up_budget_refuses_the_answer_with_its_message(conversation, connect, team_with_roles):
    team, member = team_with_roles.team, team_with_roles.users["member"]
    await sync_to_async(BudgetFactory)(team=team, user=member, limit=40)
    await sync_to_async(UsageRecordFactory)(team=team, user=member)  # 12 + 30 tokens
    socket, _, _ = await connect(conversation, "member")
    await socket.send_json_to({"type": "send", "text": "Hello"})
    frames = await frames_until_done(socket)
    message = "Your monthly budget of 40 tokens is used up (42 used)."
    assert frames[-1]["status"] == "error" and frames[-1]["error"] == message
    answer = await sync_to_async(Message.objects.get)(pk=frames[0]["message"])
    assert (answer.status, answer.error, answer.content) == ("error", message, "")
    refused = await UsageRecord.objects.aget(status="refused")
    assert (refused.user_id, refused.endpoint, refused.model) == (member.pk, "chat", "demo-chat")
    await socket.disconnect()
