"""What the demo model says: answer text, tokens, stop and length cuts, logprobs, tool calls and JSON answers."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from typing import Any

import orjson

from playground.demo.catalog import MODELS

_TOKEN = re.compile(r"\S+\s*|\s+")
_QUOTE_LENGTH = 80


def tokenize(text: str) -> list[str]:
    """Split text into one word plus its following whitespace each; joined, the tokens give the text back."""
    return _TOKEN.findall(text)


def count_words(text: str) -> int:
    return len(text.split())


def cut(text: str, *, stop: list[str], max_tokens: int | None) -> tuple[list[str], str]:
    """The tokens actually sent and the finish reason, after stop strings (excluded) and the token limit."""
    found = [position for position in (text.find(sequence) for sequence in stop if sequence) if position >= 0]
    if found:
        text = text[: min(found)]
    tokens = tokenize(text)
    if max_tokens is not None and len(tokens) > max_tokens:
        return tokens[:max_tokens], "length"
    return tokens, "stop"


def mentions(text: str, word: str) -> bool:
    return re.search(rf"\b{word}", text, re.IGNORECASE) is not None


def _quote(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= _QUOTE_LENGTH:
        return text
    return text[:_QUOTE_LENGTH].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def _show_value(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= 60 else text[:59] + "…"


def parameters_line(parameters: list[tuple[str, Any]], *, required: str) -> str:
    if not parameters:
        return f"No parameters beyond {required} were sent."
    shown = ", ".join(f"`{name}` = {_show_value(value)}" for name, value in parameters)
    return f"Parameters received: {shown}."


_CODE = '''Here is some Python, as asked: the way this demo splits its answers into tokens.

```python
import re


def tokens(text: str) -> list[str]:
    """Split text into one word plus its following whitespace each."""
    return re.findall(r"\\S+\\s*|\\s+", text)


print(tokens("Hello from the demo model!"))
```'''

_LIST = """Here is a list of things to try:

- Mention **code**, a **table** or a **list** in your message to get formatted answers.
- Set `max_tokens` to see an answer cut short with finish reason `length`.
- Add a `stop` sequence to end the answer where it first appears.
- Pick `demo-slow`, `demo-flaky`, `demo-ratelimited` or `demo-broken` to see failures handled."""

_INTRO = (
    "This is the built-in demo model: it runs inside the playground, needs no API key and gives "
    "the same answer to the same request. The words are canned, but the wire format, streaming "
    "and usage numbers are real. To see how failures look, try `demo-slow` (a long wait before "
    "the answer), `demo-flaky` (every other call fails), `demo-ratelimited` (every other call is "
    "refused with Retry-After) and `demo-broken` (the stream breaks after a few words)."
)


def _table() -> str:
    rows = "\n".join(f"| `{model.id}` | {model.purpose} |" for model in MODELS.values())
    return f"Here is a table of the demo models:\n\n| Model | What it is for |\n| --- | --- |\n{rows}"


def _sections(text: str) -> list[str]:
    sections = []
    if mentions(text, "code"):
        sections.append(_CODE)
    if mentions(text, "table"):
        sections.append(_table())
    if mentions(text, "list"):
        sections.append(_LIST)
    return sections or [_INTRO]


def chat_answer(*, last_user_text: str | None, parameters: list[tuple[str, Any]], long: bool = False) -> str:
    """The markdown answer to a chat request."""
    if last_user_text is None or not last_user_text.strip():
        opening = "There is no user message to answer, so here is the demo's standard reply."
    else:
        opening = f'You said: "{_quote(last_user_text)}"'
    required = "`model` and `messages`"
    parts = [f"{opening}\n{parameters_line(parameters, required=required)}", *_sections(last_user_text or "")]
    if long:
        parts.append(long_text())
    return "\n\n".join(parts)


def completion_answer(*, prompt: str, parameters: list[tuple[str, Any]], long: bool = False) -> str:
    """The text that continues a legacy completion prompt."""
    parts = [
        " … and that is where the demo model takes over, continuing the prompt.\n"
        + parameters_line(parameters, required="`model` and `prompt`"),
        *_sections(prompt),
    ]
    if long:
        parts.append(long_text())
    return "\n\n".join(parts)


_TOPICS = [
    "Time to first token",
    "Streaming deltas",
    "Retries and backoff",
    "Rate limits",
    "Keep-alive comments",
    "Usage accounting",
    "Broken streams",
    "Rendering markdown",
]
_SENTENCES = [
    "A streamed answer arrives as many small events, and each one carries a few characters of text.",
    "The first token usually takes longer than the rest, because the model reads the whole prompt first.",
    "A client should keep what arrived so far when the connection drops, and say clearly that it stopped.",
    "Retrying makes sense only before the first byte; after that, a retry would repeat text the user saw.",
    "A server that is busy answers with status 429 and a Retry-After header saying when to come back.",
    "Comment lines that start with a colon keep idle connections open and carry no data at all.",
    "Counting tokens on both sides of a call lets a team see what each project costs and how fast it ran.",
    "Long answers test whether the page stays responsive while thousands of small updates arrive.",
    "Markdown is rendered after sanitising, so a model can never inject a script into the page.",
    "This paragraph is part of a deliberately long answer from `demo-long`, written to be predictable.",
    "Each section repeats ideas on purpose; what matters here is the length and steady pace of the stream.",
]
LONG_MIN_TOKENS = 3200


@cache
def long_text() -> str:
    """Markdown sections adding up to more than LONG_MIN_TOKENS tokens, the same every time."""
    sections: list[str] = []
    total = 0
    index = 0
    while total < LONG_MIN_TOKENS:
        start = (index * 3) % len(_SENTENCES)
        paragraph = " ".join(_SENTENCES[(start + offset) % len(_SENTENCES)] for offset in range(7))
        section = f"## Part {index + 1}: {_TOPICS[index % len(_TOPICS)]}\n\n{paragraph}"
        sections.append(section)
        total += len(tokenize(section)) + 1
        index += 1
    return "\n\n".join(sections)


def _digest(*parts: object, size: int = 8) -> bytes:
    return hashlib.blake2b("\x00".join(str(part) for part in parts).encode(), digest_size=size).digest()


_ALTERNATIVES = [
    "the ",
    "a ",
    "demo ",
    "model ",
    "and ",
    "to ",
    "of ",
    "is ",
    "answer ",
    "stream ",
    "token ",
    "it ",
    "in ",
    "for ",
    "this ",
    "that ",
    "with ",
    "on ",
    "as ",
    "text ",
    "word ",
]


def _logprob(token: str, position: int) -> float:
    fraction = int.from_bytes(_digest(position, token, size=4), "little") / 2**32
    return -round(0.0005 + 2.5 * fraction**2, 4)


def _entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode())}


def chat_logprobs(token: str, position: int, top: int) -> dict[str, Any]:
    """A chat `logprobs.content` item: the token's log probability and `top` alternatives, best first."""
    logprob = _logprob(token, position)
    alternatives = [_entry(token, logprob)] if top else []
    for rank, other in enumerate(word for word in _ALTERNATIVES if word != token):
        if len(alternatives) >= top:
            break
        alternatives.append(_entry(other, round(logprob - 0.75 * (rank + 1), 4)))
    return {**_entry(token, logprob), "top_logprobs": alternatives}


def text_logprobs(tokens: list[str], start_position: int, text_offset: int, top: int) -> dict[str, Any]:
    """Legacy /completions `logprobs` for a run of tokens."""
    items = [chat_logprobs(token, start_position + i, top) for i, token in enumerate(tokens)]
    offsets = []
    for token in tokens:
        offsets.append(text_offset)
        text_offset += len(token)
    return {
        "tokens": tokens,
        "token_logprobs": [item["logprob"] for item in items],
        "top_logprobs": [{alt["token"]: alt["logprob"] for alt in item["top_logprobs"]} for item in items],
        "text_offset": offsets,
    }


def example_for(schema: Any, depth: int = 0) -> Any:
    """A value that fits a JSON Schema: strings "demo", numbers 1, booleans true, objects filled in."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        branches = [branch for branch in schema.get(key, []) if isinstance(branch, dict)]
        usable = [branch for branch in branches if branch.get("type") != "null"]
        if usable:
            return example_for(usable[0], depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if isinstance(kind, list):
        kind = next((name for name in kind if name != "null"), None)
    if kind == "string":
        return "demo"
    if kind in ("number", "integer"):
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        return [example_for(schema.get("items", {"type": "string"}), depth + 1)]
    if kind == "object":
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return {}
        return {name: example_for(item, depth + 1) for name, item in properties.items()}
    return None


def tool_to_call(tools: list[dict[str, Any]], tool_choice: Any, last_user_text: str) -> dict[str, Any] | None:
    """The function the demo calls instead of answering in text, or None."""
    functions = [tool["function"] for tool in tools if tool.get("type") == "function"]
    if not functions or tool_choice == "none":
        return None
    if isinstance(tool_choice, dict):
        wanted = tool_choice["function"]["name"]
        return next((function for function in functions if function["name"] == wanted), None)
    if tool_choice == "required":
        return functions[0]
    if mentions(last_user_text, "weather"):
        weather = [function for function in functions if "weather" in function["name"].lower()]
        return (weather or functions)[0]
    return None


def tool_call_id(name: str, arguments: str, index: int) -> str:
    return "call_demo_" + _digest(name, arguments, index, size=12).hex()


def fragments(text: str, size: int = 6) -> list[str]:
    """`text` in pieces of `size` characters, as tool-call arguments arrive when streamed."""
    return [text[start : start + size] for start in range(0, len(text), size)] or [""]


def json_answer(*, answer: str, parameters: list[tuple[str, Any]], response_format: dict[str, Any]) -> str:
    """The JSON object text given for response_format json_object or json_schema."""
    schema = (response_format.get("json_schema") or {}).get("schema")
    if response_format["type"] == "json_schema" and isinstance(schema, dict) and "properties" in schema:
        value = example_for(schema)
    else:
        value = {"answer": answer, "parameters": dict(parameters)}
    return orjson.dumps(value).decode()  # compact, as models usually send it


# A tiny knowledge table for requests with JamAI-style `rag_params`: the demo answers them
# with a `chat.references` event first, as JamAI Base does, so citations can be tried.
_KNOWLEDGE = [
    ("Playground guide", "playground-guide.md", 1, "Every call through Playground writes one usage record."),
    ("Playground guide", "playground-guide.md", 2, "API keys are encrypted at rest and shown masked."),
    ("Demo upstream", "demo.md", 1, "The demo upstream streams answers at a realistic pace and needs no key."),
    ("Demo upstream", "demo.md", 2, "demo-flaky fails every other call; demo-ratelimited answers 429 first."),
    ("Streaming notes", "streaming.pdf", 4, "Stopping an answer keeps the text that already arrived."),
    ("Streaming notes", "streaming.pdf", 7, "A reload in the middle of an answer continues it live."),
]


def references_for(query: str, rag_params: dict[str, Any]) -> dict[str, Any]:
    """A `chat.references` object: the `k` knowledge chunks sharing most words with the query."""
    words = set(re.findall(r"\w+", query.lower()))
    k = max(1, min(int(rag_params.get("k") or 3), len(_KNOWLEDGE)))
    ranked = sorted(_KNOWLEDGE, key=lambda item: -len(words & set(re.findall(r"\w+", item[3].lower()))))
    chunks = [
        {
            "text": text,
            "title": title,
            "page": page,
            "file_name": name,
            "document_id": name,
            "chunk_id": f"{name}#{page}",
        }
        for title, name, page, text in ranked[:k]
    ]
    return {"object": "chat.references", "chunks": chunks, "search_query": query, "finish_reason": None}
