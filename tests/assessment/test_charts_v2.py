"""The radar on a framework version's own scale (issue 14): frameworks v2 rate 0-5, so the
centre is level 0 and the rings are levels 1 to 5; version 1 keeps 1-5. No database."""

import math

from assessment import charts

AXES = ["Customers", "Employees", "The company", "Owners"]
SERIES = [charts.Series("Team", [60, 40, 80, 20], **charts.TEAM)]


def ring_distances(layout: charts.Layout) -> list[float]:
    """Each ring's distance from the centre, as a share of the radius (0-100)."""
    cx, cy = layout.centre
    return [round(100 * math.dist((cx, cy), ring[0]) / layout.radius, 6) for ring in layout.rings]


def test_a_0_to_5_scale_has_a_ring_for_each_level_from_1():
    layout = charts.radar_layout(axes=AXES, series=SERIES, levels=range(0, 6))

    assert ring_distances(layout) == [20, 40, 60, 80, 100]
    assert [block.lines for block in layout.ring_labels] == [(str(n),) for n in range(1, 6)]
    assert layout.legend_note.lines == ("Rings: levels 1 to 5; the centre is level 0.",)


def test_the_1_to_5_scale_is_drawn_as_before():
    layout = charts.radar_layout(axes=AXES, series=SERIES)

    assert ring_distances(layout) == [25, 50, 75, 100]
    assert [block.lines for block in layout.ring_labels] == [(str(n),) for n in range(2, 6)]
    assert layout.legend_note.lines == ("Rings: levels 2 to 5; the centre is level 1.",)
    assert charts.radar_chart(
        axes=AXES, series=SERIES, title="t", description="d", chart_id="c"
    ) == charts.radar_chart(
        axes=AXES, series=SERIES, title="t", description="d", chart_id="c", levels=range(1, 6)
    )


def test_a_score_sits_on_its_levels_ring():
    """60 of 100 is level 3 on a 0-5 scale: on the third ring, labelled 3."""
    layout = charts.radar_layout(axes=AXES, series=SERIES, levels=range(0, 6))
    cx, cy = layout.centre

    customers = layout.points[0][0]
    third = layout.rings[2][0]

    assert math.isclose(math.dist((cx, cy), customers), math.dist((cx, cy), third))
    assert layout.ring_labels[2].lines == ("3",)
