"""static/js/params.js in Chromium: slider and number box in step, Reset, Insert example."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string

from playground.schema.forms import parameter_form
from playground.schema.specs import endpoints_of
from tests.schema.documents import invented_document

SCRIPT = Path(settings.BASE_DIR) / "static" / "js" / "params.js"


@pytest.fixture
def page(browser):  # the shared Chromium of tests/browser/conftest.py; no server needed
    form = parameter_form(endpoints_of(invented_document())["chat"], initial={"mood": "bold"})
    html = render_to_string("schema/_parameter_form.html", {"form": form})
    page = browser.new_page()
    page.set_content(f"<!doctype html><html lang='en'><body><form>{html}</form></body></html>")
    page.add_script_tag(path=str(SCRIPT))
    yield page
    page.close()


def test_moving_the_slider_sets_the_number_box(page):
    slider = page.get_by_role("slider", name="flux_capacitor slider")
    slider.fill("6")
    assert page.get_by_label("flux_capacitor", exact=True).input_value() == "6"
    assert "is-set" in page.locator("#param-flux_capacitor").get_attribute("class")


def test_typing_a_number_moves_the_slider(page):
    page.get_by_label("flux_capacitor", exact=True).fill("2")
    assert page.get_by_role("slider", name="flux_capacitor slider").input_value() == "2"


def test_reset_clears_the_field_and_rests_the_slider_at_the_default(page):
    page.get_by_label("flux_capacitor", exact=True).fill("6")
    page.get_by_role("button", name="Reset flux_capacitor").click()
    assert page.get_by_label("flux_capacitor", exact=True).input_value() == ""
    assert page.get_by_role("slider", name="flux_capacitor slider").input_value() == "3"
    assert "is-set" not in page.locator("#param-flux_capacitor").get_attribute("class")


def test_reset_puts_a_select_back_to_not_set(page):
    assert page.get_by_label("mood").input_value() == "bold"
    page.get_by_role("button", name="Reset mood").click()
    assert page.get_by_label("mood").input_value() == ""


def test_insert_example_fills_the_json_editor(page):
    assert page.locator("details").get_attribute("open") is not None  # mood is set, so Advanced is open
    page.get_by_role("button", name="Insert example into plan").click()
    inserted = page.get_by_label("plan").input_value()
    assert inserted == '{\n  "steps": [\n    "example"\n  ]\n}'
    submitted = parameter_form(endpoints_of(invented_document())["chat"], {"p-plan": inserted})
    assert submitted.is_valid(), submitted.errors  # what the button inserts, the form accepts
