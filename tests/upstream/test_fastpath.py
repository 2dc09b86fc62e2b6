"""Reading text chunks by their learned envelope gives exactly what decoding every chunk gives,
for any texts (quotes, escapes, non-ASCII, look-alikes of the envelope) and any split of the bytes."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from playground.upstream.client import _read_events
from playground.upstream.events import TextDelta
from playground.upstream.fastpath import TextTemplate, feed
from playground.upstream.sse import SSEParser

ENVELOPE = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
SUFFIX_LOOKALIKE = '"},"logprobs":null,"finish_reason":null}]}\n\ndata: '


def chunk(delta: dict, finish: str | None = None, **extra) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return b"data: " + orjson.dumps({**ENVELOPE, "choices": [choice], **extra}) + b"\n\n"


def stream(texts: list[str]) -> bytes:
    """A chat stream of these texts; a text starting with "@role" also repeats the role, so
    its chunk ends like the envelope but starts otherwise."""
    body = chunk({"role": "assistant", "content": ""})
    body += b"".join(
        chunk({"role": "assistant", "content": text} if text.startswith("@role") else {"content": text})
        for text in texts
    )
    return body + chunk({}, finish="stop") + b"data: [DONE]\n\n"


def read(pieces: list[bytes], *, fast: bool) -> list:
    parser, template, events = SSEParser(), TextTemplate(), []
    for piece in pieces:
        items = feed(parser, piece, template) if fast else list(parser.feed(piece))
        found, done, error = _read_events(items, "delta", template if fast else None)
        events += found
        assert error is None
        if done:
            return events
    found, _, _ = _read_events(list(parser.close()), "delta")
    return events + found


def text_and_others(events: list) -> tuple[str, list]:
    text = "".join(event.text for event in events if type(event) is TextDelta)
    return text, [event for event in events if type(event) is not TextDelta]


def splits(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


texts = st.lists(
    st.one_of(
        st.text(min_size=1, max_size=12),
        st.sampled_from(['"', "\\", "\n", "\\n", 'say "hi"', "é✓😀", SUFFIX_LOOKALIKE, "\\\\", "a\\", "@role x"]),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(texts=texts, cuts=st.lists(st.integers(min_value=0), max_size=12))
def test_any_texts_in_any_split_read_the_same_as_decoding_every_chunk(texts, cuts):
    data = stream(texts)
    fast = read(splits(data, cuts), fast=True)
    full = read([data], fast=False)
    assert text_and_others(fast) == text_and_others(full) == ("".join(texts), text_and_others(full)[1])
    assert all(event.text for event in fast if type(event) is TextDelta)  # no empty "first token"


def test_the_envelope_is_learned_and_used():
    data = stream(["Hello", ", ", "world"] * 20)
    parser, template = SSEParser(), TextTemplate()
    _read_events(feed(parser, data[:1000], template), "delta", template)  # decoded in full; learns
    assert template.size
    items = feed(parser, data[1000:], template)
    assert any(type(item) is str and len(item) > 20 for item in items)  # many chunks read as one text


def test_chunks_that_differ_from_the_envelope_are_decoded_in_full():
    data = chunk({"content": "a"}) + chunk({"content": "b"}, usage={"prompt_tokens": 1}) + chunk({"content": "c"})
    data += chunk({"content": "d"}, finish="length") + chunk({"content": "e", "role": "assistant"})
    fast = read(splits(data, [7, 100, 333]), fast=True)
    assert text_and_others(fast) == text_and_others(read([data], fast=False))
    assert text_and_others(fast)[0] == "abcde"


def test_an_upstream_with_a_new_envelope_each_chunk_is_read_correctly():
    data = b"".join(
        b"data: "
        + orjson.dumps({**ENVELOPE, "id": f"c{n}", "choices": [{"index": 0, "delta": {"content": str(n)}}]})
        + b"\n\n"
        for n in range(30)
    )
    assert text_and_others(read(splits(data, [50, 51, 400]), fast=True))[0] == "".join(str(n) for n in range(30))


def test_a_read_ending_inside_a_text_chunk_after_another_kind_gives_no_empty_text():
    learn = chunk({"role": "assistant", "content": ""}) + chunk({"content": "a"}) + chunk({"content": "b"})
    other, text = chunk({"role": "assistant", "content": ""}), chunk({"content": "cd"})
    cut = text.index(b'"cd"') + 2  # inside the text: the read holds the whole envelope before it
    events = read([learn, other + text[:cut], text[cut:]], fast=True)
    assert text_and_others(events)[0] == "abcd"
    assert all(event.text for event in events if type(event) is TextDelta)


def raw_chunk(content: bytes) -> bytes:
    """A chunk in the envelope whose content bytes are written as given, valid JSON or not."""
    placeholder = chunk({"content": "@@@"})
    return placeholder.replace(b"@@@", content)


def test_broken_escapes_split_over_chunks_read_as_decoding_every_chunk_does():
    learn = chunk({"role": "assistant", "content": ""}) + chunk({"content": "a"}) + chunk({"content": "b"})
    for pieces in (
        [b"x\\u00", b"e9y"],  # together a valid escape, apart two broken chunks
        [b"x\\", b"ny"],  # a dangling backslash: the chunk is not JSON
        [b"x\\\\", b"ny"],  # an escaped backslash, then text: all valid
        [b"tab\\t", b"\\u00e9"],  # whole escapes in each: valid
    ):
        data = learn + b"".join(raw_chunk(piece) for piece in pieces) + chunk({}, finish="stop")
        for cuts in ([], [len(learn)], [len(learn) + 5, len(data) - 3]):
            fast = read(splits(data, cuts), fast=True)
            assert text_and_others(fast) == text_and_others(read([data], fast=False)), pieces


def test_a_chunk_of_another_choice_in_an_envelope_of_the_same_length_is_not_read_as_text():
    learn = chunk({"role": "assistant", "content": ""}) + chunk({"content": "a"}) + chunk({"content": "b"})
    second = chunk({"content": "B"}).replace(b'"index":0', b'"index":1')  # same bytes but one
    data = learn + chunk({"content": "c"}) + second + chunk({"content": "d"}) + chunk({}, finish="stop")
    for cuts in ([], [len(learn)], [len(learn) + 3]):
        fast = read(splits(data, cuts), fast=True)
        assert text_and_others(fast) == text_and_others(read([data], fast=False))
        assert [(e.text, e.index) for e in fast if type(e) is TextDelta and e.index == 1] == [("B", 1)]
