"""decision_approve and the awarded-level rule (issue 15, plan step 6): on format 2 the
level follows ``scoring.formula2.awarded_level`` from the sections' levels (moderated where
set, else the team's); another level needs a written reason, stored with the rule's level
and audited. Format 1 keeps the free choice."""

import pytest
from django.db import IntegrityError, transaction

from assessment import scoring, selectors, services
from assessment.models import Assessment, AuditEvent, Decision
from frameworks.models import Section
from tests.factories import (
    judge_criteria,
    make_in_review,
)


def in_review(version: int | None, levels=(2, 3)):
    return make_in_review(version=version, levels=levels)


def sections(assessment) -> list[Section]:
    return list(
        Section.objects.filter(version__assessments=assessment).order_by("version_id", "position")
    )


def moderate(assessment, assessor, scores: list[float]) -> None:
    """Moderate the assessment's sections, in order, to ``scores`` (format 2: level L is
    score 20 x L)."""
    for section, score in zip(sections(assessment), scores, strict=True):
        services.moderation_record(
            assessment=assessment,
            section_id=section.pk,
            assessor=assessor,
            score=score,
            rationale="Seen the evidence.",
        )


def approve(assessment, assessor, level, reason=""):
    judge_criteria(assessment, assessor)
    return services.decision_approve(
        assessment=assessment,
        assessor=assessor,
        level=level,
        summary="Fair.",
        snapshot={},
        deviation_reason=reason,
    )


@pytest.fixture
def format_2(db):
    assessment, assessor = in_review(version=None)
    assert len(sections(assessment)) == 4  # Win4: four stakeholders
    return assessment, assessor


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("scores", "level"),
    [
        ([60, 60, 60, 60], 3),  # every section at 3
        ([60, 60, 60, 40], 3),  # all but one at 3, that one a level below
        ([60, 60, 40, 40], 2),  # two below: the award falls to their level
        ([60, 60, 60, 20], 2),  # one two levels below: the award is one level above it
        ([100, 100, 100, 80], 5),
    ],
)
def test_the_rule_reads_the_moderated_levels(format_2, scores, level):
    assessment, assessor = format_2
    moderate(assessment, assessor, scores)

    rule = selectors.review.assessment_award_rule(assessment)

    assert rule.level == level
    assert [s.level for s in rule.sections] == [round(score / 20) for score in scores]
    assert all(s.moderated for s in rule.sections)


@pytest.mark.django_db
def test_the_rule_reads_the_teams_level_where_a_section_is_not_moderated(format_2):
    assessment, assessor = format_2
    first, *others = sections(assessment)
    for section in others:
        services.moderation_record(
            assessment=assessment,
            section_id=section.pk,
            assessor=assessor,
            score=100,
            rationale="Seen the evidence.",
        )
    team_score = next(
        row.team.score
        for panel in selectors.results.assessment_results(assessment).panels
        for row in panel.rows
        if row.section_id == first.pk
    )

    rule = selectors.review.assessment_award_rule(assessment)

    team_level = scoring.score_to_level(team_score, scoring.SCALE_V2)
    assert (rule.sections[0].level, rule.sections[0].moderated) == (team_level, False)
    assert [s.level for s in rule.sections[1:]] == [5, 5, 5]
    # Three sections at 5: the award is one level above the team's section, at most 5.
    assert rule.level == min(5, team_level + 1)


@pytest.mark.django_db
def test_the_rules_level_is_approved_without_a_reason(format_2):
    assessment, assessor = format_2
    moderate(assessment, assessor, [60, 60, 60, 40])

    decision = approve(assessment, assessor, 3)

    assert (decision.awarded_level, decision.rule_level, decision.deviation_reason) == (3, 3, "")
    assert not decision.deviates
    event = AuditEvent.objects.get(assessment=assessment, action=AuditEvent.Action.APPROVED)
    assert event.after["rule_level"] == 3
    assert "deviation_reason" not in event.after


@pytest.mark.django_db
def test_a_reason_typed_for_the_rules_own_level_is_not_kept_as_a_deviation(format_2):
    assessment, assessor = format_2
    moderate(assessment, assessor, [60, 60, 60, 60])

    decision = approve(assessment, assessor, 3, reason="Just because.")

    assert (decision.rule_level, decision.deviation_reason) == (3, "")


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   \n  "])
def test_another_level_without_a_reason_is_refused_and_nothing_is_written(format_2, reason):
    assessment, assessor = format_2
    moderate(assessment, assessor, [60, 60, 60, 60])
    events = AuditEvent.objects.filter(assessment=assessment).count()

    with pytest.raises(services.ServiceError) as refused:
        approve(assessment, assessor, 4, reason=reason)

    assert str(refused.value) == (
        "The rule gives level 3; write the reason for awarding level 4 instead."
    )
    assert refused.value.field == "deviation_reason"
    assert not Decision.objects.exists()
    assert AuditEvent.objects.filter(assessment=assessment).count() == events
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.IN_REVIEW


@pytest.mark.django_db
def test_another_level_with_a_reason_is_approved_and_stored_with_the_rules_level(format_2):
    assessment, assessor = format_2
    moderate(assessment, assessor, [60, 60, 40, 40])

    decision = approve(
        assessment, assessor, 3, reason="  The supplier section improved after the visit.  "
    )

    decision.refresh_from_db()
    assert (decision.awarded_level, decision.rule_level) == (3, 2)
    assert decision.deviation_reason == "The supplier section improved after the visit."
    assert decision.deviates
    event = AuditEvent.objects.get(assessment=assessment, action=AuditEvent.Action.APPROVED)
    assert event.after["rule_level"] == 2
    assert event.after["deviation_reason"] == "The supplier section improved after the visit."
    changes = {c.label: c.after for c in event.changes()}
    assert changes["Level the rule gives"] == "2"
    assert changes["Reason for another level"] == ("The supplier section improved after the visit.")


@pytest.mark.django_db
def test_a_reason_over_the_limit_is_refused(format_2):
    assessment, assessor = format_2
    moderate(assessment, assessor, [60, 60, 60, 60])

    with pytest.raises(services.ServiceError, match="at most 4000 characters"):
        approve(assessment, assessor, 4, reason="x" * 4001)

    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_the_database_refuses_a_deviation_without_a_reason(format_2):
    assessment, assessor = format_2

    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(
            assessment=assessment,
            round=1,
            assessor=assessor,
            outcome=Decision.Outcome.APPROVED,
            awarded_level=4,
            rule_level=3,
            summary="Fair.",
        )


@pytest.mark.django_db
@pytest.mark.parametrize("level", [1, 3, 5])
def test_a_format_1_assessment_keeps_the_free_choice(level):
    assessment, assessor = in_review(version=1)

    assert selectors.review.assessment_award_rule(assessment) is None
    decision = approve(assessment, assessor, level, reason="Ignored on format 1.")

    assert (decision.awarded_level, decision.rule_level, decision.deviation_reason) == (
        level,
        None,
        "",
    )
    event = AuditEvent.objects.get(assessment=assessment, action=AuditEvent.Action.APPROVED)
    assert "rule_level" not in event.after
    assert "deviation_reason" not in event.after


@pytest.mark.django_db
def test_a_section_without_a_score_leaves_the_rule_without_a_level(format_2):
    assessment, _assessor = format_2
    # Only team members answered: the section asked of leadership has no score, and the
    # rule is not computed without it.
    rule = selectors.review.assessment_award_rule(assessment)

    assert rule.level is None
    assert [s.name for s in rule.missing] == ["Shareholders and owners"]
    assert rule.explanation == (
        "The rule gives no level: Shareholders and owners has no score. Moderate it so "
        "that the rule applies, or say why you award the level you choose."
    )


@pytest.mark.django_db
def test_without_a_rule_level_the_choice_is_free_and_the_reason_optional(format_2):
    assessment, assessor = format_2

    decision = approve(assessment, assessor, 3)

    assert (decision.rule_level, decision.deviation_reason) == (None, "")
    assert not decision.deviates
    event = AuditEvent.objects.get(assessment=assessment, action=AuditEvent.Action.APPROVED)
    assert event.after["rule_level"] is None  # shown as "Level the rule gives: —"


@pytest.mark.django_db
def test_without_a_rule_level_a_reason_given_is_kept(format_2):
    assessment, assessor = format_2

    decision = approve(assessment, assessor, 3, reason="Owners interviewed on site.")

    assert (decision.rule_level, decision.deviation_reason) == (
        None,
        "Owners interviewed on site.",
    )
    assert decision.deviates


@pytest.mark.django_db
def test_moderating_the_section_without_a_score_lets_the_rule_give_a_level(format_2):
    assessment, assessor = format_2
    moderate(assessment, assessor, [60, 60, 60, 60])

    rule = selectors.review.assessment_award_rule(assessment)

    assert (rule.level, rule.missing) == (3, [])
    assert rule.explanation == "The rule gives level 3: every section is at level 3 or above."
