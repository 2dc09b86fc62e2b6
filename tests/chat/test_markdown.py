"""Rendering model answers: markdown features, a hostile corpus, determinism and plain text."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings

from playground.chat.markdown import (
    MAX_HIGHLIGHTED_CHARS,
    TOKEN_CLASSES,
    render_markdown,
    render_plain,
    token_css,
)
from tests.chat.hostile_markdown import CASES

# The test's own lists, so that a change to the module's allowlist shows up here.
ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a", "span",
    "div", "button",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "target", "rel"},
    "ol": {"start"},
    "th": {"class"},
    "td": {"class"},
    "code": {"class"},
    "span": {"class"},
    "div": {"class"},
    "button": {"type", "class", "aria-label"},
}
ALLOWED_CLASSES = {
    "th": {"align-left", "align-center", "align-right"},
    "td": {"align-left", "align-center", "align-right"},
    "div": {"code-block", "code-toolbar"},
    "span": {"code-lang", *TOKEN_CLASSES},
    "button": {"copy-code"},
}
LINK_REL = "noopener noreferrer nofollow"
# What a browser skips or strips in a URL before reading its scheme.
URL_NOISE_RE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
FORBIDDEN_TAG_RE = re.compile(
    r"<\s*/?\s*(script|iframe|svg|math|img|form|input|style|meta|base|link|object|embed)", re.I
)
CSS = Path(settings.BASE_DIR) / "static" / "css" / "markdown.css"

# Text that must stay visible, as text, in the rendering of some hostile cases.
VISIBLE_TEXT = {
    "script element": "<script>alert(1)</script>",
    "img onerror": "<img src=x onerror=alert(1)>",
    "javascript link": "[x](javascript:alert(1))",
    "raw anchor with javascript": '<a href="javascript:alert(1)">x</a>',
    "style overlay": "overlay",
    "form": "<form action=//evil><input name=password></form>",
    "style element": "<style>body{display:none}</style>",
    "html comment": "visible",
    "fence language breaking out": "print(1)",
    "fence with html inside": "<script>alert(1)</script>",
    "inline code with html": "<script>alert(1)</script>",
    "remote image": "[image: x]",
    "null bytes": "alert(1)",
    "rtl override": "gnp.exe",
}


class Page(HTMLParser):
    """The elements of an HTML fragment, with their attributes, and its text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text_parts: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.elements if name == tag]


def assert_safe(html: str) -> Page:
    assert not FORBIDDEN_TAG_RE.search(html)
    page = Page(html)
    for tag, attrs in page.elements:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs.items():
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), (tag, name)
            assert not name.startswith("on"), (tag, name)
            if name == "class" and tag == "code":
                assert re.fullmatch(r"language-[a-z0-9.+-]+", value), value
            elif name == "class":
                assert set(value.split()) <= ALLOWED_CLASSES[tag], (tag, value)
        if tag == "a":
            assert attrs["rel"] == LINK_REL
            assert attrs["target"] == "_blank"
            if "href" in attrs:
                href = URL_NOISE_RE.sub("", attrs["href"]).lower()
                assert href.startswith(("http://", "https://", "mailto:")), href
        if tag == "button":
            assert attrs == {"type": "button", "class": "copy-code", "aria-label": "Copy code"}
    return page


# Markdown features


def test_headings_render_as_h1_to_h6():
    page = assert_safe(render_markdown("\n\n".join("#" * level + f" Heading {level}" for level in range(1, 7))))
    assert [tag for tag, _ in page.elements] == ["h1", "h2", "h3", "h4", "h5", "h6"]
    assert all(attrs == {} for _, attrs in page.elements)


def test_emphasis_strong_and_strikethrough():
    html = render_markdown("*em* and **strong** and ~~gone~~")
    assert html == "<p><em>em</em> and <strong>strong</strong> and <del>gone</del></p>\n"


def test_bullet_and_numbered_lists_nest():
    html = render_markdown("- one\n  - inner\n- two\n\n3. three\n4. four\n")
    page = assert_safe(html)
    assert [tag for tag, _ in page.elements] == ["ul", "li", "ul", "li", "li", "ol", "li", "li"]
    assert page.all("ol") == [{"start": "3"}]


def test_table_alignment_is_a_class_not_a_style():
    html = render_markdown("| left | centre | right | none |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |\n")
    page = assert_safe(html)
    assert [attrs.get("class") for attrs in page.all("th")] == ["align-left", "align-center", "align-right", None]
    assert [attrs.get("class") for attrs in page.all("td")] == ["align-left", "align-center", "align-right", None]
    assert "style" not in html


def test_fenced_python_is_highlighted_with_token_classes():
    html = render_markdown('```python\ndef greet(name):\n    return f"hi {name}"  # friendly\n```\n')
    page = assert_safe(html)
    assert page.all("code") == [{"class": "language-python"}]
    spans = {attrs["class"] for attrs in page.all("span")}
    assert {"k", "nf", "c1"} <= spans  # def, greet, the comment
    assert '<span class="k">def</span>' in html


def test_code_block_has_a_toolbar_with_language_and_copy_button():
    html = render_markdown("```py\nx = 1\n```\n")
    assert html.startswith(
        '<div class="code-block"><div class="code-toolbar"><span class="code-lang">py</span>'
        '<button type="button" class="copy-code" aria-label="Copy code">Copy</button></div>'
        '<pre><code class="language-python">'
    )
    assert html.endswith("</code></pre></div>\n")


def test_code_text_is_exactly_the_source_so_copy_copies_it():
    source = "import os\n\n\tif a < b and c > \"d\" & e:  # 'quoted'\n    pass\n\n"
    for language in ("python", "nonsense", ""):
        page = assert_safe(render_markdown(f"```{language}\n{source}```\n"))
        assert page.text == f"{language}Copy{source}\n"  # label, button, code, newline after the block


def test_unknown_language_is_plain_escaped_code_with_its_label():
    html = render_markdown("```brainfuck-2000\n<+>\n```\n")
    assert '<span class="code-lang">brainfuck-2000</span>' in html
    assert "<pre><code>&lt;+&gt;\n</code></pre>" in html


def test_missing_language_is_plain_code_with_an_empty_label():
    html = render_markdown("```\nprint('x')\n```\n")
    assert '<span class="code-lang"></span>' in html
    assert "<pre><code>print('x')\n</code></pre>" in html


def test_language_pygments_knows_but_we_do_not_highlight_stays_plain():
    html = render_markdown("```smithy\nnamespace example\n```\n")
    assert '<span class="code-lang">smithy</span>' in html
    assert "<pre><code>namespace example\n</code></pre>" in html


def test_indented_code_gets_the_same_wrapper():
    html = render_markdown("text\n\n    indented <code>\n")
    assert '<div class="code-block"><div class="code-toolbar"><span class="code-lang"></span>' in html
    assert "<pre><code>indented &lt;code&gt;\n</code></pre>" in html


def test_very_long_code_block_is_not_highlighted():
    code = "x = 1\n" * (MAX_HIGHLIGHTED_CHARS // 6 + 1)
    html = render_markdown(f"```python\n{code}```\n")
    assert f"<pre><code>{code}</code></pre>" in html


def test_inline_code_is_escaped():
    assert render_markdown("Use `a < b && c`.") == "<p>Use <code>a &lt; b &amp;&amp; c</code>.</p>\n"


def test_blockquote():
    page = assert_safe(render_markdown("> quoted **text**\n"))
    assert [tag for tag, _ in page.elements] == ["blockquote", "p", "strong"]


def test_links_open_in_a_new_tab_without_referrer_or_opener():
    html = render_markdown('[docs](https://example.com/a?b=1&c=2 "Docs")')
    assert html == (
        '<p><a href="https://example.com/a?b=1&amp;c=2" title="Docs" target="_blank" '
        'rel="noopener noreferrer nofollow">docs</a></p>\n'
    )


def test_autolinks_and_mailto_are_links():
    page = assert_safe(render_markdown("<https://example.com> <mailto:a@example.com> <b@example.com>"))
    assert [attrs["href"] for attrs in page.all("a")] == [
        "https://example.com",
        "mailto:a@example.com",
        "mailto:b@example.com",
    ]


def test_bare_urls_are_not_linkified():
    assert render_markdown("see https://example.com") == "<p>see https://example.com</p>\n"


@pytest.mark.parametrize("destination", ["/accounts/logout/", "#top", "//evil.example", "ftp://x.example"])
def test_other_destinations_stay_text(destination):
    html = render_markdown(f"[x]({destination})")
    assert html == f"<p>[x]({destination})</p>\n"


def test_image_becomes_a_link_never_an_img():
    html = render_markdown("![a *cat*](https://example.com/cat.png)")
    assert html == (
        '<p><a href="https://example.com/cat.png" target="_blank" rel="noopener noreferrer nofollow">'
        "[image: a cat]</a></p>\n"
    )


def test_image_without_alt_text():
    assert "[image]</a>" in render_markdown("![](https://example.com/cat.png)")


def test_image_inside_a_link_is_text_in_that_link():
    page = assert_safe(render_markdown("[![badge](https://example.com/b.svg)](https://example.com)"))
    assert page.all("a") == [{"href": "https://example.com", "target": "_blank", "rel": LINK_REL}]
    assert page.text == "[image: badge]\n"


def test_raw_html_is_shown_as_text():
    html = render_markdown('<b class="x">bold</b>\n\n<div>\nblock\n</div>')
    assert html == '<p>&lt;b class="x"&gt;bold&lt;/b&gt;</p>\n<p>&lt;div&gt;\nblock\n&lt;/div&gt;</p>\n'


# The hostile corpus


@pytest.mark.parametrize(("name", "markdown"), CASES, ids=[name for name, _ in CASES])
def test_hostile_markdown_renders_safely_and_quickly(name, markdown):
    started = time.perf_counter()
    html = render_markdown(markdown)
    elapsed = time.perf_counter() - started
    page = assert_safe(html)
    assert elapsed < 3, f"{name} took {elapsed:.2f} s"
    if name in VISIBLE_TEXT:
        assert VISIBLE_TEXT[name] in page.text


def test_every_expected_text_names_a_case():
    assert set(VISIBLE_TEXT) <= {name for name, _ in CASES}


def test_sanitiser_alone_strips_what_the_renderer_never_makes():
    # The second wall, should markdown-it ever let raw HTML through.
    from playground.chat.markdown import _CLEANER

    html = _CLEANER.clean(
        '<a href="javascript:alert(1)" onclick="x" id="csrf" name="f" rel="opener" target="x">a</a>'
        '<a href="/relative">b</a><a href="https://ok.example">c</a>'
        '<span class="k evil" style="color:red">d</span><code class="language-evil">e</code>'
        '<button type="submit" class="copy-code" formaction="https://evil.example">f</button>'
        "<img src=x><script>alert(1)</script><style>p{}</style><svg><g/></svg><iframe></iframe>"
    )
    assert html == (
        '<a target="_blank" rel="noopener noreferrer nofollow">a</a>'
        '<a target="_blank" rel="noopener noreferrer nofollow">b</a>'
        '<a href="https://ok.example" target="_blank" rel="noopener noreferrer nofollow">c</a>'
        '<span class="k">d</span><code class="">e</code><button class="copy-code">f</button>'
    )


# Determinism and plain text


def test_same_input_gives_the_same_output():
    text = "# T\n\n```python\nprint(1)\n```\n\n| a |\n|---|\n| b |\n\n[x](https://example.com)\n"
    first = render_markdown(text)
    assert render_markdown(text) == first
    assert render_markdown(text + "\n") == first


def test_render_plain_escapes_markup_and_quotes():
    assert render_plain("<b>\"a\" & 'b'</b>") == "&lt;b&gt;&quot;a&quot; &amp; &#x27;b&#x27;&lt;/b&gt;"


def test_render_plain_keeps_newlines_and_drops_carriage_returns():
    assert render_plain("one\r\ntwo\n\nthree\x00") == "one\ntwo\n\nthree\ufffd"


# The stylesheet


def test_stylesheet_holds_the_generated_token_colours():
    css = CSS.read_text()
    assert token_css() in css
    for cls in TOKEN_CLASSES:
        assert f".markdown .code-block .{cls} {{" in css, cls
