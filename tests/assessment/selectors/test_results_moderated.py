"""Formula 2 after an assessor's moderation, and trend beyond its uncertainty (issue 15).

Once an assessor moderates a section of a format-2 framework, the official overall,
balance, verdict, priorities and rule checks follow the moderated scores, and the team's
own figures stay beside them. Formula 1 never follows moderation. A change since the
team's previous assessment is marked only when it exceeds its 95 % margin. Real database,
the shipped Win4 and service-definition frameworks.
"""

import math
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from assessment.models import Assessment, Moderation
from assessment.scoring import formula2
from assessment.selectors import results
from assessment.selectors.rules import with_rule_checks
from frameworks.models import Section
from tests.assessment.selectors.test_results_v2 import answer
from tests.factories import make_assessment, make_assessor, make_organisation, make_team

THRESHOLD = settings.ANONYMITY_THRESHOLD


def submitted(team, *, slugs=("win4",), version=None, days_ago=0) -> Assessment:
    assessment = make_assessment(team, slugs=slugs, status="submitted", version=version)
    when = timezone.now() - timedelta(days=days_ago)
    Assessment.objects.filter(pk=assessment.pk).update(submitted_at=when, created_at=when)
    assessment.refresh_from_db()
    return assessment


def moderate(assessment, key: str, score: float) -> None:
    section = Section.objects.get(version__assessments=assessment, key=key)
    Moderation.objects.create(
        assessment=assessment,
        section=section,
        assessor=make_assessor(f"alex-{assessment.pk}-{key}"),
        score=score,
        rationale="Seen the evidence.",
    )


def win4_panel(assessment):
    (panel,) = results.assessment_results(assessment).panels
    return panel


@pytest.fixture
def win4(db):
    """Win4 v2: the team answers 3 everywhere it is asked, one manager 3, and leadership
    (enough to count) 1: the owners' section, asked of managers and leadership only,
    scores low and loses."""
    assessment = submitted(make_team(make_organisation()))
    answer(assessment, "team", THRESHOLD, 3)
    answer(assessment, "manager", 1, 3)
    answer(assessment, "leadership", THRESHOLD, 1)
    return assessment


def test_without_moderation_the_team_figures_are_the_official_ones(win4):
    panel = win4_panel(win4)
    assert panel.official is None
    assert panel.headline is panel.team
    assert panel.team.formula_version == "2"
    assert all(p.self_assessed is None for p in panel.priorities)
    assert [row.official for row in panel.rows] == [row.team.score for row in panel.rows]


def test_moderated_scores_drive_the_official_figures_and_the_teams_stay_beside(win4):
    before = win4_panel(win4)
    owners = next(r for r in before.rows if r.key == "owners")
    assert before.team.verdict.sustainable is False
    assert before.team.verdict.losers == (owners.name,)

    moderate(win4, "owners", 50)
    panel = win4_panel(win4)

    # The team's own result is exactly what it was.
    assert panel.team == before.team
    # The official one takes the moderated score in place of the team's.
    scores = {r.key: r.team.score for r in panel.rows} | {"owners": 50.0}
    assert panel.official is not None
    assert panel.headline is panel.official
    assert panel.official.overall == pytest.approx(sum(scores.values()) / len(scores))
    assert panel.official.balance == pytest.approx(formula2.balance(list(scores.values())))
    assert panel.official.verdict.sustainable is True  # owners now at 50, above the floor 30
    assert panel.official.formula_version == "2"
    assert {r.key: r.official for r in panel.rows} == pytest.approx(scores)
    row = next(r for r in panel.rows if r.key == "owners")
    assert (row.moderated, row.rationale) == (50.0, "Seen the evidence.")

    # Priorities: by the official score, each with the team's own beside it.
    assert [p.score for p in panel.priorities] == sorted(p.score for p in panel.priorities)
    by_key = {p.key: p for p in panel.priorities}
    assert by_key["owners"].score == 50.0
    assert by_key["owners"].self_assessed == pytest.approx(owners.team.score)
    for p in panel.priorities:
        assert p.self_assessed == pytest.approx(
            next(r.team.score for r in panel.rows if r.key == p.key)
        )


def test_a_moderated_score_carries_no_sampling_interval(win4):
    moderate(win4, "owners", 80)
    panel = win4_panel(win4)
    stats = formula2.judged(80.0)
    assert (stats.low, stats.high, stats.agreement) == (80.0, 80.0, None)
    # The row keeps the team's own statistics (its interval is the team's, shown beside).
    row = next(r for r in panel.rows if r.key == "owners")
    assert row.stats is not None
    assert row.stats.score == pytest.approx(row.team.score)


def test_moderating_a_section_the_team_could_not_score_completes_the_headline(db):
    """Owners are asked of managers and leadership only: with the team alone nobody rates
    them, so there is no overall or verdict until the assessor scores them on evidence."""
    assessment = submitted(make_team(make_organisation()))
    answer(assessment, "team", THRESHOLD, 3)
    panel = win4_panel(assessment)
    assert panel.team.overall is None
    assert panel.team.verdict.complete is False

    moderate(assessment, "owners", 40)
    panel = win4_panel(assessment)
    assert panel.team.overall is None  # the team's own figures still have none
    assert panel.official.overall is not None
    assert panel.official.verdict.complete is True


def test_format_1_figures_never_follow_moderation(db):
    assessment = submitted(make_team(make_organisation()), version=1)
    answer(assessment, "team", THRESHOLD, 3)
    before = win4_panel(assessment)
    key = before.rows[0].key
    moderate(assessment, key, 100)
    panel = win4_panel(assessment)
    assert panel.official is None
    assert panel.headline == before.team == panel.team
    assert panel.team.formula_version == "1"
    assert [p.score for p in panel.priorities] == [p.score for p in before.priorities]
    row = next(r for r in panel.rows if r.key == key)
    assert row.moderated == 100.0
    assert row.official == row.team.score


def test_rules_are_checked_against_the_official_scores(db):
    """Service definition: what customers experience should lead what the business
    defines. The team's scores break the rule; the assessor's moderation meets it."""
    assessment = submitted(make_team(make_organisation()), slugs=("service-definition",))
    answer(assessment, "team", THRESHOLD, 2)
    answer(assessment, "manager", 1, 4)
    answer(assessment, "leadership", THRESHOLD, 4)
    found = with_rule_checks(results.assessment_results(assessment))
    (panel,) = found.panels
    leads = [c for c in panel.rules if c.result.kind == "leads"]
    assert leads
    assert leads[0].result.met is False

    moderate(assessment, "customer_experienced", 95)
    (panel,) = with_rule_checks(results.assessment_results(assessment)).panels
    leads = [c for c in panel.rules if c.result.kind == "leads"]
    assert leads[0].result.met is True
    assert leads[0].result.figures.score == 95


def team_with_two_rounds(levels_before: int, levels_now: int, *, spread: bool):
    team = make_team(make_organisation())
    earlier = submitted(team, days_ago=30)
    now = submitted(team)
    for assessment, level in ((earlier, levels_before), (now, levels_now)):
        answer(assessment, "manager", 1, level)
        answer(assessment, "leadership", THRESHOLD, level)
        if spread:  # a team far apart: 0, 5 and the level between
            answer(assessment, "team", 1, 0)
            answer(assessment, "team", 1, 5)
            answer(assessment, "team", THRESHOLD - 2 if THRESHOLD > 2 else 1, level)
        else:
            answer(assessment, "team", THRESHOLD, level)
    return earlier, now


def test_a_change_within_its_margin_is_not_marked_and_one_beyond_it_is(db):
    # Everyone moved by one level and agreed with each other.
    _earlier, now = team_with_two_rounds(2, 3, spread=False)
    panel = win4_panel(now)
    assert panel.trend is not None
    customers = next(r for r in panel.rows if r.key == "customers")
    assert customers.change == pytest.approx(20.0)
    # Everyone agreed both times: the margin is only the rounding of whole answers.
    assert 0 < customers.change_margin < 10
    assert customers.change_beyond_noise is True

    # A divided team: the same kind of change sits inside the noise.
    earlier, now = team_with_two_rounds(2, 3, spread=True)
    panel = win4_panel(now)
    customers = next(r for r in panel.rows if r.key == "customers")
    assert customers.change is not None
    assert customers.change_margin > abs(customers.change)
    assert customers.change_beyond_noise is False
    before = next(r for r in win4_panel(earlier).rows if r.key == "customers")
    # Both rounds' uncertainty, not one.
    assert customers.change_margin == pytest.approx(
        math.hypot(customers.stats.half_width, before.stats.half_width)
    )


def test_the_change_margin_combines_both_intervals():
    a = formula2.section_stats([1, 3, 5], {1: 1, 3: 1, 5: 1})
    b = formula2.section_stats([2, 2, 4, 4], {2: 2, 4: 2})
    assert formula2.change_margin(a, b) == pytest.approx(math.hypot(a.half_width, b.half_width))
    one = formula2.section_stats([3], {3: 1})
    assert formula2.change_margin(a, one) is None
    assert formula2.change_margin(None, b) is None


def test_a_decision_records_the_formula_and_official_figures_it_was_made_on(win4):
    from assessment.selectors.review import RESULTS_KEY, decision_snapshot

    moderate(win4, "owners", 50)
    panel = win4_panel(win4)
    recorded = decision_snapshot(win4)[RESULTS_KEY]["win4"]
    assert recorded == {
        "formula_version": "2",
        "floor_level": settings.SCORING_FLOOR_LEVEL,
        "overall": panel.official.overall,
        "balance": panel.official.balance,
        "verdict": "sustainable",
        "moderated": True,
    }


def test_a_format_1_decision_records_formula_1_and_the_teams_figures(db):
    from assessment.selectors.review import RESULTS_KEY, decision_snapshot

    assessment = submitted(make_team(make_organisation()), version=1)
    answer(assessment, "team", THRESHOLD, 3)
    moderate(assessment, "owners", 100)
    panel = win4_panel(assessment)
    recorded = decision_snapshot(assessment)[RESULTS_KEY]["win4"]
    assert recorded["formula_version"] == "1"
    assert recorded["floor_level"] is None
    assert recorded["overall"] == panel.team.overall
    assert recorded["moderated"] is False


def test_a_one_at_a_time_rule_names_the_section_out_of_step_with_the_figures_it_judged():
    """Six dimensions at 80/75/70/78/72/30: the rule is met (advice) on the five that move
    together, 10 points apart; the page names the one standing apart and prints the
    spread it judged, not the 50 points of all six."""
    from django.template.loader import render_to_string

    from assessment.scoring.rules import Rule, check_rules
    from assessment.selectors.rules import RuleCheck

    keys = ("customer", "concept", "process", "tools", "business_plan", "team")
    scores = dict(zip(keys, (80, 75, 70, 78, 72, 30), strict=True))
    (result,) = check_rules(
        [Rule(kind="one_at_a_time", section="", over="", tolerance=20, why="Why.")], scores
    )
    assert (result.met, result.section, result.figures.spread_of_rest) == (True, "team", 10)

    class Panel:
        slug = "six-dimensions"
        rules = [RuleCheck(result, "One at a time", "The team", "")]

    html = " ".join(
        render_to_string("assessment/includes/framework_rules.html", {"panel": Panel}).split()
    )
    assert "The team stands apart; the others are 10 points apart, 20 allowed" in html
    assert "50 points apart" not in html
