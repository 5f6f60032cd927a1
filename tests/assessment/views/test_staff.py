"""Staff assignment, the organisation's own choice of assessor, reopening, the timeline
and the audit trail's immutability."""

import pytest
from django.urls import reverse

from assessment import services
from assessment.models import (
    Assessment,
    Assignment,
    AuditEvent,
    Response,
)
from frameworks.models import Section
from tests.factories import (
    judge_criteria,
    make_assessment,
    make_assessor,
    make_membership,
    make_organisation,
    make_response,
    make_team,
    make_user,
)


def assessor(username: str = "alex", *, valid_days: int = 365):
    """``Alex Assessor`` (or another first name), accredited for ``valid_days`` more days."""
    return make_assessor(
        username,
        days=valid_days,
        last_name="Assessor",
        body="Institute of Service Assessors",
        number=f"ISA-{username}",
    )


@pytest.fixture
def submitted(db):
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="submitted")
    for _ in range(3):
        make_response(assessment, levels=[3, 4], status="completed")
    return assessment


@pytest.fixture
def staff_client(client):
    client.force_login(make_user("stella", is_staff=True))
    return client


@pytest.mark.django_db
def test_staff_assign_an_assessor_which_starts_the_review(
    staff_client, submitted, mailoutbox, django_capture_on_commit_callbacks
):
    alex = assessor()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("assessment:staff_assign", args=[submitted.pk]), {"assessor": alex.pk}
        )

    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Assessment.Status.IN_REVIEW
    assert submitted.assignment.assessor == alex
    assert [e.action for e in submitted.audit_events.all()] == ["assigned", "review_started"]
    assert mailoutbox[-1].to == [alex.email]
    assert "/reviews/" in mailoutbox[-1].body


@pytest.mark.django_db
def test_the_queue_offers_only_current_assessors_without_a_conflict(staff_client, submitted):
    current = assessor("current")
    expired = assessor("expired", valid_days=-1)
    insider = assessor("insider")
    make_membership(submitted.organisation, insider)

    page = staff_client.get(reverse("assessment:staff_queue"))

    assert page.status_code == 200
    assert f'value="{current.pk}"' in page.text
    assert f'value="{expired.pk}"' not in page.text
    assert f'value="{insider.pk}"' not in page.text


@pytest.mark.django_db
def test_an_assessor_from_the_same_organisation_cannot_be_assigned(staff_client, submitted):
    insider = assessor("insider")
    make_membership(submitted.organisation, insider)

    response = staff_client.post(
        reverse("assessment:staff_assign", args=[submitted.pk]),
        {"assessor": insider.pk},
        follow=True,
    )

    assert "conflict of interest" in response.text
    assert not Assignment.objects.exists()
    with pytest.raises(services.ServiceError, match="conflict of interest"):
        services.assessor_assign(assessment=submitted, assessor=insider, by=insider)


@pytest.mark.django_db
def test_an_expired_accreditation_cannot_be_assigned(submitted):
    expired = assessor("expired", valid_days=-1)

    with pytest.raises(services.ServiceError, match="no current accreditation"):
        services.assessor_assign(assessment=submitted, assessor=expired, by=expired)

    assert not Assignment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_pages_are_404_for_everyone_else(client, submitted, method):
    client.force_login(submitted.organisation.manager)

    for url in [
        reverse("assessment:staff_queue"),
        reverse("assessment:staff_assign", args=[submitted.pk]),
    ]:
        assert getattr(client, method)(url).status_code in {404, 405}


@pytest.mark.django_db
def test_a_manager_picks_an_available_assessor(client, submitted):
    alex = assessor()
    client.force_login(submitted.organisation.manager)
    url = reverse("assessment:assessor_choose", args=[submitted.pk])

    page = client.get(url)
    chosen = client.post(url, {"assessor": alex.pk})

    assert "Alex Assessor" in page.text
    assert chosen.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Assessment.Status.IN_REVIEW


@pytest.mark.django_db
def test_a_manager_cannot_pick_an_assessor_who_is_not_offered(client, submitted):
    insider = assessor("insider")
    make_membership(submitted.organisation, insider)
    client.force_login(submitted.organisation.manager)

    response = client.post(
        reverse("assessment:assessor_choose", args=[submitted.pk]),
        {"assessor": insider.pk},
    )

    assert "Choose one of the assessors listed" in response.text
    assert not Assignment.objects.exists()


@pytest.mark.django_db
def test_a_returned_assessment_reopens_and_respondents_may_revise(
    client, submitted, mailoutbox, django_capture_on_commit_callbacks
):
    alex = assessor()
    services.assessor_assign(assessment=submitted, assessor=alex, by=alex)
    customers = Section.objects.get(version__assessments=submitted, key="customers")
    services.decision_return(
        assessment=submitted,
        assessor=alex,
        required_changes="Add evidence.",
        sections=[customers],
        snapshot={},
    )
    client.force_login(submitted.organisation.manager)
    detail = client.get(submitted.get_absolute_url())

    with django_capture_on_commit_callbacks(execute=True):
        reopened = client.post(
            reverse("assessment:reopen", args=[submitted.pk]),
            {"sections": [customers.pk], "note": "Add evidence for the customer scores."},
        )

    assert "Add evidence." in detail.text
    assert "Reopen for revision" in detail.text
    assert reopened.status_code == 302
    submitted.refresh_from_db()
    assert (submitted.status, submitted.round) == (Assessment.Status.OPEN, 2)
    # Completed answers stay completed and counted: each member may revise them.
    assert set(submitted.responses.values_list("status", flat=True)) == {Response.Status.COMPLETED}
    assert len(mailoutbox) >= 3  # every invitee gets a fresh link


@pytest.mark.django_db
def test_an_illegal_transition_is_refused_with_a_message(client, submitted):
    client.force_login(submitted.organisation.manager)

    response = client.post(reverse("assessment:reopen", args=[submitted.pk]), follow=True)

    assert "Only an assessment returned for revision can be reopened" in response.text
    submitted.refresh_from_db()
    assert submitted.status == Assessment.Status.SUBMITTED


@pytest.mark.django_db
def test_the_timeline_lists_every_step_in_order(client, submitted):
    alex = assessor()
    services.assessor_assign(assessment=submitted, assessor=alex, by=alex)
    services.moderation_record(
        assessment=submitted,
        section_id=submitted.framework_versions.get().sections.first().pk,
        assessor=alex,
        score="55",
        rationale="Evidence is thin.",
    )
    judge_criteria(submitted, alex)
    services.decision_approve(
        assessment=submitted, assessor=alex, level=3, summary="Solid.", snapshot={}
    )
    client.force_login(submitted.organisation.manager)

    page = client.get(submitted.get_absolute_url())

    timeline = page.text.split('id="timeline-heading"', 1)[1]
    steps = ["Assessor assigned", "Review started", "Section moderated", "Approved"]
    positions = [timeline.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "awarded maturity level 3" in page.text


# --- the audit trail cannot be edited ---------------------------------------------


@pytest.mark.django_db
def test_the_audit_trail_cannot_be_changed_or_deleted_in_the_admin(client, submitted):
    alex = assessor()
    services.assessor_assign(assessment=submitted, assessor=alex, by=alex)
    event = AuditEvent.objects.first()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))

    listing = client.get(reverse("admin:assessment_auditevent_changelist"))
    change = client.post(
        reverse("admin:assessment_auditevent_change", args=[event.pk]), {"action": "approved"}
    )
    delete = client.post(
        reverse("admin:assessment_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )
    add = client.post(reverse("admin:assessment_auditevent_add"), {"action": "approved"})
    bulk = client.post(
        reverse("admin:assessment_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk]},
    )

    assert listing.status_code == 200
    assert (change.status_code, delete.status_code, add.status_code) == (403, 403, 403)
    assert bulk.status_code in {200, 302}
    assert AuditEvent.objects.filter(pk=event.pk, action=event.action).exists()
    assert AuditEvent.objects.count() == 2
