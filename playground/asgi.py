"""ASGI entry point: HTTP through Django, websockets through Channels with auth and Origin checks."""

from __future__ import annotations

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "playground.settings")
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from playground.demo.app import DEMO_PREFIX  # noqa: E402
from playground.demo.app import application as demo_app  # noqa: E402
from playground.limits import BodyLimit  # noqa: E402
from playground.origin import SameOriginValidator  # noqa: E402
from playground.routing import websocket_urlpatterns  # noqa: E402
from playground.upstream.client import remember_server_loop  # noqa: E402


async def http_app(scope, receive, send):
    """The built-in demo upstream answers under /demo/v1/; everything else is Django."""
    remember_server_loop()
    if scope["path"] == DEMO_PREFIX or scope["path"].startswith(DEMO_PREFIX + "/"):
        await demo_app(scope, receive, send)
    else:
        await django_asgi_app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": BodyLimit(http_app),
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# What was imported to get here lives as long as the process. Moved out of the collector's
# way, a full collection (which pauses every stream of the process) scans only what came after.
gc.freeze()
