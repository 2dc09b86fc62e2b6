"""Keeps a user with a one-time password on the password change page until they set their own.

Sync and async capable, so that async views (image generation, embeddings) run on the
server's event loop instead of each holding a thread for the whole upstream call.
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse


class ForcePasswordChangeMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        return self._refusal(request, request.user) or self.get_response(request)

    async def __acall__(self, request):
        refusal = self._refusal(request, await request.auser())
        return refusal or await self.get_response(request)

    @staticmethod
    def _refusal(request, user):
        """A redirect to the password change page, for a user who must change it first."""
        if user is not None and user.is_authenticated and user.must_change_password:
            allowed = {reverse("password_change"), reverse("logout")}
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                messages.info(request, "Choose a new password to replace your one-time password.")
                return redirect("password_change")
        return None
