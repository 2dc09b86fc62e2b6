"""The demo's OpenAPI 3.1 document; its request schemas are also what the demo validates against.

There is one copy, `playground/providers/profiles/demo.json`, so the document the demo serves
and the forms the Playground builds for the Demo provider cannot drift apart. The demo reads
it as a file: it imports nothing from `providers`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson

DOCUMENT_PATH = Path(__file__).resolve().parents[1] / "providers" / "profiles" / "demo.json"


@cache
def document() -> dict[str, Any]:
    return orjson.loads(DOCUMENT_PATH.read_bytes())


@cache
def document_bytes() -> bytes:
    return orjson.dumps(document())


SCHEMAS: dict[str, dict[str, Any]] = document()["components"]["schemas"]
