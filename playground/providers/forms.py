"""Forms for providers, their headers, API keys and uploaded schemas."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django import forms

from playground.providers.models import Provider, ProviderHeader
from playground.providers.profiles import profile_choices, profile_meta, profile_names

# A header name is an RFC 7230 token; a value, printable ASCII (the HTTP client encodes
# headers as ASCII and refuses anything else, at every call through the provider).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_NAME_MESSAGE = "Header names may contain ASCII letters, digits and ! # $ % & ' * + - . ^ _ ` | ~ only."


def _value_problem(value: str) -> str | None:
    """Why a header value cannot go on the wire as it is, or None when it can."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return "A header value cannot contain line breaks or control characters."
    if not value.isascii():
        return "A header value can hold only ASCII letters, digits, spaces and punctuation: nothing outside ASCII."
    return None


@dataclass
class DeclaredHeader:
    """A header a profile declares (`x-playground-headers`), with its box in the provider form."""

    profile: str
    name: str
    required: bool
    field_name: str
    clear_name: str | None  # the "remove the stored value" box, when one is stored and optional


@dataclass
class HeaderGroup:
    """The declared headers of one profile, shown together under the profile's name."""

    profile: str
    label: str
    fields: list[tuple[Any, Any]]  # (value box, remove box or None), as bound fields


def declared_headers(profile: str) -> list[dict[str, Any]]:
    """The headers a profile declares, leaving out any entry without a name."""
    return [
        item
        for item in profile_meta(profile)["headers"]
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]
    ]


class ProviderForm(forms.ModelForm):
    base_url = forms.URLField(
        label="Base URL", max_length=500, assume_scheme="https", help_text="For example https://api.openai.com/v1"
    )
    profile = forms.ChoiceField(
        label="Profile", help_text="The built-in API description used until the provider's own schema is loaded."
    )

    class Meta:
        model = Provider
        fields = [
            "name",
            "base_url",
            "profile",
            "default_model",
            "allow_local",
            "connect_timeout",
            "first_byte_timeout",
            "idle_timeout",
            "total_timeout",
        ]
        labels = {
            "name": "Provider name",
            "base_url": "Base URL",
            "allow_local": "May reach the local network",
            "connect_timeout": "Connect timeout (s)",
            "first_byte_timeout": "First-byte timeout (s)",
            "idle_timeout": "Idle timeout between chunks (s)",
            "total_timeout": "Total time limit (s)",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"].choices = profile_choices()
        for name in ("connect_timeout", "first_byte_timeout", "idle_timeout", "total_timeout"):
            self.fields[name].widget.attrs.update({"min": "0.1", "step": "0.1", "placeholder": "default"})
            self.fields[name].min_value = 0.1
        if not user.is_staff:
            # Only staff may let a provider reach local addresses; others do not see the switch.
            del self.fields["allow_local"]
        # The profile the provider had: validation writes the chosen one onto the instance.
        self.saved_profile = self.instance.profile if self.instance.pk else None
        self.stored: dict[str, ProviderHeader] = (
            {header.name.lower(): header for header in self.instance.extra_headers.all()} if self.instance.pk else {}
        )
        self.declared = self._add_declared_header_fields()

    def _add_declared_header_fields(self) -> list[DeclaredHeader]:
        """A box for every header a profile declares, each profile's under its name; a page
        script shows only the chosen profile's. Values are stored encrypted and never shown."""
        declared = []
        for profile in profile_names():
            for index, item in enumerate(declared_headers(profile)):
                name, required = item["name"], bool(item.get("required"))
                stored = self.stored.get(name.lower())
                help_parts = [item.get("description") or ""]
                if stored is not None:
                    help_parts.append(f"Set ({stored.masked}); leave empty to keep it.")
                field_name = f"header-{profile}-{index}"
                attrs = {"autocomplete": "off", **({"aria-required": "true"} if required else {})}
                self.fields[field_name] = forms.CharField(
                    label=f"{name} (required)" if required else name,
                    max_length=500,
                    required=False,
                    strip=True,
                    widget=forms.PasswordInput(render_value=False, attrs=attrs),
                    help_text=" ".join(part for part in help_parts if part),
                )
                clear_name = None
                if stored is not None and not required:
                    clear_name = f"{field_name}-clear"
                    self.fields[clear_name] = forms.BooleanField(label=f"Remove the stored {name}", required=False)
                declared.append(DeclaredHeader(profile, name, required, field_name, clear_name))
        return declared

    def header_groups(self) -> list[HeaderGroup]:
        groups: dict[str, HeaderGroup] = {}
        for header in self.declared:
            group = groups.setdefault(
                header.profile, HeaderGroup(header.profile, profile_meta(header.profile)["label"], [])
            )
            clear = self[header.clear_name] if header.clear_name else None
            group.fields.append((self[header.field_name], clear))
        return list(groups.values())

    def clean(self):
        data = super().clean()
        for header in self._chosen_declared():
            value = data.get(header.field_name) or ""
            problem = _value_problem(value)
            if problem:
                self.add_error(header.field_name, problem)
            elif header.required and not value and header.name.lower() not in self.stored:
                label = profile_meta(data["profile"])["label"]
                self.add_error(header.field_name, f"{label} needs the {header.name} header: enter its value.")
        return data

    def _chosen_declared(self) -> list[DeclaredHeader]:
        profile = (self.cleaned_data if hasattr(self, "cleaned_data") else {}).get("profile")
        return [header for header in self.declared if header.profile == profile]

    def free_header_initial(self) -> list[dict[str, Any]]:
        """The stored headers for the free rows: all but those the provider's profile has boxes for."""
        return [
            {"name": header.name, "value": header.value, "secret": header.secret}
            for key, header in self.stored.items()
            if key not in self._saved_profile_boxes()
        ]

    def _saved_profile_boxes(self) -> set[str]:
        """The (lower-case) names of the headers the provider's saved profile has boxes for."""
        return {item["name"].lower() for item in declared_headers(self.saved_profile)} if self.saved_profile else set()

    def header_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The free rows joined with the chosen profile's header boxes, for `headers_replace`.

        A box filled (or marked "remove") decides that header; a box left empty keeps what is
        stored, or lets a free row of the same name set it. Stored headers of the provider's
        previous profile that the free rows did not show are kept.
        """
        boxes = {}
        for header in self._chosen_declared():
            value = self.cleaned_data.get(header.field_name) or ""
            clear = bool(header.clear_name and self.cleaned_data.get(header.clear_name))
            boxes[header.name.lower()] = (header.name, value, clear)
        merged, named = [], set()
        for row in rows:
            name = (row.get("name") or "").strip()
            box = boxes.get(name.lower())
            if not name or (box is not None and (box[1] or box[2])):
                continue
            merged.append(row)
            named.add(name.lower())
        for key, (name, value, clear) in boxes.items():
            if clear or key in named or not (value or key in self.stored):
                continue
            merged.append({"name": name, "value": value, "secret": True, "keep": True})
            named.add(key)
        for key, header in self.stored.items():
            if key in self._saved_profile_boxes() and key not in named and key not in boxes:
                merged.append({"name": header.name, "value": "", "secret": header.secret, "keep": True})
        return merged


class HeaderForm(forms.Form):
    name = forms.CharField(label="Header name", max_length=100, required=False)
    value = forms.CharField(
        label="Value",
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="For a secret header that is already set, leave empty to keep it.",
    )
    secret = forms.BooleanField(label="Secret (stored encrypted, never shown again)", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each row's controls get their own names for screen readers: "Header 2 value".
        number = int(self.prefix.rsplit("-", 1)[-1]) + 1 if self.prefix and self.prefix[-1].isdigit() else 1
        self.fields["name"].label = f"Header {number} name"
        self.fields["value"].label = f"Header {number} value"
        self.fields["secret"].label = f"Header {number} is secret (stored encrypted, never shown again)"

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if name and not _HEADER_NAME.fullmatch(name):
            raise forms.ValidationError(_HEADER_NAME_MESSAGE)
        if name.lower() in {"authorization", "content-type", "host", "content-length"}:
            raise forms.ValidationError(f"{name} is set by Playground itself.")
        return name

    def clean_value(self):
        value = self.cleaned_data["value"]
        problem = _value_problem(value)
        if problem:
            raise forms.ValidationError(problem)
        return value


HeaderFormSet = forms.formset_factory(HeaderForm, extra=2, max_num=20)


class ApiKeyForm(forms.Form):
    key = forms.CharField(
        label="API key",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted; after saving only its last four characters are ever shown.",
    )
    label = forms.CharField(label="Label", max_length=100, required=False)
    shared = forms.BooleanField(label="Share with the team", required=False)

    def __init__(self, *args, can_share: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_share:
            del self.fields["shared"]


SCHEMA_MAX_BYTES = 5 * 1024 * 1024


class SchemaUploadForm(forms.Form):
    document = forms.CharField(
        label="OpenAPI document (JSON or YAML)",
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        max_length=SCHEMA_MAX_BYTES,
        error_messages={"max_length": f"The document is longer than {SCHEMA_MAX_BYTES >> 20} MB."},
    )
    file = forms.FileField(label="…or upload a file", required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > SCHEMA_MAX_BYTES:
                self.add_error("file", f"The file is larger than {SCHEMA_MAX_BYTES >> 20} MB.")
                return data
            data["document"] = upload.read().decode("utf-8", errors="replace")
        if not (data.get("document") or "").strip() and not self.errors:
            raise forms.ValidationError("Paste a document or choose a file.")
        return data
