"""The importance-performance grid as SVG (issue 17): readable dots, escaped text."""

import re

from assessment import charts
from assessment.scoring import customers as scoring


def _grid(names_and_ratings):
    return scoring.grid(
        [
            scoring.AttributeSums(
                slug=f"a{n}",
                name=name,
                importance=scoring.RatingSums.from_ratings(importance),
                performance=scoring.RatingSums.from_ratings(performance),
            )
            for n, (name, importance, performance) in enumerate(names_and_ratings)
        ]
    )


def test_dots_on_the_same_place_are_moved_apart():
    same = ([4, 4, 5, 5, 4], [3, 3, 2, 3, 3])
    grid = _grid([("One", *same), ("Two", *same), ("Three", *same), ("Far", [1] * 5, [5] * 5)])
    svg = charts.importance_performance_svg(grid)
    centres = [
        (float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)
    ]
    assert len(centres) == 4
    for i, (x1, y1) in enumerate(centres):
        for x2, y2 in centres[i + 1 :]:
            assert ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5 >= 2 * charts.IPA_DOT - 0.2


def test_names_never_reach_the_svg_unescaped():
    grid = _grid([("<script>x</script>", [4] * 5, [3] * 5), ("B", [2] * 5, [5] * 5)])
    svg = charts.importance_performance_svg(grid)
    assert "<script>" not in svg
    assert 'role="img"' in svg
    assert "Concentrate here" in svg
