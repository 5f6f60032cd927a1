"""Formula 1.1: the scoring rules on the 0-5 scale of frameworks v2 (pure, no database)."""

import pytest

from assessment import scoring
from assessment.scoring import SCALE_V1, SCALE_V2, SectionTotals, Tally

V2 = {"scale": SCALE_V2}


def totals(*tallies: Tally) -> SectionTotals:
    return SectionTotals.from_tallies(list(tallies))


def tally(levels, *, not_applicable=0, dont_know=0) -> Tally:
    return Tally(
        level_sum=sum(levels),
        rated=len(levels),
        not_applicable=not_applicable,
        dont_know=dont_know,
        scale=SCALE_V2,
    )


@pytest.mark.parametrize(
    ("level", "score"), [(0, 0.0), (1, 20.0), (2.5, 50.0), (3, 60.0), (5, 100.0)]
)
def test_levels_0_to_5_map_to_20_points_each(level, score):
    assert scoring.level_to_score(level, SCALE_V2) == pytest.approx(score)


@pytest.mark.parametrize(
    ("score", "level"), [(0, 0), (9.99, 0), (10, 1), (29.99, 1), (30, 2), (89.99, 4), (90, 5)]
)
def test_bands_are_20_points_wide_and_centred_on_each_level(score, level):
    assert scoring.score_to_level(score, SCALE_V2) == level


def test_format_1_keeps_its_scale_and_formula_version():
    assert scoring.level_to_score(3) == 50.0
    assert scoring.score_to_level(37.5) == 3
    assert scoring.scale_for(1) is SCALE_V1
    assert SCALE_V1.formula_version == "1"
    assert scoring.scale_for(2) is SCALE_V2
    assert SCALE_V2.formula_version == "2"


def test_a_level_0_answer_fits_format_2_but_not_format_1():
    assert tally([0, 0, 5]).level_sum == 5
    with pytest.raises(ValueError, match="level_sum does not fit"):
        Tally(level_sum=0, rated=1)  # format 1 has no level 0


def test_dont_know_is_left_out_of_the_mean_but_counted():
    section = scoring.section_score(
        key="s", name="S", questions=4, totals=totals(tally([4, 4, 4], dont_know=1)), **V2
    )

    assert section.score == pytest.approx(80.0)
    assert section.dont_know == 1
    assert section.answered == 4
    assert not section.mostly_dont_know


def test_a_section_where_most_answers_are_dont_know_is_flagged_and_not_scored():
    mostly = totals(tally([5], dont_know=2), tally([5], dont_know=2))  # 4 of 6 don't know
    half = totals(tally([5, 5], dont_know=2), tally([5], dont_know=1))  # 3 of 6: scored

    flagged = scoring.section_score(key="s", name="S", questions=3, totals=mostly, **V2)
    kept = scoring.section_score(key="s", name="S", questions=3, totals=half, **V2)

    assert flagged.score is None
    assert flagged.level is None
    assert flagged.mostly_dont_know
    assert kept.score == pytest.approx(100.0)
    assert not kept.mostly_dont_know


def test_not_applicable_is_not_dont_know():
    section = scoring.section_score(
        key="s", name="S", questions=4, totals=totals(tally([2], not_applicable=3)), **V2
    )
    # Excluded and reported, never a reason to flag "don't know"; 1 of 4 rated is too little.
    assert section.not_applicable == 3
    assert not section.mostly_dont_know
    assert section.score is None


def test_pooled_audiences_add_up_and_their_possible_answers_are_summed():
    team = SectionTotals(3, 3, 6, 18, 0, 9.0, 27.0, possible=6)  # 3 people x 2 questions
    managers = SectionTotals(1, 1, 1, 0, 0, 0.0, 0.0, possible=1)  # 1 manager x 1 question

    pooled = team + managers
    section = scoring.section_score(key="s", name="S", questions=3, totals=pooled, **V2)

    assert (pooled.respondents, pooled.rated, pooled.level_sum, pooled.possible) == (4, 7, 18, 7)
    assert section.possible == 7
    assert section.score == pytest.approx(18 / 7 / 5 * 100)


def test_results_name_their_scale_and_formula_version():
    sections = [
        scoring.section_score(key=k, name=k, questions=1, totals=totals(tally([lv])), **V2)
        for k, lv in (("a", 1), ("b", 4))
    ]
    result = scoring.framework_result(sections, scale=SCALE_V2)

    assert result.formula_version == SCALE_V2.formula_version
    assert result.overall == pytest.approx(50.0)
    assert result.overall_level == 3  # 50 lies in the 50-70 band of level 3
    assert scoring.framework_result([]).formula_version == "1"


def test_a_target_of_level_0_is_a_target_and_the_default_is_one_band_up():
    sections = [
        scoring.section_score(key="a", name="A", questions=1, totals=totals(tally([0])), **V2)
    ]
    result = scoring.framework_result(sections, scale=SCALE_V2)

    assert scoring.priorities(result, {"a": 0}) == []  # at its target: nothing to do
    (item,) = scoring.priorities(result)
    assert item.target_level == 1
    assert item.gap == pytest.approx(20.0)
