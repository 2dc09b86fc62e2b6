"""Template filters for rendering messages."""

from __future__ import annotations

import json
import math

from django import template
from django.utils.safestring import mark_safe

from playground.chat.markdown import render_answer, render_plain
from playground.usage.templatetags.usage import amount

register = template.Library()


@register.filter
def message_body(message) -> str:
    """Sanitised markdown for finished answers (kept by generation when the answer ended, else
    rendered now), escaped text for questions and live answers. Reads only."""
    if message.role != "assistant" or message.status == "streaming":
        return mark_safe(render_plain(message.content))  # noqa: S308 (escaped)
    return mark_safe(message.html or render_answer(message.content, message.params))  # noqa: S308 (nh3)


@register.filter
def tokens_per_second(message) -> str:
    """Output speed after the first token, e.g. "41.2 tokens/s" ("" when it cannot be known)."""
    if not message.completion_tokens or message.total_ms is None or message.ttft_ms is None:
        return ""
    seconds = (message.total_ms - message.ttft_ms) / 1000
    if seconds <= 0:
        return ""
    return f"{message.completion_tokens / seconds:.1f} tokens/s"


@register.filter
def answer_cost(message, prices) -> str:
    """What an answer cost at today's price of its provider's model: "0.0012 USD", "no price",
    or "" when its tokens are not known."""
    if message.prompt_tokens is None and message.completion_tokens is None:
        return ""
    rate = prices.get(message.conversation.provider_id, message.model) if prices else None
    if rate is None:
        return "no price"
    return amount(rate.cost(message.prompt_tokens or 0, message.completion_tokens or 0))


@register.filter
def pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


LOGPROB_ROWS_SHOWN = 1000


@register.filter
def logprob_rows(message) -> list[dict]:
    """Token, its probability and the alternatives the model weighed, for the table."""

    def percent(logprob) -> str:
        try:
            return f"{math.exp(float(logprob)) * 100:.1f} %"
        except (TypeError, ValueError, OverflowError):
            return "?"

    rows = []
    entries = message.logprobs if isinstance(message.logprobs, list) else []
    for entry in [each for each in entries if isinstance(each, dict)][:LOGPROB_ROWS_SHOWN]:
        alternatives = [
            f"{alt.get('token', '')!r} {percent(alt.get('logprob'))}"
            for alt in entry.get("top_logprobs") or []
            if isinstance(alt, dict)
        ]
        rows.append(
            {"token": repr(entry.get("token", "")), "probability": percent(entry.get("logprob")), "top": alternatives}
        )
    return rows


@register.simple_tag
def logprob_rows_shown() -> int:
    return LOGPROB_ROWS_SHOWN


@register.filter
def pretty_arguments(arguments) -> str:
    """A tool call's arguments as indented JSON (as sent, when they are not valid JSON)."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        return arguments or ""


@register.filter
def citations(references) -> list[dict[str, str]]:
    """The sources an answer cites, from whatever its provider sent as references (JamAI
    sends {"chunks": [{"title", "file_name", "page", "text"}, ...]}): title, where, text."""
    if isinstance(references, dict):
        references = references.get("chunks", references.get("data"))
    if not isinstance(references, list):
        return []

    def text(value) -> str:
        return value.strip() if isinstance(value, str) else ""

    found = []
    for chunk in references:
        if not isinstance(chunk, dict):
            continue
        title, file_name = text(chunk.get("title")), text(chunk.get("file_name"))
        page = chunk.get("page")
        page = f"page {page}" if type(page) in (int, str) and str(page).strip() else ""
        where = ", ".join(part for part in (file_name if title else "", page) if part)
        title = title or file_name or "Untitled source"
        found.append({"title": title, "where": where, "text": text(chunk.get("text"))})
    return found
