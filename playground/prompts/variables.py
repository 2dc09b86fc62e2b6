r"""Variables in prompt text: `{{name}}` placeholders, found automatically and filled in to run.

A name is a letter or underscore followed by letters, digits or underscores; spaces inside
the braces are allowed (`{{ topic }}`). Braces around anything else (`{{"a": 1}}`) are plain
text. To write a placeholder literally, put a backslash before it: `\{{name}}` is sent as
`{{name}}` and is not a variable. Nothing else is special.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

VARIABLE = re.compile(r"(\\?)\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}")
ESCAPE_HELP = r"Write {{name}} for a variable. To send the braces literally, put a backslash before them: \{{name}}."


class MissingValues(ValueError):
    """Some variables have no value (empty or only spaces)."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        listed = ", ".join(f"{{{{{name}}}}}" for name in names)
        super().__init__(f"Give a value for {listed} before running.")


def names_in(texts: Iterable[str]) -> list[str]:
    """The variable names in `texts`, in order of first appearance, each once."""
    found: dict[str, None] = {}
    for text in texts:
        for match in VARIABLE.finditer(text or ""):
            if not match.group(1):
                found.setdefault(match.group(2), None)
    return list(found)


def names_of(system: str, messages: list[dict[str, Any]]) -> list[str]:
    return names_in([system, *(str(message.get("content", "")) for message in messages)])


def render(text: str, values: Mapping[str, str]) -> str:
    """`text` with each variable replaced by its value and each escaped placeholder unescaped."""

    def replace(match: re.Match) -> str:
        if match.group(1):
            return match.group(0)[1:]
        return values[match.group(2)]

    return VARIABLE.sub(replace, text or "")


def render_prompt(
    system: str, messages: list[dict[str, Any]], values: Mapping[str, str]
) -> tuple[str, list[dict[str, str]]]:
    """The system text and messages with values filled in; MissingValues names any left empty."""
    missing = [name for name in names_of(system, messages) if not str(values.get(name) or "").strip()]
    if missing:
        raise MissingValues(missing)
    rendered = [{"role": message["role"], "content": render(message["content"], values)} for message in messages]
    return render(system, values), rendered


def described(names: list[str], known: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """{name: {"description", "default"}} for `names`, keeping what `known` already said."""
    result = {}
    for name in names:
        meta = known.get(name) if isinstance(known.get(name), dict) else {}
        result[name] = {
            "description": str(meta.get("description") or ""),
            "default": str(meta.get("default") or ""),
        }
    return result


def preview(text: str, values: Mapping[str, str]) -> list[tuple[str, str]]:
    """`text` as (kind, text) runs for showing a rendering: "text", "value" (filled in) or "missing"."""
    runs: list[tuple[str, str]] = []
    position = 0
    for match in VARIABLE.finditer(text or ""):
        runs.append(("text", text[position : match.start()]))
        if match.group(1):
            runs.append(("text", match.group(0)[1:]))
        elif str(values.get(match.group(2)) or "").strip():
            runs.append(("value", values[match.group(2)]))
        else:
            runs.append(("missing", "{{" + match.group(2) + "}}"))
        position = match.end()
    runs.append(("text", (text or "")[position:]))
    return [(kind, part) for kind, part in runs if part]
