"""Pages of the prompt library: browse, write and version prompts, compare versions, run them.

Every view reaches its prompt through `selectors.prompt_for` (or the team through the scoping
helper). A version has a page but no edit view: saving always adds a version.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from playground.accounts.models import Role
from playground.accounts.scoping import project_for, scoped_get, team_for
from playground.chat.models import Conversation
from playground.prompts import exchange, selectors, services, variables
from playground.prompts.diff import version_diff
from playground.prompts.forms import (
    ImportForm,
    PromptDetailsForm,
    RunForm,
    SettingsForm,
    VersionEditor,
    VisibilityForm,
    column_forms,
)
from playground.prompts.models import Prompt, PromptVersion
from playground.providers.keys import NoKey

# Library


@require_GET
@login_required
def project_prompts(request: HttpRequest, project_id: int) -> HttpResponse:
    """The main menu's link: the library of the current project's team."""
    project = project_for(request.user, project_id)
    return redirect("prompt_library", team_id=project.team_id)


@require_GET
@login_required
def prompt_library(request: HttpRequest, team_id: int) -> HttpResponse:
    team = team_for(request.user, team_id)
    owner = request.GET.get("owner", "")
    sort = request.GET.get("sort", "changed")
    filters = {
        "q": request.GET.get("q", ""),
        "tag": request.GET.get("tag", ""),
        # An id no database column holds (64-bit) would fail the query (a 500), not find nothing.
        "owner": int(owner) if owner.isdigit() and int(owner) < 2**63 else None,
        "sort": sort if sort in selectors.SORTS else "changed",
    }
    prompts = selectors.library(
        team, request.user, search=filters["q"], tag=filters["tag"], owner_id=filters["owner"], sort=filters["sort"]
    )
    context = {
        "team": team,
        "prompts": prompts,
        "filters": filters,
        "sorts": selectors.SORTS,
        "tags": selectors.tags_of(team, request.user),
        "owners": selectors.owners_of(team, request.user),
        "can_write": team.member_role.at_least(Role.MEMBER),
        "is_admin": team.member_role.at_least(Role.ADMIN),
        "settings_form": SettingsForm(initial={"viewers_may_run": selectors.settings_of(team).viewers_may_run}),
    }
    return render(request, "prompts/library.html", context)


@require_POST
@login_required
def prompt_settings(request: HttpRequest, team_id: int) -> HttpResponse:
    team = team_for(request.user, team_id, role=Role.ADMIN)
    form = SettingsForm(request.POST)
    form.is_valid()
    allowed = form.cleaned_data.get("viewers_may_run", False)
    services.settings_update(team=team, viewers_may_run=allowed)
    messages.success(request, "Viewers may now run prompts." if allowed else "Only members and up may run prompts.")
    return redirect("prompt_library", team_id=team.pk)


def _conversation_content(request: HttpRequest, team) -> services.Content | None:
    """The setup of the chat the person came from ("Save as prompt"), read through the scoping helper."""
    conversation_id = request.GET.get("conversation", "")
    if not conversation_id.isdigit():
        return None
    queryset = Conversation.objects.select_related("project__team", "provider")
    conversation = scoped_get(request.user, queryset, team_field="project__team", pk=int(conversation_id))
    if conversation.project.team_id != team.pk:
        raise Http404
    return services.content_from_conversation(conversation)


@require_http_methods(["GET", "POST"])
@login_required
def prompt_create(request: HttpRequest, team_id: int) -> HttpResponse:
    team = team_for(request.user, team_id, role=Role.MEMBER)
    initial = _conversation_content(request, team) or services.Content()
    data = request.POST if request.method == "POST" else None
    details = PromptDetailsForm(data)
    editor = VersionEditor(data, team=team, initial=initial, add_message="add_message" in request.POST)
    if data is not None and "save" not in data:
        editor.refresh()
    elif data is not None and details.is_valid() & editor.is_valid():
        try:
            prompt = services.prompt_create(
                team=team,
                user=request.user,
                content=editor.content(),
                note=editor.setup.cleaned_data["note"],
                **details.cleaned_data,
            )
        except ValidationError as error:
            editor.setup.add_error(None, error)
        else:
            messages.success(request, f"Prompt “{prompt.name}” saved as version 1.")
            return redirect("prompt_detail", prompt_id=prompt.pk)
    context = {"team": team, "details": details, "editor": editor, "from_chat": "conversation" in request.GET}
    bound_with_errors = data is not None and "save" in data
    return render(request, "prompts/prompt_create.html", context, status=400 if bound_with_errors else 200)


@require_http_methods(["GET", "POST"])
@login_required
def prompt_import(request: HttpRequest, team_id: int) -> HttpResponse:
    team = team_for(request.user, team_id, role=Role.MEMBER)
    form = ImportForm(request.POST or None, request.FILES or None)
    results = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > exchange.MAX_FILE_BYTES:
                raise exchange.ImportFileError("The file is larger than 5 MB.")
            results = exchange.import_prompts(upload.read(), team=team, user=request.user)
        except exchange.ImportFileError as error:
            form.add_error("file", str(error))
    context = {"team": team, "form": form, "results": results}
    if results is not None:
        context["imported"] = sum(result.imported for result in results)
        context["rejected"] = len(results) - context["imported"]
    return render(request, "prompts/import.html", context, status=400 if form.errors else 200)


def _json_download(data: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@login_required
def prompt_export_all(request: HttpRequest, team_id: int) -> HttpResponse:
    team = team_for(request.user, team_id)
    prompts = selectors.prompts_of(team, request.user).select_related("current_version").prefetch_related("tags")
    return _json_download(exchange.export_json(prompts.order_by("name", "pk")), f"prompts-{slugify(team.name)}.json")


@require_GET
@login_required
def prompts_deleted(request: HttpRequest, team_id: int) -> HttpResponse:
    team = team_for(request.user, team_id, role=Role.ADMIN)
    context = {"team": team, "prompts": selectors.deleted_prompts(team, request.user)}
    return render(request, "prompts/deleted.html", context)


# One prompt


@require_GET
@login_required
def prompt_detail(request: HttpRequest, prompt_id: int) -> HttpResponse:
    prompt = selectors.prompt_for(request.user, prompt_id)
    versions = list(prompt.versions.select_related("author").order_by("-number"))
    context = {
        "prompt": prompt,
        "version": prompt.current_version,
        "versions": versions,
        "can_write": prompt.member_role.at_least(Role.MEMBER),
        "can_run": selectors.may_run(prompt),
        "is_admin": prompt.member_role.at_least(Role.ADMIN),
        "visibility_form": VisibilityForm(initial={"visibility": prompt.visibility})
        if selectors.may_change_visibility(prompt, request.user)
        else None,
        "escape_help": variables.ESCAPE_HELP,
    }
    return render(request, "prompts/prompt_detail.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def prompt_edit(request: HttpRequest, prompt_id: int) -> HttpResponse:
    """Name, description and tags (these are not versioned; the text is)."""
    prompt = selectors.prompt_for(request.user, prompt_id, role=Role.MEMBER)
    initial = {"name": prompt.name, "description": prompt.description, "tags": prompt.tag_names}
    form = PromptDetailsForm(request.POST or None, initial=initial, with_visibility=False)
    if request.method == "POST" and form.is_valid():
        services.prompt_update(prompt=prompt, **form.cleaned_data)
        messages.success(request, "Details saved.")
        return redirect("prompt_detail", prompt_id=prompt.pk)
    status = 400 if form.errors else 200
    return render(request, "prompts/prompt_edit.html", {"prompt": prompt, "form": form}, status=status)


@require_POST
@login_required
def prompt_visibility(request: HttpRequest, prompt_id: int) -> HttpResponse:
    prompt = selectors.prompt_for(request.user, prompt_id, role=Role.MEMBER)
    if not selectors.may_change_visibility(prompt, request.user):
        raise PermissionDenied("Only the prompt's owner or a team admin can change who sees it.")
    form = VisibilityForm(request.POST)
    if form.is_valid():
        services.prompt_set_visibility(prompt=prompt, visibility=form.cleaned_data["visibility"])
        messages.success(request, f"Now visible to: {prompt.get_visibility_display().lower()}.")
    else:
        messages.error(request, "Choose who sees the prompt.")
    if prompt.visibility == "private" and prompt.owner_id != request.user.pk:
        return redirect("prompt_library", team_id=prompt.team_id)  # it is hidden from you now
    return redirect("prompt_detail", prompt_id=prompt.pk)


@require_http_methods(["GET", "POST"])
@login_required
def prompt_delete(request: HttpRequest, prompt_id: int) -> HttpResponse:
    prompt = selectors.prompt_for(request.user, prompt_id, role=Role.ADMIN)
    if request.method == "POST":
        services.prompt_delete(prompt=prompt, user=request.user)
        messages.success(request, f"Prompt “{prompt.name}” deleted. You can undo this for 30 days.")
        return redirect("prompt_library", team_id=prompt.team_id)
    context = {
        "what": f"prompt “{prompt.name}”",
        "consequences": "It disappears from the library at once. For 30 days a team admin can bring it back from "
        "“Recently deleted”; after that it is removed for good with all its versions.",
        "cancel_url": reverse("prompt_detail", args=[prompt.pk]),
    }
    return render(request, "_confirm_delete.html", context)


@require_POST
@login_required
def prompt_undelete(request: HttpRequest, prompt_id: int) -> HttpResponse:
    prompt = selectors.prompt_for(request.user, prompt_id, role=Role.ADMIN, deleted=True)
    services.prompt_undelete(prompt=prompt, user=request.user)
    messages.success(request, f"Prompt “{prompt.name}” is back.")
    return redirect("prompt_detail", prompt_id=prompt.pk)


@require_GET
@login_required
def prompt_export(request: HttpRequest, prompt_id: int) -> HttpResponse:
    prompt = selectors.prompt_for(request.user, prompt_id)
    return _json_download(exchange.export_json([prompt]), f"prompt-{slugify(prompt.name) or prompt.pk}.json")


# Versions


@require_http_methods(["GET", "POST"])
@login_required
def version_create(request: HttpRequest, prompt_id: int) -> HttpResponse:
    """Edit: the editor starts from a version (the current one, or ?from=N) and saves a new one."""
    prompt = selectors.prompt_for(request.user, prompt_id, role=Role.MEMBER)
    base_number = request.GET.get("from", "")
    base = selectors.version_of(prompt, int(base_number)) if base_number.isdigit() else prompt.current_version
    initial = services.Content.of(base) if base else services.Content()
    data = request.POST if request.method == "POST" else None
    editor = VersionEditor(data, team=prompt.team, initial=initial, add_message="add_message" in request.POST)
    saving = data is not None and "save" in data
    if data is not None and not saving:
        editor.refresh()
    elif saving and editor.is_valid():
        if not editor.setup.cleaned_data["note"].strip():
            editor.setup.add_error("note", "Say briefly what changed; the version list shows it.")
        else:
            version = services.version_add(
                prompt=prompt,
                user=request.user,
                content=editor.content(),
                note=editor.setup.cleaned_data["note"],
                make_current=editor.setup.cleaned_data["make_current"],
            )
            messages.success(request, f"Saved as version {version.number}.")
            return redirect("prompt_detail", prompt_id=prompt.pk)
    context = {"prompt": prompt, "base": base, "editor": editor}
    return render(request, "prompts/version_create.html", context, status=400 if saving else 200)


@require_GET
@login_required
def version_detail(request: HttpRequest, prompt_id: int, number: int) -> HttpResponse:
    """A version, read-only: versions are never edited (a new one is saved instead)."""
    prompt = selectors.prompt_for(request.user, prompt_id)
    version = selectors.version_of(prompt, number)
    context = {
        "prompt": prompt,
        "version": version,
        "can_write": prompt.member_role.at_least(Role.MEMBER),
        "can_run": selectors.may_run(prompt),
    }
    return render(request, "prompts/version_detail.html", context)


@require_POST
@login_required
def version_current(request: HttpRequest, prompt_id: int, number: int) -> HttpResponse:
    prompt = selectors.prompt_for(request.user, prompt_id, role=Role.MEMBER)
    version = selectors.version_of(prompt, number)
    services.version_make_current(prompt=prompt, version=version)
    messages.success(request, f"Version {version.number} is now the current version.")
    return redirect("prompt_detail", prompt_id=prompt.pk)


@require_POST
@login_required
def version_restore(request: HttpRequest, prompt_id: int, number: int) -> HttpResponse:
    prompt = selectors.prompt_for(request.user, prompt_id, role=Role.MEMBER)
    old = selectors.version_of(prompt, number)
    version = services.version_restore(prompt=prompt, version=old, user=request.user)
    messages.success(request, f"Version {old.number} restored as version {version.number}.")
    return redirect("prompt_detail", prompt_id=prompt.pk)


@require_GET
@login_required
def versions_diff(request: HttpRequest, prompt_id: int) -> HttpResponse:
    """The diff between any two versions (?old=N&new=M; by default the two newest)."""
    prompt = selectors.prompt_for(request.user, prompt_id)
    numbers = list(prompt.versions.order_by("-number").values_list("number", flat=True))
    old_text, new_text = request.GET.get("old", ""), request.GET.get("new", "")
    new_number = int(new_text) if new_text.isdigit() else numbers[0]
    old_number = int(old_text) if old_text.isdigit() else (numbers[1] if len(numbers) > 1 else numbers[0])
    old, new = selectors.version_of(prompt, old_number), selectors.version_of(prompt, new_number)
    context = {"prompt": prompt, "diff": version_diff(old, new), "numbers": numbers}
    return render(request, "prompts/diff.html", context)


# Running


def _preview(version: PromptVersion, values: dict[str, str]) -> dict:
    return {
        "system": variables.preview(version.system, values),
        "messages": [(message["role"], variables.preview(message["content"], values)) for message in version.messages],
    }


def _run_context(prompt: Prompt, version: PromptVersion, form: RunForm, **extra) -> dict:
    return {
        "prompt": prompt,
        "version": version,
        "form": form,
        "preview": _preview(version, form.current_values()),
        "escape_help": variables.ESCAPE_HELP,
        **extra,
    }


def _run(request: HttpRequest, prompt_id: int, number: int) -> tuple[HttpResponse, list]:
    prompt = selectors.prompt_to_run(request.user, prompt_id)
    version = selectors.version_of(prompt, number)
    form = RunForm(request.POST or None, version=version, team=prompt.team, user=request.user)
    if request.method == "POST" and request.POST.get("action") == "open" and form.is_valid():
        try:
            conversation, send = services.conversation_open(
                version=version, project=form.cleaned_data["project"], user=request.user, values=form.values()
            )
        except (ValidationError, NoKey, variables.MissingValues) as error:
            form.add_error(None, " ".join(getattr(error, "messages", [str(error)])))
        else:
            return redirect("conversation_detail", conversation_id=conversation.pk), [send]
    status = 400 if request.POST.get("action") == "open" else 200  # a preview shows the problems, calmly
    return render(request, "prompts/run.html", _run_context(prompt, version, form), status=status), []


@require_http_methods(["GET", "POST"])
@login_required
async def version_run(request: HttpRequest, prompt_id: int, number: int) -> HttpResponse:
    """Fill in the variables, see the rendered messages, open them as a new conversation.

    Async so that the answer's generation starts in the server's event loop, where it keeps
    streaming after this response (the chat page's socket picks it up).
    """
    response, sends = await sync_to_async(_run)(request, prompt_id, number)
    services.generations_start(sends)
    return response


@require_POST
@login_required
def version_preview(request: HttpRequest, prompt_id: int, number: int) -> HttpResponse:
    """The rendered messages for the values typed so far (htmx swaps it in as the person types)."""
    prompt = selectors.prompt_for(request.user, prompt_id)
    version = selectors.version_of(prompt, number)
    form = RunForm(request.POST, version=version, team=prompt.team, user=request.user)
    return render(request, "prompts/_preview.html", _run_context(prompt, version, form))


def _compare(request: HttpRequest, prompt_id: int, number: int) -> tuple[HttpResponse, list]:
    prompt = selectors.prompt_to_run(request.user, prompt_id)
    version = selectors.version_of(prompt, number)
    data = request.POST if request.method == "POST" else None
    form = RunForm(data, version=version, team=prompt.team, user=request.user)
    columns = column_forms(data, version=version, team=prompt.team, user=request.user)
    columns_valid = [column.is_valid() for column in columns]  # every column, so each shows its errors
    if data is not None and form.is_valid() & all(columns_valid):
        setups = [column.setup() for column in columns if column.used]
        if not setups:
            form.add_error(None, "Fill in the model of at least one column.")
        else:
            try:
                with transaction.atomic():
                    run = services.compare_create(
                        version=version,
                        project=form.cleaned_data["project"],
                        user=request.user,
                        values=form.values(),
                        setups=setups,
                    )
                    sends = services.compare_start(run=run, user=request.user)
            except (ValidationError, NoKey, variables.MissingValues) as error:
                form.add_error(None, " ".join(getattr(error, "messages", [str(error)])))
            else:
                return redirect("compare_detail", run_id=run.pk), sends
    ends_with_question = bool(version.messages) and version.messages[-1]["role"] == "user"
    context = _run_context(prompt, version, form, columns=columns, ends_with_question=ends_with_question)
    status = 400 if data is not None else 200
    return render(request, "prompts/compare_form.html", context, status=status), []


@require_http_methods(["GET", "POST"])
@login_required
async def version_compare(request: HttpRequest, prompt_id: int, number: int) -> HttpResponse:
    """The same rendered prompt sent to up to four setups at once, shown side by side."""
    response, sends = await sync_to_async(_compare)(request, prompt_id, number)
    services.generations_start(sends)
    return response


def _columns(run) -> list:
    return list(run.columns.select_related("conversation__provider", "answer"))


@require_GET
@login_required
def compare_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.compare_run_for(request.user, run_id)
    context = {"run": run, "prompt": run.version.prompt, "columns": _columns(run), **_compare_rights(run, request.user)}
    return render(request, "prompts/compare.html", context)


def _compare_rights(run, user) -> dict[str, bool]:
    """Members save setups; the person who ran the comparison, and admins, stop its columns
    (the rule of chat.selectors.may_stop, which the socket enforces)."""
    is_member = run.member_role.at_least(Role.MEMBER)
    may_stop = run.member_role.at_least(Role.ADMIN) or (is_member and run.created_by_id == user.pk)
    return {"can_stop": may_stop, "can_save": is_member}


@require_GET
@login_required
def compare_column(request: HttpRequest, run_id: int, position: int) -> HttpResponse:
    """One column as the compare page shows it, swapped in when its answer ends."""
    run = selectors.compare_run_for(request.user, run_id)
    column = get_object_or_404(run.columns.select_related("conversation__provider", "answer"), position=position)
    return render(request, "prompts/_column.html", {"run": run, "column": column, **_compare_rights(run, request.user)})


@require_POST
@login_required
def compare_save(request: HttpRequest, run_id: int, position: int) -> HttpResponse:
    """ "Save this setup": a new version with this column's provider, model and parameters."""
    run = selectors.compare_run_for(request.user, run_id, role=Role.MEMBER)
    column = get_object_or_404(run.columns.select_related("conversation__provider"), position=position)
    version = services.version_from_column(column=column, user=request.user)
    messages.success(request, f"Saved column {position}'s setup as version {version.number}.")
    return redirect("compare_detail", run_id=run.pk)
