"""Model answers (untrusted markdown) rendered to safe HTML, or to escaped plain text.

`render_markdown` parses CommonMark with tables and strikethrough (raw HTML shown as text),
highlights fenced code in `HIGHLIGHTED_LANGUAGES` with Pygments CSS classes, and sanitises the
result with nh3; the same text always gives the same HTML. Every code block is
`div.code-block > div.code-toolbar (span.code-lang, button.copy-code) + pre > code`, which
static/css/markdown.css and the copy button rely on. Only absolute http(s) and mailto links
become links (new tab, noopener noreferrer nofollow); images are never loaded, they become
`[image: alt]` links. `render_plain` escapes text as it streams (CR dropped, NUL shown as
U+FFFD); `token_css` gives the colour rules in markdown.css.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml, unescapeAll
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from pygments.lexer import Lexer
from pygments.lexers import find_lexer_class_by_name
from pygments.style import Style
from pygments.styles import get_style_by_name
from pygments.token import STANDARD_TYPES
from pygments.token import Token as PygmentsToken
from pygments.util import ClassNotFound

# Pygments lexers (by main alias) that fenced code is highlighted with. Not markdown or
# http: those pick a lexer for embedded code by its name or MIME type, outside this list.
HIGHLIGHTED_LANGUAGES = frozenset(
    {
        "bash", "batch", "c", "clojure", "cmake", "console", "cpp", "csharp", "css", "dart",
        "diff", "django", "docker", "elixir", "erlang", "fsharp", "go", "graphql", "groovy",
        "haskell", "html", "ini", "java", "javascript", "json", "jsx", "julia", "kotlin",
        "less", "lua", "make", "matlab", "nginx", "objective-c", "ocaml", "perl", "php",
        "powershell", "protobuf", "pycon", "python", "ruby", "rust", "sass", "scala", "scss",
        "solidity", "splus", "sql", "swift", "terraform", "tex", "toml", "tsx", "typescript",
        "vue", "xml", "yaml", "zig",
    }
)  # fmt: skip
# Longer blocks are shown plain: highlighting is the slowest step, by far, per character.
MAX_HIGHLIGHTED_CHARS = 20_000
# Names models write that Pygments does not know as aliases.
_EXTRA_ALIASES = {"kt": "kotlin", "kts": "kotlin", "patch": "diff", "cmd": "batch"}
_LANGUAGE_WORD_RE = re.compile(r"[a-z0-9+#._-]{1,32}")
_ALLOWED_SCHEMES = ("http://", "https://", "mailto:")

# The Pygments styles static/css/markdown.css takes its token colours from (light, dark).
CODE_STYLES = ("default", "github-dark")


def _styled_token_classes() -> frozenset[str]:
    # Only tokens that either style colours differently from plain code get a span: names,
    # punctuation and whitespace stay bare text, which keeps the HTML (and nh3's work) small.
    classes = set()
    for name in CODE_STYLES:
        style = get_style_by_name(name)
        plain = style.style_for_token(PygmentsToken)
        classes.update(cls for ttype, cls in STANDARD_TYPES.items() if style.style_for_token(ttype) != plain)
    return frozenset(classes - {"", "w"})


TOKEN_CLASSES = _styled_token_classes()
_ALIGN_CLASSES = {
    "text-align:left": "align-left",
    "text-align:center": "align-center",
    "text-align:right": "align-right",
}
_COPY_BUTTON = '<button type="button" class="copy-code" aria-label="Copy code">Copy</button>'


def _is_allowed_url(url: str) -> bool:
    # markdown-it calls this with the destination as it will be written to href: entities
    # decoded, then percent-encoded, so control characters and spaces cannot hide a scheme.
    return url.lower().startswith(_ALLOWED_SCHEMES)


@functools.lru_cache(maxsize=256)
def _lexer_for(word: str) -> Lexer | None:
    try:
        lexer_class = find_lexer_class_by_name(_EXTRA_ALIASES.get(word, word))
    except ClassNotFound:
        return None
    return lexer_class() if lexer_class.aliases[0] in HIGHLIGHTED_LANGUAGES else None


@functools.cache
def _token_class(ttype: tuple[str, ...]) -> str:  # a Pygments token type
    # A lexer's own sub-token (say Name.Tag.Foo) takes the class of its nearest standard parent.
    while ttype not in STANDARD_TYPES:
        ttype = ttype.parent
    cls = STANDARD_TYPES[ttype]
    return cls if cls in TOKEN_CLASSES else ""


# While an answer streams it is rendered again and again; its finished code blocks are not
# highlighted again. Blocks are at most MAX_HIGHLIGHTED_CHARS, so the cache stays small.
@functools.lru_cache(maxsize=128)
def _highlight(code: str, lexer: Lexer) -> str:
    parts: list[str] = []
    run_class = ""
    run: list[str] = []
    # Straight from the lexer, without get_tokens' preprocessing: markdown-it has already
    # normalised line endings, and the text must stay exactly as written for copying.
    for _, ttype, value in lexer.get_tokens_unprocessed(code):
        cls = _token_class(ttype)
        if cls != run_class:
            if run:
                text = escapeHtml("".join(run))
                parts.append(f'<span class="{run_class}">{text}</span>' if run_class else text)
                run.clear()
            run_class = cls
        run.append(value)
    text = escapeHtml("".join(run))
    parts.append(f'<span class="{run_class}">{text}</span>' if run_class and text else text)
    return "".join(parts)


def _code_block(code: str, language_word: str) -> str:
    word = language_word.lower()
    label = word if _LANGUAGE_WORD_RE.fullmatch(word) else ""
    lexer = _lexer_for(label) if label and len(code) <= MAX_HIGHLIGHTED_CHARS else None
    if lexer is None:
        code_html = f"<code>{escapeHtml(code)}</code>"
    else:
        code_html = f'<code class="language-{lexer.aliases[0]}">{_highlight(code, lexer)}</code>'
    return (
        f'<div class="code-block"><div class="code-toolbar"><span class="code-lang">{label}</span>{_COPY_BUTTON}'
        f"</div><pre>{code_html}</pre></div>\n"
    )


def _render_fence(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    info = unescapeAll(token.info).strip() if token.info else ""
    return _code_block(token.content, info.split(maxsplit=1)[0] if info else "")


def _render_code_block(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return _code_block(tokens[idx].content, "")


def _render_cell_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    align = _ALIGN_CLASSES.get(str(token.attrGet("style") or ""))
    return f'<{token.tag} class="{align}">' if align else f"<{token.tag}>"


def _render_image(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children, options, env) if token.children else ""
    text = escapeHtml(f"[image: {alt}]" if alt else "[image]")
    if token.meta.get("inside_link"):
        return text
    title = token.attrGet("title")
    title_attr = f' title="{escapeHtml(str(title))}"' if title else ""
    return f'<a href="{escapeHtml(str(token.attrGet("src")))}"{title_attr}>{text}</a>'


def _mark_images_inside_links(state: StateCore) -> None:
    # A link inside a link is invalid HTML, so `[![badge](img)](url)` keeps only the outer link.
    for block in state.tokens:
        if block.type != "inline" or not block.children or "![" not in block.content:
            continue
        depth = 0
        for token in block.children:
            if token.type == "link_open":
                depth += 1
            elif token.type == "link_close":
                depth -= 1
            elif token.type == "image" and depth:
                token.meta["inside_link"] = True


def _build_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable(["html_block", "html_inline"])
    md.validateLink = _is_allowed_url  # type: ignore[method-assign]
    md.core.ruler.push("mark_images_inside_links", _mark_images_inside_links)
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("code_block", _render_code_block)
    md.add_render_rule("th_open", _render_cell_open)
    md.add_render_rule("td_open", _render_cell_open)
    md.add_render_rule("image", _render_image)
    md.add_render_rule("s_open", lambda *args: "<del>")
    md.add_render_rule("s_close", lambda *args: "</del>")
    return md


_MARKDOWN = _build_markdown()

# Everything the renderer produces, and nothing more.
ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre",
        "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a", "span",
        "div", "button",
    }
)  # fmt: skip

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style"},
    attributes={"a": {"href", "title"}, "ol": {"start"}},
    tag_attribute_values={"button": {"type": {"button"}, "aria-label": {"Copy code"}}},
    allowed_classes={
        "div": {"code-block", "code-toolbar"},
        "span": {"code-lang", *TOKEN_CLASSES},
        "button": {"copy-code"},
        "code": {f"language-{name}" for name in HIGHLIGHTED_LANGUAGES},
        "th": set(_ALIGN_CLASSES.values()),
        "td": set(_ALIGN_CLASSES.values()),
    },
    set_tag_attribute_values={"a": {"target": "_blank"}},
    link_rel="noopener noreferrer nofollow",
    url_schemes={"http", "https", "mailto"},
    url_relative="deny",
    strip_comments=True,
)


def token_css() -> str:
    """The CSS for the token classes: CODE_STYLES[0] by default, CODE_STYLES[1] in dark mode."""
    light, dark = (get_style_by_name(name) for name in CODE_STYLES)
    prefix = ".markdown .code-block"
    dark_plain = dark.style_for_token(PygmentsToken)
    lines = [
        f"/* Generated by playground.chat.markdown.token_css() from the Pygments styles {CODE_STYLES}. */",
        f"{prefix} pre {{ background-color: {light.background_color}; }}",
        *_token_rules(light, prefix, ""),
        "@media (prefers-color-scheme: dark) {",
        f"  {prefix} pre {{ background-color: {dark.background_color}; color: #{dark_plain['color']}; }}",
        # Nothing of the light colours may show through where the dark style has no rule.
        f"  {prefix} pre span {{ color: inherit; background-color: transparent; border: 0; font-weight: normal;"
        " font-style: normal; text-decoration: none; }",
        *_token_rules(dark, prefix, "  "),
        "}",
    ]
    return "\n".join(lines) + "\n"


def _token_rules(style: type[Style], prefix: str, indent: str) -> list[str]:
    plain = style.style_for_token(PygmentsToken)
    rules = []
    for ttype, cls in sorted(STANDARD_TYPES.items(), key=lambda item: item[1]):
        if cls not in TOKEN_CLASSES or (token_style := style.style_for_token(ttype)) == plain:
            continue
        declarations = []
        if token_style["color"]:
            declarations.append(f"color: #{token_style['color']}")
        if token_style["bgcolor"]:
            declarations.append(f"background-color: #{token_style['bgcolor']}")
        if token_style["border"]:
            declarations.append(f"border: 1px solid #{token_style['border']}")
        if token_style["bold"]:
            declarations.append("font-weight: bold")
        if token_style["italic"]:
            declarations.append("font-style: italic")
        if token_style["underline"]:
            declarations.append("text-decoration: underline")
        rules.append(f"{indent}{prefix} .{cls} {{ {'; '.join(declarations)}; }}")
    return rules


def render_markdown(text: str) -> str:
    """Render an untrusted markdown answer to sanitised HTML (see the module docstring)."""
    return _CLEANER.clean(_MARKDOWN.render(text))


def render_plain(text: str) -> str:
    """Escape untrusted text for HTML, keeping its newlines (for `white-space: pre-wrap`)."""
    return html.escape(text.replace("\r", "").replace("\x00", "\ufffd"), quote=True)


def _asked_for_json(request: dict | None) -> bool:
    response_format = (request or {}).get("response_format")
    return isinstance(response_format, dict) and response_format.get("type") in ("json_object", "json_schema")


def render_answer(text: str, request: dict | None = None) -> str:
    """A finished answer: JSON-mode answers that parse are pretty-printed as a JSON code
    block; everything else is rendered as markdown."""
    if _asked_for_json(request):
        try:
            value = json.loads(text)
        except ValueError:
            pass
        else:
            return render_markdown(f"```json\n{json.dumps(value, indent=2, ensure_ascii=False)}\n```")
    return render_markdown(text)
