"""Formula version 2, pure (issue 15): properties over many cases and the named edge cases."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment.scoring import SCALE_V2, SectionScore, score_to_level
from assessment.scoring import formula2 as f

MANY = settings(max_examples=500, deadline=None)
scores = st.floats(min_value=0, max_value=100, allow_nan=False)
FLOOR = f.band_floor(f.DEFAULT_FLOOR_LEVEL)


def stats_for(levels_per_person: list[list[int]]) -> f.SectionStats:
    counts: dict[int, int] = {}
    for person in levels_per_person:
        for level in person:
            counts[level] = counts.get(level, 0) + 1
    return f.section_stats([sum(p) / len(p) for p in levels_per_person], counts)


# --- properties ---------------------------------------------------------------------------


@MANY
@given(st.lists(scores, min_size=4, max_size=4), st.integers(0, 3), st.floats(0, 100))
def test_raising_any_stakeholder_never_worsens_the_verdict(four, which, rise):
    before = f.verdict(dict(zip("abcd", four, strict=True)), floor=FLOOR)
    raised = list(four)
    raised[which] = min(100.0, raised[which] + rise)
    after = f.verdict(dict(zip("abcd", raised, strict=True)), floor=FLOOR)

    assert after.sustainable or not before.sustainable
    assert set(after.losers) <= set(before.losers)


@MANY
@given(scores)
def test_a_displayed_score_never_contradicts_its_verdict_or_label(score):
    shown = f.displayed(score)
    judged = f.verdict({"a": score}, floor=FLOOR)
    label = score_to_level(shown, SCALE_V2)

    assert judged.sustainable == (shown >= FLOOR)
    # The floor is a band boundary: at or above it, the label is level 2 or higher.
    assert judged.sustainable == (label >= f.DEFAULT_FLOOR_LEVEL)


@MANY
@given(st.dictionaries(st.sampled_from("abcdef"), st.none() | scores, min_size=1))
def test_a_withheld_section_always_hides_its_frameworks_headline(sections):
    result = f.headline(sections, {})
    if any(score is None for score in sections.values()):
        assert result.overall is None
        assert result.balance is None
        assert result.withheld
    else:
        assert result.overall is not None


@MANY
@given(
    st.dictionaries(
        st.sampled_from("abcdef"),
        st.lists(st.lists(st.integers(0, 5), min_size=1, max_size=4), min_size=1, max_size=6),
        min_size=1,
    )
)
def test_priorities_are_sorted_by_score(answers):
    stats = {key: stats_for(people) for key, people in answers.items()}
    ranked = f.priorities(stats, {})

    shown = [f.displayed(p.score) for p in ranked]
    assert shown == sorted(shown)
    mean = sum(s.score for s in stats.values()) / len(stats)
    above = [i for i, p in enumerate(ranked) if p.score > mean]
    below = [i for i, p in enumerate(ranked) if p.score < mean]
    assert not above or not below or max(below) < min(above)


@MANY
@given(st.lists(scores, min_size=2, max_size=8), st.randoms())
def test_balance_ignores_the_order_of_the_sections(values, rng):
    shuffled = list(values)
    rng.shuffle(shuffled)
    assert f.balance(shuffled) == pytest.approx(f.balance(values))


@MANY
@given(st.floats(min_value=0, max_value=100), st.floats(min_value=0, max_value=100))
def test_balance_is_equal_for_equal_relative_imbalance_at_4_and_6_sections(level, low):
    drop = min(level, low)
    four = [level] * 3 + [level - drop]
    six = [level] * 5 + [level - drop]
    assert f.balance(four) == pytest.approx(f.balance(six))
    assert f.balance(four) == pytest.approx(100 - drop)


@MANY
@given(st.lists(st.integers(0, 5), min_size=2, max_size=12), st.integers(2, 6))
def test_confidence_intervals_shrink_as_n_grows(pattern, copies):
    if len(set(pattern)) == 1:
        pattern = [*pattern[:-1], (pattern[-1] + 1) % 6]  # some spread to measure
    few = stats_for([[lv] for lv in pattern])
    many = stats_for([[lv] for lv in pattern * copies])

    assert many.half_width <= few.half_width + 1e-9
    assert many.low <= many.score <= many.high


# --- the edge cases, with their figures ------------------------------------------------------


def test_all_not_applicable_gives_no_statistics():
    with pytest.raises(ValueError, match="at least one rated answer"):
        f.section_stats([], {})


def test_one_rater_has_the_whole_range_as_interval_and_no_agreement():
    one = stats_for([[3, 4]])
    assert one.score == pytest.approx(70.0)
    assert (one.low, one.high, one.agreement) == (0.0, 100.0, None)
    assert not one.divided


def test_all_identical_answers_agree_fully_and_still_have_an_interval():
    """Three people answering 3 and 3: full agreement, but three people's whole-level
    answers do not pin the score to a point. The interval's variance is at least the
    rounding of a mean of J = 2 whole answers, 1 / (12 J) (Sheppard)."""
    same = stats_for([[3, 3], [3, 3], [3, 3]])
    assert (same.score, same.agreement, same.means_agreement) == (60.0, 1.0, 1.0)
    half = f.t_quantile(2) * math.sqrt(1 / 24 / 3) * 20
    assert half == pytest.approx(10.14, abs=0.01)
    assert (same.low, same.high) == pytest.approx((60 - half, 60 + half))
    assert not same.divided
    assert same.average_level == 3.0
    assert same.share_at_or_above == 0.0  # nobody at level 4 or above


def test_half_ones_half_fives_is_a_divided_team_not_a_quiet_level_3():
    split = stats_for([[1, 1], [1, 1], [5, 5], [5, 5]])
    assert split.score == pytest.approx(60.0)
    assert split.agreement == 0.0
    assert split.divided
    # t(3) = 3.182, SD of the means 2.309: +-73.5 points around 60, clipped to 0-100.
    assert (split.low, split.high) == (0.0, 100.0)


def test_a_withheld_section_hides_overall_and_balance():
    result = f.headline({"a": 80.0, "b": 80.0, "c": 80.0, "d": None}, {})
    assert (result.overall, result.balance, result.withheld) == (None, None, ("d",))


def test_priorities_0_1_2_13_come_in_that_order():
    stats = {
        "a": f.SectionStats(3, 0.0, 0.0, 5.0, 1.0, 0.0, 0.0, 1),
        "b": f.SectionStats(3, 1.0, 0.0, 6.0, 1.0, 0.05, 0.0, 1),
        "c": f.SectionStats(3, 2.0, 0.0, 7.0, 1.0, 0.1, 0.0, 1),
        "d": f.SectionStats(3, 13.0, 5.0, 21.0, 1.0, 0.65, 0.0, 1),
    }
    assert [p.key for p in f.priorities(stats, {"a": 1, "b": 1, "c": 1, "d": 1})] == [
        "a",
        "b",
        "c",
        "d",
    ]


def test_40_40_40_75_is_sustainable_and_raising_one_never_breaks_it():
    level = {"customers": 40.0, "employees": 40.0, "company": 40.0, "owners": 40.0}
    assert f.verdict(level, floor=FLOOR).sustainable
    assert f.verdict({**level, "owners": 75.0}, floor=FLOOR).sustainable
    assert f.verdict({**level, "owners": 100.0, "company": 62.5}, floor=FLOOR).sustainable


def test_the_floor_is_the_lower_edge_of_meets_expectations_consistently():
    assert FLOOR == 30
    assert f.verdict({"a": 29.6}, floor=FLOOR).sustainable  # shows as 30: judged as 30
    assert f.verdict({"a": 29.4}, floor=FLOOR).losers == ("a",)


def test_balance_of_one_section_40_low_is_60_at_4_and_at_6_sections():
    assert f.balance([80, 80, 80, 40]) == pytest.approx(60.0)
    assert f.balance([80, 80, 80, 80, 80, 40]) == pytest.approx(60.0)


@pytest.mark.parametrize(
    ("levels", "award"),
    [
        ({"a": 3, "b": 3, "c": 3}, 3),
        ({"a": 4, "b": 3, "c": 3}, 3),
        ({"a": 3, "b": 3, "c": 2}, 3),  # one section one level below: still 3
        ({"a": 3, "b": 2, "c": 2}, 2),  # two below: 2
        ({"a": 5, "b": 5, "c": 1}, 2),  # one far below pulls the award down to one above it
        ({"a": 0, "b": 0}, 0),
    ],
)
def test_the_awarded_level_rule(levels, award):
    assert f.awarded_level(levels) == award


def test_t_quantiles_follow_the_table_and_the_normal_beyond_30():
    assert f.t_quantile(1) == 12.706
    assert f.t_quantile(30) == 2.042
    assert f.t_quantile(31) == 1.96
    assert math.isclose(f.t_quantile(4), 2.776)


def test_a_change_margin_uses_the_interval_before_clipping():
    """Half 1s and half 5s among four people: the interval 0-100 is clipped on both
    sides, but the margin of a change combines the unclipped half-width."""
    divided = f.section_stats([1, 1, 5, 5], {1: 4, 5: 4})
    assert (divided.low, divided.high) == (0.0, 100.0)
    unclipped = f.t_quantile(3) * math.sqrt(16 / 3 / 4) * 100 / 5
    assert divided.half_width == pytest.approx(unclipped)
    assert unclipped > 60  # wider than either clipped side
    agreed = f.section_stats([3, 3, 3, 3], {3: 8})
    assert f.change_margin(divided, agreed) == pytest.approx(
        math.hypot(unclipped, agreed.half_width)
    )


@pytest.mark.parametrize(
    ("score", "band"),
    [(29.4, 1), (29.5, 2), (29.6, 2), (30.0, 2), (49.5, 3), (89.4, 4), (89.5, 5)],
)
def test_a_score_is_banded_as_it_is_displayed(score, band):
    """29.6 shows as 30, the floor of band 2: it is judged, labelled and awarded as 30."""
    assert f.band(score) == band
    assert f.band(score) == score_to_level(f.displayed(score), SCALE_V2)
    assert f.default_target(score) == min(5, band + 1)


def test_agreement_is_rwg_j_on_the_pooled_answers():
    """rwg(j) = J(1 - r) / (J(1 - r) + r), r = s^2 / sigma^2 (James, Demaree & Wolf 1984),
    with s^2 the pooled answers' variance and J the answers per rater."""
    stats = f.section_stats([3, 3, 2, 4], {3: 4, 2: 2, 4: 2})  # 2 answers each
    r = (4 / 7) / (35 / 12)
    assert stats.agreement == pytest.approx(2 * (1 - r) / (2 * (1 - r) + r))
    # Every answer the same: full agreement; further apart than random: none.
    assert f.section_stats([4, 4, 4], {4: 9}).agreement == 1.0
    assert f.section_stats([0, 5, 0, 5], {0: 8, 5: 8}).agreement == 0.0


def test_answering_at_random_reads_as_no_agreement_but_not_as_divided():
    """Each of six people picks every level once over six questions: their averages are
    all 2.5, but the answers are as far apart as random ones. rwg(j) reads no agreement
    (an index on the averages alone would say 1); the team is not "divided", because
    nobody sees the section differently from anyone else."""
    stats = f.section_stats([2.5] * 6, dict.fromkeys(range(6), 6))
    assert stats.agreement == 0.0
    assert stats.means_agreement == 1.0
    assert not stats.divided


def test_people_who_agree_on_questions_of_different_levels_are_not_divided():
    """Eight people all answering 1 and 4 to a section's two questions: unanimous. rwg(j)
    on the pooled answers counts the questions' difference against them (a lower bound);
    the divided flag, decided on the people's own averages, does not fire."""
    stats = f.section_stats([2.5] * 8, {1: 8, 4: 8})
    assert stats.means_agreement == 1.0
    assert stats.agreement < 0.5
    assert not stats.divided


def test_the_distribution_counts_from_the_printed_average():
    """An average of 3.95 prints as 4.0, so the share is of answers at 5 (not at 4)."""
    stats = f.section_stats([3.95] * 20, {4: 19, 3: 1})
    assert round(stats.average_level, 1) == 4.0
    assert stats.level_above == 5


@settings(max_examples=500, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=2, max_size=60), st.integers(1, 12))
def test_agreement_stays_between_0_and_1(answers, raters):
    counts = {level: answers.count(level) for level in set(answers)}
    mean = sum(answers) / len(answers)
    assert 0.0 <= f.rwg_j(counts, mean, items=len(answers) / raters) <= 1.0


def test_an_alert_is_decided_on_the_gap_as_displayed():
    """30.49 against an overall of 45.45 reads as a gap of 15 (45 - 30) though the raw gap
    is 14.96: an alert, as it reads (the interval condition holds: moderated scores)."""
    sections = [
        SectionScore(key, key, score, f.band(score), 3, 6, 0, 6, 0.0)
        for key, score in (("a", 60.41), ("b", 30.49))
    ]
    result = f.framework_result(sections, {s.key: f.judged(s.score) for s in sections})
    assert result.overall == pytest.approx(45.45)
    assert result.overall - 30.49 < 15
    assert [s.key for s in result.alerts] == ["b"]
