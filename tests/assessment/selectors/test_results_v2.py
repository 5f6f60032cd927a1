"""Results of frameworks v2 (formula 1.1): audiences pooled, leadership's own threshold,
"don't know" counted, who rated what. Real database, the shipped v2 Win4 framework."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessment.models import Answer, Response
from assessment.selectors import results
from frameworks.models import Question
from tests.factories import (
    make_assessment,
    make_manager_response,
    make_membership,
    make_organisation,
    make_response,
    make_team,
    make_user,
)

THRESHOLD = settings.ANONYMITY_THRESHOLD


@pytest.fixture
def assessment(db):
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="submitted")
    assessment.manager = organisation.manager
    return assessment


def answer(assessment, audience: str, count: int, level: int | None, **fields) -> list:
    """``count`` completed responses of ``audience`` answering every question they are
    asked with ``level`` (or as ``fields`` say: dont_know / not_applicable)."""
    if audience == "manager":
        responses = []
        for n in range(count):
            user = make_user(f"boss{n}-{assessment.pk}")
            make_membership(assessment.organisation, user)
            responses.append(make_manager_response(assessment, user))
    else:
        responses = [
            make_response(assessment, status="completed", audience=audience) for _ in range(count)
        ]
    questions = Question.objects.filter(version__assessments=assessment).asked_of(audience)
    Answer.objects.bulk_create(
        Answer(
            response=r,
            question=q,
            section_id=q.section_id,
            level=level,
            submitted_level=level,
            dont_know=fields.get("dont_know", False),
            submitted_dont_know=fields.get("dont_know", False),
            not_applicable=fields.get("not_applicable", False),
            submitted_not_applicable=fields.get("not_applicable", False),
        )
        for r in responses
        for q in questions
    )
    return responses


def panel_of(assessment, viewer_id=None):
    (panel,) = results.assessment_results(assessment, viewer_id=viewer_id).panels
    return panel


def asked(assessment, audience: str, section_key: str) -> int:
    return (
        Question.objects.filter(version__assessments=assessment, section__key=section_key)
        .asked_of(audience)
        .count()
    )


def test_the_pinned_version_is_format_2_with_every_audience(assessment):
    version = assessment.framework_versions.get()
    assert version.format == 2
    assert version.number == 2
    assert {q.audience for q in version.questions.all()} == {"team", "manager", "leadership"}


def test_each_section_pools_the_levels_of_every_audience_that_counts(assessment):
    answer(assessment, "team", THRESHOLD, 4)
    answer(assessment, "manager", 1, 1)
    answer(assessment, "leadership", THRESHOLD, 0)

    panel = panel_of(assessment)

    assert panel.team.formula_version == "2"
    assert panel.self_view is None
    assert panel.gaps == []
    assert "the centre is level 0" in str(panel.chart)  # rings of the 0-5 scale
    for row in panel.rows:
        key = row.key
        counts = {a: asked(assessment, a, key) for a in ("team", "manager", "leadership")}
        n = {"team": THRESHOLD, "manager": 1, "leadership": THRESHOLD}
        levels = {"team": 4, "manager": 1, "leadership": 0}
        rated = sum(counts[a] * n[a] for a in counts)
        expected = sum(counts[a] * n[a] * levels[a] for a in counts) / rated / 5 * 100
        assert row.team.score == pytest.approx(expected), key
        assert row.team.possible == rated
    # Who rated what: each audience's own score where it is asked.
    for audience_row in panel.audiences:
        cells = {c.audience: c for c in audience_row.cells}
        assert [c.audience for c in audience_row.cells] == ["team", "manager", "leadership"]
        for audience, level in (("team", 80.0), ("manager", 20.0), ("leadership", 0.0)):
            cell = cells[audience]
            assert cell.asked == bool(asked(assessment, audience, audience_row.key))
            if cell.asked:
                assert cell.score.score == pytest.approx(level)
            else:
                assert cell.score is None


def test_leadership_below_the_threshold_counts_nowhere_and_is_reported(assessment):
    answer(assessment, "team", THRESHOLD, 3)
    answer(assessment, "leadership", THRESHOLD - 1, 0)

    panel = panel_of(assessment)

    assert panel.leadership_withheld == THRESHOLD - 1
    for row in panel.audiences:
        leadership = row.cells[2]
        assert leadership.score is None
        assert leadership.withheld
    # Sections asked only of leadership have no score; the others are the team's alone.
    for row in panel.rows:
        if asked(assessment, "team", row.key):
            assert row.team.score == pytest.approx(60.0)
        if not asked(assessment, "team", row.key) and not asked(assessment, "manager", row.key):
            assert row.team.score is None


def test_once_leadership_reaches_the_threshold_its_answers_count(assessment):
    answer(assessment, "team", THRESHOLD, 3)
    answer(assessment, "leadership", THRESHOLD, 0)

    panel = panel_of(assessment)

    assert panel.leadership_withheld == 0
    owners = next(r for r in panel.rows if r.key == "owners")
    assert owners.team.score is not None


def test_a_manager_sees_the_same_figures_as_anyone_else(assessment):
    answer(assessment, "team", THRESHOLD, 3)
    answer(assessment, "manager", 2, 5)
    boss = Response.objects.filter(is_manager_view=True).first().user

    as_manager = [(r.key, r.team.score) for r in panel_of(assessment, viewer_id=boss.pk).rows]
    as_other = [(r.key, r.team.score) for r in panel_of(assessment).rows]

    assert as_manager == as_other


def test_a_team_answering_mostly_dont_know_leaves_the_section_flagged_not_scored(assessment):
    answer(assessment, "team", THRESHOLD, None, dont_know=True)
    answer(assessment, "team", 1, 5)

    panel = panel_of(assessment)

    team_only = [r for r in panel.rows if asked(assessment, "team", r.key)]
    assert team_only
    for row in team_only:
        if not asked(assessment, "manager", row.key) and not asked(
            assessment, "leadership", row.key
        ):
            assert row.team.score is None
            assert row.team.mostly_dont_know
            assert row.team.dont_know == THRESHOLD * asked(assessment, "team", row.key)


def test_the_query_count_does_not_grow_with_the_audiences(
    assessment, django_assert_max_num_queries
):
    answer(assessment, "team", THRESHOLD, 3)
    with CaptureQueriesContext(connection) as few:
        results.assessment_results(assessment)
    answer(assessment, "team", 10, 2)
    answer(assessment, "manager", 2, 4)
    answer(assessment, "leadership", THRESHOLD, 1)
    with CaptureQueriesContext(connection) as many:
        results.assessment_results(assessment)

    assert len(many) == len(few)


def test_a_previous_assessment_on_version_1_is_not_compared_across_scales(db):
    organisation = make_organisation()
    team = make_team(organisation)
    before = make_assessment(team, status="submitted", version=1)
    for _ in range(THRESHOLD):
        make_response(before, status="completed", levels=[3])
    now = make_assessment(team, status="submitted")
    answer(now, "team", THRESHOLD, 3)
    before.submitted_at = now.created_at - timezone.timedelta(days=30)
    before.save(update_fields=["submitted_at"])
    type(before).objects.filter(pk=before.pk).update(
        created_at=now.created_at - timezone.timedelta(days=60)
    )

    panel = panel_of(now)

    # Level 3 is 50 on version 1's scale and 60 on version 2's: not a change in practice.
    assert panel.trend is None
    assert panel.previous_other_scale == before.title
    assert all(row.previous is None and row.change is None for row in panel.rows)


def test_leaders_who_rated_a_section_below_the_threshold_are_not_pooled_into_it(assessment):
    # Three leaders completed (the audience counts), but one answered "not applicable"
    # throughout: only two rated the owners' section. A manager who knows their own
    # answer could otherwise subtract it from the pooled score and read the two leaders'.
    answer(assessment, "team", THRESHOLD, 3)
    answer(assessment, "manager", 1, 2)
    answer(assessment, "leadership", THRESHOLD - 1, 5)
    answer(assessment, "leadership", 1, None, not_applicable=True)

    panel = panel_of(assessment)
    owners = next(r for r in panel.rows if r.key == "owners")
    cells = {c.audience: c for c in next(r for r in panel.audiences if r.key == "owners").cells}

    assert panel.leadership_withheld == 0  # the audience as a whole reached the threshold
    assert cells["leadership"].score.score is None  # its own cell: not enough raters
    assert owners.team.score is None
    assert owners.team.level is None
    assert cells["manager"].score.score == pytest.approx(40.0)  # named: shown apart


def test_a_team_section_rated_by_too_few_members_is_not_pooled_with_managers(assessment):
    answer(assessment, "team", THRESHOLD - 1, 4)
    answer(assessment, "team", 1, None, not_applicable=True)
    answer(assessment, "manager", 2, 1)

    panel = panel_of(assessment)
    customers = next(r for r in panel.rows if r.key == "customers")

    # Not scored: the two members' levels would be the pooled score less the managers'.
    assert customers.team.score is None
    assert customers.team.spread is None
    cells = {c.audience: c for c in next(r for r in panel.audiences if r.key == "customers").cells}
    assert cells["team"].score.score is None
    assert cells["manager"].score.score == pytest.approx(20.0)


def test_the_results_query_gives_formula_2_what_it_needs_without_per_answer_python(
    assessment,
):
    """The respondents' means arrive as sums and the levels as counts; the statistics from
    them equal those from the raw means."""
    from assessment.scoring import formula2

    answer(assessment, "team", 2, 4)
    answer(assessment, "team", 2, 1)
    answer(assessment, "team", 1, 0)
    version = assessment.framework_versions.get()
    customers = version.sections.get(key="customers")
    totals = results._section_totals(
        results._counted_responses([assessment.pk], viewer_id=None), viewer_id=None
    )[(assessment.pk, "team", customers.pk)]
    asked_here = asked(assessment, "team", "customers")

    assert totals.level_counts == (asked_here, 2 * asked_here, 0, 0, 2 * asked_here, 0)
    from_sql = formula2.stats_from_totals(totals)
    from_means = formula2.section_stats(
        [4, 4, 1, 1, 0], {0: asked_here, 1: 2 * asked_here, 4: 2 * asked_here}
    )
    assert from_sql.score == pytest.approx(from_means.score)
    assert from_sql.low == pytest.approx(from_means.low)
    assert from_sql.agreement == pytest.approx(from_means.agreement)


def test_each_scored_v2_section_carries_formula_2_statistics(assessment):
    answer(assessment, "team", 2, 5)
    answer(assessment, "team", 2, 1)
    panel = panel_of(assessment)

    customers = next(r for r in panel.rows if r.key == "customers")
    assert customers.stats is not None
    assert customers.stats.score == pytest.approx(customers.team.score)
    assert customers.stats.low < customers.team.score < customers.stats.high
    assert customers.stats.divided  # half at 5, half at 1
    owners = next(r for r in panel.rows if r.key == "owners")  # not asked of the team
    assert owners.stats is None
