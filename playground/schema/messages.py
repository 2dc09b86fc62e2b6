"""Error messages in the API's own terms: the field path, then what it must be."""

from __future__ import annotations

from typing import Any

from playground.schema.text import number_text, value_text

_TYPE_WORDS = {
    "number": "a number",
    "integer": "an integer",
    "string": "a string",
    "boolean": "true or false",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def join_path(*parts: Any) -> str:
    """`tools[0].function.name` from ("tools", 0, "function", "name")."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def bound_message(path: str, symbol: str, limit: Any) -> str:
    """`temperature must be ≤ 2`; symbol is one of ≥ > ≤ <."""
    return f"{path} must be {symbol} {number_text(limit)}"


def type_message(path: str, kinds: Any) -> str:
    """`top_k must be an integer`; null is left out when other types are allowed (forms never send it)."""
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    shown = [kind for kind in kinds if kind != "null"] or kinds
    words = [_TYPE_WORDS.get(kind, kind) for kind in dict.fromkeys(shown)]
    joined = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"{path} must be {joined}"


def whole_number_message(path: str, low: int, high: int) -> str:
    """`top_n must be a whole number between -9223372036854775808 and 9223372036854775807`."""
    return f"{path} must be a whole number between {low} and {high}"


def finite_message(path: str) -> str:
    """For 1e400, which a float holds only as infinity and JSON cannot carry at all."""
    return f"{path} must be a finite number: that one is too large to send"


def choices_message(path: str, choices: Any) -> str:
    return f"{path} must be one of: " + ", ".join(value_text(choice) for choice in choices if choice is not None)


def required_message(path: str) -> str:
    return f"{path} is required"


def max_items_message(path: str, limit: int) -> str:
    return f"{path} may have at most {limit} item{'' if limit == 1 else 's'}"


def min_items_message(path: str, limit: int) -> str:
    return f"{path} must have at least {limit} item{'' if limit == 1 else 's'}"
