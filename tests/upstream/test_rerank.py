"""Rerank answers are read whatever their shape; what is recorded and said of them fits
where it goes."""

from __future__ import annotations

import pytest

from playground.upstream import CallContext, Target, errors, rerank
from playground.usage.models import UsageRecord
from tests.factories import ProjectFactory
from tests.upstream.raw_server import RawServer, json_reply

pytestmark = pytest.mark.django_db(transaction=True)
BODY = {"model": "rerank-m", "query": "which", "documents": ["first", "second"]}


@pytest.fixture
def context(db):
    project = ProjectFactory()
    return CallContext(team_id=project.team_id, project_id=project.pk)


async def rank(answer: dict, context: CallContext):
    async with RawServer(json_reply(200, answer)) as server:
        return await rerank(Target(base_url=server.url, allow_local=True), BODY, context=context)


async def test_a_token_count_no_column_holds_is_not_recorded(context):
    answer = {"results": [{"index": 1, "relevance_score": 0.9}], "usage": {"prompt_tokens": 2**40}}
    result = await rank(answer, context)
    assert [hit.index for hit in result.hits] == [1]
    record = await UsageRecord.objects.aget()
    assert (record.endpoint, record.status, record.prompt_tokens) == ("rerank", "ok", None)


async def test_the_token_count_is_recorded_where_the_api_keeps_it(context):
    answer = {"results": [{"index": 0, "relevance_score": 0.5}], "meta": {"billed_units": {"input_tokens": 12}}}
    await rank(answer, context)
    assert (await UsageRecord.objects.aget()).prompt_tokens == 12


async def test_a_huge_index_is_named_in_a_few_words(context):
    with pytest.raises(errors.InvalidResponse) as caught:
        await rank({"results": [{"index": "no such thing " * 1000, "relevance_score": 0.5}]}, context)
    assert caught.value.message.startswith("A result in the provider's answer names document 'no such thing")
    assert caught.value.message.endswith("…, which was not sent.")
    assert len(caught.value.message) < 150
