"""The built-in provider profiles: one OpenAPI document per kind of provider.

Profiles are data (profiles/*.json, written from each API's reference); demo.json is also the
document the built-in demo upstream serves and validates against.
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
    path = PROFILES_DIR / f"{name}.json"
    if not path.is_file():
        raise KeyError(name)
    return json.loads(path.read_text())


def profile_names() -> list[str]:
    """The demo first (it needs no key), then the others by name."""
    names = sorted(path.stem for path in PROFILES_DIR.glob("*.json"))
    return sorted(names, key=lambda name: name != DEMO)


def profile_document(name: str) -> dict[str, Any]:
    """The profile's OpenAPI document (a fresh copy callers may change)."""
    return json.loads(json.dumps(_load(name)))


def profile_meta(name: str) -> dict[str, Any]:
    try:
        document = _load(name)
    except KeyError:
        return {"profile": name, "label": name, "headers": []}
    meta = dict(document.get("x-playground") or {})
    meta.setdefault("profile", name)
    meta.setdefault("label", (document.get("info") or {}).get("title", name))
    meta.setdefault("stream_usage", False)
    meta["headers"] = document.get("x-playground-headers") or []
    servers = document.get("servers") or []
    meta.setdefault("base_url", servers[0].get("url", "") if servers else "")
    return meta


def profile_choices() -> list[tuple[str, str]]:
    return [(name, profile_meta(name)["label"]) for name in profile_names()]
