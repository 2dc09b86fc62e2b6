"""The rendered form: widgets from the schema, labels for every control, nothing the CSP would block."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string

from playground.schema.forms import parameter_form
from playground.schema.specs import endpoints_of
from tests.schema.documents import invented_document, research_document
from tests.schema.html import parse


@pytest.fixture
def chat():
    return endpoints_of(invented_document())["chat"]


def render(form):
    return render_to_string("schema/_parameter_form.html", {"form": form})


@pytest.fixture
def page(chat):
    return parse(render(parameter_form(chat)))


def test_an_integer_is_a_number_box_with_its_range_and_a_linked_slider(page):
    box = page.by_id("id_p-flux_capacitor")
    assert (box.tag, box.attrs["type"]) == ("input", "number")
    assert (box.attrs["min"], box.attrs["max"], box.attrs["step"]) == ("1", "7", "1")
    assert "value" not in box.attrs
    assert box.attrs["placeholder"] == "default 3"
    slider = page.one("input", data_param_for="id_p-flux_capacitor")
    assert slider.attrs["type"] == "range"
    assert "name" not in slider.attrs  # only the number box is sent
    assert (slider.attrs["min"], slider.attrs["max"], slider.attrs["step"], slider.attrs["value"]) == (
        "1",
        "7",
        "1",
        "3",
    )
    assert slider.attrs["aria-label"] == "flux_capacitor slider"


def test_a_number_accepts_any_precision_within_inclusive_bounds(page):
    box = page.by_id("id_p-balance")
    assert (box.attrs["min"], box.attrs["max"], box.attrs["step"]) == ("-1", "1", "any")
    slider = page.one("input", data_param_for="id_p-balance")
    assert slider.attrs["step"] == "0.01"


def test_an_exclusive_bound_is_left_to_the_server_and_nudged_on_the_slider(page):
    box = page.by_id("id_p-spark")
    assert "min" not in box.attrs
    assert box.attrs["max"] == "10"
    slider = page.one("input", data_param_for="id_p-spark")
    assert (slider.attrs["min"], slider.attrs["max"]) == ("0.1", "10")


def test_an_enum_is_a_select_whose_first_option_is_not_set(page):
    select = page.by_id("id_p-mood")
    options = [(option.attrs["value"], option.text) for option in select.all("option")]
    assert options == [("", "Not set"), ("calm", "calm"), ("bold", "bold")]


def test_a_boolean_with_a_default_says_so_in_its_first_option(page):
    select = page.by_id("id_p-verbose")
    options = [(option.attrs["value"], option.text) for option in select.all("option")]
    assert options == [("", "Default (false)"), ("true", "true"), ("false", "false")]
    assert "selected" in select.all("option")[0].attrs


def test_lists_and_json_are_textareas(page):
    assert page.by_id("id_p-stop").tag == "textarea"
    assert page.by_id("id_p-stop").attrs["rows"] == "4"
    assert page.by_id("id_p-plan").tag == "textarea"
    assert page.by_id("id_p-nickname").attrs["type"] == "text"


def test_the_json_example_is_offered_not_sent(page):
    editor = page.by_id("id_p-plan")
    assert editor.text.strip() == ""
    button = page.one("button", data_param_example="id_p-plan")
    assert button.attrs["data-example"] == '{\n  "steps": [\n    "example"\n  ]\n}'
    assert button.attrs["type"] == "button"
    assert button.text == "Insert example into plan"


def test_each_field_has_a_stable_wrapper_reset_and_default_text(page):
    wrapper = page.by_id("param-flux_capacitor")
    reset = wrapper.one("button", data_param_reset="id_p-flux_capacitor")
    assert (reset.attrs["type"], reset.text) == ("button", "Reset flux_capacitor")
    assert wrapper.by_id("param-flux_capacitor-default").text == "Default: 3"
    assert wrapper.by_id("param-flux_capacitor-help").text == "How much flux to apply."
    box = page.by_id("id_p-flux_capacitor")
    assert box.attrs["aria-describedby"] == "param-flux_capacitor-default param-flux_capacitor-help"


def test_common_fields_come_first_and_the_rest_under_advanced(page):
    common = page.one("div", **{"class": "params-common"})
    assert [
        wrapper.attrs["id"] for wrapper in common.all("div") if "param" in wrapper.attrs.get("class", "").split()
    ] == ["param-stop"]
    details = page.one("details")
    assert details.one("summary").text.startswith("Advanced")
    assert "open" not in details.attrs
    assert details.by_id("param-flux_capacitor")


def test_advanced_opens_when_something_in_it_is_set(chat):
    page = parse(render(parameter_form(chat, initial={"mood": "bold"})))
    assert "open" in page.one("details").attrs
    assert "selected" in page.one("option", value="bold").attrs


def test_errors_show_beside_the_field_and_are_announced(chat):
    form = parameter_form(chat, {"p-flux_capacitor": "9", "p-plan": "{"})
    assert not form.is_valid()
    page = parse(render(form))
    assert page.by_id("param-flux_capacitor-errors").text == "flux_capacitor must be ≤ 7"
    box = page.by_id("id_p-flux_capacitor")
    assert box.attrs["aria-invalid"] == "true"
    assert box.attrs["aria-describedby"].startswith("param-flux_capacitor-errors")
    assert box.attrs["value"] == "9"
    assert "has-error" in page.by_id("param-plan").attrs["class"].split()


def test_a_string_with_suggestions_gets_a_datalist():
    document = research_document()
    document["components"]["schemas"]["ChatCompletionRequest"]["properties"]["voice"] = {
        "anyOf": [{"type": "string"}, {"enum": ["alloy", "echo"]}]
    }
    page = parse(render(parameter_form(endpoints_of(document)["chat"])))
    assert page.by_id("id_p-voice").attrs["list"] == "param-voice-suggestions"
    assert [option.attrs["value"] for option in page.by_id("param-voice-suggestions").all("option")] == [
        "alloy",
        "echo",
    ]


@pytest.mark.parametrize("make", [invented_document, research_document])
def test_nothing_inline_that_the_csp_would_block(make):
    endpoint = endpoints_of(make())["chat"]
    for form in (parameter_form(endpoint), parameter_form(endpoint, {"p-stop": "a\nb\nc\nd\ne"})):
        form.is_valid()
        html = render(form)
        page = parse(html)
        assert not page.all("script") and not page.all("style")
        for element in page.all():
            assert "style" not in element.attrs, element
            assert not [name for name in element.attrs if name.startswith("on")], element
        assert not re.search(r"javascript:", html, re.IGNORECASE)


@pytest.mark.parametrize("make", [invented_document, research_document])
def test_every_control_has_a_label(make):
    page = parse(render(parameter_form(endpoints_of(make())["chat"])))
    labelled = {label.attrs.get("for") for label in page.all("label")}
    controls = page.all("input") + page.all("select") + page.all("textarea")
    assert controls
    for control in controls:
        assert control.attrs.get("id") in labelled or control.attrs.get("aria-label"), control
    for label in page.all("label"):
        assert label.text.strip()


def test_the_form_renders_itself_in_a_page(chat):
    form = parameter_form(chat)
    page = parse(Template("<form>{{ form }}</form>").render(Context({"form": form})))
    assert page.by_id("params").by_id("param-flux_capacitor")
