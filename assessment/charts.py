"""Radar charts as SVG, drawn on the server: the same markup on screen and in the PDF.

Only presentation attributes are used (no ``style``), so the Content Security
Policy needs nothing extra. Every piece of text is escaped.

The chart is laid out first (``radar_layout``: where every label, line and marker goes,
as plain numbers that tests can check) and drawn second (``radar_chart``). The layout
keeps text readable where the chart is shown:

- Every label is ``FONT_SIZE`` user units. The viewBox is ``WIDTH`` wide, and the chart
  is never drawn narrower than ``MIN_DISPLAY_WIDTH`` CSS pixels (a phone, 390 px, less
  the page's and card's padding), so text is at least ``MIN_TEXT_PX`` there and larger
  on a desktop and in the PDF (``static/css/report.css`` sets its printed width).
- Section names wrap to the room beside their spoke and are anchored by the spoke's
  angle; labels that would touch are pushed apart.
- Ring numbers (the levels above the centre's: 2 to 5 on a 1-5 scale, 1 to 5 on
  frameworks v2's 0-5) go on the ring edges of the one wedge between two spokes that the
  series lines cross least, each on a white plate, drawn above the lines.
- Series differ by colour, dash pattern and marker shape together. Markers that fall on
  the same point are spread along the ring, so a target equal to the team's score stays
  visible, and the target is drawn last, as haloed dots.
- A legend inside the SVG repeats each series' line, marker and name.
"""

import io
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

import segno
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Series:
    """One line on the chart: a label and a 0-100 value per axis (None: no data)."""

    label: str
    values: Sequence[float | None]
    colour: str
    dash: str = ""  # stroke-dasharray; "" is a solid line
    marker: str = "circle"  # circle, square, diamond, triangle, triangle-down or hexagon
    fill: bool = False
    halo: bool = False  # a white outline under the line, so it shows on top of another


# Colour, line style and marker differ together, so series are told apart without colour.
# Each colour has at least 4.5:1 contrast against white; no two share a dash or marker.
TEAM = {"colour": "#1d4e5f", "dash": "", "marker": "circle", "fill": True}
SELF_VIEW = {"colour": "#a4370f", "dash": "9 5", "marker": "square"}
TARGET = {"colour": "#4a5a12", "dash": "1 7", "marker": "diamond", "halo": True}
PREVIOUS = {"colour": "#5c4b8a", "dash": "12 4 3 4", "marker": "triangle"}
MODERATED = {"colour": "#8a1c4a", "dash": "4 4", "marker": "triangle-down"}
# The customers' own ratings (issue 17): only on the axes customers were asked about.
CUSTOMERS = {"colour": "#7a5200", "dash": "2 3", "marker": "hexagon"}

# Drawn in this order (the legend keeps the caller's order): the filled team area first,
# the target last, so nothing covers it.
DRAW_ORDER = ("circle", "triangle", "triangle-down", "square", "hexagon", "diamond")

WIDTH = 520  # the viewBox's width in user units (wider only if a single word needs it)
FONT_SIZE = 18  # every label, in user units
LINE_HEIGHT = 22
MIN_DISPLAY_WIDTH = 320  # CSS px: the narrowest the chart is shown (390 px phone, padding)
MIN_TEXT_PX = 11  # so FONT_SIZE * MIN_DISPLAY_WIDTH / WIDTH must stay at least this
RADIUS = 110
LABEL_GAP = 14  # between the outer ring and a section name
MARGIN = 6
MARKER_SIZE = 6
MARKER_SPREAD = 11  # markers on the same point move this far apart along the ring
LEVELS = range(1, 6)  # the scale a chart draws unless told otherwise (format 1: 1-5)


def level_rings(levels: range) -> list[tuple[int, float]]:
    """(level, 0-100 position) of each ring above the centre: the centre is the lowest
    level, the edge the highest, evenly spaced (1-5: 25, 50, 75, 100; 0-5: 20 ... 100)."""
    low, high = levels.start, levels.stop - 1
    return [(level, 100 * (level - low) / (high - low)) for level in levels[1:]]


LEGEND_LINE = 44  # length of the line sample in the legend

# Advance widths of DejaVu Sans (the report's font, and wider than Helvetica or Arial,
# which browsers fall back to) for printable ASCII, in ems; other characters are
# estimated (East Asian wide ones at one em).
_ASCII_WIDTHS = (
    0.318, 0.401, 0.46, 0.838, 0.636, 0.95, 0.78, 0.275, 0.39, 0.39, 0.5, 0.838, 0.318, 0.361,
    0.318, 0.337, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.337,
    0.337, 0.838, 0.838, 0.838, 0.531, 1.0, 0.684, 0.686, 0.698, 0.77, 0.632, 0.575, 0.775,
    0.752, 0.295, 0.295, 0.656, 0.557, 0.863, 0.748, 0.787, 0.603, 0.787, 0.695, 0.635, 0.611,
    0.732, 0.684, 0.989, 0.685, 0.611, 0.685, 0.39, 0.337, 0.39, 0.838, 0.5, 0.5, 0.613, 0.635,
    0.55, 0.635, 0.615, 0.352, 0.635, 0.634, 0.278, 0.278, 0.579, 0.278, 0.974, 0.634, 0.612,
    0.635, 0.635, 0.411, 0.521, 0.392, 0.634, 0.592, 0.818, 0.592, 0.592, 0.525, 0.636, 0.337,
    0.636, 0.838,
)  # fmt: skip


def text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """The width of one line of text in user units (DejaVu Sans metrics, estimated)."""
    total = 0.0
    for char in text:
        code = ord(char)
        if 32 <= code < 127:
            total += _ASCII_WIDTHS[code - 32]
        elif unicodedata.east_asian_width(char) in ("W", "F"):
            total += 1.0
        elif unicodedata.combining(char):
            continue
        else:
            total += 0.72
    return total * font_size


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in user units."""

    x0: float
    y0: float
    x1: float
    y1: float

    def intersects(self, other: "Box") -> bool:
        return (
            self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1
        )

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1

    def moved(self, dx: float, dy: float) -> "Box":
        return Box(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)

    def crosses_segment(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        """Whether the segment a-b passes through the box (Liang-Barsky clipping)."""
        t0, t1 = 0.0, 1.0
        dx, dy = b[0] - a[0], b[1] - a[1]
        for p, q in (
            (-dx, a[0] - self.x0),
            (dx, self.x1 - a[0]),
            (-dy, a[1] - self.y0),
            (dy, self.y1 - a[1]),
        ):
            if p == 0:
                if q < 0:
                    return False
                continue
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return False
        return True


@dataclass(frozen=True)
class TextBlock:
    """Lines of text: ``x`` and each line's baseline, the anchor, and the box they fill."""

    lines: tuple[str, ...]
    x: float
    baselines: tuple[float, ...]
    anchor: str  # start, middle or end
    box: Box
    font_size: float = FONT_SIZE

    def moved(self, dx: float, dy: float) -> "TextBlock":
        return TextBlock(
            self.lines,
            self.x + dx,
            tuple(b + dy for b in self.baselines),
            self.anchor,
            self.box.moved(dx, dy),
            self.font_size,
        )


@dataclass(frozen=True)
class Marker:
    series: int  # index into the layout's series
    shape: str
    x: float
    y: float

    @property
    def box(self) -> Box:
        s = MARKER_SIZE + 1
        return Box(self.x - s, self.y - s, self.x + s, self.y + s)


@dataclass(frozen=True)
class LegendEntry:
    series: int
    line: tuple[float, float, float]  # x1, x2, y of the line sample
    marker: Marker
    text: TextBlock


@dataclass
class Layout:
    """Everything ``radar_chart`` draws, in user units of a ``width`` x ``height`` viewBox."""

    width: float
    height: float
    centre: tuple[float, float]
    radius: float
    series: list[Series]
    axis_ends: list[tuple[float, float]]
    axis_labels: list[TextBlock]
    rings: list[list[tuple[float, float]]]  # the levels above the centre, a polygon each
    ring_labels: list[TextBlock]
    ring_wedge: int  # the wedge (after spoke i) that holds the ring numbers
    points: list[list[tuple[float, float] | None]]  # per series, per axis
    markers: list[Marker]
    legend: list[LegendEntry]
    legend_note: TextBlock | None = None
    font_sizes: list[float] = field(default_factory=list)

    def series_segments(self) -> list[tuple[int, tuple[float, float], tuple[float, float]]]:
        """Each drawn line piece: (series index, start, end)."""
        segments = []
        count = len(self.axis_ends)
        for index, points in enumerate(self.points):
            for i, start in enumerate(points):
                end = points[(i + 1) % count]
                if start is not None and end is not None:
                    segments.append((index, start, end))
        return segments


def _angle(axis: int, axes: int) -> float:
    return -math.pi / 2 + 2 * math.pi * axis / axes


def _polar(angle: float, distance: float) -> tuple[float, float]:
    return distance * math.cos(angle), distance * math.sin(angle)


def _value_point(axis: int, axes: int, value: float) -> tuple[float, float]:
    return _polar(_angle(axis, axes), RADIUS * max(0.0, min(100.0, value)) / 100)


def _wrap(text: str, width: float) -> list[str]:
    """Words into lines no wider than ``width`` (a longer single word keeps its own line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _text_block(lines: list[str], *, x: float, top: float, anchor: str) -> TextBlock:
    """Lines whose box starts at ``top``; baselines sit at 0.8 of each line's height."""
    widest = max(text_width(line) for line in lines)
    left = {"start": x, "middle": x - widest / 2, "end": x - widest}[anchor]
    baselines = tuple(top + LINE_HEIGHT * n + LINE_HEIGHT * 0.78 for n in range(len(lines)))
    box = Box(left, top, left + widest, top + LINE_HEIGHT * len(lines))
    return TextBlock(tuple(lines), x, baselines, anchor, box)


def _axis_label(text: str, axis: int, axes: int, extra: float = 0.0) -> TextBlock:
    """A section name beside its spoke's end, anchored by the spoke's angle (centre at 0,0)."""
    angle = _angle(axis, axes)
    cos, sin = math.cos(angle), math.sin(angle)
    x, y = _polar(angle, RADIUS + LABEL_GAP + extra)
    half = WIDTH / 2 - MARGIN
    if abs(cos) < 0.26:
        anchor, room = "middle", 2 * half * 0.62
    elif cos > 0:
        anchor, room = "start", half - x
    else:
        anchor, room = "end", half + x
    lines = _wrap(text, max(room, FONT_SIZE * 4))
    height = LINE_HEIGHT * len(lines)
    if sin < -0.26:
        top = y - height  # above the spoke's end
    elif sin > 0.26:
        top = y  # below it
    else:
        top = y - height / 2
    return _text_block(lines, x=x, top=top, anchor=anchor)


def _axis_labels(axes: Sequence[str]) -> list[TextBlock]:
    """Section names, moved outwards along their spoke until no two touch."""
    count = len(axes)
    extra = [0.0] * count
    labels = [_axis_label(text, i, count) for i, text in enumerate(axes)]
    for _round in range(40):
        clash = next(
            (
                (i, j)
                for i in range(count)
                for j in range(i + 1, count)
                if labels[i].box.intersects(labels[j].box)
            ),
            None,
        )
        if clash is None:
            break
        moved = clash[1]
        extra[moved] += LINE_HEIGHT / 2
        labels[moved] = _axis_label(axes[moved], moved, count, extra[moved])
    return labels


def _spread_markers(series: Sequence[Series], points: list[list]) -> list[Marker]:
    """One marker per point; markers on the same spot move apart along the ring, so every
    series shows even where its value equals another's."""
    count = len(points[0]) if points else 0
    markers: list[Marker] = []
    for axis in range(count):
        angle = _angle(axis, count)
        tangent = (-math.sin(angle), math.cos(angle))
        groups: list[list[int]] = []
        for index in sorted(range(len(series)), key=lambda i: _draw_rank(series[i])):
            point = points[index][axis]
            if point is None:
                continue
            for group in groups:
                other = points[group[0]][axis]
                if math.dist(point, other) < 2 * MARKER_SIZE:
                    group.append(index)
                    break
            else:
                groups.append([index])
        for group in groups:
            for position, index in enumerate(group):
                shift = (position - (len(group) - 1) / 2) * MARKER_SPREAD
                x, y = points[index][axis]
                markers.append(
                    Marker(
                        index, series[index].marker, x + shift * tangent[0], y + shift * tangent[1]
                    )
                )
    return markers


def _draw_rank(item: Series) -> int:
    return DRAW_ORDER.index(item.marker) if item.marker in DRAW_ORDER else len(DRAW_ORDER)


def _ring_labels(
    count: int,
    segments: list[tuple[int, tuple[float, float], tuple[float, float]]],
    levels: range = LEVELS,
) -> tuple[int, list[TextBlock]]:
    """The rings' level numbers on the ring edges of the wedge the series lines cross least."""
    half_wedge = math.pi / count
    best: tuple[int, int, list[TextBlock]] = (-1, 0, [])
    for wedge in range(count):
        bisector = _angle(wedge, count) + half_wedge
        blocks = []
        for level, ring in level_rings(levels):
            distance = RADIUS * ring / 100 * math.cos(half_wedge)
            x, y = _polar(bisector, distance)
            blocks.append(_text_block([str(level)], x=x, top=y - LINE_HEIGHT / 2, anchor="middle"))
        crossings = sum(
            1 for block in blocks for _i, a, b in segments if _plate(block).crosses_segment(a, b)
        )
        # Fewest crossings; on a tie, the wedge nearest the top right (most familiar).
        if best[0] < 0 or crossings < best[0]:
            best = (crossings, wedge, blocks)
    return best[1], best[2]


def _plate(block: TextBlock) -> Box:
    """The white plate behind a ring number."""
    box = block.box
    return Box(box.x0 - 3, box.y0 + 1, box.x1 + 3, box.y1 - 1)


def _legend(
    series: Sequence[Series], *, top: float, left: float, width: float, levels: range = LEVELS
) -> tuple[list[LegendEntry], TextBlock, float]:
    """One row per series (line sample, marker, name), then a note on the rings; returns
    the entries, the note and the bottom of the legend."""
    entries = []
    y = top
    text_left = left + LEGEND_LINE + 10
    for index, item in enumerate(series):
        lines = _wrap(item.label, width - (text_left - left))
        block = _text_block(lines, x=text_left, top=y, anchor="start")
        middle = y + LINE_HEIGHT / 2
        entries.append(
            LegendEntry(
                series=index,
                line=(left, left + LEGEND_LINE, middle),
                marker=Marker(index, item.marker, left + LEGEND_LINE / 2, middle),
                text=block,
            )
        )
        y = block.box.y1 + 6
    note = _text_block(
        _wrap(
            _("Rings: levels %(low)d to %(high)d; the centre is level %(centre)d.")
            % {"low": levels.start + 1, "high": levels.stop - 1, "centre": levels.start},
            width,
        ),
        x=left,
        top=y + 2,
        anchor="start",
    )
    return entries, note, note.box.y1


def radar_layout(
    *, axes: Sequence[str], series: Sequence[Series], levels: range = LEVELS
) -> Layout:
    """Where everything goes (see the module's docstring); no drawing. ``levels`` is the
    framework version's scale (``FrameworkVersion.level_range``): the centre is its lowest
    level and each ring one level up."""
    count = len(axes)
    if count < 3:
        raise ValueError("a radar chart needs at least three axes")
    labels = _axis_labels(axes)
    points = [
        [None if v is None else _value_point(i, count, v) for i, v in enumerate(item.values)]
        for item in series
    ]
    markers = _spread_markers(series, points)
    rings = [
        [_value_point(i, count, ring) for i in range(count)] for _l, ring in level_rings(levels)
    ]
    ends = [_value_point(i, count, 100) for i in range(count)]

    # The plot and its labels, centred on (0, 0) so far: place them in the viewBox.
    content = [label.box for label in labels] + [
        Box(
            -RADIUS - MARKER_SIZE, -RADIUS - MARKER_SIZE, RADIUS + MARKER_SIZE, RADIUS + MARKER_SIZE
        )
    ]
    left = min(box.x0 for box in content)
    right = max(box.x1 for box in content)
    top = min(box.y0 for box in content)
    bottom = max(box.y1 for box in content)
    span = right - left + 2 * MARGIN
    if max(-left, right) + MARGIN <= WIDTH / 2:
        width, dx = WIDTH, WIDTH / 2  # the plot in the middle
    else:  # a long word: widen the chart just enough, and centre what is drawn
        width = max(WIDTH, span)
        dx = MARGIN - left + (width - span) / 2
    dy = MARGIN - top

    def shift(p: tuple[float, float]) -> tuple[float, float]:
        return p[0] + dx, p[1] + dy

    labels = [label.moved(dx, dy) for label in labels]
    points = [[None if p is None else shift(p) for p in row] for row in points]
    markers = [Marker(m.series, m.shape, m.x + dx, m.y + dy) for m in markers]
    rings = [[shift(p) for p in ring] for ring in rings]
    ends = [shift(p) for p in ends]
    layout = Layout(
        width=width,
        height=0,
        centre=(dx, dy),
        radius=RADIUS,
        series=list(series),
        axis_ends=ends,
        axis_labels=labels,
        rings=rings,
        ring_labels=[],
        ring_wedge=0,
        points=points,
        markers=markers,
        legend=[],
    )
    wedge, ring_labels = _ring_labels(
        count,
        [
            (i, (a[0] - dx, a[1] - dy), (b[0] - dx, b[1] - dy))
            for i, a, b in layout.series_segments()
        ],
        levels,
    )
    layout.ring_wedge = wedge
    layout.ring_labels = [block.moved(dx, dy) for block in ring_labels]
    legend, note, legend_bottom = _legend(
        series,
        top=bottom + dy + 18,
        left=MARGIN + 18,
        width=width - 2 * MARGIN - 18,
        levels=levels,
    )
    layout.legend = legend
    layout.legend_note = note
    layout.height = legend_bottom + MARGIN + 4
    layout.font_sizes = [
        block.font_size
        for block in [*layout.axis_labels, *layout.ring_labels, *(e.text for e in legend), note]
    ]
    return layout


def _fmt(x: float) -> str:
    text = f"{x:.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def _marker_svg(marker: Marker, colour: str) -> str:
    x, y, s = marker.x, marker.y, MARKER_SIZE
    outline = 'stroke="#ffffff" stroke-width="1.5"'
    if marker.shape == "square":
        s -= 0.5
        return (
            f'<rect x="{_fmt(x - s)}" y="{_fmt(y - s)}" width="{_fmt(2 * s)}" '
            f'height="{_fmt(2 * s)}" fill="{colour}" {outline}/>'
        )
    if marker.shape == "diamond":
        s += 1.5
        points = [(x, y - s), (x + s, y), (x, y + s), (x - s, y)]
    elif marker.shape == "triangle":
        s += 1
        points = [(x, y - s), (x + s, y + s * 0.8), (x - s, y + s * 0.8)]
    elif marker.shape == "triangle-down":
        s += 1
        points = [(x, y + s), (x + s, y - s * 0.8), (x - s, y - s * 0.8)]
    elif marker.shape == "hexagon":
        s += 0.5
        points = [
            (x + s * math.cos(math.pi / 3 * k), y + s * math.sin(math.pi / 3 * k)) for k in range(6)
        ]
    else:
        return f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{s}" fill="{colour}" {outline}/>'
    coords = " ".join(f"{_fmt(px)},{_fmt(py)}" for px, py in points)
    return f'<polygon points="{coords}" fill="{colour}" {outline}/>'


def _stroke(item: Series, *, width: float = 2.5) -> str:
    dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
    cap = ' stroke-linecap="round"' if item.halo else ""
    return f'stroke="{item.colour}" stroke-width="{width}"{dash}{cap}'


def _series_svg(item: Series, points: list[tuple[float, float] | None]) -> list[str]:
    count = len(points)
    width = 3.5 if item.halo else 2.5
    parts: list[str] = []
    pieces: list[str] = []
    if all(p is not None for p in points):
        coords = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points)
        pieces.append(f'<polygon points="{coords}" ')
    else:
        # An axis without data breaks the outline rather than pretending to be zero.
        for i, start in enumerate(points):
            end = points[(i + 1) % count]
            if start is not None and end is not None:
                pieces.append(
                    f'<line x1="{_fmt(start[0])}" y1="{_fmt(start[1])}" x2="{_fmt(end[0])}" '
                    f'y2="{_fmt(end[1])}" '
                )
    for piece in pieces:
        if item.halo:
            dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
            parts.append(
                f'{piece}fill="none" stroke="#ffffff" stroke-width="{width + 3}"{dash} '
                f'stroke-linecap="round"/>'
            )
        fill = (
            f'fill="{item.colour}" fill-opacity="0.12"'
            if item.fill and piece.startswith("<polygon")
            else 'fill="none"'
        )
        parts.append(f"{piece}{fill} {_stroke(item, width=width)}/>")
    return parts


def _text_svg(block: TextBlock, *, fill: str = "#1f2933", extra: str = "") -> str:
    spans = "".join(
        f'<tspan x="{_fmt(block.x)}" y="{_fmt(baseline)}">{escape(line)}</tspan>'
        for line, baseline in zip(block.lines, block.baselines, strict=True)
    )
    return f'<text text-anchor="{block.anchor}" fill="{fill}"{extra}>{spans}</text>'


def radar_chart(
    *,
    axes: Sequence[str],
    series: Sequence[Series],
    title: str,
    description: str,
    chart_id: str,
    levels: range = LEVELS,
) -> SafeString:
    """An accessible SVG radar: one axis per section, a ring for each level of the scale
    (``levels``: 1-5 unless told), a legend."""
    layout = radar_layout(axes=axes, series=series, levels=levels)
    width, height = layout.width, layout.height
    chart_id = escape(chart_id)  # made from a framework's slug; escaped all the same
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_fmt(width)} {_fmt(height)}" '
        f'width="{_fmt(width)}" height="{_fmt(height)}" '
        f'class="radar-chart" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="{FONT_SIZE}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<rect width="{_fmt(width)}" height="{_fmt(height)}" fill="#ffffff"/>',
    ]
    cx, cy = layout.centre
    for ring in layout.rings:
        coords = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in ring)
        out.append(f'<polygon points="{coords}" fill="none" stroke="#c9cfd4" stroke-width="1"/>')
    for x, y in layout.axis_ends:
        out.append(
            f'<line x1="{_fmt(cx)}" y1="{_fmt(cy)}" x2="{_fmt(x)}" y2="{_fmt(y)}" '
            f'stroke="#aab3bb" stroke-width="1"/>'
        )
    out.extend(_text_svg(label) for label in layout.axis_labels)

    order = sorted(range(len(layout.series)), key=lambda i: _draw_rank(layout.series[i]))
    for index in order:
        out.extend(_series_svg(layout.series[index], layout.points[index]))
    for index in order:
        colour = layout.series[index].colour
        out.extend(_marker_svg(m, colour) for m in layout.markers if m.series == index)

    # Ring numbers above the lines, each on a white plate.
    for block in layout.ring_labels:
        plate = _plate(block)
        out.append(
            f'<rect x="{_fmt(plate.x0)}" y="{_fmt(plate.y0)}" width="{_fmt(plate.x1 - plate.x0)}" '
            f'height="{_fmt(plate.y1 - plate.y0)}" rx="3" fill="#ffffff" fill-opacity="0.9"/>'
        )
        out.append(_text_svg(block, fill="#4b5560"))

    # Legend: line style, marker and name together.
    for entry in layout.legend:
        item = layout.series[entry.series]
        x1, x2, y = entry.line
        if item.halo:
            out.append(
                f'<line x1="{_fmt(x1)}" y1="{_fmt(y)}" x2="{_fmt(x2)}" y2="{_fmt(y)}" '
                f'stroke="#ffffff" stroke-width="6"/>'
            )
        out.append(
            f'<line x1="{_fmt(x1)}" y1="{_fmt(y)}" x2="{_fmt(x2)}" y2="{_fmt(y)}" '
            f"{_stroke(item, width=3.5 if item.halo else 2.5)}/>"
        )
        out.append(_marker_svg(entry.marker, item.colour))
        out.append(_text_svg(entry.text))
    if layout.legend_note is not None:
        out.append(_text_svg(layout.legend_note, fill="#4b5560"))
    out.append("</svg>")
    # Every interpolated string above was escaped, and the numbers are formatted floats.
    return mark_safe("".join(out))  # noqa: S308


# --- The importance-performance grid (issue 17, docs/customer-voice.md) -----------------
# Martilla and James's layout: performance across, importance up, both on the customers'
# 1-5 scale, the cross-hairs at the centre of the placed attributes. Each attribute is a
# numbered dot (the number is its row in the table beside the chart) with its 95 % interval
# as thin whiskers both ways; a dot whose quadrant is not settled is drawn hollow.

IPA_PLOT = 380  # the square plot area, in user units
IPA_LEFT = 70  # room for the importance axis title and numbers
IPA_TOP = 16
IPA_BOTTOM = 70  # room for the performance numbers and axis title
IPA_DOT = 13
IPA_COLOUR = "#1d4e5f"
IPA_QUADRANT_LABELS = {
    # (left or right, top or bottom) of the plot: performance low/high, importance high/low
    "concentrate": ("start", "top"),
    "keep-up": ("end", "top"),
    "low-priority": ("start", "bottom"),
    "over-investment": ("end", "bottom"),
}


def quadrant_label(key: str) -> str:
    """The plain words of a quadrant of the grid (the one place they are written)."""
    return {
        "concentrate": _("Concentrate here"),
        "keep-up": _("Keep it up"),
        "over-investment": _("Possible over-investment"),
        "low-priority": _("Lower priority"),
    }[str(key)]


def _ipa_x(rating: float) -> float:
    return IPA_LEFT + (rating - 1) / 4 * IPA_PLOT


def _ipa_y(rating: float) -> float:
    return IPA_TOP + (5 - rating) / 4 * IPA_PLOT


def _ipa_spread(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Dots that would cover one another (closer than a dot's width) are moved apart
    around their common place, so every number stays readable; the whiskers keep the
    true values and the table gives them exactly."""
    placed: list[tuple[float, float]] = []
    for x, y in points:
        for attempt in range(1, 40):
            if all(math.hypot(x - px, y - py) >= 2 * IPA_DOT for px, py in placed):
                break
            angle = attempt * 2.399963  # the golden angle: the tries fan out evenly
            distance = IPA_DOT * (1 + attempt / 6)
            x0, y0 = points[len(placed)]
            x, y = x0 + distance * math.cos(angle), y0 + distance * math.sin(angle)
        placed.append((x, y))
    return placed


def importance_performance_svg(grid, *, chart_id: str = "ipa") -> SafeString:
    """The grid as an accessible SVG: the points are numbered as in its data table."""
    width = IPA_LEFT + IPA_PLOT + 20
    height = IPA_TOP + IPA_PLOT + IPA_BOTTOM
    chart_id = escape(chart_id)
    title = _("What matters to customers, and how well it is done")
    description = _(
        "Each numbered dot is one quality: further right, customers say it was done better; "
        "higher up, it matters more to them. The dashed lines cross at the average of the "
        "qualities shown. The table beside the chart gives every figure."
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="ipa-chart" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="{FONT_SIZE - 4}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<rect x="{IPA_LEFT}" y="{IPA_TOP}" width="{IPA_PLOT}" height="{IPA_PLOT}" '
        f'fill="none" stroke="#aab3bb" stroke-width="1"/>',
    ]
    for rating in range(1, 6):
        x, y = _ipa_x(rating), _ipa_y(rating)
        out.append(
            f'<text x="{_fmt(x)}" y="{_fmt(IPA_TOP + IPA_PLOT + 20)}" text-anchor="middle" '
            f'fill="#4b5560">{rating}</text>'
        )
        out.append(
            f'<text x="{_fmt(IPA_LEFT - 8)}" y="{_fmt(y + 5)}" text-anchor="end" '
            f'fill="#4b5560">{rating}</text>'
        )
    out.append(
        f'<text x="{_fmt(IPA_LEFT + IPA_PLOT / 2)}" y="{_fmt(IPA_TOP + IPA_PLOT + 50)}" '
        f'text-anchor="middle" fill="#1f2933">{escape(_("How well it was done"))}</text>'
    )
    mid_y = IPA_TOP + IPA_PLOT / 2
    out.append(
        f'<text x="22" y="{_fmt(mid_y)}" text-anchor="middle" fill="#1f2933" '
        f'transform="rotate(-90 22 {_fmt(mid_y)})">{escape(_("How much it matters"))}</text>'
    )
    if grid.has_centre:
        cx, cy = _ipa_x(grid.performance_line), _ipa_y(grid.importance_line)
        dash = 'stroke="#6b7680" stroke-width="1.5" stroke-dasharray="6 4"'
        out.append(
            f'<line x1="{_fmt(cx)}" y1="{IPA_TOP}" x2="{_fmt(cx)}" '
            f'y2="{IPA_TOP + IPA_PLOT}" {dash}/>'
        )
        out.append(
            f'<line x1="{IPA_LEFT}" y1="{_fmt(cy)}" x2="{IPA_LEFT + IPA_PLOT}" '
            f'y2="{_fmt(cy)}" {dash}/>'
        )
        for key, (side, edge) in IPA_QUADRANT_LABELS.items():
            x = IPA_LEFT + 6 if side == "start" else IPA_LEFT + IPA_PLOT - 6
            y = IPA_TOP + 18 if edge == "top" else IPA_TOP + IPA_PLOT - 8
            out.append(
                f'<text x="{x}" y="{y}" text-anchor="{side}" fill="#4b5560" '
                f'font-style="italic">{escape(quadrant_label(key))}</text>'
            )
    placed = _ipa_spread(
        [(_ipa_x(p.performance.mean), _ipa_y(p.importance.mean)) for p in grid.points]
    )
    for number, (point, (x, y)) in enumerate(zip(grid.points, placed, strict=True), start=1):
        whisker = f'stroke="{IPA_COLOUR}" stroke-width="1.5" stroke-opacity="0.6"'
        out.append(
            f'<line x1="{_fmt(_ipa_x(point.performance.low))}" y1="{_fmt(y)}" '
            f'x2="{_fmt(_ipa_x(point.performance.high))}" y2="{_fmt(y)}" {whisker}/>'
        )
        out.append(
            f'<line x1="{_fmt(x)}" y1="{_fmt(_ipa_y(point.importance.low))}" '
            f'x2="{_fmt(x)}" y2="{_fmt(_ipa_y(point.importance.high))}" {whisker}/>'
        )
        filled = point.settled or not grid.has_centre
        fill, text = (IPA_COLOUR, "#ffffff") if filled else ("#ffffff", IPA_COLOUR)
        out.append(
            f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{IPA_DOT}" fill="{fill}" '
            f'stroke="{IPA_COLOUR}" stroke-width="2"/>'
        )
        out.append(
            f'<text x="{_fmt(x)}" y="{_fmt(y + 5)}" text-anchor="middle" fill="{text}" '
            f'font-weight="bold">{number}</text>'
        )
    out.append("</svg>")
    # Every interpolated string above was escaped, and the numbers are formatted numbers.
    return mark_safe("".join(out))  # noqa: S308


# --- QR codes of a survey's public link (issue 17), drawn by segno --------------------


def qr_code(url: str, kind: str, *, scale: int, title: str = "") -> bytes:
    """The QR code of ``url`` as an SVG or PNG file (``kind``), with error correction M
    so a creased or smudged print still reads; ``title`` names an SVG for screen readers
    (segno escapes it)."""
    buffer = io.BytesIO()
    options = {"xmldecl": False, "svgclass": None, "title": title or None} if kind == "svg" else {}
    segno.make_qr(url, error="m").save(buffer, kind=kind, scale=scale, border=4, **options)
    return buffer.getvalue()


def qr_svg(url: str, *, scale: int = 10) -> SafeString:
    """The QR code as inline SVG for a page or the poster. segno writes only paths and
    numbers, and ``url`` is ours (a survey's public address), never user text."""
    return mark_safe(qr_code(url, "svg", scale=scale).decode())  # noqa: S308
