"""The generate form: prompt, provider, model, and the parameter form of the provider's images endpoint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from django import forms
from django.urls import reverse

from playground.images import selectors
from playground.providers.models import Provider
from playground.schema.forms import ParameterForm, parameter_form
from playground.schema.specs import EndpointSchema
from playground.schema.validation import BODY, validate_request

# The page reads one JSON answer, so it owns `stream` as it owns prompt and model (OpenAI's
# streamed partial images would need a page of their own).
PAGE_FIELDS = ("stream",)


class ImageForm(forms.Form):
    prompt = forms.CharField(label="Prompt", widget=forms.Textarea(attrs={"rows": 3}), strip=False)
    provider = forms.ModelChoiceField(queryset=Provider.objects.none(), label="Provider", empty_label=None)
    model = forms.CharField(
        label="Model",
        max_length=200,
        widget=forms.TextInput(attrs={"list": "image-model-options", "autocomplete": "off", "spellcheck": "false"}),
    )
    # Which provider the parameter controls were made for: when the provider select says
    # otherwise, the page shows the new provider's parameters instead of sending.
    params_for = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, providers: list[Provider], **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        self.fields["provider"].queryset = Provider.objects.filter(pk__in=[p.pk for p in providers]).order_by(
            "name", "id"
        )

    def clean_prompt(self) -> str:
        prompt = self.cleaned_data["prompt"]
        if not prompt.strip():
            raise forms.ValidationError("Describe the picture you want.")
        return prompt

    def clean_model(self) -> str:
        return self.cleaned_data["model"].strip()


@dataclass
class GenerateForms:
    """Everything the generate form shows, and the request body once it is valid."""

    form: ImageForm
    provider: Provider | None
    endpoint: EndpointSchema | None
    params: ParameterForm | None
    models: list[str]
    provider_changed: bool = False

    def request_body(self) -> dict[str, Any] | None:
        """The validated body (model, prompt and the parameters set), or None with errors on the fields.

        The whole body is validated against the endpoint's schema before anything is sent, so
        a prompt the API finds too long is reported beside the prompt box.
        """
        if self.provider_changed or self.params is None:
            return None
        valid = self.form.is_valid()
        valid = self.params.is_valid() and valid
        if not valid:
            return None
        body = {
            "model": self.form.cleaned_data["model"],
            "prompt": self.form.cleaned_data["prompt"],
            **self.params.request_fields(),
        }
        problems = validate_request(self.endpoint, body)
        for name, message in problems.items():
            if name in ("model", "prompt"):
                self.form.add_error(name, message)
            elif name in self.params.fields:
                if name not in self.params.errors:
                    self.params.add_error(name, message)
            else:
                self.form.add_error(None, message if name == BODY else f"{name}: {message}")
        return None if problems else body


def page_endpoint(endpoint: EndpointSchema) -> EndpointSchema:
    return dataclasses.replace(endpoint, params=tuple(p for p in endpoint.params if p.name not in PAGE_FIELDS))


def generate_forms(
    project,
    data: Any = None,
    *,
    initial: dict[str, Any] | None = None,
) -> GenerateForms:
    """The form for `project`, bound to `data` when given, else filled from `initial`
    (prompt, provider, model, params: "use these settings again", or a provider switch)."""
    initial = dict(initial or {})
    providers = selectors.image_providers(project.team)
    by_id = {provider.pk: provider for provider in providers}
    wanted = _int((data or {}).get("provider")) or _int(initial.get("provider"))
    provider = by_id.get(wanted) or (providers[0] if providers else None)
    endpoint = selectors.images_endpoint(provider) if provider else None
    endpoint = page_endpoint(endpoint) if endpoint else None
    provider_changed = data is not None and provider is not None and _int(data.get("params_for")) != provider.pk
    if provider is not None and (provider_changed or _int(initial.get("provider")) != provider.pk):
        # Another provider's model and parameters mean nothing here; keep only the prompt.
        initial = {"prompt": data.get("prompt", "") if provider_changed else initial.get("prompt", "")}
    if provider is not None:
        initial.update(provider=provider.pk, params_for=provider.pk)
        initial["model"] = initial.get("model") or selectors.initial_model(project, provider, endpoint)
    form = ImageForm(None if provider_changed else data, initial=initial, providers=providers)
    # Choosing another provider brings its parameters (without htmx, the next submit does).
    form.fields["provider"].widget.attrs.update(
        {
            "hx-get": reverse("image_gallery", args=[project.pk]),
            "hx-target": "#image-form",
            "hx-swap": "outerHTML",
            "hx-include": "#id_prompt",
        }
    )
    params = None
    if endpoint is not None:
        bound = data if data is not None and not provider_changed else None
        params = parameter_form(endpoint, bound, initial=initial.get("params") or None)
    return GenerateForms(
        form=form,
        provider=provider,
        endpoint=endpoint,
        params=params,
        models=selectors.model_suggestions(provider, endpoint) if provider else [],
        provider_changed=provider_changed,
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
