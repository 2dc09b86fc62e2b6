"""'View code': the request the app would send, as curl, Python (openai SDK) and Python (httpx),
each runnable as shown once the key is in an environment variable.

Keys and secret header values never appear: the snippets read them from environment variables
whose names they show.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from playground import upstream
from playground.providers.keys import accepts_stream_usage, provider_schema
from playground.providers.models import Provider
from playground.providers.profiles import profile_meta
from playground.upstream import Target

SDK_METHODS = {
    "chat": "client.chat.completions.create",
    "completions": "client.completions.create",
    "images": "client.images.generate",
    "embeddings": "client.embeddings.create",
}
# The keyword arguments each openai SDK method has had for long (1.x); any other field goes in
# `extra_body`, which every version sends as part of the JSON body. (A field passed as an
# unknown keyword is a TypeError; a known one in extra_body still works, so when in doubt a
# field is left out of these lists.)
SDK_KEYWORDS = {
    "chat": frozenset(
        {
            "messages",
            "model",
            "audio",
            "frequency_penalty",
            "function_call",
            "functions",
            "logit_bias",
            "logprobs",
            "max_completion_tokens",
            "max_tokens",
            "metadata",
            "modalities",
            "n",
            "parallel_tool_calls",
            "prediction",
            "presence_penalty",
            "reasoning_effort",
            "response_format",
            "seed",
            "service_tier",
            "stop",
            "store",
            "stream",
            "stream_options",
            "temperature",
            "tool_choice",
            "tools",
            "top_logprobs",
            "top_p",
            "user",
            "web_search_options",
        }
    ),
    "completions": frozenset(
        {
            "model",
            "prompt",
            "best_of",
            "echo",
            "frequency_penalty",
            "logit_bias",
            "logprobs",
            "max_tokens",
            "n",
            "presence_penalty",
            "seed",
            "stop",
            "stream",
            "stream_options",
            "suffix",
            "temperature",
            "top_p",
            "user",
        }
    ),
    "images": frozenset({"prompt", "model", "n", "quality", "response_format", "size", "style", "user"}),
    "embeddings": frozenset({"input", "model", "dimensions", "encoding_format", "user"}),
}
# Streamed like the chat page streams them; the others answer with one JSON document.
STREAMED = ("chat", "completions")
# What the page has no box for: the message, prompt or input a snippet sends.
SAMPLE_TEXT = "Hello!"
SAMPLE_PICTURE = "A lighthouse on a cliff at dusk, watercolour"
_SAMPLE_CONTENT = {
    "chat": {"messages": [{"role": "user", "content": SAMPLE_TEXT}]},
    "completions": {"prompt": SAMPLE_TEXT},
    "images": {"prompt": SAMPLE_PICTURE},
    "embeddings": {"input": [SAMPLE_TEXT]},
    "rerank": {"query": "Which one is about lighthouses?", "documents": [SAMPLE_PICTURE, SAMPLE_TEXT]},
}


def request_body(provider: Provider, endpoint, *, model: str, params: dict[str, Any]) -> dict[str, Any]:
    """The body the app sends for `params` (a conversation's first message "Hello!", a prompt, an
    input), including what the upstream client adds to a streamed call (`stream`, `stream_options`)."""
    body: dict[str, Any] = {"model": model} if model else {}
    sample = _SAMPLE_CONTENT.get(endpoint.endpoint, {})
    body.update({name: value for name, value in sample.items() if name in endpoint.content_fields})
    body.update(params)
    return sent_body(provider, endpoint.endpoint, body)


def sent_body(provider: Provider, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    """`body` as the app sends it to `endpoint`: streamed ones get what the upstream client adds."""
    if endpoint not in STREAMED:
        return body
    stream_usage = accepts_stream_usage(provider_schema(provider), profile_meta(provider.profile))
    return upstream.streamed_body(Target(base_url=provider.base_url, stream_usage=stream_usage), body)


def key_variable(provider: Provider) -> str:
    return _variable(provider.name, "API_KEY")


def _variable(*parts: str) -> str:
    """An environment variable name, one a shell reads as a whole: letters, digits and _, not
    starting with a digit ("1Cloud" would read as $1 followed by text)."""
    stem = re.sub(r"[^A-Za-z0-9]+", "_", " ".join(parts)).strip("_").upper()
    return stem if stem[:1].isalpha() else f"PROVIDER_{stem}"


def _headers(provider: Provider) -> list[tuple[str, str, bool]]:
    """(name, value or variable, is_variable) for each extra header."""
    found = []
    for header in provider.extra_headers.all():
        if header.secret:
            found.append((header.name, _variable(provider.name, header.name), True))
        else:
            found.append((header.name, header.value, False))
    return found


def snippets(provider: Provider, url: str, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    """The three snippets sending `body` (from request_body) to `url`."""
    variable, headers = key_variable(provider), _headers(provider)
    streamed = bool(body.get("stream"))
    return {
        "curl": _curl(url, variable, headers, body, streamed),
        "python_openai": _openai(url, endpoint, variable, headers, body, streamed),
        "python_httpx": _httpx(url, variable, headers, body, streamed),
        "key_variable": variable,
        "header_variables": [value for _, value, is_variable in headers if is_variable],
    }


def _curl(url: str, variable: str, headers: list[tuple[str, str, bool]], body: dict, streamed: bool) -> str:
    """Every value single-quoted (shlex.quote), so quotes, $(...), backticks and newlines in
    them stay text; only the variables are expanded."""
    lines = [f"curl {'-N ' if streamed else ''}{shlex.quote(url)}", "  -H 'Content-Type: application/json'"]
    lines.append(f'  -H "Authorization: Bearer ${{{variable}}}"')
    for name, value, is_variable in headers:
        shown = shlex.quote(f"{name}: ") + f'"${{{value}}}"' if is_variable else shlex.quote(f"{name}: {value}")
        lines.append(f"  -H {shown}")
    lines.append(f"  -d {shlex.quote(json.dumps(body, ensure_ascii=False))}")
    return " \\\n".join(lines)


def _python_headers(headers: list[tuple[str, str, bool]], indent: str) -> str:
    return "".join(
        f"{indent}{name!r}: os.environ[{value!r}],\n" if is_variable else f"{indent}{name!r}: {value!r},\n"
        for name, value, is_variable in headers
    )


def _openai(
    url: str, endpoint: str, variable: str, headers: list[tuple[str, str, bool]], body: dict, streamed: bool
) -> str:
    method = SDK_METHODS.get(endpoint)
    tail = upstream.DEFAULT_PATHS.get(endpoint, "").lstrip("/")
    if method is None or not url.rstrip("/").endswith("/" + tail):
        return "# The openai SDK has no method for this endpoint: use the httpx or curl version."
    base_url = url.rstrip("/")[: -len("/" + tail)]
    known = SDK_KEYWORDS[endpoint]
    keywords = [f"    {name}={_python(value, 4)},\n" for name, value in body.items() if name in known]
    extra = {name: value for name, value in body.items() if name not in known}
    if extra:
        # Fields the SDK has no keyword for are sent as they are, in the JSON body.
        keywords.append(f"    extra_body={_python(extra, 4)},\n")
    default_headers = f"    default_headers={{\n{_python_headers(headers, '        ')}    }},\n" if headers else ""
    shown = "for chunk in response:\n    print(chunk)\n" if streamed else "print(response)\n"
    return (
        "import os\n\nfrom openai import OpenAI\n\n"
        f"client = OpenAI(\n    base_url={base_url!r},\n    api_key=os.environ[{variable!r}],\n{default_headers})\n"
        f"response = {method}(\n{''.join(keywords)})\n{shown}"
    )


def _httpx(url: str, variable: str, headers: list[tuple[str, str, bool]], body: dict, streamed: bool) -> str:
    arguments = (
        f"    {url!r},\n"
        f"    headers={{\n        'Authorization': 'Bearer ' + os.environ[{variable!r}],\n"
        f"{_python_headers(headers, '        ')}    }},\n"
        f"    json={_python(body, 4)},\n    timeout=120,\n"
    )
    if streamed:
        return (
            "import os\n\nimport httpx\n\n"
            f"with httpx.stream(\n    'POST',\n{arguments}) as response:\n"
            "    if response.is_error:\n"
            "        print(response.read().decode())  # the API's own words on what is wrong\n"
            "    response.raise_for_status()\n"
            "    for line in response.iter_lines():\n"
            "        if line:\n"
            "            print(line)\n"
        )
    return (
        "import os\n\nimport httpx\n\n"
        f"response = httpx.post(\n{arguments})\n"
        "print(response.json() if response.is_success else response.text)\n"
        "response.raise_for_status()\n"
    )


def _python(value: Any, indent: int) -> str:
    """A JSON value as a Python literal (True, None: not JSON's true, null), on one line when it
    fits, else one entry a line, indented to sit in a call at `indent` spaces."""
    flat = repr(value)
    if len(flat) + indent <= 88 or not isinstance(value, dict | list) or not value:
        return flat
    inner = " " * (indent + 4)
    if isinstance(value, dict):
        entries = [f"{inner}{key!r}: {_python(item, indent + 4)},\n" for key, item in value.items()]
        return "{\n" + "".join(entries) + " " * indent + "}"
    entries = [f"{inner}{_python(item, indent + 4)},\n" for item in value]
    return "[\n" + "".join(entries) + " " * indent + "]"
