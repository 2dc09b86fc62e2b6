"""'View code': the exact request as curl, Python (openai SDK) and Python (httpx).

Keys and secret header values never appear: they are read from environment variables whose
names the snippet shows.
"""

from __future__ import annotations

import json
import pprint
import re
import shlex
from typing import Any

from playground.providers.models import Provider

SDK_METHODS = {
    "chat": "client.chat.completions.create",
    "completions": "client.completions.create",
    "images": "client.images.generate",
    "embeddings": "client.embeddings.create",
}


def key_variable(provider: Provider) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "_", provider.name).strip("_").upper() or "PROVIDER"
    return f"{stem}_API_KEY"


def _header_variable(provider: Provider, name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "_", f"{provider.name} {name}").strip("_").upper()
    return stem


def _headers(provider: Provider) -> list[tuple[str, str, bool]]:
    """(name, value or variable, is_variable) for each extra header."""
    found = []
    for header in provider.extra_headers.all():
        if header.secret:
            found.append((header.name, _header_variable(provider, header.name), True))
        else:
            found.append((header.name, header.value, False))
    return found


def snippets(provider: Provider, url: str, endpoint: str, body: dict[str, Any]) -> dict[str, str]:
    variable = key_variable(provider)
    headers = _headers(provider)
    payload = json.dumps(body, indent=2, ensure_ascii=False)
    curl = [
        f"curl {shlex.quote(url)}",
        '  -H "Content-Type: application/json"',
        f'  -H "Authorization: Bearer ${variable}"',
    ]
    for name, value, is_variable in headers:
        shown = f"${value}" if is_variable else value
        curl.append(f'  -H "{name}: {shown}"')
    curl.append(f"  -d {shlex.quote(json.dumps(body, ensure_ascii=False))}")

    header_lines = "".join(
        f"        {name!r}: os.environ[{value!r}],\n" if is_variable else f"        {name!r}: {value!r},\n"
        for name, value, is_variable in headers
    )
    python_headers = f"    default_headers={{\n{header_lines}    }},\n" if headers else ""
    base_url = url[: url.rfind("/" + endpoint_path_tail(endpoint))] if endpoint_path_tail(endpoint) in url else url
    method = SDK_METHODS.get(endpoint, "client.post")
    sdk_args = ",\n".join(f"    {name}={_python(value)}" for name, value in body.items())
    openai_sdk = (
        "import os\n\nfrom openai import OpenAI\n\n"
        f"client = OpenAI(\n    base_url={base_url!r},\n    api_key=os.environ[{variable!r}],\n{python_headers})\n"
        f"response = {method}(\n{sdk_args},\n)\nprint(response)\n"
    )
    httpx_headers = "".join(
        f"        {name!r}: os.environ[{value!r}],\n" if is_variable else f"        {name!r}: {value!r},\n"
        for name, value, is_variable in headers
    )
    httpx_code = (
        "import os\n\nimport httpx\n\n"
        f"response = httpx.post(\n    {url!r},\n"
        f"    headers={{\n        'Authorization': f\"Bearer {{os.environ[{variable!r}]}}\",\n{httpx_headers}    }},\n"
        f"    json={_indent(payload)},\n    timeout=120,\n)\nprint(response.json())\n"
    )
    return {"curl": " \\\n".join(curl), "python_openai": openai_sdk, "python_httpx": httpx_code}


def endpoint_path_tail(endpoint: str) -> str:
    return {
        "chat": "chat/completions",
        "completions": "completions",
        "images": "images/generations",
        "embeddings": "embeddings",
    }.get(endpoint, "")


def _python(value: Any) -> str:
    return _indent(pprint.pformat(value, sort_dicts=False, width=100))


def _indent(text: str) -> str:
    return text.replace("\n", "\n    ")
