"""What a person reads when a provider refuses a call: the provider's own words from every
error body shape in use, and sentences that end with one full stop, not two."""

from __future__ import annotations

import pytest

from playground.upstream import CallContext, Target, chat, errors, stream_chat
from tests.upstream.raw_server import RawServer, Reply, json_reply, sse_chunks

NO_RECORD = CallContext(record=False)
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(autouse=True)
def no_retries(settings):
    settings.UPSTREAM_MAX_RETRIES = 0


async def refusal(reply) -> errors.UpstreamError:
    """The error a real call gets from a server that answers with `reply`."""
    async with RawServer(reply) as server:
        with pytest.raises(errors.UpstreamError) as caught:
            await chat(Target(base_url=server.url, api_key="sk-x", allow_local=True), BODY, context=NO_RECORD)
    return caught.value


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (400, {"error": {"message": "temperature must be <= 2", "type": "invalid"}}, "temperature must be <= 2"),
        (400, {"error": "max_tokens is too large"}, "max_tokens is too large"),
        # JamAI Base: a code in "error", the words in "message".
        (
            404,
            {"object": "error", "error": "ResourceNotFoundError", "message": 'Project "proj_1" is not found.'},
            'Project "proj_1" is not found.',
        ),
        (400, {"error": "Bad model", "message": "demo-x does not exist"}, "Bad model. demo-x does not exist"),
        (404, {"detail": "Not Found"}, "Not Found"),
        (
            422,
            {
                "detail": [
                    {"loc": ["body", "temperature"], "msg": "Input should be less than or equal to 2"},
                    {"loc": ["body", "messages", 1, "role"], "msg": "Input should be 'user' or 'system'"},
                ]
            },
            "Input should be less than or equal to 2; Input should be 'user' or 'system'",
        ),
        (400, {"detail": {"message": "rag_params.table_id is required"}}, "rag_params.table_id is required"),
        (500, {"message": "The model crashed"}, "The model crashed"),
    ],
)
async def test_the_providers_words_are_read_from_every_body_shape(status, body, said):
    error = await refusal(json_reply(status, body))
    assert error.upstream_message == said
    assert said in error.message


async def test_a_jamai_refusal_reads_as_its_message_once():
    body = {"object": "error", "error": "unauthorized", "message": "You do not have access to this project."}
    error = await refusal(json_reply(401, body))
    assert error.message == (
        "The API key was refused (401): You do not have access to this project. Check the key in the provider settings."
    )


async def test_a_provider_message_ending_in_a_full_stop_gets_no_second_one():
    body = {"error": {"message": "Rate limit reached for requests. Please try again in 1s."}}
    error = await refusal(json_reply(429, body, **{"Retry-After": "1"}))
    assert error.message == (
        "Rate limited by the provider: Rate limit reached for requests. Please try again in 1s. Try again in 1 s."
    )
    assert ".." not in error.message


@pytest.mark.parametrize(
    ("status", "words", "expected"),
    [
        (503, "Overloaded, come back later!", "The provider had an internal error (503): Overloaded, come back later!"),
        (409, "Busy (try again)", "The provider asked to try again (409): Busy (try again)."),
        (400, 'Unknown field "top_k".', 'The provider rejected the request (400): Unknown field "top_k".'),
        (404, "No such model", "Not found at the provider (404): No such model."),
    ],
)
async def test_every_message_ends_with_exactly_one_stop(status, words, expected):
    error = await refusal(json_reply(status, {"error": {"message": words}}))
    assert error.message == expected


async def test_a_streamed_call_reads_the_same_words():
    body = {"object": "error", "error": "ResourceNotFoundError", "message": "Table knowledge-1 is not found."}
    async with RawServer(json_reply(404, body)) as server:
        target = Target(base_url=server.url, api_key="sk-x", allow_local=True)
        with pytest.raises(errors.BadRequest) as caught:
            async with stream_chat(target, BODY, context=NO_RECORD) as stream:
                async for _ in stream:
                    pass
    assert caught.value.message == "Not found at the provider (404): Table knowledge-1 is not found."


# --- Long messages and secrets ---------------------------------------------------------------

# Neither is shaped like a key, so only the provider's own secrets can mask them.
API_KEY = "k3y.9f8e.7d6c.5b4a"
PROJECT = "proj_0a1b2c3d4e5f6789"


def with_secrets(server: RawServer) -> Target:
    return Target(base_url=server.url, api_key=API_KEY, headers={"X-PROJECT-ID": PROJECT}, allow_local=True)


async def test_a_huge_provider_message_is_cut():
    error = await refusal(json_reply(400, {"error": {"message": "The provider is very sorry. " * 2000}}))
    assert error.upstream_message.startswith("The provider is very sorry.")
    assert len(error.upstream_message) == errors.MAX_MESSAGE and error.upstream_message.endswith("…")
    assert len(error.message) < 600


async def test_a_secret_header_value_in_an_error_body_is_masked():
    body = {"object": "error", "error": "ResourceNotFoundError", "message": f"Project {PROJECT} not found."}
    async with RawServer(json_reply(404, body)) as server:
        with pytest.raises(errors.BadRequest) as caught:
            await chat(with_secrets(server), BODY, context=NO_RECORD)
    assert server.requests[0][1]["x-project-id"] == PROJECT
    assert caught.value.message == "Not found at the provider (404): Project •••• not found."


async def test_a_secret_where_a_long_message_is_cut_is_masked_whole():
    words = "a " * 245 + f"{PROJECT} and more"  # the cut at 500 characters falls inside it
    async with RawServer(json_reply(400, {"error": {"message": words}})) as server:
        with pytest.raises(errors.BadRequest) as caught:
            await chat(with_secrets(server), BODY, context=NO_RECORD)
    assert caught.value.upstream_message.endswith("a a •••• and …")
    assert PROJECT[:5] not in caught.value.message


async def test_secrets_echoed_mid_answer_are_masked():
    raw = sse_chunks("partial", done=False, finish=None)
    raw += f'data: {{"error": {{"message": "key {API_KEY} cannot read {PROJECT}"}}}}\n\n'.encode()
    async with RawServer(Reply(parts=[(0, raw)])) as server:
        with pytest.raises(errors.StreamError) as caught:
            async with stream_chat(with_secrets(server), BODY, context=NO_RECORD) as stream:
                async for _ in stream:
                    pass
    said = f"{caught.value} {caught.value!r} {caught.value.upstream_message} {caught.value.args}"
    assert "key •••• cannot read ••••" in caught.value.message
    assert API_KEY not in said and PROJECT not in said


def test_a_targets_secrets_are_its_key_and_its_header_values():
    target = Target(base_url="https://api.example.com/v1", api_key=API_KEY, headers={"X-PROJECT-ID": PROJECT})
    assert target.secrets() == (API_KEY, PROJECT)
    assert Target(base_url="https://api.example.com/v1").secrets() == ()
