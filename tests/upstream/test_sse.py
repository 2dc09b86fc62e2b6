"""The SSE parser against the specification's cases, and any split of the bytes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from playground.upstream.sse import SSEEvent, SSEParser


def parse(*chunks: bytes) -> list[SSEEvent]:
    parser = SSEParser()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    events.extend(parser.close())
    return events


def datas(events: list[SSEEvent]) -> list[bytes]:
    return [event.data for event in events]


def test_lf_cr_and_crlf_line_endings_are_the_same():
    expected = [b'{"a": 1}', b"two\nlines"]
    assert datas(parse(b'data: {"a": 1}\n\ndata: two\ndata: lines\n\n')) == expected
    assert datas(parse(b'data: {"a": 1}\r\n\r\ndata: two\r\ndata: lines\r\n\r\n')) == expected
    assert datas(parse(b'data: {"a": 1}\r\rdata: two\rdata: lines\r\r')) == expected


def test_crlf_split_between_reads_is_one_line_end():
    assert datas(parse(b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n")) == [b"a", b"b"]


def test_comments_and_keep_alives_are_ignored():
    assert datas(parse(b": keep-alive\n\n:\n\ndata: x\n: in between\n\n")) == [b"x"]


def test_event_names_ids_and_retry():
    [event] = parse(b"event: references\nid: 7\nretry: 3000\ndata: {}\n\n")
    assert (event.event, event.id, event.retry, event.data) == ("references", "7", 3000, b"{}")


def test_only_one_leading_space_is_removed():
    assert datas(parse(b"data:  two spaces\n\ndata:none\n\n")) == [b" two spaces", b"none"]


def test_empty_events_are_not_dispatched():
    assert parse(b"\n\n\nevent: x\n\n") == []


def test_a_byte_order_mark_at_the_start_is_skipped_even_when_split():
    assert datas(parse(b"\xef", b"\xbb", b"\xbfdata: x\n\n")) == [b"x"]


def test_utf8_character_split_across_reads():
    text = "Grüße, 世界 🌍".encode()
    raw = b"data: " + text + b"\n\n"
    split = raw.index(b"\xf0") + 2  # inside the four bytes of the globe
    [event] = parse(raw[:split], raw[split:])
    assert event.text == "Grüße, 世界 🌍"


def test_end_of_body_delivers_the_last_event_without_its_blank_line():
    assert datas(parse(b"data: first\n\ndata: last")) == [b"first", b"last"]
    assert datas(parse(b"data: first\n\ndata: last\n")) == [b"first", b"last"]


def test_unknown_fields_are_ignored():
    assert datas(parse(b"foo: bar\ndata: x\n\n")) == [b"x"]


def test_data_field_without_colon_is_an_empty_line():
    assert datas(parse(b"data\ndata: x\n\n")) == [b"\nx"]


# Any valid stream, cut anywhere, gives the same events as the whole stream.
line_endings = st.sampled_from([b"\n", b"\r", b"\r\n"])
payloads = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), min_size=0, max_size=30
)


@st.composite
def sse_streams(draw):
    end = draw(line_endings)
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            parts.append(b":" + draw(payloads).encode() + end)
        if draw(st.booleans()):
            parts.append(b"event: " + draw(st.sampled_from([b"message", b"references", b"ping"])) + end)
        for _ in range(draw(st.integers(1, 3))):
            parts.append(b"data: " + draw(payloads).encode() + end)
        parts.append(end)
    return b"".join(parts)


@settings(max_examples=300, deadline=None)
@given(raw=sse_streams(), data=st.data())
def test_any_split_gives_the_same_events(raw, data):
    whole = parse(raw)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=8)))
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    assert parse(*pieces) == whole
    assert parse(*[raw[i : i + 1] for i in range(len(raw))]) == whole
