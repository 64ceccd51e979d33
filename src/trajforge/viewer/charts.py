"""Charts drawn on the server as inline SVG: histograms of per-sample figures and bars of counts.

No script and no style attribute (the page's Content-Security-Policy allows
neither inline): sizes and colours are SVG presentation attributes, labels are
escaped text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from markupsafe import Markup, escape

WIDTH = 360
BAR_HEIGHT = 18


def histogram(values: npt.NDArray[np.float64] | npt.NDArray[np.int64], title: str, bins: int = 20) -> Markup:
    """Counts of `values` in up to `bins` equal ranges, as a bar chart with its axis ends and mean."""
    data = np.asarray(values, dtype=float)
    if not data.size:
        return _empty(title)
    low, high = float(data.min()), float(data.max())
    whole = bool(np.all(np.mod(data, 1) == 0))
    edges = np.arange(low, high + 2) if whole and high - low < bins else np.linspace(low, high, bins + 1)
    if len(edges) < 2 or edges[0] == edges[-1]:
        edges = np.array([low, low + 1])
    counts, edges = np.histogram(data, bins=edges)
    top = max(int(counts.max()), 1)
    height, width = 120, WIDTH
    step = width / len(counts)
    bars = []
    for k, count in enumerate(counts):
        h = round(height * int(count) / top, 1)
        label = f"{edges[k]:g} to {edges[k + 1]:g}: {int(count):,}"
        bars.append(
            f'<rect x="{k * step + 1:.1f}" y="{height - h + 20}" width="{max(step - 2, 1):.1f}" height="{h}" '
            f'class="bar"><title>{escape(label)}</title></rect>'
        )
    axis = (
        f'<text x="0" y="{height + 36}" class="axis">{edges[0]:g}</text>'
        f'<text x="{width}" y="{height + 36}" class="axis" text-anchor="end">{edges[-1]:g}</text>'
        f'<text x="{width / 2}" y="{height + 36}" class="axis" text-anchor="middle">mean {data.mean():.1f}</text>'
    )
    return _svg(title, width, height + 42, "".join(bars) + axis)


def bars(items: Sequence[tuple[str, int]], title: str) -> Markup:
    """One horizontal bar per (label, count), longest first as given."""
    if not items:
        return _empty(title)
    top = max(max(count for _, count in items), 1)
    label_width, width = 170, WIDTH
    rows = []
    for k, (label, count) in enumerate(items):
        y = 20 + k * (BAR_HEIGHT + 4)
        w = round((width - label_width - 60) * count / top, 1)
        rows.append(
            f'<text x="{label_width - 6}" y="{y + 13}" class="label" text-anchor="end">{escape(label[:28])}</text>'
            f'<rect x="{label_width}" y="{y}" width="{w}" height="{BAR_HEIGHT}" class="bar">'
            f"<title>{escape(label)}: {count:,}</title></rect>"
            f'<text x="{label_width + w + 4}" y="{y + 13}" class="value">{count:,}</text>'
        )
    return _svg(title, width, 24 + len(items) * (BAR_HEIGHT + 4), "".join(rows))


def _svg(title: str, width: int, height: int, body: str) -> Markup:
    head = f'<text x="0" y="12" class="title">{escape(title)}</text>'
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}">{head}{body}</svg>'
    )


def _empty(title: str) -> Markup:
    return _svg(title, WIDTH, 40, '<text x="0" y="32" class="axis">no data</text>')
