"""First-run set-up: an admin with a one-time password, a demo team and project, and a Demo provider.

Idempotent: once an administrator exists it creates nothing, so `make run` can call it
every time. It runs before the server starts, so it also marks answers that a stopped server
left "streaming" as interrupted (their text is kept).
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from playground.accounts import services
from playground.chat.services import interrupted_mark_all
from playground.demo.keys import demo_key
from playground.providers.crypto import keys_problem
from playground.providers.services import demo_provider_create


class Command(BaseCommand):
    help = "Create the first admin (printing a one-time password), a demo team, project and Demo provider."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options):
        problem = keys_problem()
        if problem:  # `make run` stops here rather than serve keys nobody can read
            raise CommandError(f"Playground will not start: {problem}")
        interrupted = interrupted_mark_all()
        if interrupted:
            self.stdout.write(
                f"Bootstrap: {interrupted} answer(s) left streaming by a stopped server marked interrupted."
            )
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("Bootstrap: an administrator exists already; nothing to create.")
            return
        password = secrets.token_urlsafe(12)
        with transaction.atomic():
            admin = User.objects.create_superuser(username=username, email="", password=password)
            admin.must_change_password = True
            admin.save(update_fields=["must_change_password"])
            team = services.team_create(user=admin, name="Demo team")
            project = services.project_create(team=team, name="Demo project")
            services.project_remember(user=admin, project=project)
            demo_provider_create(team=team, by_user=admin, key=demo_key())
        self.stdout.write(
            self.style.SUCCESS(
                "\nFirst administrator created. Sign in once with this one-time password;\n"
                "you will be asked to choose your own straight away.\n"
                f"    username: {admin.username}\n"
                f"    password: {password}\n"
            )
        )
