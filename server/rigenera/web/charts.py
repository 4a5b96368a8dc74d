"""Accessible bar charts drawn on the server as SVG: no JavaScript, no chart library.

A chart is a picture of numbers the page also prints in a table (the chart's
`<figcaption>` points at it), so a screen reader, a printout and a copy-paste all get
the numbers. The SVG is `role="img"` with a `<title>` and a `<desc>` listing every bar;
each bar carries its own `<title>` (a tooltip on hover). Colours come from the site's
stylesheet (classes ch-*), with a text label on each bar, so colour is never the only cue.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from markupsafe import Markup

Number = int | float | Decimal


@dataclass(frozen=True)
class Bar:
    label: str
    value: Number | None


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def bar_chart(bars: Sequence[Bar], title: str, *, fmt: Callable[[Number], str] = str,
              desc: str = "", label_chars: int = 28, bar_height: int = 22,
              width: int = 560) -> Markup:
    """A horizontal bar chart (one row per bar, labels left, values right of the bar).
    Missing values (None) are drawn as no bar and said as "–". Empty input: no chart."""
    if not bars:
        return Markup("")
    said = "; ".join(f"{b.label}: {fmt(b.value) if b.value is not None else '–'}" for b in bars)
    # ids for aria-labelledby, stable across renders (the page's ETag hashes its bytes)
    n = hashlib.sha256((title + said).encode()).hexdigest()[:8]
    top = max((float(b.value) for b in bars if b.value is not None), default=0.0)
    label_w = min(label_chars, max(len(b.label) for b in bars)) * 7 + 12
    value_w = 120
    plot_w = max(width - label_w - value_w, 60)
    gap = 6
    height = len(bars) * (bar_height + gap) + gap
    rows: list[str] = []
    for i, b in enumerate(bars):
        y = gap + i * (bar_height + gap)
        value = float(b.value) if b.value is not None else 0.0
        w = plot_w * value / top if top > 0 else 0.0
        shown = fmt(b.value) if b.value is not None else "–"
        rows.append(
            f'<g class="ch-row"><title>{escape(b.label)}: {escape(shown)}</title>'
            f'<text class="ch-label" x="{label_w - 8}" y="{y + bar_height * 0.7:.1f}" '
            f'text-anchor="end">{escape(_clip(b.label, label_chars))}</text>'
            f'<rect class="ch-bar ch-bar-{i % 6}" x="{label_w}" y="{y}" width="{w:.1f}" '
            f'height="{bar_height}"/>'
            f'<text class="ch-value" x="{label_w + w + 6:.1f}" y="{y + bar_height * 0.7:.1f}">'
            f"{escape(shown)}</text></g>")
    return Markup(  # noqa: S704 - every text part is escaped above
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="ch{n}-t ch{n}-d" preserveAspectRatio="xMinYMin meet">'
        f'<title id="ch{n}-t">{escape(title)}</title>'
        f'<desc id="ch{n}-d">{escape(desc + " " if desc else "")}{escape(said)}</desc>'
        f'{"".join(rows)}</svg>')
