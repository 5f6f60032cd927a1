"""Scoring: pure functions, tested without a database (properties and worked examples)."""

import random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from assessment import scoring
from assessment.scoring import Tally

LEVEL = st.integers(min_value=1, max_value=5)
ANSWER = st.one_of(st.none(), LEVEL)  # None is "not applicable / don't know"


@st.composite
def respondents(draw, questions: int = 5, min_size: int = 1):
    """Each respondent's answers to one section's questions."""
    return draw(
        st.lists(
            st.lists(ANSWER, min_size=questions, max_size=questions),
            min_size=min_size,
            max_size=12,
        )
    )


def score(answers: list[list[int | None]], questions: int = 5) -> scoring.SectionScore:
    return scoring.section_score(
        key="s",
        name="S",
        questions=questions,
        totals=scoring.SectionTotals.from_tallies([Tally.from_levels(lv) for lv in answers]),
    )


def section(key: str, value: float | None, name: str | None = None) -> scoring.SectionScore:
    return scoring.SectionScore(
        key=key,
        name=name or key.title(),
        score=value,
        level=None if value is None else scoring.score_to_level(value),
        respondents=3,
        rated=15,
        not_applicable=0,
        possible=15,
        spread=0.0,
    )


# --- properties ---------------------------------------------------------------------


@given(respondents())
def test_section_scores_stay_within_0_and_100(answers):
    result = score(answers)

    if result.score is not None:
        assert 0 <= result.score <= 100
        assert 0 <= result.spread <= 50
        assert 1 <= result.level <= 5
    assert 0 <= result.coverage <= 100


@given(respondents(), st.randoms(use_true_random=False))
def test_reordering_respondents_changes_nothing(answers, rng):
    shuffled = answers[:]
    rng.shuffle(shuffled)

    assert score(shuffled) == score(answers)


@given(st.lists(st.floats(min_value=0, max_value=100), min_size=3, max_size=8), st.randoms())
def test_reordering_sections_changes_nothing(values, rng):
    sections = [section(f"k{i}", v) for i, v in enumerate(values)]
    shuffled = sections[:]
    rng.shuffle(shuffled)

    a = scoring.framework_result(sections, no_loser_rule=True)
    b = scoring.framework_result(shuffled, no_loser_rule=True)

    assert a.overall == pytest.approx(b.overall)
    assert a.balance == pytest.approx(b.balance)
    assert a.weakest.key == b.weakest.key
    assert [s.key for s in a.alerts] == [s.key for s in b.alerts]
    assert a.verdict == b.verdict
    assert scoring.priorities(a) == scoring.priorities(b)


@given(respondents(min_size=1), st.data())
def test_not_applicable_answers_never_lower_a_score(answers, data):
    with_na = score(answers)
    assume(with_na.score is not None)
    # The same answers without the "not applicable" ones scores the same...
    rated_only = [[lv for lv in levels if lv is not None] for levels in answers]
    pooled = [lv for levels in rated_only for lv in levels]
    assert with_na.score == pytest.approx(scoring.level_to_score(sum(pooled) / len(pooled)))
    # ...and counting them as the lowest level would never score higher.
    as_lowest = score([[1 if lv is None else lv for lv in levels] for levels in answers])
    assert with_na.score >= as_lowest.score
    # Turning one more rated answer into "not applicable" cannot pull the others down.
    person = data.draw(st.integers(0, len(answers) - 1))
    rated_positions = [i for i, lv in enumerate(answers[person]) if lv is not None]
    assume(rated_positions)
    changed = [levels[:] for levels in answers]
    dropped = changed[person][rated_positions[0]]
    changed[person][rated_positions[0]] = None
    after = score(changed)
    mean_level = 1 + with_na.score / 25
    if after.score is not None and dropped <= mean_level:
        assert after.score >= with_na.score - 1e-9


@given(st.floats(min_value=0, max_value=100), st.integers(min_value=3, max_value=8))
def test_balance_is_100_when_every_section_is_equal(value, count):
    result = scoring.framework_result([section(f"k{i}", value) for i in range(count)])

    assert result.balance == pytest.approx(100)
    assert result.alerts == ()


@given(
    st.floats(min_value=1, max_value=100),
    st.integers(min_value=3, max_value=8),
    st.floats(min_value=0.5, max_value=100),
)
def test_balance_falls_when_one_section_drops(value, count, drop):
    drop = min(drop, value)
    equal = scoring.framework_result([section(f"k{i}", value) for i in range(count)])
    dropped = scoring.framework_result(
        [section("k0", value - drop)] + [section(f"k{i}", value) for i in range(1, count)]
    )

    assert dropped.balance < equal.balance
    assert dropped.weakest.key == "k0"


@given(
    st.lists(st.floats(min_value=0, max_value=100), min_size=4, max_size=4),
)
def test_the_no_loser_verdict_names_the_lowest_stakeholder_below_the_floor(values):
    names = ["Customers", "Employees and line managers", "The company", "Shareholders and owners"]
    sections = [section(f"k{i}", v, names[i]) for i, v in enumerate(values)]
    result = scoring.framework_result(sections, no_loser_rule=True)
    lowest = min(sections, key=lambda s: (s.score, s.key))

    if lowest.score < scoring.NO_LOSER_FLOOR:
        assert not result.verdict.sustainable
        assert result.verdict.losers[0] == lowest.name
        assert lowest.name[0].lower() + lowest.name[1:] in result.verdict.summary
    else:
        assert result.verdict.losers == ()


@given(st.lists(st.floats(min_value=0, max_value=100), min_size=3, max_size=8))
def test_priorities_put_the_weakest_axis_first(values):
    result = scoring.framework_result([section(f"k{i}", v) for i, v in enumerate(values)])
    ranked = scoring.priorities(result)

    if ranked and result.weakest.score < 100:
        assert ranked[0].key == result.weakest.key
        rest = [p.gap for p in ranked[1:]]
        assert rest == sorted(rest, reverse=True)


# --- examples -------------------------------------------------------------------------


def test_levels_map_to_scores_and_back():
    assert [scoring.level_to_score(lv) for lv in (1, 2, 3, 4, 5)] == [0, 25, 50, 75, 100]
    assert [scoring.score_to_level(s) for s in (0, 12.4, 12.5, 50, 62.4, 87.5, 100)] == [
        1,
        1,
        2,
        3,
        3,
        5,
        5,
    ]


def test_a_section_with_too_little_data_is_marked_not_scored_as_zero():
    # One rated answer out of ten possible: one respondent answered once, one not at all.
    result = scoring.section_score(
        key="s",
        name="S",
        questions=5,
        totals=scoring.SectionTotals.from_tallies([Tally(4, 1), Tally(0, 0)]),
    )

    assert result.score is None
    assert not result.sufficient
    assert result.coverage == pytest.approx(10)


def test_not_applicable_counts_as_answered_but_not_as_rated():
    result = score([[4, None, None, None, None], [None, None, None, None, None]])

    assert result.coverage == pytest.approx(100)
    assert (result.rated, result.not_applicable) == (1, 9)
    assert result.score is None  # 1 rated of 10 possible is below MIN_RATED_SHARE


def test_a_framework_without_scored_sections_has_no_overall():
    result = scoring.framework_result([section("a", None), section("b", None)])

    assert (result.overall, result.balance, result.weakest) == (None, None, None)


def test_weights_change_the_overall_but_not_the_balance():
    heavy = scoring.SectionScore(**{**section("a", 80).__dict__, "weight": 3.0})
    result = scoring.framework_result([heavy, section("b", 40), section("c", 40)])
    plain = scoring.framework_result([section("a", 80), section("b", 40), section("c", 40)])

    assert result.overall == pytest.approx((3 * 80 + 40 + 40) / 5)
    assert result.balance == pytest.approx(plain.balance)


def test_tallies_reject_impossible_sums():
    with pytest.raises(ValueError, match="does not fit"):
        Tally(level_sum=11, rated=2)


def test_trend_matches_sections_by_key():
    points = scoring.trend([section("a", 60), section("b", 50)], [section("b", 40)])

    assert [(p.key, p.change) for p in points] == [("a", None), ("b", pytest.approx(10))]


def test_perspective_gaps_flag_a_large_difference():
    gaps = scoring.perspective_gaps(
        [section("a", 50), section("b", 50)], [section("a", 80), section("b", 55)]
    )

    assert [(g.key, round(g.gap), g.flagged) for g in gaps] == [("a", 30, True), ("b", 5, False)]


def test_shuffled_real_world_answers_give_identical_results():
    rng = random.Random(7)  # noqa: S311 - test data
    answers = [[rng.choice([1, 2, 3, 4, 5, None]) for _ in range(6)] for _ in range(40)]

    assert score(answers, questions=6) == score(list(reversed(answers)), questions=6)


def test_the_worked_example_in_docs_scoring_md():
    n = None
    answers = {
        "customers": ("Customers", [[5, 4, 4, 5], [4, 4, 5, n], [5, 5, 4, 4]]),
        "employees": ("Employees and line managers", [[2, 2, 1, 2], [1, 2, 2, 1], [2, 1, n, n]]),
        "company": ("The company", [[3, 3, 4, 3], [3, 4, 3, 3], [4, 3, 3, 3]]),
        "owners": ("Shareholders and owners", [[3, 3, 3, 3]] * 3),
    }
    team = scoring.score_framework(
        scoring.FrameworkTotals(
            sections=[(key, name, 4, 1.0) for key, (name, _a) in answers.items()],
            totals={
                key: scoring.SectionTotals.from_tallies([Tally.from_levels(lv) for lv in people])
                for key, (_n, people) in answers.items()
            },
            respondents=3,
        ),
        no_loser_rule=True,
    )
    by_key = {s.key: s for s in team.sections}

    assert round(by_key["customers"].score, 2) == 86.36
    assert by_key["customers"].level == 4
    assert round(by_key["customers"].spread, 2) == 1.96
    assert by_key["customers"].coverage == 100
    assert round(by_key["employees"].score, 2) == 15.00
    assert by_key["employees"].level == 2
    assert round(by_key["company"].score, 2) == 56.25
    assert (by_key["owners"].score, by_key["owners"].spread) == (50, 0)
    assert round(team.overall, 2) == 51.90
    assert team.overall_level == 3
    assert round(team.balance, 2) == 49.29
    assert team.weakest.key == "employees"
    assert [s.key for s in team.alerts] == ["employees"]
    assert not team.verdict.sustainable
    assert team.verdict.summary == (
        "customers and the company win at the expense of employees and line managers"
    )

    self_view = scoring.score_framework(
        scoring.FrameworkTotals(
            sections=[(key, name, 4, 1.0) for key, (name, _a) in answers.items()],
            totals={
                key: scoring.SectionTotals.from_tallies([Tally.from_levels([4, 4, 4, 4])])
                for key in answers
            },
            respondents=1,
        )
    )
    gaps = {
        g.key: (round(g.gap, 2), g.flagged)
        for g in scoring.perspective_gaps(team.sections, self_view.sections)
    }
    assert gaps == {
        "customers": (-11.36, False),
        "employees": (60.0, True),
        "company": (18.75, True),
        "owners": (25.0, True),
    }

    ranked = [(p.key, p.target_level, round(p.gap, 2)) for p in scoring.priorities(team)]
    assert ranked == [
        ("employees", 3, 35.0),
        ("owners", 4, 25.0),
        ("company", 4, 18.75),
        ("customers", 5, 13.64),
    ]


def test_no_verdict_while_a_stakeholder_has_too_little_data():
    sections = [section("a", 80), section("b", 70), section("c", 75), section("d", None)]

    result = scoring.framework_result(sections, no_loser_rule=True)

    assert not result.verdict.sustainable
    assert not result.verdict.complete
    assert "enough answers" in result.verdict.summary
