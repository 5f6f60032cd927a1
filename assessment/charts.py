"""Radar charts as SVG, drawn on the server: the same markup on screen and in the PDF.

Only presentation attributes are used (no ``style``), so the Content Security
Policy needs nothing extra. Every piece of text is escaped.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Series:
    """One line on the chart: a label and a 0-100 value per axis (None: no data)."""

    label: str
    values: Sequence[float | None]
    colour: str
    dash: str = ""  # stroke-dasharray; "" is a solid line
    marker: str = "circle"  # circle, square, diamond or triangle
    fill: bool = False


# Colour and line style differ together, so series are told apart without colour.
# Each colour has at least 4.5:1 contrast against white.
TEAM = {"colour": "#1d4e5f", "dash": "", "marker": "circle", "fill": True}
SELF_VIEW = {"colour": "#a4370f", "dash": "6 4", "marker": "square"}
TARGET = {"colour": "#4a5a12", "dash": "2 3", "marker": "diamond"}
PREVIOUS = {"colour": "#5c4b8a", "dash": "10 3 2 3", "marker": "triangle"}
MODERATED = {"colour": "#8a1c4a", "dash": "12 4", "marker": "square"}

WIDTH = 620  # wide enough for wrapped axis labels left and right of the plot
SIZE = 440
CENTRE_X = WIDTH / 2
CENTRE_Y = SIZE / 2
RADIUS = 150
LEVEL_RINGS = (0, 25, 50, 75, 100)  # levels 1 to 5 on the 0-100 scale


def _point(axis: int, axes: int, value: float) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * axis / axes
    distance = RADIUS * max(0.0, min(100.0, value)) / 100
    return CENTRE_X + distance * math.cos(angle), CENTRE_Y + distance * math.sin(angle)


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def _wrap(text: str, width: int = 16) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    s = 4.5
    if kind == "square":
        return (
            f'<rect x="{_fmt(x - s)}" y="{_fmt(y - s)}" width="{_fmt(2 * s)}" '
            f'height="{_fmt(2 * s)}" fill="{colour}"/>'
        )
    if kind == "diamond":
        points = f"{_fmt(x)},{_fmt(y - s - 1)} {_fmt(x + s + 1)},{_fmt(y)} "
        points += f"{_fmt(x)},{_fmt(y + s + 1)} {_fmt(x - s - 1)},{_fmt(y)}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    if kind == "triangle":
        points = f"{_fmt(x)},{_fmt(y - s - 1)} {_fmt(x + s + 1)},{_fmt(y + s)} "
        points += f"{_fmt(x - s - 1)},{_fmt(y + s)}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    return f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{s}" fill="{colour}"/>'


def _series_paths(series: Series, axes: int) -> list[str]:
    points = [None if v is None else _point(i, axes, v) for i, v in enumerate(series.values)]
    dash = f' stroke-dasharray="{series.dash}"' if series.dash else ""
    parts: list[str] = []
    if all(p is not None for p in points):
        coords = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points)
        fill = f'fill="{series.colour}" fill-opacity="0.12"' if series.fill else 'fill="none"'
        parts.append(
            f'<polygon points="{coords}" {fill} stroke="{series.colour}" stroke-width="2.5"{dash}/>'
        )
    else:
        # An axis without data breaks the outline rather than pretending to be zero.
        for i, start in enumerate(points):
            end = points[(i + 1) % axes]
            if start is not None and end is not None and axes > 2:
                parts.append(
                    f'<line x1="{_fmt(start[0])}" y1="{_fmt(start[1])}" x2="{_fmt(end[0])}" '
                    f'y2="{_fmt(end[1])}" stroke="{series.colour}" stroke-width="2.5"{dash}/>'
                )
    parts.extend(_marker(series.marker, x, y, series.colour) for x, y in filter(None, points))
    return parts


def radar_chart(
    *, axes: Sequence[str], series: Sequence[Series], title: str, description: str, chart_id: str
) -> SafeString:
    """An accessible SVG radar: one axis per section, rings for the five levels, a legend."""
    count = len(axes)
    if count < 3:
        raise ValueError("a radar chart needs at least three axes")
    out: list[str] = []
    legend_rows = len(series)
    height = SIZE + 26 * legend_rows + 10
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'class="radar-chart" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="15">'
    )
    out.append(f'<title id="{chart_id}-title">{escape(title)}</title>')
    out.append(f'<desc id="{chart_id}-desc">{escape(description)}</desc>')
    out.append(f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>')

    # Rings for the five levels, and one spoke per axis.
    for ring_index, ring in enumerate(LEVEL_RINGS[1:], start=2):
        coords = " ".join("{},{}".format(*map(_fmt, _point(i, count, ring))) for i in range(count))
        out.append(f'<polygon points="{coords}" fill="none" stroke="#c9cfd4" stroke-width="1"/>')
        if ring == LEVEL_RINGS[-1]:
            continue  # the outer ring is the edge; its label would collide with the top axis
        x, y = _point(0, count, ring)
        out.append(
            f'<text x="{_fmt(x + 5)}" y="{_fmt(y + 4)}" fill="#4b5560" font-size="12">'
            f"{escape(_('level %(n)d') % {'n': ring_index})}</text>"
        )
    for i, label in enumerate(axes):
        x, y = _point(i, count, 100)
        out.append(
            f'<line x1="{CENTRE_X}" y1="{CENTRE_Y}" x2="{_fmt(x)}" y2="{_fmt(y)}" '
            f'stroke="#c9cfd4" stroke-width="1"/>'
        )
        lx, ly = _point(i, count, 112)
        anchor = "middle" if abs(lx - CENTRE_X) < 10 else ("start" if lx > CENTRE_X else "end")
        lines = _wrap(label)
        top = ly - (len(lines) - 1) * 8.5 + (5 if ly >= CENTRE_Y else 0)
        spans = "".join(
            f'<tspan x="{_fmt(lx)}" y="{_fmt(top + 17 * n)}">{escape(line)}</tspan>'
            for n, line in enumerate(lines)
        )
        out.append(f'<text text-anchor="{anchor}" fill="#1f2933" font-weight="bold">{spans}</text>')

    for item in series:
        out.extend(_series_paths(item, count))

    # Legend: colour, line style and marker together.
    for row, item in enumerate(series):
        y = SIZE + 14 + 26 * row
        dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
        out.append(
            f'<line x1="24" y1="{y}" x2="64" y2="{y}" stroke="{item.colour}" '
            f'stroke-width="2.5"{dash}/>'
        )
        out.append(_marker(item.marker, 44, y, item.colour))
        out.append(f'<text x="74" y="{y + 4}" fill="#1f2933">{escape(item.label)}</text>')
    out.append("</svg>")
    # Every interpolated string above was escaped, and the numbers are formatted floats.
    return mark_safe("".join(out))  # noqa: S308
