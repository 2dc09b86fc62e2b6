"""How schema values and descriptions are written for people: help text, numbers, choices."""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.html import strip_tags

HELP_LIMIT = 300

_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_REFERENCE_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_STRONG = re.compile(r"(\*\*|__)(.+?)\1")


def help_text(description: Any) -> str:
    """A description as short plain text: markdown links, emphasis, code marks and tags removed."""
    if not isinstance(description, str):
        return ""
    text = _IMAGE_OR_LINK.sub(r"\1", description)
    text = _REFERENCE_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = strip_tags(text).replace("`", "")
    text = " ".join(text.split())
    if len(text) <= HELP_LIMIT:
        return text
    cut = text[:HELP_LIMIT].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def number_text(value: Any) -> str:
    """A number as the API writes it: 2, not 2.0; 0.001, not 1e-03."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def value_text(value: Any) -> str:
    """A JSON value as it reads in a message or an option: strings bare, everything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number_text(value)
    return json.dumps(value, ensure_ascii=False)
