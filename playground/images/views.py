"""Pages of the images playground: a project's gallery with the generate form, one picture, its files."""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from playground.accounts.models import Role
from playground.accounts.scoping import project_for, scoped_get
from playground.images import selectors, services, storage
from playground.images.forms import GenerateForms, generate_forms
from playground.images.models import GeneratedImage, ImageGeneration
from playground.upstream.client import close_clients, is_server_loop


def image_for(user, image_id: int, *, role: Role = Role.VIEWER) -> GeneratedImage:
    queryset = GeneratedImage.objects.select_related("generation__project__team", "generation__user")
    return scoped_get(user, queryset, role=role, team_field="generation__project__team", pk=image_id)


@require_GET
@login_required
def image_gallery(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request.user, project_id)
    forms = None
    if project.member_role.at_least(Role.MEMBER):
        forms = generate_forms(project, initial=_initial(request, project))
    if request.htmx.target == "image-form" and forms is not None:
        # The provider select changed: the form again, with that provider's parameters.
        return render(request, "images/gallery.html#image-form", {"project": project, "forms": forms})
    return _render_page(request, project, forms)


@require_POST
@login_required
async def image_generate(request: HttpRequest, project_id: int) -> HttpResponse:
    """Async: the wait for the provider happens on the server's event loop, so other people's
    requests, and other generations, go on meanwhile."""
    user = await request.auser()
    project = await sync_to_async(project_for)(user, project_id, role=Role.MEMBER)
    forms, body = await sync_to_async(_bound)(project, request.POST)
    generation = None
    if body is not None:
        try:
            generation = await services.image_generation_run(
                project=project, user=user, provider=forms.provider, body=body
            )
        finally:
            # Outside the server (the test client, a command) each request has a loop of its own.
            loop = asyncio.get_running_loop()
            if not is_server_loop(loop):
                await close_clients(loop)
        if generation.succeeded and not request.htmx:
            return redirect(reverse("image_gallery", args=[project.pk]) + "#gallery")
    return await sync_to_async(_render_page)(request, project, forms, generation)


def _bound(project, data) -> tuple[GenerateForms, dict | None]:
    forms = generate_forms(project, data)
    return forms, forms.request_body()


def _initial(request: HttpRequest, project) -> dict:
    """The form's starting values: a generation's ("use these settings again"), or a provider switch."""
    again = request.GET.get("again")
    if again:
        generation = get_object_or_404(ImageGeneration, project=project, pk=again if again.isdigit() else 0)
        return {
            "prompt": generation.prompt,
            "provider": generation.provider_id,
            "model": generation.model,
            "params": generation.params,
        }
    return {"provider": request.GET.get("provider"), "prompt": request.GET.get("prompt", "")}


def _render_page(request: HttpRequest, project, forms: GenerateForms | None, generation=None) -> HttpResponse:
    """The gallery page, or (for htmx) the part of it a generation changes."""
    images = Paginator(selectors.images_of(project), selectors.GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"project": project, "forms": forms, "images": images, "generation": generation}
    if request.method == "POST" and request.htmx:
        return render(request, "images/gallery.html#workspace", context)
    failed = forms is not None and (forms.form.errors or (forms.params and forms.params.errors))
    nothing_made = generation is not None and not getattr(generation, "kept_images", None)
    status = 400 if failed else 502 if nothing_made else 200
    return render(request, "images/gallery.html", context, status=status)


@require_GET
@login_required
def image_detail(request: HttpRequest, image_id: int) -> HttpResponse:
    image = image_for(request.user, image_id)
    context = {
        "image": image,
        "generation": image.generation,
        "siblings": image.generation.images.exclude(pk=image.pk),
        "can_generate": image.member_role.at_least(Role.MEMBER),
        "can_delete": services.can_delete(image, user=request.user, role=image.member_role),
    }
    return render(request, "images/image_detail.html", context)


@require_GET
@login_required
def image_file(request: HttpRequest, image_id: int) -> HttpResponse:
    image = image_for(request.user, image_id)
    return _file_response(request, image, storage.path_of(image.file_name), image.content_type)


@require_GET
@login_required
def image_thumbnail(request: HttpRequest, image_id: int) -> HttpResponse:
    image = image_for(request.user, image_id)
    path = storage.thumbnail_path_of(image.file_name)
    if not path.exists():
        return _file_response(request, image, storage.path_of(image.file_name), image.content_type)
    return _file_response(request, image, path, storage.THUMBNAIL_TYPE, tag="thumbnail")


@require_GET
@login_required
def image_download(request: HttpRequest, image_id: int) -> HttpResponse:
    image = image_for(request.user, image_id)
    return _file_response(request, image, storage.path_of(image.file_name), image.content_type, attachment=True)


def _file_response(request, image, path, content_type: str, *, tag: str = "", attachment: bool = False) -> HttpResponse:
    """The file's bytes with its checked type. Files are at most IMAGE_MAX_BYTES, so they are read
    whole: a streamed response would read them in a worker thread under ASGI anyway."""
    etag = f'"{image.sha256}{"-" + tag if tag else ""}"'
    if request.headers.get("If-None-Match") == etag and not attachment:
        response = HttpResponseNotModified()
    else:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise Http404("The file of this picture is missing.") from None
        response = HttpResponse(data, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(attachment, image.download_name)
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def image_delete(request: HttpRequest, image_id: int) -> HttpResponse:
    image = image_for(request.user, image_id, role=Role.MEMBER)
    if not services.can_delete(image, user=request.user, role=image.member_role):
        raise PermissionDenied("Only admins can delete other people's pictures.")
    project_id = image.generation.project_id
    if request.method == "POST":
        services.generated_image_delete(image=image, user=request.user, role=image.member_role)
        messages.success(request, "Picture deleted.")
        return redirect("image_gallery", project_id=project_id)
    context = {
        "what": "this picture",
        "cancel_url": reverse("image_detail", args=[image.pk]),
        "image": image,
        "generation": image.generation,
    }
    return render(request, "images/image_delete.html", context)
