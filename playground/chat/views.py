"""Pages of the chat playground: the conversations of a project and one conversation."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from playground.accounts.models import Role
from playground.accounts.scoping import project_for, scoped_get
from playground.chat import selectors, services
from playground.chat.forms import SettingsForm
from playground.chat.models import Conversation, Message, Mode, Status
from playground.chat.selectors import conversation_for
from playground.providers.keys import provider_schema
from playground.providers.snippets import sent_body, snippets
from playground.schema.forms import parameter_form
from playground.schema.roles import history_policy
from playground.upstream.target import endpoint_url
from playground.usage.budgets import budget_warning
from playground.usage.prices import price_book

# The latest messages a conversation's page shows; "Show earlier messages" loads as many more.
THREAD_PAGE = 100


def _answer_schema(conversation: Conversation):
    """The schema of the endpoint the conversation's answers come from (chat or completions)."""
    if conversation.provider is None:
        return None
    return provider_schema(conversation.provider).endpoints.get(services.endpoint_of(conversation))


COMPLETION_NOTE = "Text completion: each message is a prompt for the model to continue; earlier messages are not sent."


@require_http_methods(["GET", "POST"])
@login_required
def conversation_list(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request.user, project_id, role=Role.MEMBER if request.method == "POST" else Role.VIEWER)
    if request.method == "POST":
        conversation = services.conversation_new(project=project, user=request.user)
        return redirect("conversation_detail", conversation_id=conversation.pk)
    search = request.GET.get("q", "")
    context = {"project": project, "conversations": selectors.conversations_of(project, search=search), "q": search}
    return render(request, "chat/conversation_list.html", context)


@require_GET
@login_required
def conversation_start(request: HttpRequest, project_id: int) -> HttpResponse:
    """A project's chat in one step: its latest conversation, or a new one when it has none,
    for people who may send; the list of conversations for viewers."""
    project = project_for(request.user, project_id)
    if not project.member_role.at_least(Role.MEMBER):
        return redirect("conversation_list", project_id=project.pk)
    conversation = selectors.conversations_of(project).first()
    if conversation is None:
        conversation = services.conversation_new(project=project, user=request.user)
    return redirect("conversation_detail", conversation_id=conversation.pk)


NEXT_MESSAGE = "Your next message"


@require_GET
@login_required
def conversation_code(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """View code: the exact request the next message would send (`?text=`, else a stand-in),
    with the branch shown as history and the conversation's parameters, as curl and Python."""
    conversation = conversation_for(request.user, conversation_id)
    context: dict[str, object] = {"conversation": conversation}
    endpoint = services.endpoint_of(conversation)
    schema = provider_schema(conversation.provider).endpoints.get(endpoint) if conversation.provider else None
    if schema is None or not conversation.model:
        context["problem"] = "Choose a provider and a model first: the code is the request they would get."
        return render(request, "chat/conversation_code.html", context)
    text = request.GET.get("text", "").strip()[: services.MAX_MESSAGE_CHARS] or NEXT_MESSAGE
    body = sent_body(conversation.provider, endpoint, services.next_request(conversation, text))
    url = endpoint_url(conversation.provider.base_url, schema.path)
    context.update(
        text=text,
        body_json=json.dumps(body, indent=2, ensure_ascii=False),
        snippets=snippets(conversation.provider, url, endpoint, body),
    )
    return render(request, "chat/conversation_code.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    role = Role.MEMBER if request.method == "POST" else Role.VIEWER
    conversation = conversation_for(request.user, conversation_id, role=role)
    team = conversation.project.team
    initial = {
        "provider": conversation.provider_id,
        "model": conversation.model,
        "mode": conversation.mode,
        "system": conversation.system,
    }
    settings_form = SettingsForm(request.POST or None, team=team, initial=initial)
    schema = _answer_schema(conversation)
    params = parameter_form(schema, request.POST or None, initial=conversation.params) if schema else None
    if request.method == "POST" and settings_form.is_valid() and (params is None or params.is_valid()):
        data = settings_form.cleaned_data
        # Parameters belong to one endpoint of one provider's schema; another one starts afresh.
        fresh = data["provider"] != conversation.provider or data["mode"] != conversation.mode
        conversation.provider = data["provider"]
        conversation.model = data["model"]
        conversation.mode = data["mode"]
        conversation.system = data["system"]
        conversation.params = {} if fresh or params is None else params.request_fields()
        conversation.save(update_fields=["provider", "model", "mode", "system", "params", "updated_at"])
        messages.success(request, "Settings saved; they apply to the next message.")
        if settings_form.model_note:
            messages.warning(request, settings_form.model_note)
        return redirect("conversation_detail", conversation_id=conversation.pk)
    completion = conversation.mode == Mode.COMPLETION
    roles = schema.message_roles if schema and not completion else None
    window = selectors.thread_window(conversation, last=_shown(request))
    context = {
        "conversation": conversation,
        "thread": window.items,
        "window": window,
        "show_more": len(window.items) + window.later + THREAD_PAGE,
        "settings_form": settings_form,
        "params": params,
        "history_policy": COMPLETION_NOTE if completion else (history_policy(roles) if schema else None),
        "system_allowed": not completion and (roles is None or "system" in roles),
        **_rights(conversation.member_role),
        "prices": price_book([conversation.provider_id]),
        "budget": budget_warning(team_id=team.pk, user_id=request.user.pk),
        **_live_items(conversation),
    }
    return render(request, "chat/conversation_detail.html", context, status=400 if settings_form.errors else 200)


def _live_items(conversation: Conversation) -> dict[str, selectors.ThreadItem]:
    """Empty messages for the page's <template>s, drawn by chat/_message.html like the others."""

    def item(message: Message) -> selectors.ThreadItem:
        return selectors.ThreadItem(message, position=1, siblings=1, previous_id=None, next_id=None)

    return {
        "live_question": item(Message(conversation=conversation, role="user")),
        "live_answer": item(
            Message(conversation=conversation, role="assistant", status=Status.STREAMING, model=conversation.model)
        ),
    }


def _rights(role: Role) -> dict[str, object]:
    """What the thread offers: members send; admins and owners stop any answer, others only
    the answers they asked for (selectors.may_stop, which the socket enforces)."""
    return {
        "can_send": role.at_least(Role.MEMBER),
        "can_stop_any": role.at_least(Role.ADMIN),
        "stop_rule": selectors.STOP_RULE,
    }


def _shown(request: HttpRequest) -> int:
    """How many of the latest messages a page shows: THREAD_PAGE, or more after "Show earlier"
    without JavaScript (`?show=`)."""
    try:
        return max(THREAD_PAGE, min(int(request.GET.get("show", THREAD_PAGE)), 100_000))
    except ValueError:
        return THREAD_PAGE


@require_GET
@login_required
def conversation_earlier(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The THREAD_PAGE messages before `?before=<message id>`, for "Show earlier messages"."""
    conversation = conversation_for(request.user, conversation_id)
    try:
        before = int(request.GET.get("before", ""))
    except ValueError:
        return HttpResponseBadRequest("Say which message the earlier ones come before.")
    window = selectors.thread_window(conversation, last=THREAD_PAGE, before=before)
    context = {
        "conversation": conversation,
        "thread": window.items,
        "window": window,
        "show_more": len(window.items) + window.later + THREAD_PAGE,
        **_rights(conversation.member_role),
        "prices": price_book([conversation.provider_id]),
    }
    return render(request, "chat/_earlier_messages.html", context)


@require_GET
@login_required
def message_fragment(request: HttpRequest, message_id: int) -> HttpResponse:
    """One message as the chat page shows it, for swapping in when its answer is complete."""
    message = scoped_get(
        request.user,
        Message.objects.select_related("conversation"),
        team_field="conversation__project__team",
        pk=message_id,
    )
    context = {
        "item": selectors.thread_item(message.conversation, message),
        "conversation": message.conversation,
        **_rights(message.member_role),
        "prices": price_book([message.conversation.provider_id]),
    }
    return render(request, "chat/_message.html", context)


@require_POST
@login_required
def conversation_branch(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    """Show another sibling ("‹ 2/3 ›"): the branch through `message_id` becomes current, for
    everyone in the conversation, so it takes a member (a viewer only watches)."""
    conversation = conversation_for(request.user, conversation_id, role=Role.MEMBER)
    conversation.current_leaf = selectors.leaf_under(conversation, message_id)
    conversation.save(update_fields=["current_leaf"])
    return redirect("conversation_detail", conversation_id=conversation.pk)


@require_POST
@login_required
def conversation_rename(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_for(request.user, conversation_id, role=Role.MEMBER)
    title = request.POST.get("title", "").strip()[:200]
    if title:
        conversation.title = title
        conversation.save(update_fields=["title"])
        messages.success(request, f"Renamed to “{title}”.")
    else:
        messages.error(request, "A title cannot be empty.")
    return redirect("conversation_detail", conversation_id=conversation.pk)


@require_http_methods(["GET", "POST"])
@login_required
def conversation_delete(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_for(request.user, conversation_id, role=Role.MEMBER)
    if request.method == "POST":
        services.conversation_delete(conversation=conversation, by_user=request.user)
        messages.success(request, f"Conversation “{conversation}” deleted.")
        return redirect("conversation_list", project_id=conversation.project_id)
    context = {
        "what": f"conversation “{conversation}”",
        "consequences": "All its messages and answers are deleted. This cannot be undone.",
        "cancel_url": reverse("conversation_detail", args=[conversation.pk]),
    }
    return render(request, "_confirm_delete.html", context)
