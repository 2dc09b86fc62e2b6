"""The generated form: only set fields are sent, with JSON types, and errors sit beside their fields."""

from __future__ import annotations

import pytest

from playground.providers.profiles import profile_document, profile_names
from playground.schema.forms import APP_SET_FIELDS, parameter_form
from playground.schema.specs import endpoints_of
from tests.schema.documents import invented_document, single_field_document


@pytest.fixture
def chat():
    return endpoints_of(invented_document())["chat"]


def submit(endpoint, **values):
    form = parameter_form(endpoint, {f"p-{name}": value for name, value in values.items()})
    form.is_valid()
    return form


def test_an_empty_form_is_valid_and_sends_nothing(chat):
    form = submit(chat)
    assert form.is_valid(), form.errors
    assert form.request_fields() == {}


def test_empty_controls_and_default_options_are_not_set(chat):
    form = submit(chat, flux_capacitor="", mood="", verbose="", stop="\n \n", plan="  ", nickname="")
    assert form.is_valid(), form.errors
    assert form.request_fields() == {}


def test_set_fields_are_sent_with_their_json_types(chat):
    form = submit(
        chat,
        flux_capacitor="3",
        balance="0.5",
        spark="1e-3",
        verbose="true",
        mood="bold",
        stop="END\nHuman:",
        plan='{"steps": ["warm up", "go"]}',
        nickname="Ada",
    )
    assert form.is_valid(), form.errors
    fields = form.request_fields()
    assert fields == {
        "stop": ["END", "Human:"],
        "flux_capacitor": 3,
        "mood": "bold",
        "plan": {"steps": ["warm up", "go"]},
        "balance": 0.5,
        "spark": 0.001,
        "verbose": True,
        "nickname": "Ada",
    }
    assert type(fields["flux_capacitor"]) is int
    assert type(fields["balance"]) is float


def test_false_is_a_value_not_an_absence(chat):
    assert submit(chat, verbose="false").request_fields() == {"verbose": False}


def test_a_whole_number_written_with_a_point_is_an_integer(chat):
    assert submit(chat, flux_capacitor="4.0").request_fields() == {"flux_capacitor": 4}


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"flux_capacitor": "8"}, "flux_capacitor", "flux_capacitor must be ≤ 7"),
        ({"flux_capacitor": "0"}, "flux_capacitor", "flux_capacitor must be ≥ 1"),
        ({"flux_capacitor": "2.5"}, "flux_capacitor", "flux_capacitor must be an integer"),
        ({"flux_capacitor": "three"}, "flux_capacitor", "flux_capacitor must be an integer"),
        ({"spark": "0"}, "spark", "spark must be > 0"),
        ({"balance": "1_0"}, "balance", "balance must be a number"),
        ({"balance": "nan"}, "balance", "balance must be a number"),
        ({"mood": "loud"}, "mood", "mood must be one of: calm, bold"),
        ({"verbose": "yes"}, "verbose", "verbose must be true or false"),
        ({"stop": "a\nb\nc\nd\ne"}, "stop", "stop may have at most 4 items"),
        ({"plan": '{"steps": ["a"],}'}, "plan", "plan is not valid JSON: Expecting property name enclosed in double"),
        ({"plan": '{\n  "steps": [\n    "a"\n  ]\n  "budget": 1\n}'}, "plan", "at line 5, column 3"),
        ({"plan": '{"budget": NaN}'}, "plan", "plan is not valid JSON: NaN is not a JSON number"),
        ({"plan": "{}"}, "plan", "plan.steps is required"),
        ({"plan": '{"steps": ["a"], "budget": -5}'}, "plan", "plan.budget must be ≥ 0"),
        ({"nickname": "much too long"}, "nickname", "nickname may be at most 8 characters long"),
    ],
)
def test_errors_sit_beside_their_field_in_api_terms(chat, values, field, message):
    form = submit(chat, **values)
    assert not form.is_valid()
    assert list(form.errors) == [field]
    assert message in form.errors[field][0]


def test_a_bad_field_does_not_stop_the_others_being_checked(chat):
    form = submit(chat, flux_capacitor="9", plan="{}", spark="-1")
    assert not form.is_valid()
    assert form.errors == {
        "flux_capacitor": ["flux_capacitor must be ≤ 7"],
        "spark": ["spark must be > 0"],
        "plan": ["plan.steps is required"],
    }


def test_a_json_editor_can_send_null_on_purpose():
    chat = endpoints_of(single_field_document("3.1.0", {"type": ["object", "null"]}))["chat"]
    assert submit(chat, knob="null").request_fields() == {"knob": None}


def test_a_stop_line_written_as_a_json_string_is_decoded(chat):
    assert submit(chat, stop='"\\n"\n"  "\nplain').request_fields() == {"stop": ["\n", "  ", "plain"]}


def test_a_required_parameter_starts_at_its_default_and_cannot_be_cleared():
    document = single_field_document("3.1.0", {"type": "integer", "minimum": 1, "maximum": 4, "default": 1})
    document["components"]["schemas"]["Request"]["required"] = ["knob"]
    chat = endpoints_of(document)["chat"]
    assert parameter_form(chat)["knob"].value() == "1"
    form = submit(chat, knob="")
    assert form.errors == {"knob": ["knob is required"]}


def test_saved_parameters_come_back_as_the_same_request(chat):
    saved = {
        "flux_capacitor": 5,
        "balance": -0.25,
        "verbose": False,
        "mood": "calm",
        "stop": ["END", "\n", '"quoted"', "  "],
        "plan": {"steps": ["a", "b"], "budget": 2.5},
        "nickname": "Ada",
    }
    shown = parameter_form(chat, initial=saved)
    data = {f"p-{name}": shown[name].value() for name in saved}
    again = parameter_form(chat, data)
    assert again.is_valid(), again.errors
    assert again.request_fields() == saved


def test_a_saved_value_the_form_cannot_show_is_dropped(chat):
    shown = parameter_form(chat, initial={"mood": "furious", "flux_capacitor": "lots", "unknown": 1})
    assert shown["mood"].value() == ""
    assert shown["flux_capacitor"].value() == ""


def test_another_prefix_names_the_inputs_apart(chat):
    form = parameter_form(chat, {"left-flux_capacitor": "2"}, prefix="left")
    assert form.is_valid()
    assert form.request_fields() == {"flux_capacitor": 2}


def test_rules_about_the_whole_body_are_left_to_the_page():
    document = single_field_document("3.1.0", {"type": "integer"})
    request = document["components"]["schemas"]["Request"]
    request["properties"].update({"messages": {"type": "array"}, "prompt": {"type": "string"}})
    request["anyOf"] = [{"required": ["messages"]}, {"required": ["prompt"]}]
    form = submit(endpoints_of(document)["chat"], knob="2")
    assert form.is_valid(), form.errors
    assert form.request_fields() == {"knob": 2}


@pytest.mark.parametrize("profile", profile_names())
def test_fields_the_app_sets_itself_are_not_offered(profile):
    """Chat and completions always stream, with stream_options set by the client: a control
    for these would do nothing, or lose the usage the client asks for."""
    for endpoint in endpoints_of(profile_document(profile)).values():
        owned = set(APP_SET_FIELDS.get(endpoint.endpoint, ()))
        html = str(parameter_form(endpoint))
        for name in owned:
            assert f'name="p-{name}"' not in html, (profile, endpoint.endpoint, name)
        # What is left is offered: only those fields are taken out.
        kept = {spec.name for spec in endpoint.params} - owned
        assert all(f'name="p-{name}"' in html for name in kept), (profile, endpoint.endpoint)


def test_the_demo_chat_schema_has_the_fields_the_form_leaves_out():
    chat = endpoints_of(profile_document("demo"))["chat"]
    assert {"stream", "stream_options"} <= {spec.name for spec in chat.params}
    form = submit(chat, stream="false", stream_options='{"include_usage": false}', temperature="0.5")
    assert form.is_valid(), form.errors
    assert form.request_fields() == {"temperature": 0.5}


@pytest.mark.parametrize(
    "field",
    [
        {"type": "string", "pattern": "("},
        {"type": "string", "minLength": "x"},
        {"type": "number", "maximum": "x"},
        {"enum": 5},
        {"type": "array", "items": 3},
        {"type": "array", "items": {"type": "string"}, "maxItems": "x", "minItems": "y"},
        {"type": "object", "required": ["a"], "properties": {"a": {"type": "string", "pattern": "("}}},
        {"type": "object", "required": 5, "dependentRequired": 5},
        {"anyOf": 5},
        {"oneOf": []},
        {"type": "number", "multipleOf": 0},
        {"type": "number", "minimum": -1e308, "maximum": 1e308},
        {"$dynamicRef": "#nowhere"},
    ],
)
def test_a_form_from_a_malformed_schema_renders_and_answers(field):
    endpoint = endpoints_of(single_field_document("3.1.0", field))["chat"]
    assert 'name="p-knob"' in str(parameter_form(endpoint))
    for text in ("1", "[1]", '{"a": "b"}', "x"):
        form = submit(endpoint, knob=text)
        assert form.is_valid() or form.errors["knob"]
        assert 'name="p-knob"' in str(form)


def unbounded_integer():
    return endpoints_of(single_field_document("3.1.0", {"type": "integer", "minimum": 1}))["chat"]


WHOLE = "knob must be a whole number between -9223372036854775808 and 9223372036854775807"


@pytest.mark.parametrize("text", [str(10**30), "1e300", str(2**63), "9" * 5000, "1e400"])
def test_an_integer_beyond_64_bits_is_refused_beside_it(text):
    form = submit(unbounded_integer(), knob=text)
    assert form.errors == {"knob": [WHOLE]}


def test_the_largest_64_bit_integer_is_sent():
    assert submit(unbounded_integer(), knob=str(2**63 - 1)).request_fields() == {"knob": 2**63 - 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e400", "knob must be a finite number: that one is too large to send"),
        ("-1e400", "knob must be a finite number: that one is too large to send"),
        ("NaN", "knob must be a number"),
        ("Infinity", "knob must be a number"),
    ],
)
def test_a_number_that_is_not_finite_is_refused_beside_it(text, message):
    endpoint = endpoints_of(single_field_document("3.1.0", {"type": "number"}))["chat"]
    assert submit(endpoint, knob=text).errors == {"knob": [message]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"budget": 1e400}', "plan holds 1e400, too large a number to send"),
        (f'{{"budget": {2**64}}}', f"plan holds {2**64}, beyond the whole numbers a request can carry"),
        ('{"budget": ' + "9" * 5000 + "}", "plan holds 999999999999…999999, beyond the whole numbers"),
        ("[" * 5000 + "]" * 5000, "plan nests too deeply to be read"),
    ],
)
def test_a_json_value_the_request_cannot_carry_is_refused_beside_it(chat, text, message):
    form = submit(chat, plan=text)
    assert list(form.errors) == ["plan"]
    assert message in form.errors["plan"][0]
