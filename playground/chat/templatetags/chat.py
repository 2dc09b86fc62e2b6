"""Template filters for rendering messages."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from playground.chat.views import message_html

register = template.Library()


@register.filter
def message_body(message) -> str:
    # Sanitised by nh3 (markdown) or fully escaped (plain text): see playground.chat.markdown.
    return mark_safe(message_html(message))  # noqa: S308


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
def pretty_json(value) -> str:
    import json

    return json.dumps(value, indent=2, ensure_ascii=False)
