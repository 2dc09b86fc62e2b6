"""The upstream client against byte-exact server behaviour: odd framing, stalls, drops, retries."""

from __future__ import annotations

import asyncio
import gzip
import json

import pytest

from playground.upstream import CallContext, Target, Timeouts, chat, errors, stream_chat
from playground.upstream.client import _read_events
from playground.upstream.events import Finish, Retrying, TextDelta, ToolCallAccumulator, ToolCallDelta, UnknownEvent
from playground.upstream.sse import SSEParser
from tests.upstream.raw_server import RawServer, Reply, json_reply, sse_chunks

NO_RECORD = CallContext(record=False)
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def target(server: RawServer, **timeouts: float) -> Target:
    return Target(
        base_url=server.url,
        api_key="sk-test-0123456789abcdef",
        allow_local=True,
        timeouts=Timeouts.from_settings(**timeouts) if timeouts else None,
    )


async def collect(server: RawServer, **timeouts: float) -> list:
    events = []
    async with stream_chat(target(server, **timeouts), BODY, context=NO_RECORD) as stream:
        async for event in stream:
            events.append(event)
    return events


def text_of(events) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.UPSTREAM_BACKOFF_BASE = 0.05


async def test_crlf_stream_split_at_every_byte():
    raw = sse_chunks("Hel", "lo, ", "wörld").replace(b"\n", b"\r\n")
    async with RawServer(Reply(parts=[(0, raw[i : i + 1]) for i in range(len(raw))])) as server:
        events = await collect(server)
    assert text_of(events) == "Hello, wörld"
    assert [event.reason for event in events if isinstance(event, Finish)] == ["stop"]


async def test_keep_alive_comments_and_missing_done():
    raw = b": keep-alive\n\n" + sse_chunks("a", "b", done=False) + b": bye\n\n"
    async with RawServer(Reply(parts=[(0, raw)])) as server:
        events = await collect(server)
    assert text_of(events) == "ab"


async def test_a_finished_stream_leaves_its_connection_for_the_next_call():
    # The body's closing chunk comes in a write of its own, after [DONE].
    async with RawServer(Reply(parts=[(0, sse_chunks("a", "b"))])) as server:
        for _ in range(3):
            assert text_of(await collect(server)) == "ab"
    assert server.connections == 1


async def test_a_body_that_goes_on_after_done_is_cut_without_waiting():
    raw = sse_chunks("a", "b")
    async with RawServer(Reply(parts=[(0, raw), (3.0, b": still here\n\n")])) as server:
        started = asyncio.get_running_loop().time()
        assert text_of(await collect(server)) == "ab"
        assert asyncio.get_running_loop().time() - started < 1.0
        assert text_of(await collect(server)) == "ab"  # on a new connection
    assert server.connections == 2


async def test_request_asks_for_stream_and_usage_and_sends_the_key():
    async with RawServer(Reply(parts=[(0, sse_chunks("x"))])) as server:
        await collect(server)
        request_line, headers, body = server.requests[0]
    sent = json.loads(body)
    assert request_line == "POST /v1/chat/completions HTTP/1.1"
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert headers["authorization"] == "Bearer sk-test-0123456789abcdef"
    assert headers["accept"] == "text/event-stream"
    assert headers["accept-encoding"] == "identity"


async def test_a_compressed_stream_is_decompressed_anyway():
    body = gzip.compress(sse_chunks("squeezed ", "text"))
    headers = {"Content-Type": "text/event-stream", "Content-Encoding": "gzip"}
    async with RawServer(Reply(headers=headers, parts=[(0, body[:10]), (0.05, body[10:])])) as server:
        events = await collect(server)
    assert text_of(events) == "squeezed text"


async def test_error_inside_the_stream_comes_after_the_text():
    raw = sse_chunks("partial ", "answer", done=False, finish=None)
    raw += b'data: {"error": {"message": "model crashed", "type": "server_error"}}\n\n'
    async with RawServer(Reply(parts=[(0, raw)])) as server:
        events = []
        with pytest.raises(errors.StreamError) as caught:
            async with stream_chat(target(server), BODY, context=NO_RECORD) as stream:
                async for event in stream:
                    events.append(event)
    assert text_of(events) == "partial answer"
    assert caught.value.upstream_message == "model crashed"
    assert "model crashed" in caught.value.message


async def test_unknown_event_kinds_are_passed_on():
    raw = b'event: ping\ndata: {"t": 1}\n\ndata: not json\n\n' + sse_chunks("x")
    async with RawServer(Reply(parts=[(0, raw)])) as server:
        events = await collect(server)
    unknown = [event for event in events if isinstance(event, UnknownEvent)]
    assert [(event.event, event.data) for event in unknown] == [("ping", {"t": 1}), ("message", "not json")]
    assert text_of(events) == "x"


async def test_tool_call_fragments_merge_by_index():
    chunks = [
        {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
        {"index": 1, "id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
        {"index": 0, "function": {"arguments": '{"city": '}},
        {"index": 0, "function": {"arguments": '"Berlin"}'}},
    ]
    raw = b"".join(
        b"data: " + json.dumps({"choices": [{"index": 0, "delta": {"tool_calls": [c]}}]}).encode() + b"\n\n"
        for c in chunks
    )
    async with RawServer(Reply(parts=[(0, raw + sse_chunks(finish="tool_calls"))])) as server:
        events = await collect(server)
    merged = ToolCallAccumulator()
    for event in events:
        if isinstance(event, ToolCallDelta):
            merged.add(event)
    calls = merged.result()
    assert [(c.id, c.name, json.loads(c.arguments)) for c in calls] == [
        ("call_1", "get_weather", {"city": "Berlin"}),
        ("call_2", "get_time", {}),
    ]


async def test_connection_dropped_mid_answer_keeps_the_text():
    raw = sse_chunks("kept ", "text", done=False, finish=None)
    async with RawServer(Reply(parts=[(0, raw)], drop_connection=True)) as server:
        events = []
        with pytest.raises(errors.StreamBroken) as caught:
            async with stream_chat(target(server), BODY, context=NO_RECORD) as stream:
                async for event in stream:
                    events.append(event)
    assert text_of(events) == "kept text"
    assert "text so far is kept" in caught.value.message


async def test_first_byte_timeout():
    async with RawServer(Reply(parts=[(1.0, sse_chunks("late"))])) as server:
        with pytest.raises(errors.FirstByteTimeout):
            await collect(server, first_byte=0.3)


async def test_idle_timeout_between_chunks():
    async with RawServer(
        Reply(parts=[(0, sse_chunks("a", done=False, finish=None)), (1.0, sse_chunks("b"))])
    ) as server:
        with pytest.raises(errors.IdleTimeout):
            await collect(server, idle=0.3)


async def test_a_slow_reader_is_not_an_idle_upstream():
    # The chunks come at once; the caller takes 0.5 s over each, longer than the idle limit.
    async with RawServer(Reply(parts=[(0, sse_chunks("a", "b", "c"))])) as server:
        events = []
        async with stream_chat(target(server, idle=0.2), BODY, context=NO_RECORD) as stream:
            async for event in stream:
                events.append(event)
                await asyncio.sleep(0.5)
    assert text_of(events) == "abc"


async def test_an_idle_timeout_after_a_slow_read_still_trips():
    """The caller takes longer over each event than the idle limit; then the upstream goes
    silent (its last chunk would come a minute later): the idle limit still trips."""
    parts = [(0, sse_chunks("a", done=False, finish=None)), (0.05, sse_chunks("b", done=False, finish=None))]
    parts.append((60, sse_chunks("late")))
    async with RawServer(Reply(parts=parts)) as server:
        events = []
        with pytest.raises(errors.IdleTimeout):
            async with stream_chat(target(server, idle=0.3), BODY, context=NO_RECORD) as stream:
                async for event in stream:
                    events.append(event)
                    await asyncio.sleep(0.4)
    assert text_of(events) == "ab"


async def test_cancelling_a_waiting_read_is_a_cancellation_not_a_timeout():
    async with RawServer(Reply(parts=[(0, sse_chunks("a", done=False, finish=None)), (60, sse_chunks("b"))])) as server:
        events = []
        first = asyncio.Event()

        async def read() -> None:
            async with stream_chat(target(server, idle=30), BODY, context=NO_RECORD) as stream:
                async for event in stream:
                    events.append(event)
                    first.set()

        task = asyncio.ensure_future(read())
        await first.wait()  # the first chunk is in; the reader went straight on to wait for the next
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert text_of(events) == "a"


async def test_a_slow_loris_body_is_cut_by_the_total_cap():
    # A byte every 0.1 s never trips the idle timeout; the overall cap stops it.
    parts = [(0, b"data: {")] + [(0.1, b" ") for _ in range(40)]
    async with RawServer(Reply(parts=parts)) as server:
        with pytest.raises(errors.TotalTimeout):
            await collect(server, idle=1.0, total=1.0)


async def test_rate_limited_then_success_is_retried_and_the_caller_is_told():
    limited = json_reply(
        429,
        {"error": {"message": "slow down"}},
        **{"Retry-After": "0.3", "X-RateLimit-Limit": "10", "X-RateLimit-Burst": "2"},
    )
    async with RawServer(limited, Reply(parts=[(0, sse_chunks("ok"))])) as server:
        events = await collect(server)
        waited = server.request_times[1] - server.request_times[0]
    retry = events[0]
    assert isinstance(retry, Retrying)
    assert retry.delay_s == pytest.approx(0.3, abs=0.06)
    assert retry.error.limit == "10" and retry.error.burst == "2"
    assert "Retrying in 0.3 s" in retry.message
    assert "The provider's limits: limit 10, burst 2." in retry.message
    assert waited >= 0.29
    assert text_of(events) == "ok"


async def test_retry_after_ms_is_honoured():
    limited = json_reply(429, {"error": {"message": "slow down"}}, **{"retry-after-ms": "250"})
    async with RawServer(limited, Reply(parts=[(0, sse_chunks("ok"))])) as server:
        events = await collect(server)
    assert events[0].delay_s == pytest.approx(0.25, abs=0.06)


async def test_server_errors_are_retried_at_most_twice():
    async with RawServer(json_reply(503, {"error": {"message": "overloaded"}})) as server:
        with pytest.raises(errors.ServerError) as caught:
            await collect(server)
    assert len(server.requests) == 3
    assert caught.value.upstream_message == "overloaded"
    assert "(503): overloaded" in caught.value.message


async def test_a_retry_after_longer_than_the_cap_is_not_waited_for(settings):
    settings.UPSTREAM_RETRY_AFTER_CAP = 5
    async with RawServer(json_reply(429, {"error": {"message": "quota"}}, **{"Retry-After": "60"})) as server:
        with pytest.raises(errors.RateLimited) as caught:
            await collect(server)
    assert len(server.requests) == 1
    assert caught.value.retry_after == 60
    assert "Try again in 60 s" in caught.value.message


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, errors.BadRequest),
        (401, errors.AuthenticationFailed),
        (403, errors.AuthenticationFailed),
        (404, errors.BadRequest),
    ],
)
async def test_client_errors_are_never_retried(status, error_type):
    async with RawServer(json_reply(status, {"error": {"message": "temperature must be <= 2"}})) as server:
        with pytest.raises(error_type) as caught:
            await collect(server)
    assert len(server.requests) == 1
    assert caught.value.upstream_message == "temperature must be <= 2"


async def test_fastapi_style_error_detail_is_read():
    detail = {"detail": [{"loc": ["body", "temperature"], "msg": "Input should be less than or equal to 2"}]}
    async with RawServer(json_reply(422, detail)) as server:
        with pytest.raises(errors.BadRequest) as caught:
            await collect(server)
    assert caught.value.upstream_message == "Input should be less than or equal to 2"


async def test_no_retry_once_text_has_started():
    raw = sse_chunks("started", done=False, finish=None)
    async with RawServer(Reply(parts=[(0, raw)], drop_connection=True)) as server:
        with pytest.raises(errors.StreamBroken):
            await collect(server)
    assert len(server.requests) == 1


async def test_connection_refused_is_retried_then_reported():
    server = RawServer()
    async with server:
        url = server.url
    # The port is closed now.
    broken = Target(base_url=url, allow_local=True)
    with pytest.raises(errors.ConnectionFailed) as caught:
        async with stream_chat(broken, BODY, context=NO_RECORD) as stream:
            async for _ in stream:
                pass
    assert "Could not reach the provider" in caught.value.message


async def test_upstream_echo_of_the_key_is_masked():
    echo = json_reply(401, {"error": {"message": "Incorrect API key provided: sk-test-0123456789abcdef."}})
    async with RawServer(echo) as server:
        with pytest.raises(errors.AuthenticationFailed) as caught:
            await collect(server)
    assert "sk-test-0123456789abcdef" not in str(caught.value)
    assert "sk-test-0123456789abcdef" not in (caught.value.upstream_message or "")


async def test_a_json_answer_to_a_stream_request_still_works():
    payload = {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "whole"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }
    async with RawServer(json_reply(200, payload)) as server:
        events = await collect(server)
    assert text_of(events) == "whole"


async def test_redirects_are_not_followed():
    async with RawServer(Reply(status=302, headers={"Location": "http://169.254.169.254/latest"})) as server:
        with pytest.raises(errors.UrlNotAllowed) as caught:
            await chat(target(server), BODY, context=NO_RECORD)
    assert len(server.requests) == 1
    assert "redirects are not followed" in caught.value.message


async def test_tool_call_arguments_nested_too_deep_to_write_are_left_empty():
    arguments = b'{"a":' * 300 + b"1" + b"}" * 300  # orjson reads 1,024 levels but writes 254
    call = b'{"index":0,"id":"call_1","type":"function","function":{"name":"deep","arguments":' + arguments + b"}}"
    raw = b'data: {"choices":[{"index":0,"delta":{"tool_calls":[' + call + b"]}}]}\n\n"
    async with RawServer(Reply(parts=[(0, raw + sse_chunks("after", finish="tool_calls"))])) as server:
        events = await collect(server)
    [delta] = [event for event in events if isinstance(event, ToolCallDelta)]
    assert (delta.id, delta.name, delta.arguments) == ("call_1", "deep", "")
    assert text_of(events) == "after"


def fingerprinted(*texts: str) -> bytes:
    """A chat stream whose every chunk carries the backend's fingerprint, as IONOS sends it."""
    out = b""
    for text in texts:
        chunk = {"system_fingerprint": "fp_1", "choices": [{"index": 0, "delta": {"content": text}}]}
        out += b"data: " + json.dumps(chunk).encode() + b"\n\n"
    finish = {"system_fingerprint": "fp_1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    return out + b"data: " + json.dumps(finish).encode() + b"\n\ndata: [DONE]\n\n"


def test_a_fingerprint_on_every_chunk_leaves_the_texts_of_one_read_joined():
    events, done, error = _read_events(SSEParser().feed_batch(fingerprinted("a", "b", "c", "d", "e")), "delta")
    assert (done, error) == (True, None)
    assert [(type(event), getattr(event, "text", None)) for event in events] == [(TextDelta, "abcde"), (Finish, None)]


async def test_the_fingerprint_is_kept_once_for_the_whole_answer():
    async with (
        RawServer(Reply(parts=[(0, fingerprinted("Hello", ", world"))])) as server,
        stream_chat(target(server), BODY, context=NO_RECORD) as stream,
    ):
        events = [event async for event in stream]
    assert stream.fingerprint == "fp_1"
    assert {type(event) for event in events} == {TextDelta, Finish}
    assert text_of(events) == "Hello, world"


@pytest.mark.parametrize("value", ["próject-1234", "proj\r\nX-Evil: 1", "proj\x7f", " proj"])
async def test_a_header_that_cannot_go_on_the_wire_is_named_and_nothing_is_sent(value, caplog):
    async with RawServer(Reply(parts=[(0, sse_chunks("never"))])) as server:
        unsendable = Target(base_url=server.url, headers={"X-PROJECT-ID": value}, allow_local=True)
        with pytest.raises(errors.HeaderNotAllowed) as caught:
            async with stream_chat(unsendable, BODY, context=NO_RECORD) as stream:
                async for _ in stream:
                    pass
    assert caught.value.message.startswith("The header X-PROJECT-ID of this provider cannot be sent")
    assert "an admin can change it" in caught.value.message
    assert server.requests == []
    shown = f"{caught.value!r} {caplog.text}"
    assert value not in shown and repr(value.encode())[2:-1] not in shown


async def test_a_key_that_cannot_go_on_the_wire_is_said_plainly():
    async with RawServer(json_reply(200, {})) as server:
        unsendable = Target(base_url=server.url, api_key="sk-clé-0123456789", allow_local=True)
        with pytest.raises(errors.HeaderNotAllowed) as caught:
            await chat(unsendable, BODY, context=NO_RECORD)
    assert caught.value.message.startswith("The API key cannot be sent")
    assert server.requests == []


async def test_a_number_too_large_to_send_is_refused_naming_its_field():
    async with RawServer(Reply(parts=[(0, sse_chunks("never"))])) as server:
        with pytest.raises(errors.BadRequest) as caught:
            async with stream_chat(target(server), {**BODY, "top_k": 10**30}, context=NO_RECORD) as stream:
                async for _ in stream:
                    pass
    assert (
        caught.value.message
        == "The value of top_k cannot be sent: it is too large (whole numbers must fit in 64 bits)."
    )
    assert server.requests == []
