"""What changed between two versions of a prompt: text of each message word by word, and settings.

Messages are compared by position (the first with the first…); a message only one version
has is shown as added or removed. Texts are split into words and the spaces between them, so
a changed word shows as that word removed and its replacement added.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from playground.prompts.models import PromptVersion

_TOKENS = re.compile(r"\s+|[^\s]+")
# Above this many words a word-level diff gets slow (it is quadratic at worst); compare lines.
MAX_WORDS = 20_000


@dataclass
class Segment:
    kind: str  # "same" | "added" | "removed"
    text: str


@dataclass
class TextDiff:
    label: str
    status: str  # "same" | "changed" | "added" | "removed"
    segments: list[Segment]
    old_role: str = ""
    new_role: str = ""

    @property
    def changed(self) -> bool:
        return self.status != "same"


@dataclass
class ValueChange:
    name: str
    status: str  # "added" | "removed" | "changed"
    old: str = ""
    new: str = ""


@dataclass
class VersionDiff:
    old: PromptVersion
    new: PromptVersion
    texts: list[TextDiff] = field(default_factory=list)
    settings: list[ValueChange] = field(default_factory=list)
    params: list[ValueChange] = field(default_factory=list)
    variables: list[ValueChange] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (any(text.changed for text in self.texts) or self.settings or self.params or self.variables)


def text_segments(old: str, new: str) -> list[Segment]:
    """`old` turned into `new`, as runs of unchanged, removed and added text."""
    old_tokens, new_tokens = _TOKENS.findall(old), _TOKENS.findall(new)
    if len(old_tokens) + len(new_tokens) > MAX_WORDS:
        old_tokens, new_tokens = old.splitlines(keepends=True), new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    segments: list[Segment] = []
    for op, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if op == "equal":
            _append(segments, "same", "".join(old_tokens[old_start:old_end]))
            continue
        if op in ("delete", "replace"):
            _append(segments, "removed", "".join(old_tokens[old_start:old_end]))
        if op in ("insert", "replace"):
            _append(segments, "added", "".join(new_tokens[new_start:new_end]))
    return segments


def _append(segments: list[Segment], kind: str, text: str) -> None:
    if not text:
        return
    if segments and segments[-1].kind == kind:
        segments[-1].text += text
    else:
        segments.append(Segment(kind, text))


def _text_diff(label: str, old: str | None, new: str | None, old_role: str = "", new_role: str = "") -> TextDiff:
    if old is None:
        return TextDiff(label, "added", [Segment("added", new or "")], new_role=new_role)
    if new is None:
        return TextDiff(label, "removed", [Segment("removed", old)], old_role=old_role)
    status = "same" if old == new and old_role == new_role else "changed"
    return TextDiff(label, status, text_segments(old, new), old_role=old_role, new_role=new_role)


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def dict_changes(old: dict[str, Any], new: dict[str, Any]) -> list[ValueChange]:
    """Keys added, removed or given another value, in name order."""
    changes = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            changes.append(ValueChange(name, "added", new=_shown(new[name])))
        elif name not in new:
            changes.append(ValueChange(name, "removed", old=_shown(old[name])))
        elif old[name] != new[name]:
            changes.append(ValueChange(name, "changed", _shown(old[name]), _shown(new[name])))
    return changes


def version_diff(old: PromptVersion, new: PromptVersion) -> VersionDiff:
    diff = VersionDiff(old=old, new=new)
    if old.system or new.system:
        diff.texts.append(_text_diff("System prompt", old.system or None, new.system or None))
    for index in range(max(len(old.messages), len(new.messages))):
        before = old.messages[index] if index < len(old.messages) else None
        after = new.messages[index] if index < len(new.messages) else None
        diff.texts.append(
            _text_diff(
                f"Message {index + 1}",
                before["content"] if before else None,
                after["content"] if after else None,
                before["role"] if before else "",
                after["role"] if after else "",
            )
        )
    settings_old = {"provider": old.provider_name, "model": old.model}
    settings_new = {"provider": new.provider_name, "model": new.model}
    diff.settings = dict_changes(
        {key: value for key, value in settings_old.items() if value},
        {key: value for key, value in settings_new.items() if value},
    )
    diff.params = dict_changes(old.params, new.params)
    diff.variables = dict_changes(_variables_shown(old.variables), _variables_shown(new.variables))
    return diff


def _variables_shown(variables: dict[str, Any]) -> dict[str, str]:
    shown = {}
    for name, meta in variables.items():
        meta = meta if isinstance(meta, dict) else {}
        parts = [f"default “{meta['default']}”" if meta.get("default") else "no default"]
        if meta.get("description"):
            parts.append(f"described as “{meta['description']}”")
        shown["{{" + name + "}}"] = ", ".join(parts)
    return shown
