"""Websocket routes of every app, gathered for playground.asgi."""

from __future__ import annotations

websocket_urlpatterns: list = []
