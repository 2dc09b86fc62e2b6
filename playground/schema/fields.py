"""Django form fields for each parameter kind: an empty control means "not set", errors use the API's terms."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from playground.schema.kinds import alternatives
from playground.schema.messages import (
    bound_message,
    choices_message,
    finite_message,
    max_items_message,
    min_items_message,
    required_message,
    type_message,
    whole_number_message,
)
from playground.schema.specs import ParamSpec
from playground.schema.text import number_text, value_text

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
# A slider with more positions than this (a 64-bit seed) is no help; the number box stays.
MAX_SLIDER_POSITIONS = 100_000
# The whole numbers a request can carry: APIs read them as 64-bit integers, and the client's
# JSON encoder refuses anything larger.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class _NotSet:
    def __repr__(self) -> str:
        return "NOT_SET"


NOT_SET: Any = _NotSet()


class ParamField(forms.Field):
    """Base: cleans to NOT_SET when the control is empty (a JSON null can still be typed in the editor)."""

    def __init__(self, spec: ParamSpec, widget: forms.Widget) -> None:
        self.spec = spec
        super().__init__(required=spec.required, label=spec.name, widget=widget)

    def clean(self, value: Any) -> Any:
        text = "" if value is None else str(value)
        if not text.strip():
            if self.required:
                raise ValidationError(required_message(self.spec.name), code="required")
            return NOT_SET
        return self.parse(text)

    def parse(self, text: str) -> Any:
        return text


class NumberParamField(ParamField):
    """A number box. Only values a request can carry pass: finite numbers, and for an integer a
    64-bit one (10**30 or 1e300 would fail when the body is encoded, whatever the schema allows)."""

    def parse(self, text: str) -> Any:
        spec, text = self.spec, text.strip()
        whole = spec.kind == "integer"
        if whole and _INTEGER.fullmatch(text) and len(text) <= 20:
            number: Any = int(text)
        elif _NUMBER.fullmatch(text):
            number = float(text)  # also an integer of more digits than 64 bits hold: no slow int()
            if whole and math.isfinite(number):
                if not number.is_integer():
                    raise ValidationError(type_message(spec.name, "integer"), code="type")
                number = int(number)
        else:
            raise ValidationError(type_message(spec.name, spec.kind), code="type")
        _check_bounds(spec, number)
        if whole and not (isinstance(number, int) and INT64_MIN <= number <= INT64_MAX):
            raise ValidationError(whole_number_message(spec.name, INT64_MIN, INT64_MAX), code="int64")
        if not math.isfinite(number):  # 1e400
            raise ValidationError(finite_message(spec.name), code="finite")
        return number


def _check_bounds(spec: ParamSpec, number: float) -> None:
    if spec.minimum is not None:
        if spec.exclusive_minimum and number <= spec.minimum:
            raise ValidationError(bound_message(spec.name, ">", spec.minimum), code="minimum")
        if number < spec.minimum:
            raise ValidationError(bound_message(spec.name, "≥", spec.minimum), code="minimum")
    if spec.maximum is not None:
        if spec.exclusive_maximum and number >= spec.maximum:
            raise ValidationError(bound_message(spec.name, "<", spec.maximum), code="maximum")
        if number > spec.maximum:
            raise ValidationError(bound_message(spec.name, "≤", spec.maximum), code="maximum")


class ChoiceParamField(ParamField):
    """A boolean or an enum: the select's first option ("Default (…)" or "Not set") is the empty one."""

    def __init__(self, spec: ParamSpec, widget: forms.Widget, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__(spec, widget)

    def parse(self, text: str) -> Any:
        if text not in self.options:
            if self.spec.kind == "boolean":
                raise ValidationError(type_message(self.spec.name, "boolean"), code="type")
            raise ValidationError(choices_message(self.spec.name, self.spec.choices), code="enum")
        return self.options[text]


class StringListParamField(ParamField):
    """One item per line; blank lines are skipped; a line written as a JSON string ("\\n") is decoded."""

    def parse(self, text: str) -> Any:
        items = []
        for line in text.splitlines():
            if not line.strip():
                continue
            if len(line) >= 2 and line[0] == line[-1] == '"':
                try:
                    decoded = json.loads(line)
                except ValueError:
                    decoded = None
                line = decoded if isinstance(decoded, str) else line
            items.append(line)
        spec = self.spec
        if spec.max_items is not None and len(items) > spec.max_items:
            raise ValidationError(max_items_message(spec.name, spec.max_items), code="maxItems")
        if spec.min_items is not None and len(items) < spec.min_items:
            raise ValidationError(min_items_message(spec.name, spec.min_items), code="minItems")
        return items


class JsonParamField(ParamField):
    def parse(self, text: str) -> Any:
        try:
            return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite, parse_int=_int64)
        except json.JSONDecodeError as error:
            where = f"{error.msg} at line {error.lineno}, column {error.colno}"
            raise ValidationError(f"{self.spec.name} is not valid JSON: {where}", code="json") from error
        except _UnsendableNumber as error:
            raise ValidationError(f"{self.spec.name} holds {error}", code="json") from error
        except ValueError as error:
            raise ValidationError(f"{self.spec.name} is not valid JSON: {error}", code="json") from error
        except RecursionError:
            raise ValidationError(f"{self.spec.name} nests too deeply to be read", code="json") from None


class _UnsendableNumber(ValueError):
    """A JSON number the request cannot carry (1e400, 10**30)."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _UnsendableNumber(f"{text}, too large a number to send")
    return number


def _int64(text: str) -> int:
    if len(text) <= 20:  # JSON writes no leading zeros or plus: longer is beyond 64 bits
        number = int(text)
        if INT64_MIN <= number <= INT64_MAX:
            return number
    shown = text if len(text) <= 30 else f"{text[:12]}…{text[-6:]}"
    raise _UnsendableNumber(f"{shown}, beyond the whole numbers a request can carry ({INT64_MIN} to {INT64_MAX})")


def form_field(spec: ParamSpec) -> ParamField:
    """The form field and widget for a spec, with the schema's range, step and placeholder on the control."""
    placeholder = f"default {value_text(spec.default)}" if spec.has_default else ""
    if spec.kind in ("number", "integer"):
        attrs = {"step": html_step(spec), "placeholder": placeholder}
        attrs.update(html_bounds(spec))
        return NumberParamField(spec, forms.TextInput(attrs={**_clean(attrs), "type": "number"}))
    if spec.kind in ("boolean", "enum"):
        options = option_values(spec)
        first = f"Default ({value_text(spec.default)})" if spec.has_default else "Not set"
        widget = forms.Select(choices=[("", first), *((text, text) for text in options)])
        return ChoiceParamField(spec, widget, options)
    if spec.kind == "string":
        return ParamField(spec, forms.TextInput(attrs=_clean({"placeholder": placeholder, "autocomplete": "off"})))
    rows = min(max(spec.max_items or 3, 2), 6) if spec.kind == "string_list" else 6
    attrs = {"rows": rows, "spellcheck": "false", "autocomplete": "off"}
    if spec.kind == "string_list":
        return StringListParamField(spec, forms.Textarea(attrs=attrs))
    return JsonParamField(spec, forms.Textarea(attrs={**attrs, "class": "param-json"}))


def _clean(attrs: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in attrs.items() if value not in ("", None)}


def option_values(spec: ParamSpec) -> dict[str, Any]:
    """The select's option values mapped to the JSON values they send."""
    if spec.kind == "boolean":
        return {"true": True, "false": False}
    options = {value_text(choice): choice for choice in spec.choices}
    if len(options) < len(spec.choices):  # "1" and 1 both offered: tell them apart as JSON
        options = {json.dumps(choice): choice for choice in spec.choices}
    return options


def html_step(spec: ParamSpec) -> str:
    """`multipleOf`, else 1 for integers and "any" for numbers.

    The step of a number box also limits which values the browser accepts (counted from
    `min`), so a guessed step would wrongly reject, say, 0.2 when the minimum is 0.001.
    The guessed step is the slider's.
    """
    multiples = [shape["multipleOf"] for shape in alternatives(spec.schema)[0] if "multipleOf" in shape]
    if multiples or spec.kind == "integer":
        return number_text(spec.step)
    return "any"


def html_bounds(spec: ParamSpec) -> dict[str, str]:
    """`min`/`max` for the number box. Integers move exclusive bounds to the next whole number;
    an exclusive bound on a number is left to the server, which rejects the bound itself."""
    bounds = {}
    if spec.minimum is not None:
        if spec.kind == "integer":
            low = math.floor(spec.minimum) + 1 if spec.exclusive_minimum else math.ceil(spec.minimum)
            bounds["min"] = str(low)
        elif not spec.exclusive_minimum:
            bounds["min"] = number_text(spec.minimum)
    if spec.maximum is not None:
        if spec.kind == "integer":
            high = math.ceil(spec.maximum) - 1 if spec.exclusive_maximum else math.floor(spec.maximum)
            bounds["max"] = str(high)
        elif not spec.exclusive_maximum:
            bounds["max"] = number_text(spec.maximum)
    return bounds


def slider_range(spec: ParamSpec) -> tuple[float, float, float] | None:
    """(min, max, step) for a range input, when both bounds are finite and the positions are few enough."""
    if spec.kind not in ("number", "integer") or spec.minimum is None or spec.maximum is None or not spec.step:
        return None
    step = spec.step
    low = spec.minimum + step if spec.exclusive_minimum else spec.minimum
    high = spec.maximum - step if spec.exclusive_maximum else spec.maximum
    low, high = round(low, 10), round(high, 10)
    if high <= low or (high - low) / step > MAX_SLIDER_POSITIONS:
        return None
    return low, high, step


def to_text(spec: ParamSpec, value: Any) -> str:
    """A saved JSON value as the control's text (the reverse of the field's parse)."""
    if spec.kind in ("number", "integer"):
        return number_text(value) if isinstance(value, int | float) and not isinstance(value, bool) else ""
    if spec.kind in ("boolean", "enum"):
        for text, choice in option_values(spec).items():
            if choice == value and type(choice) is type(value):
                return text
        return ""
    if spec.kind == "string":
        return value if isinstance(value, str) else ""
    if spec.kind == "string_list":
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return "\n".join(_list_line(str(item)) for item in items)
    return json.dumps(value, indent=2, ensure_ascii=False)


def _list_line(item: str) -> str:
    quoted = len(item) >= 2 and item[0] == item[-1] == '"'
    if not item.strip() or "\n" in item or "\r" in item or quoted:
        return json.dumps(item, ensure_ascii=False)
    return item
