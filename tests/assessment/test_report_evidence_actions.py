"""The report's evidence, judgements and action plan (issue 18): names and dates of the
evidence (never its contents), the assessor's judgements, the awarded level with the rule,
and the actions with owners, dates and status."""

import datetime

import pytest

from assessment import reports, services
from assessment.models import Evidence
from assessment.services import actions as action_services
from frameworks.models import Question, Section
from tests.factories import judge_criteria, make_in_review, make_user
from tests.pdf import poppler


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def approved(db):
    """Win4 in review: moderated to level 3 everywhere, one criterion partly met, evidence
    on two sections, one required action and one of the manager's; then approved."""
    assessment, assessor = make_in_review()
    sections = list(Section.objects.filter(version__assessments=assessment).order_by("position"))
    for section in sections:
        services.moderation_record(
            assessment=assessment,
            section_id=section.pk,
            assessor=assessor,
            score=60,
            rationale="Seen.",
        )
    manager = assessment.organisation.memberships.first().user
    services.evidence_add(
        assessment=assessment,
        section=sections[0],
        question=None,
        kind="note",
        title="Complaint log summary",
        note="SECRET CONTENT that the report must not print.",
        by=manager,
    )
    services.evidence_add(
        assessment=assessment,
        section=sections[1],
        question=None,
        kind="link",
        title="Staff rota policy",
        url="https://intranet.example/rota",
        by=manager,
    )
    judge_criteria(assessment, assessor, "met")
    question = Question.objects.filter(section=sections[1]).order_by("position").first()
    services.judgements_record(
        assessment=assessment,
        section_id=sections[1].pk,
        assessor=assessor,
        judgements={question.pk: ("partly", "Rotas overridden most weeks.")},
    )
    services.action_require_in_review(
        assessment=assessment,
        assessor=assessor,
        title="Publish a staffing plan for peak weeks",
        section_id=sections[1].pk,
    )
    owner = make_user("olga", first_name="Olga", last_name="Owner")
    from assessment.models import Membership

    Membership.objects.create(user=owner, organisation=assessment.organisation)
    action_services.action_create(
        assessment=assessment,
        by=manager,
        title="Review complaint reasons monthly",
        section=sections[0],
        owner=owner,
        due_date=datetime.date(2027, 3, 31),
    )
    action_services.action_create(
        assessment=assessment,
        by=manager,
        title="Train new starters on the standard",
        owner_name="Pat Newcomer",
    )
    services.decision_approve(
        assessment=assessment, assessor=assessor, level=3, summary="Sound.", snapshot={}
    )
    assessment.refresh_from_db()
    return assessment


def test_the_pdf_lists_evidence_judgements_the_rule_and_the_actions(approved):
    text = flat(poppler("pdftotext", reports.render_report(approved).pdf))

    assert "Evidence and the assessor's judgements" in text
    assert "Complaint log summary" in text
    assert "Staff rota policy" in text
    assert "SECRET CONTENT" not in text  # names and dates, never the contents
    assert "intranet.example" not in text
    assert "Partly met" in text
    assert "Rotas overridden most weeks." in text
    assert "Level 3 from the score, lowered to level 2 by the criteria." in text
    assert "The awarded level follows the rule" in text
    assert "checked against the framework's criteria" in text
    for title in (
        "Publish a staffing plan for peak weeks",
        "Review complaint reasons monthly",
        "Train new starters on the standard",
    ):
        assert title in text
    assert "Olga Owner" in text
    assert "Pat Newcomer" in text
    assert "31 March 2027" in text
    assert "(required" in text  # "required by the assessor", in its table cell


def test_the_criteria_text_is_never_printed(approved):
    text = flat(poppler("pdftotext", reports.render_report(approved).pdf))
    for question in Question.objects.filter(version__assessments=approved):
        assert flat(question.criteria) not in text


@pytest.mark.django_db
def test_evidence_and_actions_change_the_reports_cache_key():
    assessment, _assessor = make_in_review()
    manager = assessment.organisation.memberships.first().user
    section = Section.objects.filter(version__assessments=assessment).first()
    before = reports.cache_key(assessment, viewer_id=None)
    evidence = services.evidence_add(
        assessment=assessment,
        section=section,
        question=None,
        kind="note",
        title="Minutes",
        note="Held monthly.",
        by=manager,
    )
    with_evidence = reports.cache_key(assessment, viewer_id=None)
    action = action_services.action_create(assessment=assessment, by=manager, title="Do it")
    with_action = reports.cache_key(assessment, viewer_id=None)
    action_services.action_update(action=action, by=manager, title="Do it", status="done")
    done = reports.cache_key(assessment, viewer_id=None)
    Evidence.objects.filter(pk=evidence.pk).delete()

    assert len({before, with_evidence, with_action, done}) == 4
