"""A moderated assessment's report (issue 15, must show 4): the executive summary, the
verdict and the action plan follow the assessor's moderated scores, with the team's own
figures beside them; the awarded level names its rule and prints the reason to deviate.
Real PDF rendering (WeasyPrint), read back with pdftotext."""

import re

import pytest
from django.conf import settings
from django.template.defaultfilters import floatformat

from assessment import reports, services
from assessment.models import Assessment
from assessment.selectors import results
from assessment.selectors.concepts import concept_agreement
from assessment.selectors.rules import with_rule_checks
from frameworks.models import FrameworkVersion, Section
from tests.assessment.selectors.test_results_v2 import answer
from tests.factories import judge_criteria, make_in_review
from tests.pdf import poppler

THRESHOLD = settings.ANONYMITY_THRESHOLD


def whole(value: float) -> str:
    """A figure as the report prints it (Django's floatformat: halves away from zero)."""
    return floatformat(value, 0)


def flat(text: str) -> str:
    return " ".join(text.split())


def chapter(text: str, start: str, end: str) -> str:
    """The text from the heading ``start`` to ``end``, after the table of contents (which
    ends where the executive summary's first sentence begins)."""
    body = text.index("Based on ")
    begin = body if start == "Executive summary" else text.index(start, body)
    return text[begin : text.index(end, begin + len(start))]


@pytest.fixture
def moderated(db):
    """Win4 v2 in review: the team answers 3 where asked, one manager 3, leadership 1, so
    the owners score low and lose. The assessor moderates the owners to 50 and approves
    level 2 against the rule's level, with a reason."""
    assessment, assessor = make_in_review()
    assessment.responses.all().delete()
    answer(assessment, "team", THRESHOLD, 3)
    answer(assessment, "manager", 1, 3)
    answer(assessment, "leadership", THRESHOLD, 1)
    owners = Section.objects.get(version__assessments=assessment, key="owners")
    services.moderation_record(
        assessment=assessment,
        section_id=owners.pk,
        assessor=assessor,
        score=50,
        rationale="The owners' minutes show a return agreed and met.",
    )
    return assessment, assessor


def test_the_report_follows_the_moderated_scores_and_shows_the_teams_beside(moderated):
    assessment, assessor = moderated
    (panel,) = results.assessment_results(assessment).panels
    team, official = panel.team, panel.official
    assert official is not None
    assert team.verdict.sustainable is False
    assert official.verdict.sustainable is True
    owners = next(r for r in panel.rows if r.key == "owners")

    judge_criteria(assessment, assessor)
    services.decision_approve(
        assessment=assessment,
        assessor=assessor,
        level=2,
        summary="Sound practice; the owners' evidence lifts their section.",
        snapshot={},
        deviation_reason="One stakeholder's evidence is a single year: I award one level less.",
    )
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.APPROVED
    text = flat(poppler("pdftotext", reports.render_report(assessment).pdf))

    summary = chapter(text, "Executive summary", "Top priorities")
    # The official overall and balance, and the team's own beside them.
    # The summary's row, in order (pdftotext interleaves the column headings): the
    # framework, its official overall, band and balance, then the team's own.
    row = (
        rf"{re.escape(panel.name)} .*?\b{whole(official.overall)} band “[^”]+” .*?"
        rf"\b{whole(official.balance)} .*?overall {whole(team.overall)}, "
        rf"balance {whole(team.balance)}"
    )
    assert re.search(row, summary), summary
    assert f"overall {whole(team.overall)}, balance {whole(team.balance)}" in summary, (
        "the team's own figures beside the official ones"
    )
    assert "The team's own figures" in summary
    # The verdict: official sustainable; the team's own figures gave not sustainable.
    assert "verdict: sustainable" in summary
    assert "The team's own figures gave: not sustainable" in summary

    plan = chapter(text, "Action plan", "Who rated what")
    assert "Now (official)" in plan
    assert "The team's own" in plan
    # The owners' row: official 50, the team's own score beside it.
    assert re.search(rf"{re.escape(owners.name)}.*?50 {whole(owners.team.score)} ", plan), plan

    review = chapter(text, "Assessor's review", "Action plan")
    assert "awarded maturity level 2" in review
    rule = assessment.decisions.get().rule_level
    assert rule is not None
    assert rule != 2
    assert f"The awarded-level rule gave level {rule}" in review
    assert "One stakeholder's evidence is a single year" in review
    assert f"team {whole(owners.team.score)}, moderated to 50" in review


def test_an_unmoderated_report_has_no_official_column(db):
    assessment, _assessor = make_in_review()
    text = flat(poppler("pdftotext", reports.render_report(assessment).pdf))
    assert "The team's own figures" not in text
    assert "Now (official)" not in text


def test_the_report_checks_the_rules_and_compares_shared_concepts(db):
    """Service definition and six dimensions, answered by everyone: each framework chapter
    prints its model's rules as met or not, and a chapter compares the concepts both
    frameworks measure."""
    assessment, _assessor = make_in_review()
    assessment.framework_versions.set(
        FrameworkVersion.objects.filter(framework__slug=slug).order_by("-number").first()
        for slug in ("service-definition", "six-dimensions")
    )
    assessment.responses.all().delete()
    answer(assessment, "team", THRESHOLD, 3)
    answer(assessment, "manager", 1, 4)
    answer(assessment, "leadership", THRESHOLD, 2)
    panels = with_rule_checks(results.assessment_results(assessment)).panels
    concepts = concept_agreement(assessment)
    assert any(panel.rules for panel in panels)
    assert concepts

    text = flat(poppler("pdftotext", reports.render_report(assessment).pdf))
    assert text.count("What the model asks of these scores") == sum(1 for p in panels if p.rules)
    for panel in panels:
        for check in panel.rules:
            assert " ".join(str(check.result.why).split()) in text
    chapter_text = chapter(text, "The same idea, measured by several frameworks", "Appendix")
    for row in concepts:
        assert row.name in chapter_text


def test_a_mixed_report_says_per_framework_which_figures_follow_moderation(db):
    """Win4 version 1 beside service definition (format 2), both moderated: only the
    format-2 framework's figures follow the moderation; the format-1 row says nothing of
    it, and the summary keeps "Maturity level" (version 1's word) as its heading."""
    assessment, assessor = make_in_review(version=1)
    assessment.framework_versions.add(
        FrameworkVersion.objects.filter(framework__slug="service-definition")
        .order_by("-number")
        .first()
    )
    answer(assessment, "team", THRESHOLD, 3)
    answer(assessment, "manager", 1, 3)
    answer(assessment, "leadership", THRESHOLD, 3)
    for key in ("owners", "business_defined"):
        services.moderation_record(
            assessment=assessment,
            section_id=Section.objects.get(version__assessments=assessment, key=key).pk,
            assessor=assessor,
            score=90,
            rationale="Seen it.",
        )
    panels = {p.slug: p for p in results.assessment_results(assessment).panels}
    assert panels["win4"].official is None
    assert panels["service-definition"].official is not None

    text = flat(poppler("pdftotext", reports.render_report(assessment).pdf))
    summary = chapter(text, "Executive summary", "Top priorities")
    assert "Maturity level" in summary
    assert "Band" not in summary
    assert "not moderated" not in summary  # Win4's row is format 1: "—"
    plan = chapter(text, "Action plan", "Win4")
    assert "Then close the largest gaps to target" in plan
    assert "a framework scored by rules version 2" in plan


def test_the_report_says_when_the_rule_gave_no_level(db):
    """Win4 format 2 answered by the team alone: the owners' section has no score, so the
    rule gives no level; the assessor awards one without a reason, and the report says
    the rule gave none."""
    assessment, assessor = make_in_review()
    judge_criteria(assessment, assessor)
    services.decision_approve(
        assessment=assessment, assessor=assessor, level=2, summary="Fair.", snapshot={}
    )
    assessment.refresh_from_db()
    decision = assessment.decisions.get()
    assert decision.rule_level is None
    assert decision.deviation_reason == ""
    text = flat(poppler("pdftotext", reports.render_report(assessment).pdf))
    assert "The awarded-level rule gave no level, because a section had no score." in text
