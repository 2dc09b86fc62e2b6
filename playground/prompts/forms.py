"""Forms for prompts: details, the version editor (messages, setup, variables), running and comparing."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from playground.prompts import variables
from playground.prompts.models import Visibility
from playground.prompts.services import MAX_COLUMNS, ROLES, Content, Setup, clean_tags, setup_problems
from playground.providers.keys import provider_schema
from playground.schema.forms import ParameterForm, parameter_form
from playground.schema.validation import validate_request

MAX_MESSAGES = 200


class Form(forms.Form):
    """Labels without a trailing colon, as elsewhere in Playground."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class TagsField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Separated by commas, for example: support, summaries")
        super().__init__(label="Tags", max_length=1000, **kwargs)

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def clean(self, value) -> list[str]:
        return clean_tags(super().clean(value) or "")


class PromptDetailsForm(Form):
    name = forms.CharField(label="Name", max_length=200)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )
    tags = TagsField()
    visibility = forms.ChoiceField(label="Who sees it", choices=Visibility.choices, initial=Visibility.TEAM)

    def __init__(self, *args, with_visibility: bool = True, **kwargs):
        super().__init__(*args, prefix="prompt", **kwargs)
        if not with_visibility:
            del self.fields["visibility"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Give the prompt a name.")
        return name


class VisibilityForm(Form):
    visibility = forms.ChoiceField(label="Who sees it", choices=Visibility.choices)


class SettingsForm(Form):
    viewers_may_run = forms.BooleanField(label="Viewers may run prompts", required=False)


class ImportForm(Form):
    file = forms.FileField(label="Prompts file (JSON)", help_text="A file exported from Playground's prompt library.")


# The version editor


class SetupForm(Form):
    note = forms.CharField(
        label="What changed",
        max_length=300,
        required=False,
        help_text="A short note for the version list, for example “Asks for shorter answers”.",
    )
    system = forms.CharField(
        label="System prompt", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    provider = forms.ModelChoiceField(queryset=None, label="Provider", required=False, empty_label="No provider")
    model = forms.CharField(
        label="Model", max_length=200, required=False, widget=forms.TextInput(attrs={"list": "model-options"})
    )
    make_current = forms.BooleanField(label="Make this the team's current version", required=False, initial=True)
    # The provider the parameter controls on the page were made for (they differ per provider).
    params_provider = forms.CharField(required=False, widget=forms.HiddenInput)
    params_json = forms.CharField(
        label="Parameters (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Used when no provider is chosen, as a JSON object.",
    )

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, prefix="v", **kwargs)
        self.fields["provider"].queryset = team.providers.all()

    def clean_params_json(self) -> dict[str, Any]:
        return json_object(self.cleaned_data["params_json"])


def json_object(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ValidationError(f"This is not valid JSON: {error}.") from error
    if not isinstance(value, dict):
        raise ValidationError('Parameters are a JSON object, for example {"temperature": 0.2}.')
    return value


class MessageForm(Form):
    role = forms.ChoiceField(label="Role", choices=[(role, role.capitalize()) for role in ROLES])
    content = forms.CharField(label="Text", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 4}))


MessageFormSet = forms.formset_factory(
    MessageForm, extra=1, can_delete=True, max_num=MAX_MESSAGES, validate_max=True, absolute_max=MAX_MESSAGES
)


class VariablesForm(Form):
    """A description and a default for each variable found in the text."""

    def __init__(self, *args, names: list[str], known: dict[str, Any], **kwargs):
        initial = {}
        for name, meta in variables.described(names, known).items():
            initial[f"{name}__description"] = meta["description"]
            initial[f"{name}__default"] = meta["default"]
        super().__init__(*args, prefix="var", initial=initial, **kwargs)
        self.names = names
        for name in names:
            self.fields[f"{name}__default"] = forms.CharField(
                label=f"Default for {{{{{name}}}}}", required=False, strip=False, max_length=100_000
            )
            self.fields[f"{name}__description"] = forms.CharField(
                label=f"Description of {{{{{name}}}}}", required=False, max_length=500
            )

    def rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [(name, self[f"{name}__default"], self[f"{name}__description"]) for name in self.names]

    def meta(self) -> dict[str, dict[str, str]]:
        return {
            name: {
                "description": self.cleaned_data.get(f"{name}__description", ""),
                "default": self.cleaned_data.get(f"{name}__default", ""),
            }
            for name in self.names
        }


def _chat_endpoint(provider):
    return provider_schema(provider).endpoints.get("chat") if provider is not None else None


class VersionEditor:
    """Everything a version holds, as one form made of several: setup, messages, parameters, variables.

    Parameter controls come from the provider's schema. When the person picks another
    provider, the page is shown again with that provider's controls (keeping the values the
    new provider also accepts) instead of saving parameters made for the old one.
    """

    def __init__(self, data: QueryDict | None, *, team, initial: Content, add_message: bool = False) -> None:
        self.team = team
        if data is not None and add_message:
            data = data.copy()
            data["m-TOTAL_FORMS"] = str(int(data.get("m-TOTAL_FORMS") or 0) + 1)
        self.data = data
        self.setup = SetupForm(
            data,
            team=team,
            initial={
                "system": initial.system,
                "provider": initial.provider,
                "model": initial.model,
                "params_provider": str(initial.provider.pk) if initial.provider else "",
                "params_json": json.dumps(initial.params, indent=2) if initial.params else "",
            },
        )
        self.messages = MessageFormSet(data, initial=initial.messages or [{"role": "user", "content": ""}], prefix="m")
        self.params_provider = self._provider_of(data.get("v-params_provider") if data is not None else None, initial)
        endpoint = _chat_endpoint(self.params_provider)
        self.params: ParameterForm | None = parameter_form(endpoint, data, initial=initial.params) if endpoint else None
        names = self._names(initial)
        self.variables = VariablesForm(data, names=names, known=initial.variables)
        self.notice = ""

    def _provider_of(self, posted: str | None, initial: Content):
        if posted is None:
            return initial.provider
        return self.team.providers.filter(pk=posted).first() if posted.isdigit() else None

    def _names(self, initial: Content) -> list[str]:
        if self.data is None:
            return variables.names_of(initial.system, initial.messages)
        texts = [self.data.get("v-system", "")]
        texts += [value for key, value in self.data.items() if key.startswith("m-") and key.endswith("-content")]
        return variables.names_in(texts)

    @property
    def model_options(self) -> list[str]:
        provider = self.params_provider
        return list(provider.models_cache) if provider is not None else []

    def _message_list(self) -> list[dict[str, str]]:
        messages = []
        for form in self.messages.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            if form.cleaned_data["content"].strip():
                messages.append({"role": form.cleaned_data["role"], "content": form.cleaned_data["content"]})
        return messages

    def is_valid(self) -> bool:
        parts = [self.setup.is_valid(), self.messages.is_valid(), self.variables.is_valid()]
        if self.params is not None:
            parts.append(self.params.is_valid())
        if not all(parts):
            return False
        chosen = self.setup.cleaned_data["provider"]
        if chosen != self.params_provider:
            self._switch_provider(chosen)
            return False
        if not self._message_list() and not self.setup.cleaned_data["system"].strip():
            self.setup.add_error(None, "Write at least one message or a system prompt.")
            return False
        return True

    def refresh(self) -> None:
        """Show the form again without saving: variables found in the text, the chosen provider's parameters."""
        params_ok = self.params is None or self.params.is_valid()
        if self.setup.is_valid() and params_ok and self.setup.cleaned_data["provider"] != self.params_provider:
            self._switch_provider(self.setup.cleaned_data["provider"])

    def _switch_provider(self, chosen) -> None:
        """Show the chosen provider's parameter controls, with the values it also accepts."""
        kept = self.params.request_fields() if self.params is not None else self.setup.cleaned_data["params_json"]
        endpoint = _chat_endpoint(chosen)
        if endpoint is not None:
            known = {spec.name for spec in endpoint.params}
            kept = {name: value for name, value in kept.items() if name in known}
            self.params = parameter_form(endpoint, initial=kept)
        else:
            self.params = None
        data = self.data.copy()
        data["v-params_provider"] = str(chosen.pk) if chosen else ""
        data["v-params_json"] = json.dumps(kept, indent=2) if kept and endpoint is None else ""
        self.setup = SetupForm(data, team=self.team)
        self.setup.is_valid()
        self.params_provider = chosen
        name = chosen.name if chosen else "no provider"
        self.notice = f"The parameters are now those of {name}. Check them, then save."

    def content(self) -> Content:
        setup = self.setup.cleaned_data
        params = self.params.request_fields() if self.params is not None else setup["params_json"]
        return Content(
            system=setup["system"],
            messages=self._message_list(),
            provider=setup["provider"],
            model=setup["model"].strip(),
            params=params,
            variables=self.variables.meta(),
        )


# Running


def _variable_fields(form: forms.Form, names: list[str], meta: dict[str, Any]) -> None:
    for name in names:
        info = meta.get(name) or {}
        form.fields[f"var_{name}"] = forms.CharField(
            label=f"{{{{{name}}}}}",
            required=False,
            strip=False,
            initial=info.get("default", ""),
            help_text=info.get("description", ""),
            widget=forms.Textarea(attrs={"rows": 2, "class": "variable-value"}),
        )


class RunForm(Form):
    """Values for the version's variables (defaults filled in) and the project to run in."""

    project = forms.ModelChoiceField(queryset=None, label="Project", empty_label=None)

    def __init__(self, *args, version, team, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.names = variables.names_of(version.system, version.messages)
        _variable_fields(self, self.names, version.variables)
        projects = team.projects.filter(archived_at__isnull=True)
        self.fields["project"].queryset = projects
        self.fields["project"].help_text = "The conversation is made in this project; its members can see it."
        current = user.current_project_id
        if current and projects.filter(pk=current).exists():
            self.fields["project"].initial = current
        # The project comes last in the page, after the variables.
        self.order_fields([*(f"var_{name}" for name in self.names), "project"])

    @property
    def variable_fields(self) -> list[forms.BoundField]:
        return [self[f"var_{name}"] for name in self.names]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in self.names:
            key = f"var_{name}"
            if key in cleaned and not cleaned[key].strip():
                self.add_error(key, f"Give a value for {{{{{name}}}}}: the prompt uses it, so it cannot be empty.")
        return cleaned

    def values(self) -> dict[str, str]:
        return {name: self.cleaned_data[f"var_{name}"] for name in self.names}

    def current_values(self) -> dict[str, str]:
        """The values as typed so far, valid or not (for the preview)."""
        values = {}
        for name in self.names:
            field = self[f"var_{name}"]
            values[name] = str(field.value() or "")
        return values


class ColumnForm(Form):
    provider = forms.ModelChoiceField(queryset=None, label="Provider", required=False, empty_label="Choose…")
    model = forms.CharField(
        label="Model",
        max_length=200,
        required=False,
        help_text="Leave empty to skip this column.",
        widget=forms.TextInput(attrs={"list": "compare-models"}),
    )
    params = forms.CharField(
        label="Parameters (JSON)", required=False, widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})
    )

    def __init__(self, *args, team, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["provider"].queryset = team.providers.all()

    @property
    def used(self) -> bool:
        return bool(self.cleaned_data.get("model", "").strip())

    def clean_params(self) -> dict[str, Any]:
        return json_object(self.cleaned_data["params"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors or not cleaned.get("model", "").strip():
            return cleaned
        setup = self.setup()
        for field, problem in setup_problems(setup, self.user):
            self.add_error(field, problem)
        endpoint = _chat_endpoint(setup.provider)
        if endpoint is not None and not self.errors:
            problems = validate_request(endpoint, setup.params)
            wrong = [message for name, message in problems.items() if name in setup.params]
            if wrong:
                self.add_error("params", " ".join(wrong))
        return cleaned

    def setup(self) -> Setup:
        return Setup(self.cleaned_data["provider"], self.cleaned_data["model"].strip(), self.cleaned_data["params"])


def column_forms(data, *, version, team, user) -> list[ColumnForm]:
    """Four columns; the first starts as the version's own setup."""
    forms_ = []
    params = json.dumps(version.params, indent=2) if version.params else ""
    for position in range(1, MAX_COLUMNS + 1):
        initial = {"provider": version.provider, "params": params}
        if position == 1:
            initial["model"] = version.model
        forms_.append(ColumnForm(data, team=team, user=user, prefix=f"c{position}", initial=initial))
    return forms_
