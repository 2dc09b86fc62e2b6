"""Server-rendered SVG of the dashboard's chart: requests, and tokens in and out, per hour or day.

Colours are CSS classes (static/css/usage.css, light and dark), text uses currentColor,
every bar has a <title> shown on hover, and the page puts the same numbers in a table
beside the chart for screen readers and keyboards.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from playground.usage.rollups import zone

WIDTH = 760
LEFT = 64  # room for the y-axis labels
RIGHT = 8
PANEL = 120  # height of each of the two panels
GAP = 34  # between them, for the first panel's x labels
TOP = 18
X_LABELS = 8  # at most, so that they never overlap


def slot_label(start, bucket: str) -> str:
    local = timezone.localtime(start, zone())
    return f"{local:%a %d %b %H:00}" if bucket == "hour" else f"{local:%a %d %b}"


def _short(value: int) -> str:
    for size, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if value >= size:
            return f"{value / size:.1f}".rstrip("0").rstrip(".") + suffix
    return str(value)


def _axis(y_top: float, height: float, peak: int, title: str) -> list[str]:
    bottom, middle = y_top + height, y_top + height / 2
    return [
        f'<text class="axis-title" x="{LEFT - 8}" y="{y_top - 6:g}" text-anchor="end">{title}</text>',
        f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y_top:g}" y2="{y_top:g}"/>',
        f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{middle:g}" y2="{middle:g}"/>',
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{bottom:g}" y2="{bottom:g}"/>',
        f'<text class="tick" x="{LEFT - 6}" y="{y_top + 4:g}" text-anchor="end">{_short(peak)}</text>',
        f'<text class="tick" x="{LEFT - 6}" y="{bottom + 4:g}" text-anchor="end">0</text>',
    ]


def usage_chart(slots, bucket: str) -> SafeString:
    """Two panels over the same time axis: requests per slot, and tokens in and out (stacked)."""
    count = max(len(slots), 1)
    step = (WIDTH - LEFT - RIGHT) / count
    bar = max(step * 0.8, 1)
    peak_requests = max((slot.figures.requests for slot in slots), default=0) or 1
    peak_tokens = max((slot.figures.tokens for slot in slots), default=0) or 1
    second = TOP + PANEL + GAP
    height = second + PANEL + 24
    what = "hour" if bucket == "hour" else "day"
    parts = [
        f'<svg class="usage-chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="chart-title chart-desc" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">Requests and tokens per {what}</title>',
        f'<desc id="chart-desc">Bars of requests per {what} above bars of tokens in and out per {what}; '
        "the table beside the chart holds the same numbers.</desc>",
        *_axis(TOP, PANEL, peak_requests, "Requests"),
        *_axis(second, PANEL, peak_tokens, "Tokens"),
    ]
    every = max(1, -(-count // X_LABELS))
    for index, slot in enumerate(slots):
        x = LEFT + index * step + (step - bar) / 2
        figures = slot.figures
        label = escape(slot_label(slot.start, bucket))
        requests_height = PANEL * figures.requests / peak_requests
        in_height = PANEL * figures.prompt_tokens / peak_tokens
        out_height = PANEL * figures.completion_tokens / peak_tokens
        parts.append(
            f'<rect class="bar-requests" x="{x:.1f}" y="{TOP + PANEL - requests_height:.1f}" width="{bar:.1f}" '
            f'height="{requests_height:.1f}"><title>{label}: {figures.requests:,} requests</title></rect>'
        )
        bottom = second + PANEL
        parts.append(
            f'<g class="token-bar"><title>{label}: {figures.prompt_tokens:,} tokens in, '
            f"{figures.completion_tokens:,} tokens out</title>"
            f'<rect class="bar-in" x="{x:.1f}" y="{bottom - in_height:.1f}" width="{bar:.1f}" '
            f'height="{in_height:.1f}"/>'
            f'<rect class="bar-out" x="{x:.1f}" y="{bottom - in_height - out_height:.1f}" width="{bar:.1f}" '
            f'height="{out_height:.1f}"/></g>'
        )
        if index % every == 0:
            short = escape(slot_label(slot.start, bucket).split(" ", 1)[1])
            for y in (TOP + PANEL + 14, second + PANEL + 14):
                parts.append(f'<text class="tick" x="{x + bar / 2:.1f}" y="{y}" text-anchor="middle">{short}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - labels escaped, numbers ours
