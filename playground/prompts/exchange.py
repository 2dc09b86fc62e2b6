"""Prompts to and from JSON files: export one or all, import with a report of what came in.

A file holds {"format": "playground-prompts", "format_version": 1, "prompts": [...]}, each
prompt with all its versions. Providers are named, never exported with keys or addresses;
on import they are matched by name in the importing team. Each prompt is checked on its own:
a bad one is rejected with the reason, the good ones are imported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from playground.prompts import variables
from playground.prompts.models import Prompt, PromptVersion, Visibility
from playground.prompts.services import clean_tags, tags_set
from playground.schema.documents import TOO_DEEP, SchemaError, shallow

FORMAT = "playground-prompts"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_PROMPTS = 500
MAX_TEXT = 100_000

VERSION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["messages"],
    "properties": {
        "number": {"type": "integer", "minimum": 1},
        "note": {"type": "string"},
        "author": {"type": ["string", "null"]},
        "created_at": {"type": ["string", "null"]},
        "system": {"type": "string", "maxLength": MAX_TEXT},
        "messages": {
            "type": "array",
            "maxItems": 200,
            "items": {
                "type": "object",
                "required": ["role", "content"],
                "properties": {
                    "role": {"enum": ["user", "assistant"]},
                    "content": {"type": "string", "maxLength": MAX_TEXT},
                },
            },
        },
        "provider": {"type": ["string", "null"]},
        "model": {"type": "string", "maxLength": 200},
        "params": {"type": "object"},
        "variables": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"description": {"type": "string"}, "default": {"type": "string"}},
            },
        },
    },
}

PROMPT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "versions"],
    "properties": {
        "name": {"type": "string", "maxLength": 200},
        "description": {"type": "string", "maxLength": MAX_TEXT},
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": {"enum": [choice.value for choice in Visibility]},
        "current_version": {"type": ["integer", "null"]},
        "versions": {"type": "array", "minItems": 1, "maxItems": 200, "items": VERSION_SCHEMA},
    },
}
_validator = Draft202012Validator(PROMPT_SCHEMA)


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not JSON, not a prompts file)."""


@dataclass
class ImportResult:
    position: int  # 1-based, in the file
    name: str
    prompt: Prompt | None = None
    reason: str = ""  # why it was rejected
    notes: list[str] = field(default_factory=list)  # imported, but worth knowing

    @property
    def imported(self) -> bool:
        return self.prompt is not None


# Export


def prompt_data(prompt: Prompt) -> dict[str, Any]:
    versions = prompt.versions.select_related("author", "provider").order_by("number")
    current = prompt.current_version
    return {
        "name": prompt.name,
        "description": prompt.description,
        "tags": prompt.tag_names,
        "visibility": prompt.visibility,
        "current_version": current.number if current else None,
        "versions": [
            {
                "number": version.number,
                "note": version.note,
                "author": version.author.get_username() if version.author else None,
                "created_at": version.created_at.isoformat(),
                "system": version.system,
                "messages": version.messages,
                "provider": version.provider.name if version.provider else (version.provider_name or None),
                "model": version.model,
                "params": version.params,
                "variables": version.variables,
            }
            for version in versions
        ],
    }


def export_data(prompts) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "prompts": [prompt_data(prompt) for prompt in prompts],
    }


def export_json(prompts) -> str:
    return json.dumps(export_data(prompts), indent=2, ensure_ascii=False)


# Import


def read_file(raw: bytes) -> list[Any]:
    """The list of prompt entries in a file; ImportFileError says plainly what is wrong."""
    if len(raw) > MAX_FILE_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError("The file is not UTF-8 text; export it again from Playground.") from error
    try:
        data = shallow(json.loads(text))  # validating a deeper one would exhaust the stack
    except json.JSONDecodeError as error:
        raise ImportFileError(
            f"The file is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from error
    except RecursionError:
        raise ImportFileError(TOO_DEEP) from None
    except SchemaError as error:
        raise ImportFileError(str(error)) from None
    if not isinstance(data, dict) or not isinstance(data.get("prompts"), list):
        raise ImportFileError('This is JSON but not a prompts file: it needs an object with a "prompts" list.')
    if data.get("format", FORMAT) != FORMAT:
        raise ImportFileError(f"This file's format is “{data.get('format')}”, not {FORMAT}.")
    if (
        not isinstance(data.get("format_version", FORMAT_VERSION), int)
        or data.get("format_version", FORMAT_VERSION) > FORMAT_VERSION
    ):
        raise ImportFileError("This file was written by a newer Playground; update this one to import it.")
    if len(data["prompts"]) > MAX_PROMPTS:
        raise ImportFileError(f"A file may hold at most {MAX_PROMPTS} prompts.")
    return data["prompts"]


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def problem_of(entry: Any) -> str:
    """Why an entry is not a valid prompt ("" when it is)."""
    error = best_match(_validator.iter_errors(entry))
    if error is None and not entry["name"].strip():
        return "name: a prompt needs a name."
    if error is not None:
        where = _path(error.absolute_path)
        return f"{where}: {error.message}" if where else error.message
    numbers = [version.get("number") for version in entry["versions"] if "number" in version]
    if len(numbers) != len(set(numbers)):
        return "Two versions have the same number."
    try:
        clean_tags(entry.get("tags", []))
    except ValidationError as error:
        return " ".join(error.messages)
    return ""


def _import_one(entry: dict[str, Any], *, team, user, providers: dict[str, Any], notes: list[str]) -> Prompt:
    visibility = entry.get("visibility", Visibility.TEAM)
    prompt = Prompt.objects.create(
        team=team,
        owner=user,
        name=entry["name"].strip(),
        description=entry.get("description", ""),
        visibility=visibility,
    )
    if visibility == Visibility.PRIVATE:
        notes.append("Private: only you see it.")
    tags_set(prompt, clean_tags(entry.get("tags", [])))
    ordered = sorted(enumerate(entry["versions"]), key=lambda pair: (pair[1].get("number", pair[0] + 1), pair[0]))
    missing: set[str] = set()
    current = None
    for new_number, (index, data) in enumerate(ordered, start=1):
        provider_name = data.get("provider") or ""
        provider = providers.get(provider_name)
        if provider_name and provider is None:
            missing.add(provider_name)
        written = ", ".join(part for part in (data.get("author") or "", (data.get("created_at") or "")[:10]) if part)
        note = data.get("note", "")
        if written:
            note = f"{note} (imported; written by {written})" if note else f"Imported; written by {written}"
        system, messages = data.get("system", ""), data["messages"]
        names = variables.names_of(system, messages)
        version = PromptVersion.objects.create(
            prompt=prompt,
            number=new_number,
            author=user,
            note=note[:300],
            system=system,
            messages=[{"role": message["role"], "content": message["content"]} for message in messages],
            provider=provider,
            provider_name=provider_name[:100],
            model=data.get("model", ""),
            params=data.get("params", {}),
            variables=variables.described(names, data.get("variables", {})),
        )
        if data.get("number", index + 1) == entry.get("current_version"):
            current = version
    prompt.current_version = current or version
    prompt.save(update_fields=["current_version"])
    for name in sorted(missing):
        notes.append(f"This team has no provider named “{name}”; versions that used it have no provider now.")
    return prompt


def import_prompts(raw: bytes, *, team, user) -> list[ImportResult]:
    """Import every valid prompt of the file into `team`, owned by `user`.

    Raises ImportFileError when the file as a whole cannot be read; otherwise returns one
    result per entry, imported or rejected with its reason.
    """
    entries = read_file(raw)
    providers = {provider.name: provider for provider in team.providers.all()}
    results = []
    for position, entry in enumerate(entries, start=1):
        name = entry.get("name") if isinstance(entry, dict) and isinstance(entry.get("name"), str) else ""
        result = ImportResult(position=position, name=name or f"Entry {position}")
        result.reason = problem_of(entry)
        if not result.reason:
            with transaction.atomic():
                result.prompt = _import_one(entry, team=team, user=user, providers=providers, notes=result.notes)
        results.append(result)
    return results
