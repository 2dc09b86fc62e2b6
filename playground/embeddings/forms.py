"""Forms of the embeddings pages: the texts and settings of a run, a neighbours query, a comparison,
and the query and documents of a reranking."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils import timezone

from playground.embeddings import rerank, services
from playground.embeddings.inputs import (
    MAX_FILE_BYTES,
    MAX_TEXT_CHARS,
    MAX_TEXTS,
    InputError,
    parse_lines,
    parse_upload,
)
from playground.embeddings.models import EmbeddingRun
from playground.embeddings.rerank import MAX_DOCUMENT_CHARS, MAX_DOCUMENTS, MAX_QUERY_CHARS
from playground.providers.keys import NoKey, target_for
from playground.providers.models import Provider
from playground.schema.fields import to_text
from playground.schema.forms import ParameterForm, parameter_form
from playground.schema.specs import EndpointSchema
from playground.schema.validation import validate_request
from playground.upstream import errors


class SettingsForm(forms.Form):
    """Provider and model; the provider's parameters are a ParameterForm beside it."""

    provider = forms.ModelChoiceField(
        queryset=Provider.objects.none(),
        label="Provider",
        empty_label=None,
        help_text="The team's providers whose API has an embeddings endpoint.",
    )
    model = forms.CharField(
        label="Model",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"list": "embedding-models", "autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, providers: list[Provider], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = Provider.objects.filter(pk__in=[provider.pk for provider in providers])


class RunForm(SettingsForm):
    texts = forms.CharField(
        label="Texts, one per line",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text=f"Up to {MAX_TEXTS:,} texts of at most {MAX_TEXT_CHARS:,} characters. Blank lines are skipped.",
    )
    file = forms.FileField(
        label="Or upload a file",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.csv,.tsv,text/plain,text/csv"}),
        help_text=(
            ".txt: one text per line. .csv: a text column and, if you like, a label column (colours the "
            f"scatter plot); a header row naming them (text, label) is recognised. At most {MAX_FILE_BYTES >> 20} MB."
        ),
    )
    name = forms.CharField(label="Name (optional)", max_length=200, required=False)

    field_order = ["texts", "file", "provider", "model", "name"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        text, upload = cleaned.get("texts") or "", cleaned.get("file")
        self.parsed = None
        if text.strip() and upload:
            self.add_error("file", "Use either the text box or a file, not both.")
            return cleaned
        if not text.strip() and not upload:
            self.add_error("texts", "Write the texts to embed, one per line, or upload a file.")
            return cleaned
        if upload and upload.size > MAX_FILE_BYTES:
            self.add_error("file", f"The file is larger than {MAX_FILE_BYTES >> 20} MB.")
            return cleaned
        try:
            self.parsed = parse_upload(upload.name, upload.read()) if upload else parse_lines(text)
        except InputError as error:
            self.add_error("file" if upload else "texts", str(error))
        return cleaned

    @property
    def input_field(self) -> str:
        return "file" if self.cleaned_data.get("file") else "texts"


class RerankForm(SettingsForm):
    query = forms.CharField(
        label="Query",
        max_length=MAX_QUERY_CHARS,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        error_messages={"required": "Write the query that the documents are ranked against."},
    )
    documents = forms.CharField(
        label="Documents, one per line",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text=f"Up to {MAX_DOCUMENTS:,} documents of at most {MAX_DOCUMENT_CHARS:,} characters. "
        "Blank lines are skipped.",
    )

    field_order = ["query", "documents", "provider", "model"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].help_text = "The team's providers whose API has a rerank endpoint."
        self.fields["model"].widget.attrs["list"] = "rerank-models"

    def clean_documents(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["documents"].splitlines()]
        documents = [line for line in lines if line]
        if not documents:
            raise forms.ValidationError("Write the documents to rank, one per line.")
        if len(documents) > MAX_DOCUMENTS:
            raise forms.ValidationError(
                f"There are {len(documents):,} documents; at most {MAX_DOCUMENTS:,} can be ranked at once."
            )
        long = next((i for i, text in enumerate(documents) if len(text) > MAX_DOCUMENT_CHARS), None)
        if long is not None:
            raise forms.ValidationError(f"Document {long + 1} is longer than {MAX_DOCUMENT_CHARS:,} characters.")
        return documents


class NeighboursForm(forms.Form):
    query = forms.CharField(
        label="Query text", max_length=MAX_TEXT_CHARS, widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"})
    )
    k = forms.TypedChoiceField(
        label="How many", choices=[(n, n) for n in (5, 10, 20, 50)], coerce=int, initial=10, required=False
    )


class RunChoiceField(forms.ModelChoiceField):
    """Runs told apart even when they share a name: model, provider and when, e.g.
    "Notes (demo-embed on Demo, 2026-12-03 17:05)"."""

    def label_from_instance(self, run: EmbeddingRun) -> str:
        when = timezone.localtime(run.created_at).strftime("%Y-%m-%d %H:%M")
        on = f" on {run.provider_name}" if run.provider_name else ""
        return f"{run} ({run.model}{on}, {when}, run {run.pk})"


class CompareForm(forms.Form):
    other = RunChoiceField(
        queryset=EmbeddingRun.objects.none(),
        label="Compare with",
        empty_label="Choose a run over the same texts",
    )
    k = forms.TypedChoiceField(
        label="Neighbours per text (k)", choices=[(n, n) for n in (3, 5, 10, 20)], coerce=int, initial=5, required=False
    )

    def __init__(self, *args, runs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["other"].queryset = runs


def params_data(endpoint: EndpointSchema, params: dict[str, Any], prefix: str = "p") -> dict[str, str]:
    """A ParameterForm's POST data for saved parameters, to show them as a bound form."""
    specs = [spec for spec in endpoint.params if spec.name in params]
    return {f"{prefix}-{spec.name}": to_text(spec, params[spec.name]) for spec in specs}


def request_check(
    *,
    form: SettingsForm,
    params: ParameterForm,
    endpoint: EndpointSchema,
    texts: list[str],
    batch_size: int,
    input_field: str | None,
    user,
    project,
) -> tuple | None:
    """Validate the request a batch will send against the schema, and find a key: the call
    (target, context), or None with the problems added beside the fields they concern."""
    model = form.cleaned_data["model"].strip()
    body = services.request_body(model, params.request_fields(), texts[:batch_size])
    for name, message in validate_request(endpoint, body).items():
        if name == "input":
            form.add_error(input_field, f"The provider does not accept these texts: {message}.")
        elif name == "model":
            form.add_error("model", message[:1].upper() + message[1:] + ".")
        elif name in params.fields:
            if name not in params.errors:
                params.add_error(name, message)
        else:
            form.add_error(None, message[:1].upper() + message[1:] + ".")
    if form.errors or params.errors:
        return None
    try:
        return target_for(user, form.cleaned_data["provider"], project=project)
    except NoKey as error:
        form.add_error("provider", str(error))
        return None


def rerank_check(
    *, form: RerankForm, params: ParameterForm, endpoint: EndpointSchema, user, project
) -> tuple[dict[str, Any], tuple] | None:
    """Validate the rerank request against the schema and find a key: (body, (target, context)),
    or None with the problems added beside the fields they concern."""
    data = form.cleaned_data
    body = rerank.request_body(data["model"].strip(), params.request_fields(), data["query"], data["documents"])
    for name, message in validate_request(endpoint, body).items():
        sentence = message[:1].upper() + message[1:] + "."
        if name == "documents":
            form.add_error("documents", f"The provider does not accept these documents: {message}.")
        elif name in ("query", "model"):
            form.add_error(name, sentence)
        elif name in params.fields:
            if name not in params.errors:
                params.add_error(name, message)
        else:
            form.add_error(None, sentence)
    if form.errors or params.errors:
        return None
    try:
        return body, target_for(user, data["provider"], project=project)
    except NoKey as error:
        form.add_error("provider", str(error))
        return None


def place_rerank_error(error: errors.UpstreamError, form: RerankForm, params: ParameterForm) -> None:
    """Put a failed call's error beside what it is about: a refused key beside the provider, a
    field the provider named beside that field, anything else above the form."""
    if error.kind == "authentication":
        form.add_error("provider", error.message)
        return
    if error.kind == "bad_request":
        mentioned = _mentioned_field(error.message, list(params.fields))
        if mentioned:
            params.add_error(mentioned, error.message)
            return
        for name in ("documents", "query", "model"):
            if re.search(rf"\b{name}\b", error.message, re.IGNORECASE):
                form.add_error(name, error.message)
                return
    form.add_error(None, error.message)


def place_run_error(run: EmbeddingRun, form: SettingsForm, params: ParameterForm | None) -> None:
    """Put a failed run's error beside the field it is about, on a bound and valid retry form:
    a refused key beside the provider, a parameter the provider named beside that parameter,
    the model beside the model, anything else above the form."""
    if not run.error:
        return
    if run.error_kind == "authentication":
        form.add_error("provider", run.error)
        return
    if run.error_kind == "bad_request":
        mentioned = _mentioned_field(run.error, list(params.fields) if params is not None else [])
        if mentioned and params is not None:
            params.add_error(mentioned, run.error)
            return
        if re.search(r"\bmodel\b", run.error, re.IGNORECASE):
            form.add_error("model", run.error)
            return
    form.add_error(None, run.error)


def _mentioned_field(message: str, names: list[str]) -> str | None:
    """The parameter a provider's message names ("dimensions must be ≤ 2048"), longest name first."""
    for name in sorted(names, key=len, reverse=True):
        if re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", message):
            return name
    return None


def settings_forms(
    data, *, providers: list[Provider], provider: Provider | None, endpoint, model: str, params: dict[str, Any]
) -> tuple[SettingsForm, ParameterForm | None]:
    """The retry form of a run: bound to the run's own settings, so errors can sit beside fields."""
    if data is None:
        data = {"provider": str(provider.pk) if provider else "", "model": model}
        if endpoint is not None:
            data.update(params_data(endpoint, params))
    form = SettingsForm(data, providers=providers)
    params_form = parameter_form(endpoint, data) if endpoint is not None else None
    form.is_valid()
    if params_form is not None:
        params_form.is_valid()
    return form, params_form
