"""Template filters for prompt pages."""

from __future__ import annotations

import json

from django import template

register = template.Library()


@register.filter
def as_json(value) -> str:
    """A parameter value as the API gets it (true, not True)."""
    return json.dumps(value, ensure_ascii=False)


@register.filter
def braces(name: str) -> str:
    """A variable name as it is written in a prompt: {{name}}."""
    return "{{" + name + "}}"
