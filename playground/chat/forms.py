"""The chat page's settings form: provider, model, mode and system prompt."""

from __future__ import annotations

from django import forms

from playground.chat import services
from playground.chat.models import Mode
from playground.providers.keys import provider_schema


class SettingsForm(forms.Form):
    provider = forms.ModelChoiceField(queryset=None, label="Provider", empty_label="Choose a provider")
    # Not required as a field: on a provider change the form picks a model (see clean).
    model = forms.CharField(
        label="Model", max_length=200, required=False, widget=forms.TextInput(attrs={"list": "model-options"})
    )
    mode = forms.ChoiceField(
        label="Mode",
        choices=Mode.choices,
        required=False,
        help_text="Text completion sends your message as a prompt to continue (legacy /completions).",
    )
    system = forms.CharField(label="System prompt", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = team.providers.all()
        self.model_note = ""  # what to tell the person about the model a provider change chose

    def clean(self):
        data = super().clean()
        data["mode"] = data.get("mode") or Mode.CHAT
        provider, mode = data.get("provider"), data["mode"]
        if (
            provider is not None
            and mode == Mode.COMPLETION
            and "completions" not in provider_schema(provider).endpoints
        ):
            self.add_error("mode", f"{provider.name}'s API schema has no text completions endpoint (/completions).")
        model = (data.get("model") or "").strip()
        if provider is not None and provider.pk != self.initial.get("provider"):
            # The old provider's model means nothing to the new one, unless typed anew just now.
            typed = model if model != self.initial.get("model") else ""
            endpoint = "completions" if mode == Mode.COMPLETION else "chat"
            model, self.model_note = services.model_for_provider(provider, endpoint=endpoint, typed=typed)
        elif not model and "model" not in self.errors:
            self.add_error("model", "Type the model to use.")
        data["model"] = model
        return data
