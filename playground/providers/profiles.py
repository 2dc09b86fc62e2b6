"""The built-in provider profiles: one OpenAPI document per kind of provider.

Profiles are data (profiles/*.json, written from each API's reference); the demo profile is
the built-in demo upstream's own document.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
DEMO = "demo"


@functools.cache
def _load(name: str) -> dict[str, Any]:
    if name == DEMO:
        from playground.demo.openapi import document

        return document()
    path = PROFILES_DIR / f"{name}.json"
    if not path.is_file():
        raise KeyError(name)
    return json.loads(path.read_text())


def profile_names() -> list[str]:
    names = sorted(path.stem for path in PROFILES_DIR.glob("*.json"))
    return [DEMO, *names]


def profile_document(name: str) -> dict[str, Any]:
    """The profile's OpenAPI document (a fresh copy callers may change)."""
    return json.loads(json.dumps(_load(name)))


def profile_meta(name: str) -> dict[str, Any]:
    try:
        document = _load(name)
    except KeyError:
        return {"profile": name, "label": name}
    meta = dict(document.get("x-playground") or {})
    meta.setdefault("profile", name)
    meta.setdefault("label", "Built-in demo" if name == DEMO else (document.get("info") or {}).get("title", name))
    meta.setdefault("stream_usage", name == DEMO)
    meta["headers"] = document.get("x-playground-headers") or []
    servers = document.get("servers") or []
    meta.setdefault("base_url", servers[0].get("url", "") if servers else "")
    return meta


def profile_choices() -> list[tuple[str, str]]:
    return [(name, profile_meta(name)["label"]) for name in profile_names()]
