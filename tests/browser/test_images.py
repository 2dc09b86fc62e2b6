"""The images page in Chromium: generate with the demo provider, watch progress, find the picture in
the gallery by its prompt, open it; switch provider and get its size spelling; no CSP violations."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from playground.images.models import GeneratedImage
from tests.browser.accessibility import unlabelled_controls
from tests.browser.conftest import PASSWORD
from tests.factories import ProviderFactory

PROMPT = "A lighthouse in a storm"

# Recorded when htmx is about to send the generate request: what the page shows while it waits.
WATCH_PROGRESS_JS = """
() => document.addEventListener("htmx:beforeSend", () => {
  const progress = document.getElementById("image-progress");
  window.progressSeen = {
    visible: getComputedStyle(progress).display !== "none",
    busy: document.getElementById("image-workspace").getAttribute("aria-busy"),
    buttonDisabled: document.querySelector("#image-form button[type=submit]").disabled,
  };
  // The status text is set again on the next frame, so that screen readers announce it.
  requestAnimationFrame(() => { window.progressSeen.text = progress.textContent.trim(); });
}, { once: true })
"""


@pytest.fixture
def project(acme):
    """Acme's project, with an IONOS provider beside the Demo one (for its size spelling)."""
    ProviderFactory(team=acme.team, name="IONOS", profile="ionos-model-hub")
    return acme.project


def open_images(page, sign_in):
    sign_in("ada", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Images").click()
    expect(page.get_by_role("heading", name="Images", level=1)).to_be_visible()


def test_generate_a_picture_and_find_it_in_the_gallery(page, sign_in, project):
    open_images(page, sign_in)
    assert unlabelled_controls(page) == []
    page.get_by_label("Prompt").fill(PROMPT)
    page.get_by_label("size", exact=True).select_option("256x256")
    page.evaluate(WATCH_PROGRESS_JS)
    page.get_by_role("button", name="Generate").click()
    gallery = page.get_by_role("region", name="Gallery")
    picture = gallery.get_by_role("img", name=PROMPT)
    expect(picture).to_be_visible(timeout=20_000)
    assert page.evaluate("() => window.progressSeen") == {
        "visible": True,
        "text": "Generating…",
        "busy": "true",
        "buttonDisabled": True,
    }
    expect(page.get_by_role("status").filter(has_text="1 new picture")).to_be_focused()
    expect(page.locator("#image-workspace")).not_to_have_attribute("aria-busy", "true")
    # decode() waits until the picture has loaded (and fails if it cannot be): served and readable.
    assert picture.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    image = GeneratedImage.objects.get()
    assert (image.width, image.height, image.generation.prompt) == (256, 256, PROMPT)

    gallery.get_by_role("link", name=PROMPT).click()
    expect(page.get_by_role("heading", name="Picture", level=1)).to_be_visible()
    large = page.get_by_role("img", name=PROMPT)
    expect(large).to_be_visible()
    assert large.evaluate("img => img.decode().then(() => img.naturalWidth)") == 256
    expect(page.get_by_role("link", name="Download")).to_have_attribute("href", f"/images/{image.pk}/download/")
    page.get_by_role("link", name="Use these settings again").click()
    expect(page.get_by_label("Prompt")).to_have_value(PROMPT)
    expect(page.get_by_label("size", exact=True)).to_have_value("256x256")
    assert page.csp_violations == []


def test_a_refusal_is_shown_beside_the_form(page, sign_in, project):
    open_images(page, sign_in)
    page.get_by_label("Prompt").fill("Something forbidden")
    page.get_by_role("button", name="Generate").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("forbidden word", timeout=20_000)
    expect(alert).to_be_focused()
    expect(page.get_by_label("Prompt")).to_have_value("Something forbidden")
    assert page.csp_violations == []


def test_choosing_another_provider_brings_its_size_spelling(page, sign_in, project):
    open_images(page, sign_in)
    page.get_by_label("Prompt").fill("Kept while switching")
    size = page.get_by_label("size", exact=True)
    expect(size.locator("option[value='1024x1024']")).to_have_count(1)
    page.get_by_label("Provider").select_option(label="IONOS")
    expect(size.locator("option[value='1024*1024']")).to_have_count(1)
    expect(size.locator("option[value='1024x1024']")).to_have_count(0)
    expect(page.get_by_label("response_format").locator("option")).to_have_text(["Default (b64_json)", "b64_json"])
    expect(page.get_by_label("Prompt")).to_have_value("Kept while switching")
    expect(page.get_by_label("Provider")).to_be_focused()  # keyboard users stay where they were
    assert page.csp_violations == []
