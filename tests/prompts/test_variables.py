"""Variables: found in the text, filled in, escaped with a backslash, and never sent empty."""

from __future__ import annotations

import pytest

from playground.prompts.variables import MissingValues, described, names_in, names_of, preview, render, render_prompt


def test_variables_are_found_in_order_of_first_appearance_each_once():
    texts = ["Hello {{name}}, about {{ topic }}.", "Again {{name}} and {{_private2}}"]
    assert names_in(texts) == ["name", "topic", "_private2"]


def test_braces_around_anything_but_a_name_are_plain_text():
    assert names_in(['JSON like {{"a": 1}} or {{ 2x }} or {{a-b}} or { {x} } or {{}}']) == []


def test_a_backslash_writes_the_braces_literally():
    text = r"Write \{{name}} to use a variable, like {{name}}."
    assert names_in([text]) == ["name"]
    assert render(text, {"name": "Ada"}) == "Write {{name}} to use a variable, like Ada."


def test_an_escaped_placeholder_alone_is_not_a_variable():
    assert names_in([r"Only \{{literal}} here"]) == []
    assert render(r"Only \{{literal}} here", {}) == "Only {{literal}} here"


def test_values_are_inserted_as_they_are_and_not_read_again():
    # A value that looks like a placeholder stays as typed: rendering is one pass.
    assert render("A {{x}} B {{y}}", {"x": "{{y}}", "y": "\\{{x}}"}) == "A {{y}} B \\{{x}}"


def test_render_prompt_fills_the_system_text_and_every_message():
    system, messages = render_prompt(
        "You write for {{audience}}.",
        [{"role": "user", "content": "Explain {{topic}}"}, {"role": "assistant", "content": "About {{ topic }}?"}],
        {"audience": "children", "topic": "tides"},
    )
    assert system == "You write for children."
    assert messages == [
        {"role": "user", "content": "Explain tides"},
        {"role": "assistant", "content": "About tides?"},
    ]


@pytest.mark.parametrize("value", ["", "   ", "\n\t", None])
def test_an_empty_value_is_refused_and_named(value):
    with pytest.raises(MissingValues) as refused:
        render_prompt("", [{"role": "user", "content": "{{a}} and {{b}}"}], {"a": "fine", "b": value})
    assert refused.value.names == ["b"]
    assert "{{b}}" in str(refused.value)


def test_names_of_looks_at_the_system_text_and_messages():
    assert names_of("For {{who}}", [{"role": "user", "content": "{{what}}"}]) == ["who", "what"]


def test_descriptions_and_defaults_are_kept_only_for_variables_in_the_text():
    known = {"topic": {"description": "Subject", "default": "tides"}, "gone": {"default": "x"}}
    assert described(["topic", "new"], known) == {
        "topic": {"description": "Subject", "default": "tides"},
        "new": {"description": "", "default": ""},
    }


def test_preview_marks_filled_and_missing_values():
    runs = preview(r"Dear {{name}}, re {{topic}} \{{x}}", {"name": "Ada", "topic": " "})
    assert runs == [
        ("text", "Dear "),
        ("value", "Ada"),
        ("text", ", re "),
        ("missing", "{{topic}}"),
        ("text", " "),
        ("text", "{{x}}"),
    ]
