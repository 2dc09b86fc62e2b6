"""Websocket routes of every app, gathered for playground.asgi."""

from __future__ import annotations

from playground.chat.routing import websocket_urlpatterns as chat_routes

websocket_urlpatterns: list = [*chat_routes]
