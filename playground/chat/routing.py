from __future__ import annotations

from django.urls import path

import playground.converters  # noqa: F401  (registers <id:…>)
from playground.chat.consumers import ChatConsumer

websocket_urlpatterns = [path("ws/chat/<id:conversation_id>/", ChatConsumer.as_asgi())]
