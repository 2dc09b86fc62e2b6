"""The demo's text helpers on their own: tokens, cuts, the long answer, and values made from schemas."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from playground.demo.content import cut, example_for, long_text, tokenize


@given(st.text())
def test_tokens_join_back_into_the_text(text):
    assert "".join(tokenize(text)) == text


def test_each_token_is_one_word_and_the_whitespace_after_it():
    assert tokenize("  Hello,  world\n\nagain ") == ["  ", "Hello,  ", "world\n\n", "again "]


def test_a_stop_sequence_is_cut_off_and_finishes_with_stop():
    assert cut("one two three four", stop=["", "hre", "two"], max_tokens=None) == (["one "], "stop")


def test_a_limit_shorter_than_the_text_finishes_with_length():
    assert cut("one two three four", stop=["four"], max_tokens=2) == (["one ", "two "], "length")
    assert cut("one two three four", stop=["four"], max_tokens=3) == (["one ", "two ", "three "], "stop")


def test_the_long_answer_has_more_than_three_thousand_tokens():
    assert len(tokenize(long_text())) > 3000


def test_values_made_from_a_schema_follow_its_types():
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "count": {"type": "integer"},
            "ratio": {"type": ["number", "null"]},
            "on": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "colour": {"enum": ["red", "green"]},
            "where": {"properties": {"lat": {"type": "number"}}},
            "either": {"anyOf": [{"type": "null"}, {"type": "string"}]},
        },
    }
    assert example_for(schema) == {
        "name": "demo",
        "count": 1,
        "ratio": 1,
        "on": True,
        "tags": ["demo"],
        "colour": "red",
        "where": {"lat": 1},
        "either": "demo",
    }
