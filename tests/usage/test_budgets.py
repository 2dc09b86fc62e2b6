"""Budgets: checked before each call, refused at the limit with a message naming it (the call
never leaves), the refusal recorded without counting, and the 80 % warning."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse
from django.utils import timezone

from playground.providers.keys import target_for
from playground.upstream import CallContext, Target, chat, embeddings, errors, stream_chat
from playground.usage.budgets import budget_check, budget_warning
from playground.usage.models import Budget, UsageRecord
from tests.factories import (
    ApiKeyFactory,
    BudgetFactory,
    ConversationFactory,
    MembershipFactory,
    PriceFactory,
    ProviderFactory,
    UsageRecordFactory,
)
from tests.upstream.raw_server import RawServer, Reply, json_reply, sse_chunks

pytestmark = pytest.mark.django_db(transaction=True)
ANSWER = {
    "choices": [{"message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}


@pytest.fixture
def team(team_with_roles):
    return team_with_roles.team


@pytest.fixture
def member(team_with_roles):
    return team_with_roles.users["member"]


def used(team, user, tokens: int, **fields) -> None:
    """Calls of this month with `tokens` tokens in all (in, out)."""
    UsageRecordFactory(
        team=team, user=user, prompt_tokens=tokens - tokens // 2, completion_tokens=tokens // 2, **fields
    )


def context_of(team, user) -> CallContext:
    return CallContext(team_id=team.pk, user_id=user.pk, provider_id=5, key_id=None)


async def call(server, team, user):
    target = Target(base_url=server.url, api_key="sk-test", allow_local=True, name="Raw")
    return await chat(target, BODY, context=context_of(team, user))


async def test_a_call_just_under_the_limit_goes_and_one_at_it_is_refused(team, member):
    await sync_to_async(BudgetFactory)(team=team, limit=1_000_000)
    await sync_to_async(used)(team, member, 999_999)
    async with RawServer(json_reply(200, ANSWER)) as server:
        assert (await call(server, team, member)).text == "hi"  # 999,999 < 1,000,000: it may go
        assert len(server.requests) == 1  # and it brought the usage to 1,000,003
        with pytest.raises(errors.BudgetExceeded) as refused:
            await call(server, team, member)
        assert len(server.requests) == 1  # the refused call never left
    assert str(refused.value) == "The team's monthly budget of 1,000,000 tokens is used up (1,000,003 used)."
    record = await UsageRecord.objects.order_by("-pk").afirst()
    assert (record.status, record.error_kind, record.prompt_tokens, record.completion_tokens) == (
        "refused", "budget", 0, 0,
    )  # fmt: skip
    assert (record.ttft_ms, record.total_ms, record.http_status) == (None, None, None)
    assert record.error_message == str(refused.value)


async def test_exactly_at_the_limit_is_used_up(team, member):
    await sync_to_async(BudgetFactory)(team=team, limit=500)
    await sync_to_async(used)(team, member, 499)
    assert await sync_to_async(budget_check)(team_id=team.pk, user_id=member.pk) is None
    await sync_to_async(used)(team, member, 1)
    status = await sync_to_async(budget_check)(team_id=team.pk, user_id=member.pk)
    assert status.exceeded and status.message == "The team's monthly budget of 500 tokens is used up (500 used)."


async def test_refused_calls_do_not_count(team, member):
    await sync_to_async(BudgetFactory)(team=team, limit=100)
    await sync_to_async(used)(team, member, 100)
    async with RawServer(json_reply(200, ANSWER)) as server:
        for _ in range(3):
            with pytest.raises(errors.BudgetExceeded):
                await call(server, team, member)
    status = await sync_to_async(budget_check)(team_id=team.pk, user_id=member.pk)
    assert status.used == 100
    assert await UsageRecord.objects.filter(status="refused").acount() == 3


async def test_streams_and_other_endpoints_are_refused_too(team, member):
    await sync_to_async(BudgetFactory)(team=team, limit=10)
    await sync_to_async(used)(team, member, 10)
    target = Target(base_url="http://127.0.0.1:9/v1", api_key="sk-test", allow_local=True, name="Nowhere")
    with pytest.raises(errors.BudgetExceeded):
        async with stream_chat(target, BODY, context=context_of(team, member)) as events:
            async for _ in events:
                pass
    with pytest.raises(errors.BudgetExceeded):
        await embeddings(target, {"model": "embed", "input": ["a"]}, context=context_of(team, member))
    assert [r.endpoint async for r in UsageRecord.objects.filter(status="refused").order_by("pk")] == [
        "chat",
        "embeddings",
    ]


async def test_a_persons_budget_limits_that_person_only(team, team_with_roles, member):
    owner = team_with_roles.users["owner"]
    await sync_to_async(BudgetFactory)(team=team, user=member, limit=50)
    await sync_to_async(used)(team, member, 50)
    await sync_to_async(used)(team, owner, 5_000)
    async with RawServer(json_reply(200, ANSWER)) as server:
        with pytest.raises(errors.BudgetExceeded, match=r"^Your monthly budget of 50 tokens is used up \(50 used\)\.$"):
            await call(server, team, member)
        assert (await call(server, team, owner)).text == "hi"


def test_a_cost_budget_counts_priced_calls_at_todays_price(team, member):
    demo_provider = ProviderFactory(team=team)
    PriceFactory(provider=demo_provider, model="gpt-4o", input_per_million=10, output_per_million=30)
    BudgetFactory(team=team, kind="cost", limit=Decimal("0.02"))
    # 1,000 in and 1,000 out: 0.01 + 0.03 = 0.04; the unpriced model does not count.
    used(team, member, 2_000, provider_id=demo_provider.pk, model="gpt-4o")
    used(team, member, 10_000_000, provider_id=demo_provider.pk, model="free-model")
    status = budget_check(team_id=team.pk, user_id=member.pk)
    assert status.used == Decimal("0.04")
    assert status.message == "The team's monthly budget of 0.02 USD is used up (0.04 USD used)."


def test_only_this_months_calls_count(team, member):
    BudgetFactory(team=team, limit=100)
    today = timezone.localdate()
    last_month = timezone.make_aware(dt.datetime(today.year, today.month, 1)) - dt.timedelta(minutes=1)
    used(team, member, 5_000, created_at=last_month)
    assert budget_check(team_id=team.pk, user_id=member.pk) is None
    used(team, member, 100)
    assert budget_check(team_id=team.pk, user_id=member.pk) is not None


def test_another_teams_usage_does_not_count(team, member):
    BudgetFactory(team=team, limit=100)
    elsewhere = MembershipFactory(user=member).team
    used(elsewhere, member, 5_000)
    assert budget_check(team_id=team.pk, user_id=member.pk) is None
    assert budget_check(team_id=elsewhere.pk, user_id=member.pk) is None  # that team has no budget


@pytest.mark.parametrize(
    ("tokens", "shown"),
    [
        (799, None),
        (800, "The team's monthly budget of 1,000 tokens is 80 % used (800 used)."),
        (1_000, "The team's monthly budget of 1,000 tokens is used up (1,000 used)."),
    ],
)
def test_the_chat_page_warns_from_80_percent(client, team, member, tokens, shown):
    BudgetFactory(team=team, limit=1_000)
    used(team, member, tokens)
    conversation = ConversationFactory(project=team.projects.first(), provider__profile="demo")
    client.force_login(member)
    page = client.get(reverse("conversation_detail", args=[conversation.pk])).content.decode()
    if shown is None:
        assert 'id="budget-notice"' not in page
        assert budget_warning(team_id=team.pk, user_id=member.pk) is None
    else:
        assert 'id="budget-notice"' in page and shown.replace("'", "&#x27;") in page


def test_admins_set_and_remove_budgets_and_see_their_use(client, team_with_roles, team, member):
    client.force_login(team_with_roles.users["admin"])
    used(team, member, 300)
    response = client.post(reverse("usage_budgets", args=[team.pk]), {"kind": "tokens", "limit": "1000"})
    assert response.status_code == 302
    client.post(reverse("usage_budgets", args=[team.pk]), {"kind": "tokens", "limit": "2000"})  # replaces it
    budget = Budget.objects.get()
    assert (budget.limit, budget.user) == (2000, None)
    page = client.get(reverse("usage_budgets", args=[team.pk])).content.decode()
    assert "2,000 tokens" in page and "<td>300</td>" in page and "15 %" in page
    client.post(reverse("usage_budget_delete", args=[budget.pk]))
    assert not Budget.objects.exists()


async def test_calls_without_a_team_are_never_refused():
    async with RawServer(json_reply(200, ANSWER)) as server:
        target = Target(base_url=server.url, api_key="sk-test", allow_local=True, name="Raw")
        assert (await chat(target, BODY, context=CallContext())).text == "hi"


async def test_a_stream_under_its_budget_goes_through(team, member):
    await sync_to_async(BudgetFactory)(team=team, limit=100)
    async with RawServer(Reply(parts=[(0, sse_chunks("Hello ", "there"))])) as server:
        target = Target(base_url=server.url, api_key="sk-test", allow_local=True, name="Raw")
        text = ""
        async with stream_chat(target, BODY, context=context_of(team, member)) as events:
            async for event in events:
                text += getattr(event, "text", "") or ""
    assert text == "Hello there"


def test_target_for_checks_the_budget_with_the_key(team, member):
    provider = ProviderFactory(team=team)
    ApiKeyFactory(provider=provider, owner=None)
    BudgetFactory(team=team, limit=10)
    used(team, member, 10)
    _, context = target_for(member, provider)
    assert context.budget_checked
    assert context.budget_refusal == "The team's monthly budget of 10 tokens is used up (10 used)."
    Budget.objects.update(limit=11)
    assert target_for(member, provider)[1].budget_refusal is None


async def test_a_context_checked_with_its_key_is_not_checked_again(team, member):
    """The verdict target_for read stands: the call does not wait for the database thread."""
    await sync_to_async(BudgetFactory)(team=team, limit=10)
    await sync_to_async(used)(team, member, 10)
    checked = replace(context_of(team, member), budget_checked=True, budget_refusal=None)
    target = Target(base_url="", api_key="sk-test", allow_local=True, name="Raw")
    async with RawServer(json_reply(200, ANSWER)) as server:
        target = replace(target, base_url=server.url)
        assert (await chat(target, BODY, context=checked)).text == "hi"
        refused = replace(checked, budget_refusal="The team's monthly budget of 10 tokens is used up (10 used).")
        with pytest.raises(errors.BudgetExceeded, match="budget of 10 tokens is used up"):
            await chat(target, BODY, context=refused)
        assert len(server.requests) == 1
