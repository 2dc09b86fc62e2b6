"""Forms for providers, their headers, API keys and uploaded schemas."""

from __future__ import annotations

from django import forms

from playground.providers.models import Provider
from playground.providers.profiles import profile_choices


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
        if name and not all(char.isalnum() or char in "-_" for char in name):
            raise forms.ValidationError("Header names may contain letters, digits, - and _ only.")
        if name.lower() in {"authorization", "content-type", "host", "content-length"}:
            raise forms.ValidationError(f"{name} is set by Playground itself.")
        return name


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
