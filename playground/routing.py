"""Websocket routes of every app, gathered for playground.asgi."""

from __future__ import annotations

from django.urls import re_path

from playground.chat.routing import websocket_urlpatterns as chat_routes


async def no_such_socket(scope, receive, send) -> None:
    """Any other path (or an id no conversation can have): refused like a conversation one
    may not see (4404), instead of Channels' "No route found" exception."""
    await receive()  # the connect event
    await send({"type": "websocket.close", "code": 4404})


websocket_urlpatterns: list = [*chat_routes, re_path(r"", no_such_socket)]
