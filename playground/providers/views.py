"""Pages for providers, their API keys, schemas, models and parameter forms.

Admins manage providers and shared keys; members use providers and keep personal keys;
viewers see provider names only.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from playground.accounts.models import Role
from playground.accounts.scoping import scoped_get, team_for
from playground.providers import services
from playground.providers.forms import ApiKeyForm, HeaderFormSet, ProviderForm, SchemaUploadForm
from playground.providers.keys import NoKey, provider_schema, usable_keys
from playground.providers.models import ApiKey, Provider
from playground.providers.profiles import profile_meta
from playground.upstream import errors
from playground.upstream.target import endpoint_url


def provider_for(user, provider_id: int, *, role: Role = Role.MEMBER) -> Provider:
    return scoped_get(user, Provider.objects.select_related("team"), role=role, pk=provider_id)


def key_for(user, key_id: int, *, role: Role = Role.MEMBER) -> ApiKey:
    """A key of the user's team; another member's personal key is not found, except by admins."""
    key = scoped_get(user, ApiKey.objects.select_related("provider"), role=role, team_field="provider__team", pk=key_id)
    if key.owner_id not in (None, user.pk) and not key.member_role.at_least(Role.ADMIN):
        raise Http404
    return key


def _message_for(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


@require_http_methods(["GET", "POST"])
@login_required
def provider_list(request: HttpRequest, team_id: int) -> HttpResponse:
    team = team_for(request.user, team_id, role=Role.ADMIN if request.method == "POST" else Role.VIEWER)
    form = ProviderForm(request.POST or None, user=request.user)
    headers = HeaderFormSet(request.POST or None, prefix="headers")
    if request.method == "POST" and form.is_valid() and headers.is_valid():
        provider = form.save(commit=False)
        provider.team = team
        try:
            rows = form.header_rows(headers.cleaned_data)
            services.provider_save(provider=provider, by_user=request.user, headers=rows)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Provider “{provider.name}” added. Add an API key to start using it.")
            return redirect("provider_detail", provider_id=provider.pk)
    context = {"team": team, "providers": team.providers.all(), "form": form, "headers": headers}
    return render(request, "providers/provider_list.html", context)


@require_GET
@login_required
def provider_detail(request: HttpRequest, provider_id: int) -> HttpResponse:
    return _detail_page(request, provider_for(request.user, provider_id))


def _detail_page(request: HttpRequest, provider, schema_form: SchemaUploadForm | None = None) -> HttpResponse:
    is_admin = provider.member_role.at_least(Role.ADMIN)
    keys = provider.api_keys.all()
    if not is_admin:
        keys = keys.filter(Q(owner__isnull=True) | Q(owner=request.user))
    schema = provider_schema(provider)
    context = {
        "provider": provider,
        "is_admin": is_admin,
        "keys": keys.select_related("owner"),
        "has_usable_key": usable_keys(request.user, provider).exists(),
        "key_form": ApiKeyForm(can_share=is_admin),
        "schema_form": schema_form or SchemaUploadForm(),
        "endpoints": sorted(schema.endpoints),
        "lists_models": schema.lists_models,
        "schema_models": schema.model_names,
        "headers": provider.extra_headers.all() if is_admin else (),
        "meta": profile_meta(provider.profile),
    }
    return render(request, "providers/provider_detail.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def provider_edit(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = provider_for(request.user, provider_id, role=Role.ADMIN)
    form = ProviderForm(request.POST or None, instance=provider, user=request.user)
    # Secret values are never sent back to the browser; an empty box keeps them.
    headers = HeaderFormSet(request.POST or None, prefix="headers", initial=form.free_header_initial())
    if request.method == "POST" and form.is_valid() and headers.is_valid():
        try:
            rows = [f.cleaned_data if f.has_changed() else f.initial for f in headers]  # unchanged rows keep theirs
            rows = form.header_rows(rows)
            services.provider_save(provider=form.save(commit=False), by_user=request.user, headers=rows)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Provider “{provider.name}” saved.")
            return redirect("provider_detail", provider_id=provider.pk)
    return render(request, "providers/provider_edit.html", {"provider": provider, "form": form, "headers": headers})


@require_http_methods(["GET", "POST"])
@login_required
def provider_delete(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = provider_for(request.user, provider_id, role=Role.ADMIN)
    if request.method == "POST":
        services.provider_delete(provider=provider, by_user=request.user)
        messages.success(request, f"Provider “{provider.name}” and its keys were deleted.")
        return redirect("provider_list", team_id=provider.team_id)
    context = {
        "what": f"provider “{provider.name}”",
        "consequences": "Its API keys are deleted too. This cannot be undone.",
        "cancel_url": reverse("provider_detail", args=[provider.pk]),
    }
    return render(request, "_confirm_delete.html", context)


@require_POST
@login_required
def key_add(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = provider_for(request.user, provider_id)
    can_share = provider.member_role.at_least(Role.ADMIN)
    form = ApiKeyForm(request.POST, can_share=can_share)
    if form.is_valid():
        try:
            key = services.api_key_add(
                provider=provider,
                by_user=request.user,
                plain=form.cleaned_data["key"],
                shared=form.cleaned_data.get("shared", False),
                label=form.cleaned_data["label"],
            )
        except ValidationError as error:
            messages.error(request, _message_for(error))
        else:
            whose = "shared with the team" if key.shared else "for you only"
            messages.success(request, f"Key {key.masked} saved, {whose}.")
    else:
        messages.error(request, "Enter the API key.")
    return redirect("provider_detail", provider_id=provider.pk)


@require_POST
@login_required
def key_test(request: HttpRequest, key_id: int) -> HttpResponse:
    key = key_for(request.user, key_id)
    if key.owner_id not in (None, request.user.pk):
        raise Http404  # admins may revoke others' personal keys, but not use them
    worked, text = services.api_key_test(key=key, user=request.user)
    (messages.success if worked else messages.error)(request, f"Key {key.masked}: {text}")
    return redirect("provider_detail", provider_id=key.provider_id)


@require_POST
@login_required
def key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    key = key_for(request.user, key_id)
    if key.shared and not key.member_role.at_least(Role.ADMIN):
        raise PermissionDenied("Only admins and owners can revoke a shared key.")
    services.api_key_revoke(key=key, by_user=request.user)
    messages.success(request, f"Key {key.masked} revoked; it will not be used again.")
    return redirect("provider_detail", provider_id=key.provider_id)


@require_POST
@login_required
def models_refresh(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = provider_for(request.user, provider_id)
    try:
        found = services.models_refresh(provider=provider, user=request.user)
    except services.NoModelList as error:
        messages.info(request, str(error))
    except (errors.UpstreamError, NoKey) as error:
        messages.error(request, f"Could not list the models: {services.error_text(provider, error)}")
    else:
        messages.success(request, f"{provider.name} lists {len(found)} model{'s' if len(found) != 1 else ''}.")
    return redirect("provider_detail", provider_id=provider.pk)


@require_POST
@login_required
def schema_upload(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = provider_for(request.user, provider_id, role=Role.ADMIN)
    form = SchemaUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.schema_upload(provider=provider, text=form.cleaned_data["document"], by_user=request.user)
        except ValidationError as error:
            # Beside the box, which keeps what was pasted (a file must be chosen again).
            form.add_error("file" if form.cleaned_data.get("file") else "document", error.messages)
        else:
            messages.success(request, "The uploaded schema is now used for this provider's forms.")
            return redirect("provider_detail", provider_id=provider.pk)
    return _detail_page(request, provider, schema_form=form)


@require_POST
@login_required
def schema_refresh(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = provider_for(request.user, provider_id, role=Role.ADMIN)
    try:
        services.schema_refresh(provider=provider, user=request.user)
    except (errors.UpstreamError, NoKey, ValidationError) as error:
        messages.error(request, f"Could not load the provider's schema: {_message_for(error)}")
    else:
        messages.success(request, "Loaded the provider's own /openapi.json; the forms now follow it.")
    return redirect("provider_detail", provider_id=provider.pk)


@require_POST
@login_required
def schema_reset(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = provider_for(request.user, provider_id, role=Role.ADMIN)
    services.schema_reset(provider=provider, by_user=request.user)
    messages.success(request, f"Back to the built-in profile “{profile_meta(provider.profile)['label']}”.")
    return redirect("provider_detail", provider_id=provider.pk)


@require_http_methods(["GET", "POST"])
@login_required
def parameters(request: HttpRequest, provider_id: int, endpoint: str) -> HttpResponse:
    """The schema-generated parameter form of one endpoint, with the request and its code."""
    from playground.providers.snippets import request_body, snippets
    from playground.schema.forms import parameter_form

    provider = provider_for(request.user, provider_id)
    schema = provider_schema(provider).endpoints.get(endpoint)
    if schema is None:
        raise Http404
    form = parameter_form(schema, request.POST or None)
    model = (request.POST.get("model") or provider.default_model or "").strip()
    from playground.schema.roles import history_policy

    context = {
        "provider": provider,
        "endpoint": schema,
        "form": form,
        "model": model,
        "history_policy": history_policy(schema.message_roles),
    }
    if request.method == "POST" and form.is_valid():
        body = request_body(provider, schema, model=model, params=form.request_fields())
        url = endpoint_url(provider.base_url, schema.path)
        context.update(
            body=body,
            body_json=json.dumps(body, indent=2, ensure_ascii=False),
            snippets=snippets(provider, url, endpoint, body),
        )
    return render(request, "providers/parameters.html", context, status=400 if form.errors else 200)
