"""Submitting safely (issue 13): who has not answered, the anonymity minimum, and an
explicit choice to close an assessment whose team results could never be shown."""

import pytest
from django.urls import reverse

from assessment import services
from assessment.models import Assessment, AuditEvent
from tests.factories import (
    make_assessment,
    make_invitation,
    make_manager_response,
    make_organisation,
    make_response,
    make_team,
    messages_of,
)


def url(assessment) -> str:
    return reverse("assessment:submit", kwargs={"pk": assessment.pk})


@pytest.fixture
def below_minimum(organisation):
    """Open, with two completed team members (the minimum is three), the manager's own
    answers completed, one member answering and one who has not opened the link."""
    assessment = make_assessment(make_team(organisation), status="open")
    for _ in range(2):
        make_response(assessment, levels=[3], status="completed")
    make_response(
        assessment, invitation=make_invitation(assessment, name="Bo Berg", email="bo@example.com")
    )
    make_invitation(assessment, name="Cy Chan", email="cy@example.com")
    make_manager_response(assessment, organisation.manager, levels=[4])
    return assessment


@pytest.mark.django_db
def test_the_submit_page_names_non_responders_the_minimum_and_counts_members_apart(
    manager_client, below_minimum
):
    page = manager_client.get(url(below_minimum))

    text = " ".join(page.text.split())
    assert "2 team members completed · your self-assessment completed" in text
    assert "Team results are shown only from 3 completed team members" in text
    assert "Bo Berg · <span" in text
    assert "bo@example.com" in text
    assert "cy@example.com" in text
    assert "Its team results would never be shown" in text
    assert "Close without results" in text
    assert "responses are completed" not in text  # never one count for both


@pytest.mark.django_db
def test_closing_below_the_minimum_is_refused_beside_the_option(manager_client, below_minimum):
    page = manager_client.post(url(below_minimum))

    below_minimum.refresh_from_db()
    assert below_minimum.status == Assessment.Status.OPEN
    assert page.status_code == 200
    (error,) = page.context["form"].errors["close_without_results"]
    assert error.startswith("Only 2 team members have completed their answers")
    assert 'id="id_close_without_results-error"' in page.text
    assert 'aria-invalid="true"' in page.text


@pytest.mark.django_db
def test_closing_without_results_when_ticked_is_recorded(manager_client, below_minimum):
    page = manager_client.post(url(below_minimum), {"close_without_results": "on"}, follow=True)

    below_minimum.refresh_from_db()
    assert below_minimum.status == Assessment.Status.SUBMITTED
    assert "The assessment was submitted for review." in messages_of(page)
    event = AuditEvent.objects.get(assessment=below_minimum, action="submitted")
    assert event.after["closed_without_results"] is True
    assert event.after["completed_members"] == 2
    # The results page says plainly that team results will never show, and why.
    results = manager_client.get(reverse("assessment:results", kwargs={"pk": below_minimum.pk}))
    text = " ".join(results.text.split())
    assert "Team results will not be shown for this assessment" in text
    assert "Results are not shown yet" not in text


@pytest.mark.django_db
def test_at_the_minimum_no_choice_is_needed_and_none_is_recorded(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), status="open")
    for _ in range(3):
        make_response(assessment, levels=[3], status="completed")

    page = manager_client.get(url(assessment))
    manager_client.post(url(assessment))

    assert "Close without results" not in page.text
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.SUBMITTED
    event = AuditEvent.objects.get(assessment=assessment, action="submitted")
    assert "closed_without_results" not in event.after


@pytest.mark.django_db
def test_the_manager_own_answers_do_not_count_towards_the_minimum(organisation):
    assessment = make_assessment(make_team(organisation), status="open")
    for _ in range(2):
        make_response(assessment, levels=[3], status="completed")
    make_manager_response(assessment, organisation.manager, levels=[4])

    with pytest.raises(services.ResultsNeverShown):
        services.assessment_submit(assessment=assessment, by=organisation.manager)
    assert services.assessment_submit(
        assessment=assessment, by=organisation.manager, without_results=True
    )


@pytest.mark.django_db
def test_another_organisations_manager_gets_a_404(client, below_minimum):
    other = make_organisation("Other Ltd", manager="olga")
    client.force_login(other.manager)

    assert client.get(url(below_minimum)).status_code == 404
    assert client.post(url(below_minimum), {"close_without_results": "on"}).status_code == 404
