"""A strict stand-in for one seed system, written from its profile's OpenAPI document.

It serves only the paths the document has, under its server's base path (IONOS `/v1/…`, JamAI
`/api/v1/…`), on a real socket in a thread of its own, so that pages (the synchronous test
client) and the chat socket (async tests) reach it alike. It refuses, in that API's own error
shape, any request without the bearer key, without a header its key needs, or with a JSON body
the document's request schema rejects (a field the document does not name included), and
records every request. It answers as the seed page describes: streams ending with
`data: [DONE]`, IONOS legacy's `system_fingerprint` on every chunk, JamAI's references first
when asked for RAG, IONOS pictures as base64 only in sizes written with an asterisk.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from PIL import Image

from playground.providers.profiles import profile_document

KEY = "seed-key-0123456789abcdef"

ENDPOINTS = {  # the end of a document's path -> what it does
    "chat/completions": "chat",
    "completions": "completions",
    "images/generations": "images",
    "embeddings": "embeddings",
    "rerank": "rerank",
    "models": "models",
}

STATUS_TEXT = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed"}
STATUS_TEXT |= {422: "Unprocessable Entity", 429: "Too Many Requests"}


# --- What differs between the four systems ----------------------------------------------------


def openai_error(kind: str, message: str, problems: list[dict[str, Any]]) -> dict[str, Any]:
    """IONOS (both revisions): the profile's `Error`, OpenAI's shape."""
    param = ".".join(str(part) for part in problems[0]["loc"][1:]) if problems else None
    return {"error": {"message": message, "type": kind, "param": param or None, "code": None}}


def fastapi_error(kind: str, message: str, problems: list[dict[str, Any]]) -> dict[str, Any]:
    """The research API is FastAPI: a list of problems for a bad body, else one sentence."""
    return {"detail": problems or message}


def jamai_error(kind: str, message: str, problems: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "error", "error": kind, "message": message, **({"detail": problems} if problems else {})}


@dataclass(frozen=True)
class System:
    error: Callable[[str, str, list[dict[str, Any]]], dict[str, Any]]
    invalid_status: int  # for a body the schema rejects
    models: tuple[dict[str, Any], ...] = ()
    models_object: str = "list"
    fingerprint: str | None = None  # sent with every answer and chunk
    usage_in_stream: bool = False


IONOS_MODELS = tuple(
    {"id": name, "object": "model", "created": 1718000000, "owned_by": "IONOS"}
    for name in (
        "meta-llama/Meta-Llama-3-70B-Instruct",
        "stabilityai/stable-diffusion-xl-base-1.0",
        "intfloat/e5-large-v2",
    )
)
JAMAI_MODELS = (
    {"id": "openai/gpt-4o-mini", "name": "OpenAI GPT-4o Mini", "context_length": 128000, "capabilities": ["chat"]},
    {"id": "ellm/BAAI/bge-m3", "name": "BGE M3", "context_length": 8192, "capabilities": ["embed"]},
    {
        "id": "cohere/rerank-multilingual-v3.0",
        "name": "Cohere Rerank Multilingual v3.0",
        "context_length": 4096,
        "capabilities": ["rerank"],
    },
)
SYSTEMS = {
    "ionos-model-hub": System(openai_error, 400, IONOS_MODELS),
    "ionos-legacy": System(openai_error, 400, IONOS_MODELS, fingerprint="fp_ionos_inference_2024"),
    "research": System(fastapi_error, 422),
    "jamai-base": System(jamai_error, 422, JAMAI_MODELS, models_object="models.info", usage_in_stream=True),
}

# What JamAI's Knowledge Table finds for a RAG question, cited as [@0], [@1].
KNOWLEDGE = (
    {"title": "Onboarding handbook", "file_name": "handbook.pdf", "page": 3, "text": "New starters get a laptop."},
    {"title": "Travel policy", "file_name": "travel.md", "page": None, "text": "Trains are booked first class."},
)


# --- The server --------------------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: Any  # parsed JSON, or None
    refusal: str | None = None  # why it was refused; None when it was answered


@dataclass
class Route:
    endpoint: str
    validator: Draft202012Validator | None  # of the request body, where there is one
    schema: dict[str, Any]  # the request body's schema, its $ref followed
    required_headers: tuple[str, ...] = ()

    def default(self, name: str) -> Any:
        return ((self.schema.get("properties") or {}).get(name) or {}).get("default")


@dataclass
class Answer:
    status: int
    payload: Any = None
    events: list[Any] | None = None  # a stream: JSON objects, then [DONE]
    headers: dict[str, str] = field(default_factory=dict)


class StandIn:
    """`with StandIn("jamai-base") as server:` … `server.base_url`, `server.received`.

    `needs` are headers (name -> value) the key needs besides the bearer token, as a JamAI
    service key needs X-PROJECT-ID; `rate_limited` answers the next N requests 429.
    """

    def __init__(self, profile: str, *, key: str = KEY, needs: dict[str, str] | None = None, rate_limited: int = 0):
        self.profile = profile
        self.system = SYSTEMS[profile]
        self.document = profile_document(profile)
        self.key = key
        self.needs = {name.lower(): value for name, value in (needs or {}).items()}
        self.rate_limited = rate_limited
        self.received: list[Received] = []
        self.answers: list[str] = []  # the text of each chat answer, as sent
        server_url = (self.document.get("servers") or [{"url": ""}])[0]["url"]
        self.base_path = urlsplit(server_url).path.rstrip("/")
        self.routes = self._routes()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), name=f"standin-{profile}")

    # Test-facing ---------------------------------------------------------------------------

    def __enter__(self) -> StandIn:
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("The stand-in did not start listening.")
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    @property
    def base_url(self) -> str:
        """What a person enters as the provider's base URL (the document's server, here)."""
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    @property
    def refusals(self) -> list[Received]:
        return [request for request in self.received if request.refusal]

    @property
    def endpoints(self) -> set[str]:
        """What the document has: "chat", "embeddings", "models", …"""
        return {route.endpoint for methods in self.routes.values() for route in methods.values()}

    def path_of(self, endpoint: str) -> str:
        """Where the stand-in serves that endpoint: the document's path under its server's."""
        return next(
            path for path, methods in self.routes.items() for route in methods.values() if route.endpoint == endpoint
        )

    def calls_to(self, endpoint: str) -> list[Received]:
        """The requests answered or refused at that endpoint ("chat", "models", …), in order."""
        return [r for r in self.received if getattr(self._route(r), "endpoint", None) == endpoint]

    def _route(self, received: Received) -> Route | None:
        return self.routes.get(received.path, {}).get(received.method)

    @staticmethod
    def vector(text: str, dimensions: int = 1024) -> list[float]:
        """The embedding of `text`: the same for the same text, in [-1, 1]."""
        digest = b"".join(hashlib.sha512(f"{text}:{block}".encode()).digest() for block in range(dimensions // 64 + 1))
        return [round(byte / 127.5 - 1, 6) for byte in digest[:dimensions]]

    # From the document ---------------------------------------------------------------------

    def _routes(self) -> dict[str, dict[str, Route]]:
        components = self.document.get("components") or {}
        routes: dict[str, dict[str, Route]] = {}
        for path, item in self.document["paths"].items():
            endpoint = next(kind for end, kind in ENDPOINTS.items() if path.endswith("/" + end))
            for method, operation in item.items():
                content = ((operation.get("requestBody") or {}).get("content") or {}).get("application/json")
                schema = (content or {}).get("schema")
                validator = Draft202012Validator({**schema, "components": components}) if schema else None
                headers = tuple(
                    parameter["name"].lower()
                    for parameter in map(self._resolved, operation.get("parameters") or ())
                    if parameter.get("in") == "header" and parameter.get("required")
                )
                route = Route(endpoint, validator, self._resolved(schema or {}), headers)
                routes.setdefault(self.base_path + path, {})[method.upper()] = route
        return routes

    def _resolved(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            found: Any = self.document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                found = found[part]
            schema = found
        return schema

    # HTTP ----------------------------------------------------------------------------------

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        writers: set[asyncio.StreamWriter] = set()
        handlers: set[asyncio.Task] = set()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            handlers.add(asyncio.current_task())
            writers.add(writer)
            try:
                while await self._exchange(reader, writer):
                    pass
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()
                writers.discard(writer)
                handlers.discard(asyncio.current_task())

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            for writer in list(writers):  # connections a client keeps alive
                writer.close()
            if handlers:
                await asyncio.wait(handlers, timeout=10)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read one request and answer it; False when the client has gone."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {}
        for line in lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        raw = await reader.readexactly(int(headers.get("content-length", "0")))
        received = Received(method, urlsplit(target).path, headers, None)
        self.received.append(received)
        answer = self._answer(received, raw, chunked="chunked" in headers.get("transfer-encoding", ""))
        if answer.status >= 400:
            received.refusal = received.refusal or f"{answer.status}: {json.dumps(answer.payload)}"
        await self._send(writer, answer)
        return True

    async def _send(self, writer: asyncio.StreamWriter, answer: Answer) -> None:
        head = [f"HTTP/1.1 {answer.status} {STATUS_TEXT.get(answer.status, 'X')}", *self._fixed_headers()]
        head += [f"{name}: {value}" for name, value in answer.headers.items()]
        if answer.events is None:
            body = json.dumps(answer.payload).encode()
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            await writer.drain()
            return
        head += ["Content-Type: text/event-stream", "Cache-Control: no-cache", "Transfer-Encoding: chunked"]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        for event in [*answer.events, "[DONE]"]:
            data = f"data: {event if event == '[DONE]' else json.dumps(event)}\n\n".encode()
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await writer.drain()  # one event per read, as a model streams
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    def _fixed_headers(self) -> list[str]:
        return ["Server: seed-stand-in", f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime())}"]

    # Checks --------------------------------------------------------------------------------

    def _refuse(self, status: int, kind: str, message: str, problems=(), **headers: str) -> Answer:
        return Answer(status, self.system.error(kind, message, list(problems)), headers=headers)

    def _answer(self, received: Received, raw: bytes, *, chunked: bool) -> Answer:
        methods = self.routes.get(received.path)
        if methods is None:
            return self._refuse(404, "not_found", "Not Found")
        route = methods.get(received.method)
        if route is None:
            return self._refuse(405, "method_not_allowed", "Method Not Allowed")
        if received.headers.get("authorization") != f"Bearer {self.key}":
            return self._refuse(401, "unauthorized", "Invalid or missing bearer token.")
        needed = {name: self.needs.get(name) for name in (*route.required_headers, *self.needs)}
        for name, value in needed.items():
            if name not in received.headers or (value is not None and received.headers[name] != value):
                return self._refuse(401, "unauthorized", "You are not authorized to access this project.")
        if self.rate_limited:
            self.rate_limited -= 1
            limits = {"Retry-After": "0", "X-RateLimit-Limit": "60/minute", "X-RateLimit-Burst": "10"}
            return self._refuse(429, "rate_limited", "Rate limit exceeded.", **limits)
        if route.endpoint == "models":
            return Answer(200, {"object": self.system.models_object, "data": list(self.system.models)})
        problems = self._problems(route, received, raw, chunked)
        if problems:
            message = "; ".join(f"{'.'.join(map(str, p['loc'][1:])) or 'body'}: {p['msg']}" for p in problems)
            return self._refuse(self.system.invalid_status, "validation_error", message, problems)
        if route.endpoint in ("chat", "completions"):
            return self._text_answer(route, received.body)
        return getattr(self, f"_{route.endpoint}")(received.body)

    def _problems(self, route: Route, received: Received, raw: bytes, chunked: bool) -> list[dict[str, Any]]:
        """What the document finds wrong with the request's body, FastAPI's way: loc, msg, type."""
        if chunked or "application/json" not in received.headers.get("content-type", ""):
            return [
                {"type": "content_type", "loc": ["body"], "msg": "Send a JSON body with its length.", "input": None}
            ]
        try:
            received.body = json.loads(raw)
        except ValueError as error:
            return [{"type": "json_invalid", "loc": ["body"], "msg": f"JSON decode error: {error}", "input": None}]
        problems = [
            {
                "type": error.validator,
                "loc": ["body", *error.absolute_path],
                "msg": error.message,
                "input": error.instance,
            }
            for error in route.validator.iter_errors(received.body)
        ]
        if isinstance(received.body, dict):  # strict: a field the document does not name is refused
            named = route.schema.get("properties") or {}
            problems += [
                {
                    "type": "extra_forbidden",
                    "loc": ["body", name],
                    "msg": "Extra inputs are not permitted",
                    "input": value,
                }
                for name, value in received.body.items()
                if name not in named
            ]
        return problems

    # Answers -------------------------------------------------------------------------------

    def _text_answer(self, route: Route, body: dict[str, Any]) -> Answer:
        """A chat or text completion: the question heard, cut at the token limit (or the
        document's default one: IONOS stops at 16 unless told otherwise)."""
        chat = route.endpoint == "chat"
        question = _last_user_text(body["messages"]) if chat else body["prompt"]
        rag = body.get("rag_params") if chat else None
        references = _references(question, rag) if rag else None
        words = f"{'Cited [@0]: ' if references else ''}Heard “{question}” at {self.profile}.".split(" ")
        limit = body.get("max_completion_tokens") or body.get("max_tokens") or route.default("max_tokens")
        pieces = [word + " " for word in words[:-1]] + [words[-1]]
        finish = "length" if limit and len(pieces) > limit else "stop"
        pieces = pieces[:limit] if limit else pieces
        self.answers.append("".join(pieces))
        usage = {"prompt_tokens": len(question.split()), "completion_tokens": len(pieces)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        common = {"id": f"cmpl-{len(self.answers)}", "created": int(time.time()), "model": body.get("model", "")}
        if chat and self.system.fingerprint:  # the seed shows it on chat answers only
            common["system_fingerprint"] = self.system.fingerprint
        if body.get("stream"):
            return Answer(200, events=self._chunks(common, chat, pieces, finish, usage, references))
        choice = {"message": {"role": "assistant", "content": self.answers[-1]}} if chat else {"text": self.answers[-1]}
        payload = {**common, "object": "chat.completion" if chat else "text_completion", "usage": usage}
        payload["choices"] = [{"index": 0, **choice, "finish_reason": finish}]
        return Answer(200, {**payload, **({"references": references} if references else {})})

    def _chunks(self, common, chat: bool, pieces: list[str], finish: str, usage, references) -> list[dict[str, Any]]:
        """A streamed answer: JamAI's references first, a chunk per token, the finish (with
        usage where the system counts it in streams)."""

        def chunk(choice: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            kind = "chat.completion.chunk" if chat else "text_completion"
            return {**common, "object": kind, "choices": [{"index": 0, **choice, "finish_reason": finish_reason}]}

        events = [references] if references else []
        for index, piece in enumerate(pieces):
            role = {"role": "assistant"} if index == 0 else {}
            events.append(chunk({"delta": {**role, "content": piece}} if chat else {"text": piece}))
        events.append(chunk({"delta": {}} if chat else {"text": ""}, finish))
        if self.system.usage_in_stream:
            events[-1]["usage"] = usage
        return events

    def _embeddings(self, body: dict[str, Any]) -> Answer:
        texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
        dimensions = body.get("dimensions") or 1024
        data = []
        for index, text in enumerate(texts):
            vector: Any = self.vector(text, dimensions)
            if body.get("encoding_format") == "base64":
                vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": vector})
        tokens = sum(len(text.split()) for text in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return Answer(200, {"object": "list", "model": body["model"], "data": data, "usage": usage})

    def _images(self, body: dict[str, Any]) -> Answer:
        width, height = (int(side) for side in body.get("size", "1024*1024").split("*"))
        picture = io.BytesIO()
        Image.new("RGB", (width, height), (40, 90, 160)).save(picture, "PNG")
        encoded = base64.b64encode(picture.getvalue()).decode()
        data = [{"url": None, "b64_json": encoded} for _ in range(body.get("n", 1))]
        return Answer(200, {"created": int(time.time()), "data": data})

    def _rerank(self, body: dict[str, Any]) -> Answer:
        query = set(body["query"].lower().split())
        results = [
            {
                "object": "reranking",
                "index": index,
                "relevance_score": round(len(query & set(text.lower().split())) / (len(query) or 1), 4),
            }
            for index, text in enumerate(body["documents"])
        ]
        tokens = sum(len(text.split()) for text in [body["query"], *body["documents"]])
        usage = {"documents": len(results), "input_tokens": tokens, "output_tokens": None}
        return Answer(200, {"object": "list", "results": results, "usage": usage, "meta": {"model": body["model"]}})


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    content = next((m.get("content") for m in reversed(messages) if m["role"] == "user"), "")
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if part.get("type") == "text")
    return content or ""


def _references(question: str, rag: dict[str, Any]) -> dict[str, Any]:
    """JamAI's `chat.references` object (the profile's References): the k chunks found."""
    chunks = [
        {**chunk, "document_id": f"doc-{index}", "chunk_id": f"{rag['table_id']}-{index}", "metadata": {}}
        for index, chunk in enumerate(KNOWLEDGE[: rag.get("k", 3)])
    ]
    return {"object": "chat.references", "chunks": chunks, "search_query": rag.get("search_query") or question}
