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
