"""Keeps a user with a one-time password on the password change page until they set their own."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse


class ForcePasswordChangeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password:
            allowed = {reverse("password_change"), reverse("logout")}
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                messages.info(request, "Choose a new password to replace your one-time password.")
                return redirect("password_change")
        return self.get_response(request)
