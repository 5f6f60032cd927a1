"""The customers' voice (issue 17), pure: the worked example of docs/customer-voice.md
reproduced figure by figure, the named edge cases, and properties over many cases.

Every figure of the worked example is asserted twice: equal to the literal the document
prints, and present in the document's "Worked example" section (table rows are rebuilt
from the computed figures and must stand in the document as they are), so the document
and the code cannot drift apart. No database: these are plain functions.
"""

import math
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment.scoring import customers as c
from assessment.scoring.formula2 import t_quantile

DASH, MINUS = "\N{EN DASH}", "\N{MINUS SIGN}"  # as the document prints ranges and signs
DOC = Path(__file__).resolve().parents[2] / "docs" / "customer-voice.md"
MANY = settings(max_examples=300, deadline=None)

# The worked example: six customers, five attributes; None is "doesn't apply".
NAMES = {
    "on-time": "On time",
    "kept-informed": "Kept informed",
    "after-sale": "After the sale",
    "worth-the-cost": "Worth the cost",
    "clear-scope": "Clear scope",
}
ANSWERS = {
    "on-time": ([5, 5, 4, 5, 5, 4], [2, 3, 2, 1, 2, 2]),
    "kept-informed": ([4, 5, 4, 4, 5, 4], [4, 4, 5, 4, 4, 5]),
    "after-sale": ([2, 3, 2, 2, 3, None], [4, 5, 4, 4, 4, 5]),
    "worth-the-cost": ([3, 4, 3, 4, 3, 3], [3, 4, 2, 3, None, 3]),
    "clear-scope": ([4, None, 3, None, 4, 5], [3, None, None, 4, 3, None]),
}
# The team's own score and prediction, each (value, half-width), for the overlay.
TEAM = {"on-time": (70, 12), "kept-informed": (55, 12), "worth-the-cost": (60, 12)}
PREDICTED = {"on-time": (60, 10), "kept-informed": (70, 10), "worth-the-cost": (45, 10)}


# --- reading the document -------------------------------------------------------------------


def doc_section(title: str) -> str:
    """The text under the heading ``title``, up to the next heading of the same or a
    higher level."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    found = [
        (index, len(heading.group(1)))
        for index, heading in enumerate(re.fullmatch(r"(#+) (.+)", line) for line in lines)
        if heading and heading.group(2) == title
    ]
    assert len(found) == 1, f"docs/customer-voice.md needs one heading {title!r}"
    (start, depth), body = found[0], []
    for line in lines[start + 1 :]:
        heading = re.match(r"(#+) ", line)
        if heading and len(heading.group(1)) <= depth:
            break
        body.append(line)
    return "\n".join(body)


def figure(value: float) -> str:
    """A figure as the document prints it: to at most 2 decimals, no trailing zeros."""
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def signed(value: float) -> str:
    """A gap as the document prints it: +45, or a minus sign and 28.33."""
    return ("+" if value >= 0 else MINUS) + figure(abs(value))


def span(low: float, high: float) -> str:
    return f"{figure(low)}{DASH}{figure(high)}"


def table_rows(text: str) -> dict[str, str]:
    """The rows of the tables in ``text``, by their first cell."""
    return {
        line.split(" | ")[0].removeprefix("| "): line
        for line in text.splitlines()
        if line.startswith("| ")
    }


def assert_printed(text: str, *literals: str) -> None:
    """Each literal stands in ``text`` as a figure or phrase of its own (0.3 is not found
    inside 0.30 or 10.3)."""
    for literal in literals:
        pattern = r"(?<![\d.])" + re.escape(literal) + r"(?![\d]|\.\d)"
        assert re.search(pattern, text), f"{literal!r} is not in the worked example"


# --- building the example with the real functions -------------------------------------------


def example_attributes() -> list[c.AttributeSums]:
    return [
        c.AttributeSums(
            slug, NAMES[slug], c.RatingSums.from_ratings(imp), c.RatingSums.from_ratings(perf)
        )
        for slug, (imp, perf) in ANSWERS.items()
    ]


def example_grid() -> c.Grid:
    return c.grid(example_attributes())


def example_overlay(g: c.Grid) -> list[c.Overlay]:
    return c.overlay(
        [
            c.OverlayInput(
                slug=slug,
                name=NAMES[slug],
                team=TEAM[slug][0],
                team_half=TEAM[slug][1],
                predicted=PREDICTED[slug][0],
                predicted_half=PREDICTED[slug][1],
                customers=g.point(slug).performance,
            )
            for slug in TEAM
        ]
    )


def stats_row(name: str, question: str, sums: c.RatingSums, stats: c.RatingStats) -> str:
    """One row of the document's table of figures, from the computed statistics."""
    interval = span(stats.low, stats.high)
    if stats.mean + stats.half > c.RATING_MAX:
        interval += f" ({figure(stats.mean + stats.half)} clipped)"
    cells = [
        f"{name}, {question}",
        str(sums.n),
        figure(sums.total),
        figure(sums.squares),
        figure(stats.mean),
        figure(stats.sd**2),
        figure(stats.sd),
        figure(stats.half),
        interval,
    ]
    return "| " + " | ".join(cells) + " |"


# --- the worked example ---------------------------------------------------------------------


def test_the_t_quantiles_the_example_uses():
    text = doc_section("Worked example")

    assert f"{t_quantile(5):.3f}" == "2.571"
    assert f"{t_quantile(4):.3f}" == "2.776"
    assert_printed(text, "`t(5)` = 2.571", "`t(4)` = 2.776")


def test_the_worked_example_each_attributes_figures():
    text = doc_section("Worked example")
    lines = set(text.splitlines())
    for a in example_attributes()[:4]:
        for question, sums in (("importance", a.importance), ("performance", a.performance)):
            row = stats_row(a.name, question, sums, c.rating_stats(sums))
            assert row in lines, f"the document lacks the row {row!r}"

    on_time = c.rating_stats(c.RatingSums.from_ratings(ANSWERS["on-time"][0]))
    assert figure(on_time.mean) == "4.67"
    assert figure((132 - 28**2 / 6) / 5) == "0.27"
    assert figure(on_time.sd**2) == "0.27"
    assert figure(on_time.half) == "0.54"
    assert span(on_time.low, on_time.high) == f"4.12{DASH}5"
    assert figure(on_time.mean + on_time.half) == "5.21"
    assert_printed(text, "28 / 6 = 4.67", f"(132 {MINUS} 28² / 6) / 5", "= 0.27", "= 0.54")


def test_doesnt_apply_is_not_summed_in_the_example():
    text = doc_section("Worked example")
    after_sale = c.RatingSums.from_ratings(ANSWERS["after-sale"][0])
    worth = c.RatingSums.from_ratings(ANSWERS["worth-the-cost"][1])

    assert (after_sale.n, after_sale.total) == (5, 12)
    assert (worth.n, worth.total) == (5, 15)
    assert_printed(text, "has 5 ratings, not 6", "summing to 12", "has 5, summing to 15")


def test_the_worked_example_variance_floor():
    text = doc_section("Worked example")
    all_fives = c.rating_stats(c.RatingSums.from_ratings([5] * 6))

    assert all_fives.sd == 0
    assert figure(all_fives.half) == "0.3"
    assert figure(2.571 * math.sqrt(1 / 12 / 6)) == "0.3"
    assert span(all_fives.low, all_fives.high) == f"4.7{DASH}5"
    assert_printed(text, "√(1/12 / 6)` =\n0.3", f"interval 4.7{DASH}5")


def test_the_worked_example_performance_scores():
    text = doc_section("Worked example")
    g = example_grid()
    expected = {
        "on-time": ("25", "16.6"),
        "kept-informed": ("83.33", "13.55"),
        "after-sale": ("83.33", "13.55"),
        "worth-the-cost": ("50", "21.95"),
    }
    for slug, (score, half) in expected.items():
        perf = g.point(slug).performance
        assert (figure(perf.score), figure(perf.score_half)) == (score, half)
    assert_printed(
        text,
        "on time **25** (half-width 16.6)",
        "kept informed\n**83.33** (13.55)",
        "after the sale **83.33** (13.55)",
        "worth the cost **50** (21.95)",
    )


def test_the_worked_example_grid():
    text = doc_section("Worked example")
    g = example_grid()

    assert g.has_centre
    assert figure(g.importance_line) == "3.68"
    assert figure(g.performance_line) == "3.42"
    assert g.importance_line == pytest.approx(221 / 60)
    assert g.performance_line == pytest.approx(41 / 12)
    assert [p.slug for p in g.points] == [
        "on-time",
        "kept-informed",
        "after-sale",
        "worth-the-cost",
    ]
    got = {p.slug: (p.quadrant, p.settled) for p in g.points}
    assert got == {
        "on-time": (c.Quadrant.CONCENTRATE, True),
        "kept-informed": (c.Quadrant.KEEP_UP, True),
        "after-sale": (c.Quadrant.OVER_INVESTMENT, True),
        "worth-the-cost": (c.Quadrant.LOW_PRIORITY, False),
    }
    assert g.unplaced == (c.Unplaced("clear-scope", "Clear scope", 4, 3),)
    assert_printed(
        text,
        "(4.67 + 4.33 + 2.4 + 3.33) / 4 = **3.68**",
        "(2 + 4.33 + 4.33 + 3) / 4 = **3.42**",
    )
    labels = {
        c.Quadrant.CONCENTRATE: "Concentrate here",
        c.Quadrant.KEEP_UP: "Keep it up",
        c.Quadrant.OVER_INVESTMENT: "Possible over-investment",
        c.Quadrant.LOW_PRIORITY: "Lower priority",
    }
    rows = table_rows(doc_section("The grid"))
    for p in g.points:
        row = rows[p.name]
        imp, perf = p.importance, p.performance
        assert f"| {figure(imp.mean)} ({span(imp.low, imp.high)}) |" in row
        assert f"| {figure(perf.mean)} ({span(perf.low, perf.high)}) |" in row
        assert f"| {labels[p.quadrant]} |" in row
        assert ("**settled**" if p.settled else "**unsettled**") in row
    assert "too few answers" in rows["Clear scope"]


def test_the_worked_example_overlay():
    text = doc_section("Worked example")
    overlays = {o.slug: o for o in example_overlay(example_grid())}
    expected = {
        # slug: (customers, half, self gap, margin, beyond, misjudged, margin, beyond)
        "on-time": ("25", "16.6", "+45", "20.48", True, "+35", "19.38", True),
        "kept-informed": (
            "83.33",
            "13.55",
            f"{MINUS}28.33",
            "18.1",
            True,
            f"{MINUS}13.33",
            "16.84",
            False,
        ),
        "worth-the-cost": ("50", "21.95", "+10", "25.01", False, f"{MINUS}5", "24.12", False),
    }
    rows = table_rows(doc_section("The overlay"))
    for slug, want in expected.items():
        o = overlays[slug]
        got = (
            figure(o.customers),
            figure(o.customers_half),
            signed(o.self_gap),
            figure(o.self_gap_margin),
            o.self_gap_beyond_noise,
            signed(o.misjudged),
            figure(o.misjudged_margin),
            o.misjudged_beyond_noise,
        )
        assert got == want
        row = rows[NAMES[slug]]
        assert f"| {figure(o.team)} ± {figure(o.team_half)} |" in row
        assert f"| {figure(o.predicted)} ± {figure(o.predicted_half)} |" in row
        assert f"| {figure(o.customers)} ± {figure(o.customers_half)} |" in row
        for gap, margin, beyond in (want[2:5], want[5:8]):
            verdict = "**beyond the noise**" if beyond else "within the noise"
            assert f"| {gap} ({margin}): {verdict} |" in row + " |"
    assert_printed(
        text,
        "`√(12² + 16.6²)` = 20.48",
        "the self gap of 45",
        "(35 against a margin of 19.38)",
        "by 28.33 points, beyond the margin of 18.1",
        "13.33 below\nthe customers, is within its margin of 16.84",
    )


def test_the_worked_example_largest_gaps():
    text = doc_section("Worked example")
    listed = c.largest_gaps(example_overlay(example_grid()))

    assert [o.slug for o in listed] == ["on-time", "kept-informed"]
    assert [o.largest_gap_kind for o in listed] == [c.GapKind.SELF, c.GapKind.SELF]
    assert [signed(o.largest_gap) for o in listed] == ["+45", f"{MINUS}28.33"]
    assert_printed(
        text,
        f"on time (the self gap, +45), then kept informed (the self gap,\n{MINUS}28.33)",
        "Worth the cost is not listed",
    )


def test_the_worked_example_win4_customers_series():
    text = doc_section("Worked example")
    g = example_grid()
    axis = c.customer_axis_score(g)
    independent = math.sqrt(sum(p.performance.score_half**2 for p in g.points)) / len(g.points)

    assert figure(axis.score) == "60.42"
    assert figure(axis.half) == "16.41"
    assert span(axis.low, axis.high) == f"44.01{DASH}76.83"
    assert axis.attributes == 4
    assert figure(independent) == "8.38"
    assert_printed(text, "**60.42**", "**16.41**", f"**44.01{DASH}76.83**", "resting on 4", "8.38")


# --- edge cases -----------------------------------------------------------------------------


def sums(*ratings: int | None) -> c.RatingSums:
    return c.RatingSums.from_ratings(ratings)


def attribute(slug: str, importance: list[int | None], performance: list[int | None]):
    return c.AttributeSums(slug, slug, sums(*importance), sums(*performance))


@pytest.mark.parametrize(("rating", "score"), [(1, 0), (2, 25), (3, 50), (4, 75), (5, 100)])
def test_rating_to_score_maps_one_to_five_onto_zero_to_a_hundred(rating, score):
    assert c.rating_to_score(rating) == score


def test_the_formula_version_and_the_default_threshold():
    assert c.CUSTOMER_FORMULA_VERSION == "1"
    assert c.DEFAULT_THRESHOLD == 5


def test_doesnt_apply_is_left_out_of_the_sums():
    assert sums(5, None, 3, None) == c.RatingSums(n=2, total=8, squares=34)
    assert sums(None, None) == c.RatingSums(n=0, total=0, squares=0)
    # Four ratings and two "doesn't apply" are four answers: below the threshold of 5.
    g = c.grid(
        [
            attribute("a", [4, 4, 4, 4, None, None], [3] * 6),
            attribute("b", [4] * 5, [3] * 5),
            attribute("c", [2] * 5, [5] * 5),
        ]
    )
    assert [u.slug for u in g.unplaced] == ["a"]
    assert (g.unplaced[0].importance_n, g.unplaced[0].performance_n) == (4, 6)


def test_sums_from_the_database_may_be_decimals():
    from_sql = c.rating_stats(c.RatingSums(n=6, total=Decimal(28), squares=Decimal(132)))
    from_ints = c.rating_stats(c.RatingSums(n=6, total=28, squares=132))

    assert from_sql == from_ints


def test_one_rating_has_no_half_width_and_the_whole_scale_for_interval():
    one = c.rating_stats(c.RatingSums(n=1, total=4, squares=16))

    assert (one.mean, one.sd, one.half) == (4, None, None)
    assert (one.low, one.high) == (1, 5)
    assert one.score_half is None
    assert (one.score_low, one.score_high) == (0, 100)


def test_two_ratings_have_a_t_interval_on_one_degree_of_freedom():
    two = c.rating_stats(sums(3, 5))

    assert two.sd == pytest.approx(math.sqrt(2))
    assert two.half == pytest.approx(12.706 * math.sqrt(2 / 2))
    assert (two.low, two.high) == (1, 5)


def test_no_ratings_have_no_statistics():
    with pytest.raises(ValueError, match="at least one rating"):
        c.rating_stats(c.RatingSums(n=0, total=0, squares=0))


def test_identical_ratings_never_claim_a_point_exact_mean():
    stats = c.rating_stats(sums(3, 3, 3, 3, 3))

    assert stats.sd == 0
    assert stats.half == pytest.approx(t_quantile(4) * math.sqrt(1 / 12 / 5))
    assert stats.low < 3 < stats.high


def test_the_threshold_boundary():
    at = c.grid([attribute("a", [4] * 5, [2] * 5), attribute("b", [2] * 5, [4] * 5)], threshold=5)
    below = c.grid(
        [attribute("a", [4] * 4, [2] * 5), attribute("b", [2] * 5, [4] * 4)], threshold=5
    )

    assert [p.slug for p in at.points] == ["a", "b"]
    assert at.unplaced == ()
    assert below.points == ()
    assert [(u.slug, u.importance_n, u.performance_n) for u in below.unplaced] == [
        ("a", 4, 5),
        ("b", 5, 4),
    ]
    assert not below.has_centre


def test_a_lower_threshold_places_fewer_answers():
    g = c.grid([attribute("a", [4] * 3, [2] * 3), attribute("b", [2] * 2, [4] * 3)], threshold=3)

    assert [p.slug for p in g.points] == ["a"]
    assert [u.slug for u in g.unplaced] == ["b"]


def test_a_threshold_below_one_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        c.grid([], threshold=0)


def test_a_point_exactly_on_a_cross_hair_counts_as_high():
    # Importance means 10/3, 4 and 8/3 centre on 10/3 exactly, which no float is: the
    # first attribute lies on the importance line and is important.
    g = c.grid(
        [
            attribute("on-line", [3, 3, 3, 3, 4, 4], [3] * 6),
            attribute("above", [4] * 6, [5] * 6),
            attribute("below", [2, 2, 3, 3, 3, 3], [1] * 6),
        ]
    )
    on_line = g.point("on-line")

    assert Fraction(20, 6) == (Fraction(20, 6) + 4 + Fraction(16, 6)) / 3
    assert on_line.importance.mean == pytest.approx(g.importance_line)
    # Performance means 3, 5, 1 centre on 3: on that line too, so performed well.
    assert g.performance_line == 3
    assert on_line.quadrant == c.Quadrant.KEEP_UP
    assert not on_line.settled  # its box crosses both lines


@pytest.mark.parametrize(
    ("importance", "performance", "expected"),
    [
        (3, 3, c.Quadrant.KEEP_UP),
        (3, 2.9, c.Quadrant.CONCENTRATE),
        (2.9, 3, c.Quadrant.OVER_INVESTMENT),
        (2.9, 2.9, c.Quadrant.LOW_PRIORITY),
    ],
)
def test_the_quadrant_rule_on_and_beside_the_lines(importance, performance, expected):
    got = c.quadrant(importance, performance, importance_line=3, performance_line=3)

    assert got == expected


def test_a_box_crossing_one_line_is_unsettled():
    # "mixed" is clearly important but its performance interval crosses the line.
    g = c.grid(
        [
            attribute("mixed", [5] * 8, [1, 5, 1, 5, 3, 3, 2, 4]),
            attribute("low", [1] * 8, [1] * 8),
            attribute("high", [3] * 8, [5] * 8),
        ]
    )
    mixed = g.point("mixed")

    assert mixed.importance.low > g.importance_line
    assert mixed.performance.low < g.performance_line <= mixed.performance.high
    assert mixed.quadrant == c.Quadrant.KEEP_UP
    assert not mixed.settled
    assert g.point("low").settled


def test_a_corner_on_a_line_counts_as_high_too():
    # A box from 3 to 4 on importance, with the line at 3: both corners are important.
    assert c.quadrant(3.0, 4.0, importance_line=Fraction(3), performance_line=3) == (
        c.quadrant(4.0, 4.0, importance_line=Fraction(3), performance_line=3)
    )


def test_fewer_than_two_placed_attributes_have_no_centre():
    one = c.grid([attribute("a", [4] * 5, [2] * 5), attribute("b", [4] * 2, [2] * 2)])
    none = c.grid([attribute("a", [4] * 2, [2] * 2)])

    assert not one.has_centre
    assert (one.importance_line, one.performance_line) == (None, None)
    assert [(p.slug, p.quadrant, p.settled) for p in one.points] == [("a", None, False)]
    assert one.points[0].performance.mean == 2  # its figures still stand
    assert one.by_quadrant == ()
    assert c.customer_axis_score(one).score == 25
    assert c.customer_axis_score(one).attributes == 1
    assert none.points == ()
    assert c.customer_axis_score(none) is None
    assert c.grid([]).points == ()


def test_by_quadrant_lists_every_quadrant_in_order():
    g = example_grid()

    assert [(q, [p.slug for p in points]) for q, points in g.by_quadrant] == [
        (c.Quadrant.CONCENTRATE, ["on-time"]),
        (c.Quadrant.KEEP_UP, ["kept-informed"]),
        (c.Quadrant.OVER_INVESTMENT, ["after-sale"]),
        (c.Quadrant.LOW_PRIORITY, ["worth-the-cost"]),
    ]
    assert g.point("clear-scope") is None


def test_the_quadrant_keys_are_plain_strings_for_templates():
    assert c.Quadrant.CONCENTRATE == "concentrate"
    assert [str(q) for q in c.QUADRANTS] == [
        "concentrate",
        "keep-up",
        "over-investment",
        "low-priority",
    ]
    assert c.GapKind.SELF == "self"
    assert c.GapKind.PREDICTION == "prediction"


def customers_at(score_ratings: list[int]) -> c.RatingStats:
    return c.rating_stats(c.RatingSums.from_ratings(score_ratings))


def test_a_gap_without_a_known_half_width_is_never_named():
    customers = customers_at([1] * 6)
    (o,) = c.overlay(
        [c.OverlayInput("a", "A", team=100, team_half=None, predicted=None, customers=customers)]
    )

    assert o.self_gap == pytest.approx(100)
    assert o.self_gap_margin is None
    assert not o.self_gap_beyond_noise
    assert (o.misjudged, o.misjudged_margin, o.misjudged_beyond_noise) == (None, None, False)
    assert o.largest_gap is None
    assert o.largest_gap_kind is None


def test_a_judgement_with_half_width_zero_leaves_the_customers_margin():
    customers = customers_at([3] * 6)
    (o,) = c.overlay(
        [c.OverlayInput("a", "A", predicted=80, predicted_half=0, customers=customers)]
    )

    assert o.misjudged_margin == pytest.approx(customers.score_half)
    assert o.misjudged_beyond_noise
    assert o.largest_gap_kind == c.GapKind.PREDICTION


def test_an_attribute_without_customers_has_no_gaps():
    (o,) = c.overlay([c.OverlayInput("a", "A", team=50, team_half=5, predicted=40)])

    assert (o.customers, o.customers_half, o.customers_n) == (None, None, None)
    assert (o.self_gap, o.misjudged) == (None, None)
    assert not o.self_gap_beyond_noise
    assert not o.misjudged_beyond_noise


def test_a_gap_equal_to_its_margin_is_inside_the_noise():
    # Customers at 50 with a half-width of 0.25 steps, 6.25 points: figures exact in floats.
    customers = c.RatingStats(n=6, mean=3, sd=0.5, half=0.25, low=2.75, high=3.25)
    at, beyond = c.overlay(
        [
            c.OverlayInput("at", "At", team=56.25, team_half=0, customers=customers),
            c.OverlayInput("beyond", "Beyond", team=43.74, team_half=0, customers=customers),
        ]
    )

    assert (at.self_gap, at.self_gap_margin) == (6.25, 6.25)
    assert not at.self_gap_beyond_noise
    assert beyond.self_gap_beyond_noise


def overlay_of(slug: str, self_gap: float, misjudged: float, *, beyond: bool = True):
    """An overlay row with the given gaps, both beyond the noise or both inside it."""
    margin = 0.0 if beyond else 1000.0
    return c.Overlay(
        slug=slug,
        name=slug,
        team=50 + self_gap,
        team_half=0,
        predicted=50 + misjudged,
        predicted_half=0,
        customers=50,
        customers_half=0,
        customers_n=6,
        self_gap=self_gap,
        self_gap_margin=margin,
        self_gap_beyond_noise=beyond and self_gap != 0,
        misjudged=misjudged,
        misjudged_margin=margin,
        misjudged_beyond_noise=beyond and misjudged != 0,
    )


def test_largest_gaps_order_ties_limit_and_noise():
    rows = [
        overlay_of("quiet", 90, -90, beyond=False),  # large, but inside the noise
        overlay_of("b-self", 30, 5),
        overlay_of("prediction", 10, -40),  # its prediction gap is its larger one
        overlay_of("a-self", -30, 0),  # the same size as b-self: slug decides
        overlay_of("small", 2, 1),
    ]

    listed = c.largest_gaps(rows)
    assert [o.slug for o in listed] == ["prediction", "a-self", "b-self"]
    assert [o.largest_gap_kind for o in listed] == [
        c.GapKind.PREDICTION,
        c.GapKind.SELF,
        c.GapKind.SELF,
    ]
    assert [o.largest_gap for o in listed] == [-40, -30, 30]
    assert [o.slug for o in c.largest_gaps(rows, limit=5)] == [
        "prediction",
        "a-self",
        "b-self",
        "small",
    ]
    assert c.largest_gaps([overlay_of("quiet", 90, -90, beyond=False)]) == []


def test_equal_gaps_on_one_attribute_lead_with_the_self_gap():
    o = overlay_of("a", -20, 20)

    assert o.largest_gap_kind == c.GapKind.SELF
    assert o.largest_gap == -20


def test_the_axis_score_with_an_unknown_half_width_spans_the_whole_range():
    g = c.grid([attribute("a", [4], [2]), attribute("b", [2] * 3, [4] * 3)], threshold=1)
    axis = c.customer_axis_score(g)

    assert axis.score == pytest.approx(50)
    assert axis.half is None
    assert (axis.low, axis.high) == (0, 100)
    assert not g.point("a").settled  # one rating: its box is the whole grid


# --- properties -----------------------------------------------------------------------------

answers = st.lists(st.none() | st.integers(1, 5), min_size=0, max_size=14)
an_attribute = st.tuples(answers, answers)


@MANY
@given(st.lists(an_attribute, min_size=0, max_size=8), st.integers(1, 6))
def test_every_attribute_is_placed_or_listed_never_both(raw, threshold):
    attrs = [attribute(f"a{i}", imp, perf) for i, (imp, perf) in enumerate(raw)]
    g = c.grid(attrs, threshold=threshold)
    placed = [p.slug for p in g.points]
    unplaced = [u.slug for u in g.unplaced]

    assert sorted(placed + unplaced) == sorted(a.slug for a in attrs)
    for a in attrs:
        enough = a.importance.n >= threshold and a.performance.n >= threshold
        assert (a.slug in placed) == enough
    assert g.has_centre == (len(placed) >= c.MIN_PLACED_FOR_CENTRE)


@MANY
@given(
    st.lists(an_attribute, min_size=2, max_size=8),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_a_settled_points_whole_box_lies_in_its_quadrant(raw, u, v):
    g = c.grid([attribute(f"a{i}", imp, perf) for i, (imp, perf) in enumerate(raw)], threshold=2)
    lines = {"importance_line": g.importance_line, "performance_line": g.performance_line}
    for p in g.points:
        imp, perf = p.importance, p.performance
        assert imp.low <= imp.mean <= imp.high
        assert perf.low <= perf.mean <= perf.high
        if p.settled:
            # The quadrant of the mean (and of any point in the box) is the point's.
            inside = (imp.low + u * (imp.high - imp.low), perf.low + v * (perf.high - perf.low))
            assert c.quadrant(*inside, **lines) == p.quadrant
            assert c.quadrant(imp.mean, perf.mean, **lines) == p.quadrant


@MANY
@given(
    st.lists(st.integers(1, 5), min_size=2, max_size=30),
    st.floats(0, 100),
    st.floats(0, 30),
)
def test_the_prediction_gap_is_antisymmetric_about_the_customers(ratings, distance, half):
    customers = c.rating_stats(c.RatingSums.from_ratings(ratings))
    over, under = c.overlay(
        [
            c.OverlayInput(
                "o", "O", predicted=customers.score + d, predicted_half=half, customers=customers
            )
            for d in (distance, -distance)
        ]
    )

    assert over.misjudged == pytest.approx(-under.misjudged)
    assert over.misjudged_margin == under.misjudged_margin
    assert over.misjudged_beyond_noise == under.misjudged_beyond_noise
    assert c.gap_margin(half, customers.score_half) == c.gap_margin(customers.score_half, half)


@MANY
@given(st.lists(an_attribute, min_size=1, max_size=8))
def test_the_axis_half_width_never_undercuts_independence(raw):
    g = c.grid([attribute(f"a{i}", imp, perf) for i, (imp, perf) in enumerate(raw)], threshold=2)
    axis = c.customer_axis_score(g)
    if axis is None:
        assert g.points == ()
        return
    k = len(g.points)
    independent = math.sqrt(math.fsum(p.performance.score_half**2 for p in g.points)) / k

    assert axis.half >= independent - 1e-9
    assert 0 <= axis.low <= axis.score <= axis.high <= 100
