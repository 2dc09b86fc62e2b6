"""The CSV export: the filtered records, streamed in chunks (also under ASGI), with every text
cell a spreadsheet would run as a formula neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.test import AsyncClient
from django.urls import reverse

from playground.usage import exports
from playground.usage.models import UsageRecord
from tests.factories import ApiKeyFactory, PriceFactory, ProjectFactory, UsageRecordFactory


def rows_of(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode())))


def body_of(response) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


@pytest.fixture
def owner_client(client, team_with_roles):
    client.force_login(team_with_roles.users["owner"])
    return client


def test_the_export_has_every_filtered_record_with_names_and_cost(owner_client, team_with_roles):
    team, owner = team_with_roles.team, team_with_roles.users["owner"]
    key = ApiKeyFactory(provider__team=team, provider__name="OpenAI", plain="sk-abc-123-WXYZ", label="team")
    PriceFactory(provider=key.provider, model="gpt-4o", input_per_million=2, output_per_million=8)
    chosen = UsageRecordFactory(
        team=team, project=team_with_roles.project, user=owner, provider_id=key.provider_id, provider_name="OpenAI",
        key_id=key.pk, model="gpt-4o", prompt_tokens=1000, completion_tokens=500, ttft_ms=321, total_ms=4567,
    )  # fmt: skip
    UsageRecordFactory(team=team, user=owner, model="other-model")
    response = owner_client.get(reverse("usage_export"), {"model": "gpt-4o"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="usage-')
    [row] = rows_of(body_of(response))
    assert row == {
        "time_utc": chosen.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "team": team.name,
        "project": team_with_roles.project.name,
        "user": "owner",
        "provider": "OpenAI",
        "key": "••••WXYZ team",
        "model": "gpt-4o",
        "endpoint": "chat",
        "status": "ok",
        "http_status": "200",
        "prompt_tokens": "1000",
        "completion_tokens": "500",
        "tokens_estimated": "",
        "cost": f"{(Decimal(1000 * 2 + 500 * 8) / 1_000_000):.6f}",
        "ttft_ms": "321",
        "total_ms": "4567",
        "retries": "0",
        "error_kind": "",
        "error_message": "",
    }
    assert "sk-abc-123" not in body_of(owner_client.get(reverse("usage_export"))).decode()


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_a_spreadsheet_would_run_are_neutralised(owner_client, team_with_roles, start):
    team = team_with_roles.team
    project = ProjectFactory(team=team, name=f"{start}cmd|' /C calc'!A0")
    UsageRecordFactory(
        team=team,
        project=project,
        user=team_with_roles.users["owner"],
        provider_name=f"{start}Provider",
        model=f'{start}HYPERLINK("http://evil")',
        status="error",
        error_kind="bad_request",
        error_message=f"{start}1+1 said the upstream",
    )
    [row] = rows_of(body_of(owner_client.get(reverse("usage_export"))))
    for column in ("project", "provider", "model", "error_message"):
        assert row[column].startswith(f"'{start}"), column
    assert row["prompt_tokens"] == "12"  # numbers stay numbers


def test_text_with_commas_quotes_and_line_breaks_reads_back_exactly(owner_client, team_with_roles):
    team = team_with_roles.team
    project = ProjectFactory(team=team, name='Sales, "EMEA"')
    message = 'The upstream said:\n"bad, very bad"\r\nand stopped'
    UsageRecordFactory(
        team=team, project=project, user=team_with_roles.users["owner"], provider_name="Lab \"A\"",
        model="m,1", status="error", error_kind="bad_request", error_message=message,
    )  # fmt: skip
    [row] = rows_of(body_of(owner_client.get(reverse("usage_export"))))
    assert (row["project"], row["provider"], row["model"]) == ('Sales, "EMEA"', 'Lab "A"', "m,1")
    assert row["error_message"] == message
    assert (row["status"], row["error_kind"], row["retries"]) == ("error", "bad_request", "0")


def test_the_export_streams_in_chunks(owner_client, team_with_roles, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_ROWS", 4)
    for _ in range(10):
        UsageRecordFactory(team=team_with_roles.team, user=team_with_roles.users["owner"])
    response = owner_client.get(reverse("usage_export"))
    chunks = list(response.streaming_content)
    assert len(chunks) == 1 + 3  # the header, then 4 + 4 + 2 rows
    assert len(rows_of(b"".join(chunks))) == 10


def test_members_export_only_their_own_calls(client, team_with_roles):
    for role in ("owner", "member", "member"):
        UsageRecordFactory(team=team_with_roles.team, user=team_with_roles.users[role])
    client.force_login(team_with_roles.users["member"])
    rows = rows_of(body_of(client.get(reverse("usage_export"))))
    assert [row["user"] for row in rows] == ["member", "member"]


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_export_streams_without_reading_it_all_first(team_with_roles):
    from asgiref.sync import sync_to_async

    owner = team_with_roles.users["owner"]
    for _ in range(3):
        await sync_to_async(UsageRecordFactory)(team=team_with_roles.team, user=owner)
    client = AsyncClient()
    await client.aforce_login(owner)
    response = await client.get(reverse("usage_export"))
    assert response.is_async  # an async iterator: Django would warn, and buffer, were it a sync one
    body = b"".join([chunk async for chunk in response.streaming_content])
    assert len(rows_of(body)) == 3 == await UsageRecord.objects.acount()
