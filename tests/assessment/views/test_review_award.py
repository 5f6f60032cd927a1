"""The approve form and the awarded-level rule (issue 15, plan step 6): on format 2 the
workspace shows the rule's level and why, pre-selected; another level needs a written
reason, refused beside its field when missing. Format 1 shows no rule and keeps the free
choice."""

import pytest
from django.urls import reverse

from assessment import services
from assessment.models import Assessment, Decision
from frameworks.models import Section
from tests.factories import (
    judge_criteria,
    make_assessor,
    make_in_review,
)


def in_review(version: int | None, levels=(2, 3)):
    """In review, with every criterion judged met (as approval needs)."""
    assessment, assessor = make_in_review(version=version, levels=levels)
    judge_criteria(assessment, assessor)
    return assessment, assessor


def url(name: str, assessment) -> str:
    return reverse(f"assessment:{name}", kwargs={"pk": assessment.pk})


def form_html(text: str, form_id: str) -> str:
    start = text.index(f'id="{form_id}"')
    return text[start : text.index("</form>", start)]


@pytest.fixture
def moderated(db, client):
    """A format-2 (Win4) review with its sections moderated to levels 3, 3, 3 and 2: the
    rule gives level 3."""
    assessment, assessor = in_review(version=None)
    sections = Section.objects.filter(version__assessments=assessment).order_by("position")
    for section, score in zip(sections, [60, 60, 60, 40], strict=True):
        services.moderation_record(
            assessment=assessment,
            section_id=section.pk,
            assessor=assessor,
            score=score,
            rationale="Seen the evidence.",
        )
    client.force_login(assessor)
    return assessment


@pytest.mark.django_db
def test_the_workspace_shows_the_rules_level_and_why_pre_selected(client, moderated):
    page = client.get(url("review_detail", moderated))

    form = form_html(page.text, "approve-form")
    assert (
        "The rule gives level 3: every section is at level 3 or above but Shareholders and "
        "owners, at level 2 (one section may be one level below)."
    ) in form
    assert "Shareholders and owners: level 2 (moderated)" in form
    assert '<option value="3" selected>' in form
    assert form.count(" selected>") == 1
    assert 'id="approve-deviation"' in form


@pytest.mark.django_db
def test_another_level_without_a_reason_is_refused_beside_the_field(client, moderated):
    page = client.post(url("approve", moderated), {"level": "4", "summary": "Strong."})

    assert page.status_code == 400
    form = form_html(page.text, "approve-form")
    assert (
        '<div class="invalid-feedback" id="approve-deviation-error">'
        "The rule gives level 3; write the reason for awarding level 4 instead.</div>"
    ) in form
    assert 'href="#approve-deviation"' in page.text  # the summary at the top links to it
    assert '<option value="4" selected>' in form  # the assessor's choice, kept
    assert ">Strong.</textarea>" in form
    assert not Decision.objects.exists()
    moderated.refresh_from_db()
    assert moderated.status == Assessment.Status.IN_REVIEW


@pytest.mark.django_db
def test_another_level_with_a_reason_is_approved_and_shown_with_it(client, moderated):
    response = client.post(
        url("approve", moderated),
        {"level": "4", "summary": "Strong.", "deviation_reason": "Owners' plan seen on site."},
    )

    assert response.status_code == 302
    decision = Decision.objects.get()
    assert (decision.awarded_level, decision.rule_level) == (4, 3)
    assert decision.deviation_reason == "Owners' plan seen on site."
    page = client.get(url("review_detail", moderated))
    assert "The rule gave level 3. Reason for another level:" in page.text
    assert "Owners&#x27; plan seen on site." in page.text


@pytest.mark.django_db
def test_the_rules_level_is_approved_without_a_reason(client, moderated):
    response = client.post(url("approve", moderated), {"level": "3", "summary": "Fair."})

    assert response.status_code == 302
    decision = Decision.objects.get()
    assert (decision.awarded_level, decision.rule_level, decision.deviation_reason) == (3, 3, "")
    page = client.get(url("review_detail", moderated))
    assert "The rule gave level" not in page.text
    assert "Reason for another level" not in page.text  # nor in the audit trail


@pytest.mark.django_db
def test_a_section_without_a_score_is_named_and_nothing_is_pre_selected(client):
    assessment, assessor = in_review(version=None)  # no leadership answers: one section
    client.force_login(assessor)

    page = client.get(url("review_detail", assessment))

    form = form_html(page.text, "approve-form")
    assert (
        "The rule gives no level: Shareholders and owners has no score. Moderate it so that "
        "the rule applies, or say why you award the level you choose."
    ) in form
    assert "Shareholders and owners: no score" in form
    assert " selected>" not in form


@pytest.mark.django_db
def test_a_format_1_review_shows_no_rule_and_keeps_the_free_choice(client):
    assessment, assessor = in_review(version=1)
    client.force_login(assessor)

    page = client.get(url("review_detail", assessment))

    form = form_html(page.text, "approve-form")
    assert "The rule gives" not in form
    assert 'id="approve-deviation"' not in form
    assert " selected>" not in form
    response = client.post(url("approve", assessment), {"level": "5", "summary": "Fine."})
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert (decision.awarded_level, decision.rule_level, decision.deviation_reason) == (5, None, "")


@pytest.mark.django_db
def test_another_assessor_cannot_approve_with_a_reason(client, moderated):
    client.force_login(make_assessor("other"))

    response = client.post(
        url("approve", moderated),
        {"level": "4", "summary": "Strong.", "deviation_reason": "Because."},
    )

    assert response.status_code == 404
    assert not Decision.objects.exists()
