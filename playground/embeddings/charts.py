"""Server-rendered SVG charts of a run: the similarity heatmap and the 2-D scatter.

Colours are CSS classes (static/css/embeddings.css sets them for light and dark themes),
text uses currentColor, and every mark has a <title> that browsers show on hover. Each chart
comes with the same numbers as an HTML table in the page, for screen readers and keyboards.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# More texts than this and the heatmap shows representatives (see `representatives`).
HEATMAP_MAX = 60
HEAT_STEPS = 9
SCATTER_COLOURS = 10  # label colours c0..c9; further labels share "other"
_LABEL_WIDTH = 230
_LABEL_CHARS = 34


def short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _number(value: float) -> str:
    return f"{value:.2f}".replace("-0.00", "0.00")


@dataclass(frozen=True)
class HeatRow:
    number: int  # 1-based position in the heatmap
    index: int  # position in the run
    text: str
    group: int  # texts this row stands for (1 unless the heatmap shows representatives)
    values: list[float]  # similarity per column
    steps: list[int]  # colour step per column
    # Shown text, formatted here: template filters on thousands of cells cost a large part of a second.
    cells: list[str]
    heading: str
    title: str


@dataclass(frozen=True)
class Heatmap:
    rows: list[HeatRow]
    total: int
    low: float
    high: float  # of the colour steps, read from the pairs of different texts
    top: float  # of every cell: the diagonal (a text with itself) is 1.00
    svg: SafeString

    @property
    def is_subset(self) -> bool:
        return len(self.rows) < self.total

    @property
    def table_body(self) -> SafeString:
        """The rows of the values table: built here, as template loops over 3,600 cells are slow."""
        parts = []
        for row in self.rows:
            group = f' <span class="muted">(for {row.group} texts)</span>' if row.group > 1 else ""
            cells = "".join(f"<td>{cell}</td>" for cell in row.cells)
            parts.append(f'<tr><th scope="row">{row.number}. {escape(row.heading)}{group}</th>{cells}</tr>')
        return mark_safe("".join(parts))  # noqa: S308 - texts escaped, numbers ours

    @property
    def legend(self) -> list[tuple[int, str, str]]:
        """(step, from, to) per colour; the last step also holds every cell above the scale."""
        width = (self.high - self.low) / HEAT_STEPS
        bounds = [self.low + step * width for step in range(HEAT_STEPS)] + [max(self.high, self.top)]
        return [(step, _number(bounds[step]), _number(bounds[step + 1])) for step in range(HEAT_STEPS)]


def representatives(similarity: np.ndarray, order: np.ndarray, limit: int) -> tuple[list[int], list[int]]:
    """At most `limit` texts standing for all of them: the order is cut into `limit` runs of
    neighbouring texts, and each run is represented by its medoid (the text most similar to
    the rest of its run). Returns the texts in display order and how many each stands for."""
    if len(order) <= limit:
        return [int(i) for i in order], [1] * len(order)
    shown, sizes = [], []
    for block in np.array_split(order, limit):
        within = similarity[np.ix_(block, block)].sum(axis=1)
        shown.append(int(block[int(np.argmax(within))]))
        sizes.append(len(block))
    return shown, sizes


def heatmap(similarity: np.ndarray, order: np.ndarray, texts: list[str]) -> Heatmap:
    shown, sizes = representatives(similarity, order, HEATMAP_MAX)
    values = similarity[np.ix_(shown, shown)].astype(np.float64)
    count = len(shown)
    off_diagonal = values[~np.eye(count, dtype=bool)]
    low = float(np.floor(off_diagonal.min() * 20) / 20) if off_diagonal.size else 0.0
    high = float(np.ceil(off_diagonal.max() * 20) / 20) if off_diagonal.size else 1.0
    if high <= low:
        low, high = low - 0.05, high + 0.05
    steps = np.clip(((values - low) / (high - low) * HEAT_STEPS).astype(int), 0, HEAT_STEPS - 1)
    rows = [
        HeatRow(
            number=row + 1,
            index=shown[row],
            text=texts[shown[row]],
            group=sizes[row],
            values=values[row].tolist(),
            steps=steps[row].tolist(),
            cells=[_number(value) for value in values[row].tolist()],
            heading=short(texts[shown[row]], 60),
            title=short(texts[shown[row]], 200),
        )
        for row in range(count)
    ]
    top = float(values.max()) if count else high
    return Heatmap(rows=rows, total=len(order), low=low, high=high, top=top, svg=_heatmap_svg(rows, len(order)))


def _cell_size(count: int) -> int:
    """Cells of a few texts are large, of many small; the SVG is scaled to the page anyway."""
    return max(14, min(40, 600 // max(count, 1)))


def _heatmap_svg(rows: list[HeatRow], total: int) -> SafeString:
    count = len(rows)
    cell = _cell_size(count)
    top = 26
    width, height = _LABEL_WIDTH + count * cell + 4, top + count * cell + 4
    subset = f", {count} representatives of {total:,} texts" if count < total else ""
    parts = [
        f'<svg class="heatmap-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="heatmap-title heatmap-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="heatmap-title">Cosine similarity heatmap{subset}</title>',
        '<desc id="heatmap-desc">Darker or brighter cells are more similar pairs; texts are ordered so that '
        "similar ones sit together. The table beside the chart holds the same values.</desc>",
    ]
    for col, row in enumerate(rows):
        x = _LABEL_WIDTH + col * cell + cell / 2
        parts.append(f'<text class="col-label" x="{x:g}" y="{top - 6}" text-anchor="middle">{row.number}</text>')
    labels = [escape(short(row.text, 24)) for row in rows]
    for r, row in enumerate(rows):
        y = top + r * cell
        parts.append(
            f'<text class="row-label" x="{_LABEL_WIDTH - 6}" y="{y + cell / 2 + 3.5:g}" text-anchor="end">'
            f"{row.number}. {escape(short(row.text, _LABEL_CHARS))}<title>{escape(short(row.text, 300))}</title></text>"
        )
        parts.append('<g class="heat-row">')
        for c, (text, step) in enumerate(zip(row.cells, row.steps, strict=True)):
            parts.append(
                f'<rect x="{_LABEL_WIDTH + c * cell}" y="{y}" width="{cell}" height="{cell}" class="h{step}">'
                f"<title>{row.number}. {labels[r]} × {c + 1}. {labels[c]}: {text}</title></rect>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


@dataclass(frozen=True)
class LegendEntry:
    css: str
    label: str
    count: int


@dataclass(frozen=True)
class Point:
    number: int
    text: str
    label: str
    x: float
    y: float

    @property
    def heading(self) -> str:
        return short(self.text, 120)

    @property
    def x_text(self) -> str:
        return f"{self.x:.3f}"

    @property
    def y_text(self) -> str:
        return f"{self.y:.3f}"


@dataclass(frozen=True)
class Scatter:
    points: list[Point]
    legend: list[LegendEntry]
    explained: tuple[float, float]
    svg: SafeString

    @property
    def has_labels(self) -> bool:
        return any(point.label for point in self.points)

    @property
    def table_body(self) -> SafeString:
        """The rows of the data table (built here: a run may have 2,000 points)."""
        parts = []
        with_labels = self.has_labels
        for point in self.points:
            label = f"<td>{escape(point.label)}</td>" if with_labels else ""
            parts.append(
                f'<tr><td>{point.number}</td><th scope="row">{escape(point.heading)}</th>{label}'
                f"<td>{point.x_text}</td><td>{point.y_text}</td></tr>"
            )
        return mark_safe("".join(parts))  # noqa: S308 - texts escaped, numbers ours


def scatter(points: np.ndarray, explained: tuple[float, float], texts: list[str], labels: list[str]) -> Scatter:
    labels = labels if any(labels) else []
    counts = Counter(label for label in labels if label)
    coloured = [label for label, _ in counts.most_common(SCATTER_COLOURS)]
    if len(counts) > SCATTER_COLOURS:
        coloured = coloured[: SCATTER_COLOURS - 1]
    css_of = {label: f"c{i}" for i, label in enumerate(coloured)}
    legend = [LegendEntry(css_of[label], label, counts[label]) for label in coloured]
    others = sum(count for label, count in counts.items() if label not in css_of)
    if others:
        legend.append(LegendEntry("c-other", f"{len(counts) - len(coloured)} other labels", others))
    unlabelled = sum(1 for label in labels if not label)
    if labels and unlabelled:
        legend.append(LegendEntry("c-none", "no label", unlabelled))

    def css(index: int) -> str:
        if not labels:
            return "c-none"
        label = labels[index]
        return css_of.get(label, "c-other") if label else "c-none"

    rows = [
        Point(i + 1, texts[i], labels[i] if labels else "", float(points[i, 0]), float(points[i, 1]))
        for i in range(len(texts))
    ]
    return Scatter(rows, legend, explained, _scatter_svg(rows, [css(i) for i in range(len(rows))], explained))


def _scatter_svg(points: list[Point], classes: list[str], explained: tuple[float, float]) -> SafeString:
    width, height = 640, 440
    left, right, top, bottom = 44, 12, 12, 44
    xs = np.array([point.x for point in points]) if points else np.zeros(1)
    ys = np.array([point.y for point in points]) if points else np.zeros(1)

    def scale(values: np.ndarray, start: float, span: float, flip: bool) -> np.ndarray:
        low, high = float(values.min()), float(values.max())
        pad = (high - low) * 0.05 or 1.0
        fraction = (values - (low - pad)) / ((high + pad) - (low - pad))
        return start + (1 - fraction if flip else fraction) * span

    cx = scale(xs, left, width - left - right, flip=False)
    cy = scale(ys, top, height - top - bottom, flip=True)
    radius = 4 if len(points) <= 300 else 3 if len(points) <= 1000 else 2.2
    middle = top + (height - top - bottom) / 2
    parts = [
        f'<svg class="scatter-chart" viewBox="0 0 {width} {height}" role="img" '
        'aria-labelledby="scatter-title scatter-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="scatter-title">2-D projection (PCA) of {len(points):,} texts</title>',
        '<desc id="scatter-desc">Each point is a text; texts with similar embeddings lie close together. '
        "Colours show labels. The data table below lists every point.</desc>",
        f'<rect class="plot-area" x="{left}" y="{top}" width="{width - left - right}" '
        f'height="{height - top - bottom}"/>',
        f'<text class="axis-label" x="{left + (width - left - right) / 2:g}" y="{height - 12}" text-anchor="middle">'
        f"PC 1 ({explained[0]:.0%} of the variance)</text>",
        f'<text class="axis-label" x="14" y="{middle:g}" text-anchor="middle" transform="rotate(-90 14 {middle:g})">'
        f"PC 2 ({explained[1]:.0%} of the variance)</text>",
    ]
    for point, css, x, y in zip(points, classes, cx, cy, strict=False):
        label = f" — {escape(point.label)}" if point.label else ""
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:g}" class="{css}">'
            f"<title>{point.number}. {escape(short(point.text, 120))}{label}</title></circle>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
