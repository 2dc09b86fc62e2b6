"""The built-in OpenAI-compatible demo upstream as a plain ASGI app: routing, the key check, errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from playground.demo import catalog, chat, embeddings, images, rerank
from playground.demo.keys import is_demo_key
from playground.demo.openapi import document_bytes
from playground.demo.wire import DEMO_PREFIX, ApiError, Receive, Request, Scope, Send, send_bytes, send_error, send_json

__all__ = ["DEMO_PREFIX", "application"]

logger = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[None]]


async def _models(request: Request) -> None:
    await send_json(request, 200, catalog.models_list())


async def _model(request: Request) -> None:
    model_id = request.path.removeprefix("/models/")
    model = catalog.MODELS.get(model_id)
    if model is None:
        raise ApiError(404, f"The model `{model_id}` does not exist.", code="model_not_found", param="model")
    await send_json(request, 200, catalog.model_object(model))


async def _openapi(request: Request) -> None:
    await send_bytes(request, 200, document_bytes(), "application/json")


# path -> (method, handler, needs a key). Only what costs no work is open: the OpenAPI document (public, as
# vLLM's is) and image files, whose names are signed by the call that made them (see images.file_name).
ROUTES: dict[str, tuple[str, Handler, bool]] = {
    "/models": ("GET", _models, True),
    "/chat/completions": ("POST", chat.chat_completions, True),
    "/completions": ("POST", chat.completions, True),
    "/images/generations": ("POST", images.generations, True),
    "/embeddings": ("POST", embeddings.create, True),
    "/rerank": ("POST", rerank.create, True),
    "/openapi.json": ("GET", _openapi, False),
}
# Paths with a variable last part, matched by prefix.
PREFIX_ROUTES: dict[str, tuple[str, Handler, bool]] = {
    "/models/": ("GET", _model, True),
    images.FILES_PATH: ("GET", images.image_file, False),
}

INVALID_KEY = "This demo server answers only keys made by this Playground installation; use the Demo provider's key."


def _route(path: str) -> tuple[str, Handler, bool] | None:
    if path in ROUTES:
        return ROUTES[path]
    for prefix, route in PREFIX_ROUTES.items():
        if path.startswith(prefix) and len(path) > len(prefix):
            return route
    return None


def _handler_for(request: Request) -> Handler:
    """The handler for this path and method, once the caller has shown a key this installation minted."""
    route = _route(request.path)
    full_path = DEMO_PREFIX + request.path
    if route is None:
        raise ApiError(404, f"Invalid URL ({request.method} {full_path})", code="unknown_url")
    method, handler, needs_key = route
    if request.method != method:
        raise ApiError(
            405,
            f"{request.method} is not allowed on {full_path}; use {method}.",
            code="method_not_allowed",
            headers=[("Allow", method)],
        )
    if needs_key and not is_demo_key(request.bearer_token):
        raise ApiError(
            401,
            INVALID_KEY,
            code="invalid_api_key",
            headers=[("WWW-Authenticate", 'Bearer realm="playground-demo"')],
        )
    return handler


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI entry point; paths arrive in full, starting with DEMO_PREFIX."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    request = Request(scope, receive, send, scope["path"].removeprefix(DEMO_PREFIX))
    try:
        # Before the body is read, so a caller without a key costs us no more than its headers.
        handler = _handler_for(request)
        await request.read_body()
        if not request.disconnected.is_set():
            await handler(request)
    except ApiError as error:
        if not request.started and not request.disconnected.is_set():
            await send_error(request, error)
    except Exception:
        logger.exception("The demo upstream failed on %s %s", request.method, scope["path"])
        if not request.started:
            await send_error(request, ApiError(500, "The demo upstream failed unexpectedly.", type="server_error"))
    finally:
        await request.close()
