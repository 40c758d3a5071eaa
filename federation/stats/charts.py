"""Charts drawn by the platform: small SVG documents, no script, no external asset.

Only presentation attributes are used (no style attributes), so the charts survive a strict
Content-Security-Policy; every label is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 12, 16, 40
BAR = "#2f6f9f"
MEDIAN = "#b3261e"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def trend_chart(
    title: str,
    points: Sequence[tuple[str, float]],
    medians: Sequence[float | None] | None = None,
    legend: tuple[str, str] = ("", ""),
) -> str:
    """Return an SVG bar chart of monthly values, with the alliance median as a line."""
    top = _nice_max(max([v for _, v in points] + [m or 0 for m in (medians or [])] + [0]))
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = inner_w / max(len(points), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'class="chart" aria-label={quoteattr(title)}><title>{escape(title)}</title>',
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + inner_h}" x2="{WIDTH - PAD_RIGHT}" '
        f'y2="{PAD_TOP + inner_h}" stroke="#666"/>',
        f'<text x="{PAD_LEFT - 4}" y="{PAD_TOP + 4}" text-anchor="end" font-size="11">'
        f"{top:g}</text>",
        f'<text x="{PAD_LEFT - 4}" y="{PAD_TOP + inner_h}" text-anchor="end" '
        'font-size="11">0</text>',
    ]
    for n, (label, value) in enumerate(points):
        h = inner_h * value / top
        x = PAD_LEFT + n * step + step * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{PAD_TOP + inner_h - h:.1f}" width="{step * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{BAR}"><title>{escape(label)}: {value:g}</title></rect>'
        )
        parts.append(
            f'<text x="{x + step * 0.35:.1f}" y="{HEIGHT - PAD_BOTTOM + 14}" font-size="10" '
            f'text-anchor="middle">{escape(label[2:] if len(label) == 7 else label)}</text>'
        )
    parts += _median_line(medians, step, inner_h, top)
    parts += _legend(legend)
    parts.append("</svg>")
    return "".join(parts)


def _median_line(medians, step: float, inner_h: float, top: float) -> list[str]:
    coords = [
        f"{PAD_LEFT + n * step + step / 2:.1f},{PAD_TOP + inner_h - inner_h * m / top:.1f}"
        for n, m in enumerate(medians or [])
        if m is not None
    ]
    if not coords:
        return []
    return [
        f'<polyline points="{" ".join(coords)}" fill="none" stroke="{MEDIAN}" '
        'stroke-width="2" stroke-dasharray="5 3"/>'
    ]


def _legend(legend: tuple[str, str]) -> list[str]:
    own, median = legend
    y = HEIGHT - 10
    out = []
    if own:
        out += [
            f'<rect x="{PAD_LEFT}" y="{y - 9}" width="10" height="10" fill="{BAR}"/>',
            f'<text x="{PAD_LEFT + 14}" y="{y}" font-size="11">{escape(own)}</text>',
        ]
    if median:
        x = PAD_LEFT + 200
        out += [
            f'<line x1="{x}" y1="{y - 4}" x2="{x + 18}" y2="{y - 4}" stroke="{MEDIAN}" '
            'stroke-width="2" stroke-dasharray="5 3"/>',
            f'<text x="{x + 22}" y="{y}" font-size="11">{escape(median)}</text>',
        ]
    return out
