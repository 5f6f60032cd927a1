"""The model's own rules checked against section scores (issue 15, framework rules)."""

import pytest

from assessment.scoring.rules import KINDS, Rule, RuleFigures, RuleResult, check_rules
from frameworks.models import FrameworkRule

LEADS = Rule("leads", "customer_experienced", "business_defined", 0, "Customers lead.")
PRECEDES = Rule("precedes", "customer_experienced", "excellence", 10, "Delivery first.")
ONE_AT_A_TIME = Rule("one_at_a_time", tolerance=20, why="Tie them together.")
SIX = ("customer", "concept", "process", "tools", "business_plan", "team")


def six(*scores: float | None) -> dict[str, float | None]:
    return dict(zip(SIX, scores, strict=True))


def test_the_kinds_are_the_ones_the_loader_accepts():
    assert set(KINDS) == set(FrameworkRule.Kind.values)


def test_leads_is_met_when_the_customers_side_scores_at_least_the_business_side():
    [result] = check_rules(
        [LEADS], {"customer_experienced": 62.0, "business_defined": 62.0, "excellence": 90.0}
    )

    assert result == RuleResult(
        kind="leads",
        section="customer_experienced",
        over="business_defined",
        met=True,
        figures=RuleFigures(tolerance=0.0, score=62, over_score=62, shortfall=0),
        why="Customers lead.",
        advice=False,
    )


def test_leads_is_unmet_when_the_business_side_scores_higher_with_the_figures():
    [result] = check_rules([LEADS], {"customer_experienced": 55.0, "business_defined": 70.0})

    assert result.met is False
    assert (result.figures.score, result.figures.over_score) == (55, 70)
    assert result.figures.shortfall == 15
    assert result.advice is False


def test_scores_are_compared_as_displayed():
    # 59.5 shows as 60 and 60.4 shows as 60: equal on the page, so the rule is met.
    [result] = check_rules([LEADS], {"customer_experienced": 59.5, "business_defined": 60.4})

    assert result.met is True
    assert result.figures.shortfall == 0


def test_precedes_allows_the_later_stage_its_tolerance_and_no_more():
    [within] = check_rules([PRECEDES], {"customer_experienced": 50.0, "excellence": 60.0})
    [beyond] = check_rules([PRECEDES], {"customer_experienced": 50.0, "excellence": 61.0})

    assert within.met is True
    assert within.figures.shortfall == 10
    assert beyond.met is False
    assert beyond.figures.shortfall == 11


@pytest.mark.parametrize(
    "scores",
    [
        {"customer_experienced": None, "business_defined": 70.0},
        {"customer_experienced": 70.0, "business_defined": None},
        {"customer_experienced": 70.0},  # the section is missing altogether
    ],
)
def test_a_pairwise_rule_over_an_unscored_section_is_unknown(scores):
    [result] = check_rules([LEADS], scores)

    assert result.met is None
    assert result.figures.shortfall is None


def test_one_at_a_time_is_met_when_all_dimensions_lie_within_the_tolerance():
    [result] = check_rules([ONE_AT_A_TIME], six(40, 50, 60, 55, 45, 52))

    assert result.met is True
    assert result.section == ""
    assert result.figures.spread == 20
    assert result.figures.spread_of_rest is None
    assert result.advice is True


def test_one_at_a_time_accepts_one_dimension_built_ahead_of_the_rest():
    [result] = check_rules([ONE_AT_A_TIME], six(40, 45, 90, 50, 42, 48))

    assert result.met is True
    assert result.section == "process"
    assert result.figures.score == 90
    assert (result.figures.spread, result.figures.spread_of_rest) == (50, 10)


def test_one_at_a_time_accepts_one_dimension_lagging_and_names_it():
    [result] = check_rules([ONE_AT_A_TIME], six(70, 75, 80, 10, 72, 78))

    assert result.met is True
    assert result.section == "tools"
    assert result.figures.spread_of_rest == 10


def test_one_at_a_time_is_unmet_when_two_dimensions_are_out_of_step():
    [result] = check_rules([ONE_AT_A_TIME], six(20, 50, 50, 50, 50, 80))

    assert result.met is False
    # Leaving out either end leaves a spread of 30: the lagging one is named.
    assert result.section == "customer"
    assert (result.figures.spread, result.figures.spread_of_rest) == (60, 30)
    assert result.advice is True


def test_one_at_a_time_with_an_unscored_dimension_is_unknown():
    [result] = check_rules([ONE_AT_A_TIME], six(50, 50, None, 50, 50, 50))

    assert result.met is None
    assert result.section == ""


def test_results_keep_the_rules_order_and_reasons():
    scores = {"customer_experienced": 40.0, "business_defined": 30.0, "excellence": 80.0}

    results = check_rules([PRECEDES, LEADS], scores)

    assert [(r.kind, r.met, r.why) for r in results] == [
        ("precedes", False, "Delivery first."),
        ("leads", True, "Customers lead."),
    ]


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown rule kind 'follows'"):
        check_rules([Rule("follows", "a", "b")], {"a": 1.0, "b": 2.0})


def test_no_rules_give_no_results():
    assert check_rules([], {"a": 50.0}) == []
