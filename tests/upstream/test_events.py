"""What a provider sent, made storable: every database takes it, however odd or deep."""

from __future__ import annotations

import math

import orjson

from playground.upstream.events import MAX_STORED_DEPTH, storable


def depth_of(value) -> int:
    found = 0
    while isinstance(value, list) and value:
        value, found = value[0], found + 1
    return found


def test_json_nested_as_deep_as_a_provider_may_send_is_cut_not_a_crash():
    nested = orjson.loads(b"[" * 1000 + b"]" * 1000)  # orjson reads up to 1,024 levels
    kept = storable({"chunks": nested})
    assert depth_of(kept["chunks"]) == MAX_STORED_DEPTH - 1
    orjson.dumps(kept)  # and it can be written again


def test_nul_characters_and_numbers_that_are_not_finite_are_cleaned_at_any_depth():
    value = {"a\x00": ["x\x00y", math.inf, {"b": [math.nan, 1.5, 2, None, True]}]}
    assert storable(value) == {"a\ufffd": ["x\ufffdy", None, {"b": [None, 1.5, 2, None, True]}]}
