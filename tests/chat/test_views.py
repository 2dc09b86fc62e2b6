"""Conversation pages: every URL by every kind of user, search, settings, siblings."""

from __future__ import annotations

import html
import json
import re

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from playground.accounts.models import Role
from playground.chat.models import Conversation, Message
from tests.access import ACTORS, assert_access
from tests.chat.conftest import frames_until_done
from tests.factories import ApiKeyFactory, ConversationFactory, MessageFactory, PriceFactory, ProviderFactory
from tests.upstream.raw_server import RawServer, Reply, sse_chunks

ENDPOINTS = [
    ("conversation_list", "get", Role.VIEWER, None),
    ("conversation_list", "post", Role.MEMBER, {}),
    ("conversation_start", "get", Role.VIEWER, None),
    ("conversation_detail", "get", Role.VIEWER, None),
    ("conversation_detail", "post", Role.MEMBER, {"model": "demo-chat"}),
    ("conversation_rename", "post", Role.MEMBER, {"title": "Renamed"}),
    ("conversation_delete", "get", Role.MEMBER, None),
    ("conversation_delete", "post", Role.MEMBER, {}),
    ("conversation_branch", "post", Role.MEMBER, {}),
    ("message_fragment", "get", Role.VIEWER, None),
    ("conversation_earlier", "get", Role.VIEWER, None),
    ("conversation_code", "get", Role.VIEWER, None),
]


@pytest.fixture
def chat(team_with_roles):
    provider = ProviderFactory(
        team=team_with_roles.team,
        name="Demo",
        profile="demo",
        base_url="https://demo.example.com/v1",
        default_model="demo-chat",
    )
    ApiKeyFactory(provider=provider, owner=None)
    conversation = ConversationFactory(project=team_with_roles.project, provider=provider)
    question = MessageFactory(conversation=conversation, content="Which colour is the sky?")
    first = MessageFactory(conversation=conversation, parent=question, role="assistant", content="Blue, mostly.")
    second = MessageFactory(conversation=conversation, parent=question, role="assistant", content="Grey today.")
    conversation.current_leaf = second
    conversation.save()
    return conversation, first, second


def url_for(name, conversation, message):
    if name in ("conversation_list", "conversation_start"):
        return reverse(name, args=[conversation.project_id])
    if name == "conversation_branch":
        return reverse(name, args=[conversation.pk, message.pk])
    if name == "message_fragment":
        return reverse(name, args=[message.pk])
    if name == "conversation_earlier":
        return reverse(name, args=[conversation.pk]) + f"?before={message.pk}"
    return reverse(name, args=[conversation.pk])


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("name", "method", "lowest_role", "data"), ENDPOINTS)
def test_access(client, team_with_roles, chat, actor, name, method, lowest_role, data):
    conversation, first, _ = chat
    if actor != "anonymous":
        client.force_login(team_with_roles.users[actor])
    url = url_for(name, conversation, first)
    if data is not None and name == "conversation_detail":
        data = {**data, "provider": conversation.provider_id}
    response = client.post(url, data) if data is not None else client.get(url)
    assert_access(response, actor, lowest_role)


def test_search_finds_titles_and_message_text(client, team_with_roles, chat):
    conversation, _, _ = chat
    ConversationFactory(project=conversation.project, title="Unrelated")
    client.force_login(team_with_roles.users["viewer"])
    url = reverse("conversation_list", args=[conversation.project_id])
    found = client.get(url, {"q": "grey"}).content.decode()
    assert reverse("conversation_detail", args=[conversation.pk]) in found and "Unrelated" not in found
    assert "No conversation matches" in client.get(url, {"q": "zebra"}).content.decode()


def test_siblings_are_switchable_and_nothing_is_deleted(client, team_with_roles, chat):
    conversation, first, second = chat
    client.force_login(team_with_roles.users["member"])
    page = client.get(reverse("conversation_detail", args=[conversation.pk])).content.decode()
    assert "Grey today." in page and "2/2" in page and "Blue, mostly." not in page
    client.post(reverse("conversation_branch", args=[conversation.pk, first.pk]))
    page = client.get(reverse("conversation_detail", args=[conversation.pk])).content.decode()
    assert "Blue, mostly." in page and "1/2" in page
    assert Message.objects.count() == 3


def test_a_viewer_sees_which_version_is_shown_but_cannot_switch_it_for_everyone(client, team_with_roles, chat):
    conversation, first, second = chat
    client.force_login(team_with_roles.users["viewer"])
    page = client.get(reverse("conversation_detail", args=[conversation.pk])).content.decode()
    assert "Version 2/2" in page and 'aria-label="Previous version"' not in page
    client.post(reverse("conversation_branch", args=[conversation.pk, first.pk]))
    conversation.refresh_from_db()
    assert conversation.current_leaf == second


def test_switching_to_a_message_of_another_conversation_is_not_found_and_changes_nothing(client, team_with_roles, chat):
    conversation, _, second = chat
    own_team_message = MessageFactory(conversation__project=conversation.project, content="Elsewhere")
    foreign_message = MessageFactory(content="Theirs")  # in another team's conversation
    client.force_login(team_with_roles.users["owner"])
    for message_id in (own_team_message.pk, foreign_message.pk, foreign_message.pk + 1000):
        response = client.post(reverse("conversation_branch", args=[conversation.pk, message_id]))
        assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.current_leaf == second


def test_settings_are_saved_with_parameters_from_the_schema(client, team_with_roles, chat):
    conversation, _, _ = chat
    client.force_login(team_with_roles.users["member"])
    data = {"provider": conversation.provider_id, "model": "demo-fast", "system": "Be brief.", "p-temperature": "0.3"}
    client.post(reverse("conversation_detail", args=[conversation.pk]), data)
    conversation.refresh_from_db()
    assert (conversation.model, conversation.system, conversation.params) == (
        "demo-fast",
        "Be brief.",
        {"temperature": 0.3},
    )


def test_the_settings_offer_no_parameter_the_chat_sets_itself(client, team_with_roles, chat):
    conversation, _, _ = chat
    client.force_login(team_with_roles.users["member"])
    url = reverse("conversation_detail", args=[conversation.pk])
    page = client.get(url).content.decode()
    assert 'name="p-temperature"' in page
    for name in ("stream", "stream_options"):
        assert f'name="p-{name}"' not in page
    # Posted anyway (an old page), they are not kept.
    data = {"p-stream": "false", "p-stream_options": '{"include_usage": false}'}
    client.post(url, {"provider": conversation.provider_id, "model": "demo-chat", **data})
    conversation.refresh_from_db()
    assert conversation.params == {}


def test_a_parameter_out_of_range_is_explained_beside_the_field(client, team_with_roles, chat):
    conversation, _, _ = chat
    client.force_login(team_with_roles.users["member"])
    data = {"provider": conversation.provider_id, "model": "demo-chat", "p-temperature": "7"}
    response = client.post(reverse("conversation_detail", args=[conversation.pk]), data)
    assert "temperature must be ≤ 2" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.params == {}


def test_the_request_replays_history_only_where_the_api_allows_it(team_with_roles, chat):
    from playground.chat.services import path_to, request_for

    conversation, first, _ = chat
    follow_up = MessageFactory(conversation=conversation, parent=first, content="Why?")
    conversation.system = "Be brief."
    body = request_for(conversation, path_to(follow_up))
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    conversation.provider.profile = "research"
    body = request_for(conversation, path_to(follow_up))
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Why?"}]


def test_a_long_conversation_replays_its_branch_in_order_with_one_query(
    team_with_roles, chat, django_assert_num_queries
):
    from playground.chat.services import path_to

    conversation, first, second = chat  # `second` answers the same question: another branch
    cursor, expected = first, ["Which colour is the sky?", "Blue, mostly."]
    for turn in range(40):
        role = "user" if turn % 2 == 0 else "assistant"
        cursor = MessageFactory(conversation=conversation, parent=cursor, role=role, content=f"turn {turn}")
        expected.append(f"turn {turn}")
    with django_assert_num_queries(1):
        path = path_to(cursor)
    assert [m.content for m in path] == expected
    assert second.content not in [turn.content for turn in path]


def a_long_conversation(conversation, turns: int) -> list[Message]:
    """`turns` messages in one branch after the fixture's, the last one current."""
    cursor = conversation.current_leaf
    made = []
    for n in range(turns):
        role = "user" if n % 2 == 0 else "assistant"
        cursor = MessageFactory(conversation=conversation, parent=cursor, role=role, content=f"Turn {n} here.")
        made.append(cursor)
    conversation.current_leaf = cursor
    conversation.save()
    return made


def shown_turns(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"Turn (\d+) here\.", html)]


def test_a_long_conversation_shows_its_latest_messages_and_loads_earlier_ones_on_demand(client, team_with_roles, chat):
    conversation, _, _ = chat
    made = a_long_conversation(conversation, 250)  # after the question and "Grey today."
    client.force_login(team_with_roles.users["viewer"])
    page = client.get(reverse("conversation_detail", args=[conversation.pk])).content.decode()
    assert shown_turns(page) == list(range(150, 250))
    assert "Show earlier messages" in page and "(152 before these)" in page
    earlier_url = reverse("conversation_earlier", args=[conversation.pk])
    assert f"{earlier_url}?before={made[150].pk}" in page
    more = client.get(earlier_url, {"before": made[150].pk}).content.decode()
    assert shown_turns(more) == list(range(50, 150)) and "(52 before these)" in more
    rest = client.get(earlier_url, {"before": made[50].pk}).content.decode()
    assert shown_turns(rest) == list(range(50)) and "Grey today." in rest and "Which colour" in rest
    assert "Show earlier messages" not in rest


def test_without_javascript_show_earlier_is_a_link_to_a_longer_page(client, team_with_roles, chat):
    conversation, _, _ = chat
    a_long_conversation(conversation, 250)
    client.force_login(team_with_roles.users["viewer"])
    url = reverse("conversation_detail", args=[conversation.pk])
    page = client.get(url).content.decode()
    assert 'href="?show=200#message-' in page
    longer = client.get(url, {"show": 200}).content.decode()
    assert shown_turns(longer) == list(range(50, 250))
    everything = client.get(url, {"show": 1000}).content.decode()
    assert shown_turns(everything) == list(range(250)) and "Show earlier messages" not in everything
    assert client.get(url, {"show": "many"}).status_code == 200  # a bad value shows the usual page


def test_earlier_messages_need_a_message_to_come_before(client, team_with_roles, chat):
    conversation, _, _ = chat
    client.force_login(team_with_roles.users["viewer"])
    response = client.get(reverse("conversation_earlier", args=[conversation.pk]), {"before": "x"})
    assert response.status_code == 400


def test_an_answer_shows_its_cost_at_the_models_price_or_no_price(client, team_with_roles, chat):
    conversation, _, second = chat
    second.model, second.prompt_tokens, second.completion_tokens = "demo-chat", 1_000, 2_000
    second.save()
    client.force_login(team_with_roles.users["viewer"])
    url = reverse("conversation_detail", args=[conversation.pk])
    fragment = reverse("message_fragment", args=[second.pk])
    assert "cost no price" in client.get(url).content.decode()
    PriceFactory(provider=conversation.provider, input_per_million=2, output_per_million=8)
    # 1,000 × 2 / 1M + 2,000 × 8 / 1M = 0.018
    assert "cost 0.0180 USD" in client.get(url).content.decode()
    assert "cost 0.0180 USD" in client.get(fragment).content.decode()


def test_rename_changes_the_title_and_an_empty_one_is_refused(client, team_with_roles, chat):
    conversation, _, _ = chat
    client.force_login(team_with_roles.users["member"])
    url = reverse("conversation_rename", args=[conversation.pk])
    page = client.post(url, {"title": "  Sky colours  "}, follow=True).content.decode()
    assert "Renamed to “Sky colours”." in page
    page = client.post(url, {"title": "   "}, follow=True).content.decode()
    assert "A title cannot be empty." in page
    conversation.refresh_from_db()
    assert conversation.title == "Sky colours"


def test_delete_asks_first_then_removes_the_conversation_and_its_messages(client, team_with_roles, chat):
    conversation, _, _ = chat
    conversation.title = "Sky"
    conversation.save()
    client.force_login(team_with_roles.users["member"])
    url = reverse("conversation_delete", args=[conversation.pk])
    confirm = client.get(url).content.decode()
    assert "Sky" in confirm and 'method="post"' in confirm
    assert Conversation.objects.filter(pk=conversation.pk).exists()  # nothing happens before confirming
    page = client.post(url, follow=True).content.decode()
    assert "Conversation “Sky” deleted." in page
    assert not Conversation.objects.filter(pk=conversation.pk).exists() and not Message.objects.exists()


def test_the_list_shows_the_newest_conversation_first(client, team_with_roles, chat):
    conversation, _, _ = chat
    conversation.title = "Older"
    conversation.save()
    ConversationFactory(project=conversation.project, title="Newer")
    client.force_login(team_with_roles.users["viewer"])
    page = client.get(reverse("conversation_list", args=[conversation.project_id])).content.decode()
    assert page.index("Newer") < page.index("Older")


def test_the_first_question_titles_a_new_conversation(team_with_roles, chat):
    from playground.chat import services

    conversation, _, _ = chat
    fresh = ConversationFactory(project=conversation.project, provider=conversation.provider)
    user = team_with_roles.users["member"]
    services.message_send(conversation=fresh, user=user, text="Why is the sky blue?\nAnd why at noon?")
    fresh.refresh_from_db()
    assert fresh.title == "Why is the sky blue?"
    services.message_send(conversation=fresh, user=user, text="And at sunset?")
    fresh.refresh_from_db()
    assert fresh.title == "Why is the sky blue?"  # the first question's, kept


def shown_request_body(page: str, message_id: int) -> dict:
    """The JSON an answer shows under "Request body sent"."""
    article = page[page.index(f'id="message-{message_id}"') :]
    summary = article.index("<summary>Request body sent (without the messages)</summary>")
    start = article.index("<code>", summary) + len("<code>")
    return json.loads(html.unescape(article[start : article.index("</code>", start)]))


@pytest.mark.django_db(transaction=True)
async def test_the_request_body_shown_is_what_the_provider_received(conversation, connect, team_with_roles):
    """Everything but the messages, including what the client adds (stream, stream_options);
    for a first answer and for a regenerated one."""
    conversation.params = {"temperature": 0.3, "max_tokens": 20, "stop": ["END"]}
    await sync_to_async(conversation.save)()
    async with RawServer(Reply(parts=[(0, sse_chunks("Hi ", "there"))])) as server:
        provider = conversation.provider
        provider.base_url = provider.local_url = server.url  # as staff would allow it
        await sync_to_async(provider.save)()
        socket, connected, _ = await connect(conversation)
        assert connected
        await socket.send_json_to({"type": "send", "text": "Hello"})
        first = (await frames_until_done(socket))[-1]
        await socket.send_json_to({"type": "regenerate", "message": first["message"]})
        second = (await frames_until_done(socket))[-1]
        await socket.disconnect()
    assert first["status"] == second["status"] == "done"
    client = Client()
    await sync_to_async(client.force_login)(team_with_roles.users["viewer"])
    for (_, _, raw), answer in zip(server.requests, (first, second), strict=True):
        received = json.loads(raw)
        fragment = await sync_to_async(client.get)(reverse("message_fragment", args=[answer["message"]]))
        shown = shown_request_body(fragment.content.decode(), answer["message"])
        assert shown == {key: value for key, value in received.items() if key != "messages"}
        assert shown["stream"] is True and shown["stream_options"] == {"include_usage": True}
        assert shown["temperature"] == 0.3 and shown["model"] == "demo-chat"


def shown_code_body(page: str) -> dict:
    """The JSON "View code" shows as the request body."""
    start = page.index("<code>", page.index('id="request-heading"')) + len("<code>")
    return json.loads(html.unescape(page[start : page.index("</code>", start)]))


@pytest.mark.django_db(transaction=True)
async def test_view_code_shows_the_exact_request_the_next_message_sends(conversation, connect, team_with_roles):
    """History on the branch shown, the conversation's parameters, the message being written,
    and what the client adds: the body the provider then receives for that message."""
    from tests.factories import SHARED_KEY

    conversation.params = {"temperature": 0.3, "max_tokens": 20}
    await sync_to_async(conversation.save)()
    client = Client()
    await sync_to_async(client.force_login)(team_with_roles.users["viewer"])
    url = reverse("conversation_code", args=[conversation.pk])
    async with RawServer(Reply(parts=[(0, sse_chunks("Hi ", "there"))])) as server:
        provider = conversation.provider
        provider.base_url = provider.local_url = server.url  # as staff would allow it
        await sync_to_async(provider.save)()
        socket, _, _ = await connect(conversation)
        await socket.send_json_to({"type": "send", "text": "Hello"})
        await frames_until_done(socket)
        page = (await sync_to_async(client.get)(url, {"text": "And then? <b>"})).content.decode()
        await socket.send_json_to({"type": "send", "text": "And then? <b>"})
        await frames_until_done(socket)
        await socket.disconnect()
        endpoint = f"{server.url}/chat/completions"
    received = json.loads(server.requests[-1][2])
    assert shown_code_body(page) == received
    assert received["messages"][-3:] == [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi there"},
        {"role": "user", "content": "And then? <b>"},
    ]
    assert "And then? <b>" not in page and endpoint in page
    assert SHARED_KEY not in page and "curl" in page and "httpx" in page


def test_view_code_without_a_model_says_what_to_choose(client, team_with_roles, chat):
    conversation, _, _ = chat
    conversation.model = ""
    conversation.save()
    client.force_login(team_with_roles.users["member"])
    page = client.get(reverse("conversation_code", args=[conversation.pk])).content.decode()
    assert "Choose a provider and a model first" in page
