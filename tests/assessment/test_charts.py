"""The radar's geometry: readable sizes, labels that touch nothing, series told apart
without colour, a target that stays visible, a legend. No database."""

import itertools
import re
import tomllib
from pathlib import Path

import pytest

from assessment import charts

# Every framework file shipped, archived v1 and v2 drafts included (not the scale or the
# concept registry, which have no sections).
FRAMEWORKS = sorted(
    path
    for path in (Path(__file__).parents[2] / "frameworks" / "data").rglob("*.toml")
    if "sections" in tomllib.loads(path.read_text())
)
STYLES = {
    "team": charts.TEAM,
    "self": charts.SELF_VIEW,
    "target": charts.TARGET,
    "previous": charts.PREVIOUS,
    "moderated": charts.MODERATED,
    "customers": charts.CUSTOMERS,
}


def section_names(path: Path) -> list[str]:
    with path.open("rb") as handle:
        return [section["name"] for section in tomllib.load(handle)["sections"]]


def all_series(count: int, *, team=None, target=None) -> list[charts.Series]:
    """Five series with values that cross each other, as on a real chart."""
    team = team or [40 + 35 * (i % 2) for i in range(count)]
    return [
        charts.Series("Team", team, **charts.TEAM),
        charts.Series(
            "Your own view", [90 - 20 * (i % 3) for i in range(count)], **charts.SELF_VIEW
        ),
        charts.Series("Target", target or [75] * count, **charts.TARGET),
        charts.Series(
            "Assessor's moderated view", [55 + 5 * i for i in range(count)], **charts.MODERATED
        ),
        charts.Series(
            "Previous: Spring review 2025", [20 + 10 * i for i in range(count)], **charts.PREVIOUS
        ),
    ]


CASES = [pytest.param(section_names(path), id=path.stem) for path in FRAMEWORKS] + [
    pytest.param(["A", "B", "C"], id="three"),
    pytest.param(
        [
            "Customer experience measurement and insight",
            "People, culture and leadership",
            "Operations",
            "Technology and tools for the front line",
            "Strategy",
            "Continuous improvement of processes",
            "Finance",
            "Partners and suppliers",
        ],
        id="eight-long",
    ),
]


def text_blocks(layout: charts.Layout) -> list[charts.TextBlock]:
    return [
        *layout.axis_labels,
        *layout.ring_labels,
        *(entry.text for entry in layout.legend),
        layout.legend_note,
    ]


@pytest.mark.parametrize("axes", CASES)
def test_labels_are_at_least_11_px_where_the_chart_is_narrowest(axes):
    layout = charts.radar_layout(axes=axes, series=all_series(len(axes)))

    scale = charts.MIN_DISPLAY_WIDTH / layout.width
    assert min(layout.font_sizes) * scale >= charts.MIN_TEXT_PX
    assert len(layout.font_sizes) == len(text_blocks(layout))


@pytest.mark.parametrize("path", FRAMEWORKS, ids=lambda p: p.stem)
def test_shipped_section_names_keep_the_standard_width(path):
    layout = charts.radar_layout(axes=section_names(path), series=all_series(6))

    assert layout.width == charts.WIDTH


@pytest.mark.parametrize("axes", CASES)
def test_no_two_labels_touch_and_every_label_stays_inside_the_chart(axes):
    layout = charts.radar_layout(axes=axes, series=all_series(len(axes)))
    blocks = text_blocks(layout)

    for a, b in itertools.combinations(blocks, 2):
        assert not a.box.intersects(b.box), (a.lines, b.lines)
    frame = charts.Box(0, 0, layout.width, layout.height)
    for block in blocks:
        box = block.box
        assert frame.contains(box.x0, box.y0), block.lines
        assert frame.contains(box.x1, box.y1), block.lines


@pytest.mark.parametrize("axes", CASES)
def test_section_names_stay_clear_of_the_plot_lines_and_markers(axes):
    layout = charts.radar_layout(axes=axes, series=all_series(len(axes), team=[100] * len(axes)))

    for label in layout.axis_labels:
        for _series, a, b in layout.series_segments():
            assert not label.box.crosses_segment(a, b), label.lines
        for marker in layout.markers:
            assert not label.box.intersects(marker.box), label.lines
        for ring in layout.rings:
            for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
                assert not label.box.crosses_segment(a, b), label.lines


def test_ring_numbers_go_to_a_wedge_no_series_line_crosses():
    # Data on two spokes only: every wedge but the first is free of lines.
    axes = ["Customers", "Employees and line managers", "The company", "Shareholders and owners"]
    series = [
        charts.Series("Team", [60, 80, None, None], **charts.TEAM),
        charts.Series("Target", [75, 75, None, None], **charts.TARGET),
    ]
    layout = charts.radar_layout(axes=axes, series=series)

    assert [block.lines for block in layout.ring_labels] == [("2",), ("3",), ("4",), ("5",)]
    assert layout.series_segments()  # the first wedge has its lines
    for block in layout.ring_labels:
        for _s, a, b in layout.series_segments():
            assert not charts._plate(block).crosses_segment(a, b)
        for marker in layout.markers:
            assert not block.box.intersects(marker.box)


def test_ring_numbers_are_drawn_above_the_lines_on_a_plate():
    svg = charts.radar_chart(
        axes=["A", "B", "C", "D"],
        series=all_series(4),
        title="t",
        description="d",
        chart_id="r",
    )

    last_series = max(m.start() for m in re.finditer(r'<polygon [^>]*stroke="#4a5a12"', svg))
    plates = [m.start() for m in re.finditer(r'<rect [^>]*rx="3" fill="#ffffff"', svg)]
    assert len(plates) == 4
    assert min(plates) > last_series


def test_every_series_has_its_own_dash_and_marker():
    styles = list(STYLES.values())

    assert len({s["dash"] for s in styles}) == len(styles)
    assert len({s["marker"] for s in styles}) == len(styles)
    assert len({s["colour"] for s in styles}) == len(styles)


def test_the_target_stays_visible_where_it_equals_the_team():
    axes = ["A", "B", "C", "D", "E"]
    same = [75, 75, 50, 100, 25]
    series = [
        charts.Series("Team", same, **charts.TEAM),
        charts.Series("Target", same, **charts.TARGET),
    ]
    layout = charts.radar_layout(axes=axes, series=series)
    svg = charts.radar_chart(axes=axes, series=series, title="t", description="d", chart_id="s")

    # Drawn after the team, as haloed dots, in a pattern of its own.
    team_at = svg.index('stroke="#1d4e5f" stroke-width="2.5"')
    target_at = svg.index(f'stroke="{charts.TARGET["colour"]}"')
    assert target_at > team_at
    assert 'stroke="#ffffff" stroke-width="6.5" stroke-dasharray="1 7"' in svg
    # Its markers move off the team's, so both show on every spoke.
    team = [m for m in layout.markers if m.series == 0]
    target = [m for m in layout.markers if m.series == 1]
    assert len(team) == len(target) == len(axes)
    for a, b in zip(team, target, strict=True):
        assert not a.box.moved(1, 1).intersects(b.box.moved(1, 1)) or (
            abs(a.x - b.x) + abs(a.y - b.y) >= charts.MARKER_SPREAD - 0.01
        )


def test_the_legend_names_each_series_with_its_line_and_marker():
    series = all_series(4)
    layout = charts.radar_layout(axes=["A", "B", "C", "D"], series=series)
    svg = charts.radar_chart(
        axes=["A", "B", "C", "D"], series=series, title="t", description="d", chart_id="l"
    )

    assert [" ".join(entry.text.lines) for entry in layout.legend] == [s.label for s in series]
    assert [entry.marker.shape for entry in layout.legend] == [s.marker for s in series]
    for item in series:
        if item.dash:
            assert svg.count(f'stroke-dasharray="{item.dash}"') >= 2  # the line and its sample
    assert "Rings: levels 2 to 5; the centre is level 1." in svg
    # The legend sits below the plot and its labels.
    plot_bottom = max(label.box.y1 for label in layout.axis_labels)
    assert min(entry.text.box.y0 for entry in layout.legend) > plot_bottom


def test_a_word_too_long_for_its_side_widens_the_chart_rather_than_leaving_it():
    axes = ["A", "Interdepartmentalisation", "C", "Counterrevolutionaries"]
    layout = charts.radar_layout(axes=axes, series=all_series(4))

    assert layout.width > charts.WIDTH
    for label in layout.axis_labels:
        assert label.box.x0 >= 0
        assert label.box.x1 <= layout.width
