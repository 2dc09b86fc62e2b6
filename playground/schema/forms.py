"""The parameter form of one endpoint, generated from its specs; clean() validates the assembled body."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django import forms
from django.forms import BoundField
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from playground.schema.examples import insertable_example
from playground.schema.fields import NOT_SET, NumberParamField, form_field, slider_range, to_text
from playground.schema.specs import EndpointSchema, ParamSpec
from playground.schema.text import value_text
from playground.schema.validation import validate_request

# Fields the app itself sets when it calls an endpoint, so a control for them would do nothing
# or break the call: chat and completions are always streamed (the client sends `stream`, and
# asks for usage with `stream_options` where the API has it; `best_of` cannot be streamed);
# images are read as one JSON answer.
APP_SET_FIELDS = {
    "chat": ("stream", "stream_options"),
    "completions": ("stream", "stream_options", "best_of"),
    "images": ("stream", "partial_images"),
    "embeddings": (),
}


class ParameterForm(forms.Form):
    """One field per request parameter. A field is "set" only when its control is not empty
    (a select's first option is the empty one), and only set fields are sent."""

    label_suffix = ""
    # Required fields may sit in a closed <details>; the server says what is missing instead.
    use_required_attribute = False
    template_name = "schema/_parameter_form.html"

    def __init__(
        self,
        endpoint: EndpointSchema,
        data: Any = None,
        *,
        initial: dict[str, Any] | None = None,
        prefix: str = "p",
    ) -> None:
        endpoint = offered(endpoint)
        self.endpoint = endpoint
        texts = {}
        for spec in endpoint.params:
            if initial and spec.name in initial:
                texts[spec.name] = to_text(spec, initial[spec.name])
            elif spec.required and spec.has_default:
                # The API insists on a value; start from its default so the form is sendable as is.
                texts[spec.name] = to_text(spec, spec.default)
        super().__init__(data, initial=texts, prefix=prefix)
        for spec in endpoint.params:
            self.fields[spec.name] = form_field(spec)

    def clean(self) -> dict[str, Any]:
        """Validate the parameters as a request body and put each message beside its field.

        Errors about content fields or the body as a whole (say, "messages or prompt is
        required") are left to the page, which validates the complete body before sending.
        """
        cleaned = super().clean()
        for name, message in validate_request(self.endpoint, self.request_fields()).items():
            if name in self.fields and name not in self._errors:
                self.add_error(name, message)
        return cleaned

    def __str__(self) -> str:
        """`{{ form }}` in a page renders the parameter controls (the page supplies the <form>)."""
        return render_to_string(self.template_name, {"form": self})

    __html__ = __str__

    def request_fields(self) -> dict[str, Any]:
        """The set fields with their JSON values (int, float, bool, list[str], parsed JSON)."""
        cleaned = getattr(self, "cleaned_data", {})
        return {name: value for name, value in cleaned.items() if value is not NOT_SET}

    @property
    def dom_id(self) -> str:
        return "params" if self.prefix == "p" else f"{self.prefix}-params"

    @cached_property
    def common_params(self) -> list[ParamView]:
        return [ParamView(self, spec) for spec in self.endpoint.params if spec.common]

    @cached_property
    def advanced_params(self) -> list[ParamView]:
        return [ParamView(self, spec) for spec in self.endpoint.params if not spec.common]

    @property
    def advanced_open(self) -> bool:
        """Open "Advanced" when something in it is set or wrong, so nothing sent is hidden."""
        return any(param.is_set or param.errors for param in self.advanced_params)


def offered(endpoint: EndpointSchema) -> EndpointSchema:
    """The endpoint with only the parameters a person can usefully set (not APP_SET_FIELDS)."""
    owned = APP_SET_FIELDS.get(endpoint.endpoint, ())
    if not any(spec.name in owned for spec in endpoint.params):
        return endpoint
    return dataclasses.replace(endpoint, params=tuple(spec for spec in endpoint.params if spec.name not in owned))


def parameter_form(
    endpoint: EndpointSchema, data: Any = None, *, initial: dict[str, Any] | None = None, prefix: str = "p"
) -> ParameterForm:
    """The form for an endpoint; `initial` is previously saved parameters (field -> JSON value)."""
    return ParameterForm(endpoint, data, initial=initial, prefix=prefix)


@dataclass
class ParamView:
    """What the template shows for one parameter, beyond the control Django renders."""

    form: ParameterForm
    spec: ParamSpec

    @cached_property
    def field(self) -> BoundField:
        return self.form[self.spec.name]

    @property
    def dom_id(self) -> str:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "-", self.spec.name)
        return f"param-{safe}" if self.form.prefix == "p" else f"{self.form.prefix}-param-{safe}"

    @property
    def control_id(self) -> str:
        return self.field.id_for_label

    @property
    def errors(self) -> list[str]:
        return list(self.field.errors)

    @property
    def text(self) -> str:
        value = self.field.value()
        return "" if value is None else str(value)

    @property
    def is_set(self) -> bool:
        return bool(self.text.strip())

    @property
    def default_text(self) -> str:
        return value_text(self.spec.default) if self.spec.has_default else ""

    @property
    def reset_text(self) -> str:
        """What Reset puts back: empty, except for a required field that has a default."""
        return to_text(self.spec, self.spec.default) if self.spec.required and self.spec.has_default else ""

    @property
    def suggestions(self) -> tuple:
        return self.spec.choices if self.spec.kind == "string" else ()

    @cached_property
    def example_text(self) -> str:
        """What "Insert example" puts in a JSON editor: always a value the schema accepts, or
        nothing (no button) when neither the schema's example nor a skeleton of it is one."""
        if self.spec.kind != "json":
            return ""
        example = insertable_example(self.spec.schema, self.spec.example)
        return "" if example is None else json.dumps(example, indent=2, ensure_ascii=False)

    @cached_property
    def slider(self) -> dict[str, str] | None:
        """min, max, step, value and resting value (where Reset puts it) of a range input linked to the number box."""
        found = slider_range(self.spec)
        if found is None:
            return None
        low, high, step = found
        default = self.spec.default
        resting = default if isinstance(default, int | float) and not isinstance(default, bool) else low
        current = _number_or_none(self.field.field, self.text)
        rest = min(max(resting, low), high)
        value = rest if current is None else min(max(current, low), high)
        numbers = {"min": low, "max": high, "step": step, "value": value, "rest": rest}
        return {key: value_text(number) for key, number in numbers.items()}

    @property
    def control(self) -> SafeString:
        parts = {"errors": self.errors, "default": self.spec.has_default, "help": self.spec.description}
        described = [f"{self.dom_id}-{part}" for part, shown in parts.items() if shown]
        attrs: dict[str, Any] = {"data-param-control": self.spec.kind}
        if described:
            attrs["aria-describedby"] = " ".join(described)
        if self.errors:
            attrs["aria-invalid"] = "true"
        if self.suggestions:
            attrs["list"] = f"{self.dom_id}-suggestions"
        return self.field.as_widget(attrs=attrs)


def _number_or_none(field: forms.Field, text: str) -> float | None:
    if not isinstance(field, NumberParamField) or not text.strip():
        return None
    try:
        return field.parse(text)
    except forms.ValidationError:
        return None
