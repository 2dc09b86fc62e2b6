"""POST /images/generations on the demo: PNGs inline or by URL, both size spellings, refusals."""

from __future__ import annotations

import base64
import io
import zlib
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
from PIL import Image

PROMPT = "A red bicycle leaning on a blue wall"


def generate(demo, **fields):
    response = demo.post("/images/generations", json={"model": "demo-image", "prompt": PROMPT, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image


@pytest.mark.parametrize(("size", "expected"), [("256x256", (256, 256)), ("512*512", (512, 512))])
def test_it_draws_a_png_of_the_asked_size_in_either_spelling(demo, size, expected):
    body = generate(demo, size=size)
    assert isinstance(body["created"], int)
    [item] = body["data"]
    assert item["revised_prompt"] == PROMPT
    assert png(base64.b64decode(item["b64_json"])).size == expected


def test_the_default_size_is_1024_square_and_wide_sizes_work(demo):
    default = generate(demo, n=None)["data"][0]["b64_json"]
    assert png(base64.b64decode(default)).size == (1024, 1024)
    wide = generate(demo, size="1792*1024")["data"][0]["b64_json"]
    assert png(base64.b64decode(wide)).size == (1792, 1024)


def test_n_images_differ_and_the_same_request_draws_the_same_images(demo):
    first = [item["b64_json"] for item in generate(demo, n=2, size="256x256")["data"]]
    again = [item["b64_json"] for item in generate(demo, n=2, size="256*256")["data"]]
    assert len(first) == 2
    assert first[0] != first[1]
    assert first == again
    other_prompt = demo.post("/images/generations", json={"prompt": "Something else", "size": "256x256"}).json()
    assert other_prompt["data"][0]["b64_json"] != first[0]


def test_the_url_form_links_to_the_same_picture_without_a_token(demo, demo_upstream_url):
    inline = generate(demo, size="256x256", n=2)["data"]
    linked = generate(demo, size="256*256", n=2, response_format="url")["data"]
    for inline_item, linked_item in zip(inline, linked, strict=True):
        url = linked_item["url"]
        base = urlsplit(demo_upstream_url)
        assert url.startswith(f"http://{base.netloc}/demo/v1/images/files/")
        assert url.endswith(".png")
        assert linked_item["revised_prompt"] == PROMPT
        picture = httpx.get(url)
        assert picture.status_code == 200
        assert picture.headers["content-type"] == "image/png"
        assert picture.content == base64.b64decode(inline_item["b64_json"])


def test_a_made_up_file_name_is_a_404(demo_upstream_url):
    assert httpx.get(demo_upstream_url + "/images/files/not-ours.png").status_code == 404
    assert httpx.get(demo_upstream_url + "/images/files/..%2Fsettings.py").status_code == 404


def test_an_image_address_the_demo_did_not_sign_is_a_404(demo, demo_upstream_url):
    # Addresses need no key, so only names the demo signed while answering a keyed call may draw.
    [linked] = generate(demo, size="256x256", response_format="url")["data"]
    files_url, name = linked["url"].rsplit("/", 1)
    _, signature, _ = name.split(".")
    packed = zlib.compress(orjson.dumps(["Draw this for free", "256x256", 0]), 9)
    forged = base64.urlsafe_b64encode(packed).decode().rstrip("=")
    assert httpx.get(linked["url"]).status_code == 200
    assert httpx.get(f"{files_url}/{forged}.png").status_code == 404
    assert httpx.get(f"{files_url}/{forged}.{signature}.png").status_code == 404


def test_a_prompt_with_a_forbidden_word_is_refused(demo):
    response = demo.post("/images/generations", json={"prompt": "The Forbidden City at night"})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": "Your request was rejected by the demo safety system: the prompt contains a forbidden word.",
            "type": "invalid_request_error",
            "code": "content_policy_violation",
        }
    }


@pytest.mark.parametrize(
    ("fields", "param", "message_start"),
    [
        ({"size": "100x100"}, "size", "size must be one of 256x256, 512x512, 1024x1024, 1792x1024, 1024x1792"),
        ({"n": 5}, "n", "n must be between 1 and 4 (got 5)"),
        ({"prompt": ""}, "prompt", "prompt must not be empty"),
        ({"response_format": "jpeg"}, "response_format", "response_format must be one of b64_json, url"),
        ({"model": "demo-chat"}, "model", "The model `demo-chat` cannot be used here"),
    ],
)
def test_bad_values_are_refused(demo, fields, param, message_start):
    response = demo.post("/images/generations", json={"prompt": PROMPT, **fields})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert error["message"].startswith(message_start)


def test_a_prompt_is_required(demo):
    response = demo.post("/images/generations", json={"size": "256x256"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Missing required parameter: 'prompt'."
