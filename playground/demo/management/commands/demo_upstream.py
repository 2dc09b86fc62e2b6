"""`manage.py demo_upstream`: serve the demo upstream alone with Daphne, for benchmarks and tests."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the built-in OpenAI-compatible demo upstream alone, at http://HOST:PORT/demo/v1."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8001, help="Port to listen on; 0 picks a free one.")

    def handle(self, *args, host: str, port: int, verbosity: int, **options) -> None:
        # Daphne installs Twisted's asyncio reactor when daphne.server is imported, so import it here.
        from daphne.access import AccessLogGenerator
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

        from playground.demo.app import DEMO_PREFIX, application

        shown_host = f"[{host}]" if ":" in host else host
        stdout = self.stdout

        class AnnouncingServer(Server):
            def listen_success(self, listening_port) -> None:
                super().listen_success(listening_port)
                # The real port, so `--port 0` is usable by whoever reads this line.
                actual = listening_port.getHost().port
                stdout.write(f"Demo upstream on http://{shown_host}:{actual}{DEMO_PREFIX}")
                stdout.flush()

        server = AnnouncingServer(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            action_logger=AccessLogGenerator(sys.stdout) if verbosity >= 2 else None,
            verbosity=verbosity,
            server_name="playground-demo",
        )
        server.run()
