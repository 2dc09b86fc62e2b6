from __future__ import annotations

from django.urls import path

from playground.chat.consumers import ChatConsumer

websocket_urlpatterns = [path("ws/chat/<int:conversation_id>/", ChatConsumer.as_asgi())]
