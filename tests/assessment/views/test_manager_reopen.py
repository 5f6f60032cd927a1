"""Reopening a returned assessment for chosen sections, with a note to the team (issue 13)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from assessment import selectors, services
from assessment.models import Assessment, AuditEvent, Invitation, Reopening, Response
from frameworks.models import Section
from tests.factories import (
    make_assessor,
    make_opened_assessment,
    make_organisation,
    make_response,
    make_team,
    make_user,
    messages_of,
)
from tests.mail import links_in

NOTE = "Ask the owners too.\nAnd check the evidence for complaints."


def returned_assessment(organisation, *, members: int = 4, completed: int = 3) -> Assessment:
    """A Win4 assessment opened through the services for ``members`` people, ``completed``
    of whom completed; one more closed unfinished; submitted, reviewed and returned. The
    invitations were last sent an hour ago (past the resend cool-down)."""
    team = make_team(organisation, "Help desk", members=members)
    assessment = make_opened_assessment(team, title="Winter review")
    invitations = list(assessment.invitations.order_by("email"))
    for invitation in invitations[:completed]:
        make_response(assessment, invitation=invitation, levels=[3], status="completed")
    for invitation in invitations[completed : completed + 1]:
        make_response(assessment, invitation=invitation, levels=[2], status="in_progress")
    services.assessment_submit(assessment=assessment, by=organisation.manager)
    assessor = make_assessor(f"alex{assessment.pk}")
    services.assessor_assign(
        assessment=assessment,
        assessor=assessor,
        by=make_user(f"staff{assessment.pk}", is_staff=True),
    )
    services.decision_return(
        assessment=assessment, assessor=assessor, required_changes="Ask again.", snapshot={}
    )
    Invitation.objects.filter(assessment=assessment).update(
        sent_at=timezone.now() - timedelta(hours=1)
    )
    mail.outbox.clear()
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.RETURNED
    return assessment


def sections_of(assessment) -> list[Section]:
    return list(Section.objects.filter(version__assessments=assessment).order_by("position"))


@pytest.fixture
def returned(organisation):
    return returned_assessment(organisation)


def url(assessment) -> str:
    return reverse("assessment:reopen", kwargs={"pk": assessment.pk})


@pytest.mark.django_db
def test_reopening_two_sections_keeps_every_completion_and_mails_the_note_and_sections(
    manager_client, returned, django_capture_on_commit_callbacks
):
    first, second = sections_of(returned)[1:3]
    other = sections_of(returned)[0]

    with django_capture_on_commit_callbacks(execute=True):
        page = manager_client.post(
            url(returned), {"sections": [first.pk, second.pk], "note": NOTE}, follow=True
        )

    returned.refresh_from_db()
    assert (returned.status, returned.round) == (Assessment.Status.OPEN, 2)
    reopening = Reopening.objects.get(assessment=returned)
    assert (reopening.round, reopening.note) == (2, NOTE)
    assert set(reopening.sections.all()) == {first, second}
    statuses = sorted(returned.responses.values_list("status", flat=True))
    # Every completion kept; the unfinished one may be finished now.
    assert statuses == ["completed", "completed", "completed", "in_progress"]
    completed = returned.responses.filter(status="completed").first()
    assert completed.changeable_section_ids() == frozenset({first.pk, second.pk})
    assert "The assessment is open again. Completed answers still count" in " ".join(
        messages_of(page)
    )
    # Every invitee is told, with a fresh link, the note and the sections by name.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        returned.invitations.values_list("email", flat=True)
    )
    for message in mail.outbox:
        assert message.subject == "A team assessment is open again: a few sections to look at"
        assert "> Ask the owners too.\n> And check the evidence for complaints." in message.body
        assert first.name in message.body
        assert second.name in message.body
        assert other.name not in message.body
        assert first.key not in message.body  # never an internal code
        assert "/r/" in links_in(message)[0]
    to_completed = next(m for m in mail.outbox if m.to == [completed.invitation.email])
    assert "Your completed answers still count" in to_completed.body
    # The trail records the sections' keys and the note.
    event = AuditEvent.objects.filter(assessment=returned, action="reopened").get()
    assert event.after["sections"] == [first.key, second.key]
    assert event.after["note"] == NOTE


@pytest.mark.django_db
def test_the_reopen_form_is_ticked_and_filled_from_the_assessors_return(manager_client, returned):
    decision = returned.decisions.get()
    chosen = sections_of(returned)[3]
    decision.required_sections.set([chosen])

    page = manager_client.get(url(returned))

    assert page.status_code == 200
    html = page.text
    assert f'value="{chosen.pk}" id="section-{chosen.pk}" checked' in html
    assert html.count(" checked") == 1
    assert "Ask again.</textarea>" in html
    # Grouped per framework: a fieldset and a legend with the framework's name.
    version = returned.framework_versions.get()
    assert f'<legend class="h6">{version.name}</legend>' in html


@pytest.mark.django_db
def test_reopening_without_a_section_or_a_note_is_refused_beside_each_field(
    manager_client, returned, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page = manager_client.post(url(returned), {"note": "  "})

    assert page.status_code == 200
    assert page.context["form"].errors == {
        "sections": ["Choose at least one section for the team to look at again."],
        "note": ["Write a note telling the team what to look at."],
    }
    assert 'id="sections-error"' in page.text
    assert 'id="note-error"' in page.text
    returned.refresh_from_db()
    assert returned.status == Assessment.Status.RETURNED
    assert not Reopening.objects.exists()
    assert not mail.outbox


@pytest.mark.django_db
def test_a_section_of_another_assessment_is_refused(manager_client, returned):
    elsewhere = make_opened_assessment(
        make_team(returned.organisation, "Night", members=1),
        slugs=["holistic"],
        by=returned.created_by,
    )
    foreign = sections_of(elsewhere)[0]

    page = manager_client.post(url(returned), {"sections": [foreign.pk], "note": NOTE})

    assert page.context["form"].errors["sections"] == ["Choose sections of this assessment."]
    with pytest.raises(services.ServiceError, match="not part of this assessment"):
        services.assessment_reopen(
            assessment=returned, by=returned.created_by, sections=[foreign.pk], note=NOTE
        )
    returned.refresh_from_db()
    assert returned.status == Assessment.Status.RETURNED


@pytest.mark.django_db
def test_only_a_returned_assessment_has_a_reopen_page(manager_client, organisation):
    assessment = make_opened_assessment(
        make_team(organisation, "Day", members=1), by=organisation.manager
    )

    page = manager_client.get(url(assessment), follow=True)

    assert page.redirect_chain[-1][0] == assessment.get_absolute_url()
    assert "Only an assessment returned for revision can be reopened." in messages_of(page)


@pytest.mark.django_db
def test_another_organisations_manager_gets_a_404(client, returned):
    other = make_organisation("Other Ltd", manager="olga")
    client.force_login(other.manager)

    assert client.get(url(returned)).status_code == 404
    assert client.post(url(returned), {"note": NOTE}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_refused_sends_are_counted_for_the_manager_and_can_be_sent_later(client):
    organisation = make_organisation()
    returned = returned_assessment(organisation)
    client.force_login(organisation.manager)
    # Sent a minute ago: within the resend cool-down, every reopening e-mail is refused.
    Invitation.objects.update(sent_at=timezone.now() - timedelta(minutes=1))
    section = sections_of(returned)[0]

    page = client.post(url(returned), {"sections": [section.pk], "note": NOTE}, follow=True)

    shown = " ".join(messages_of(page))
    assert "4 e-mails were not sent." in shown
    assert "was sent less than 10 minutes ago" in shown
    assert not mail.outbox
    assert "4 invitations have not been sent in this round" in page.text
    returned.refresh_from_db()
    assert selectors.manager.unsent_invitations(returned).count() == 4

    Invitation.objects.update(sent_at=timezone.now() - timedelta(hours=1))
    sent = client.post(reverse("assessment:send_unsent", kwargs={"pk": returned.pk}), follow=True)

    assert "4 invitations were sent." in messages_of(sent)
    assert len(mail.outbox) == 4
    assert all(section.name in m.body for m in mail.outbox)
    assert selectors.manager.unsent_invitations(returned).count() == 0


@pytest.mark.django_db
def test_a_resend_in_a_reopened_round_carries_the_note(
    manager_client, returned, django_capture_on_commit_callbacks
):
    section = sections_of(returned)[0]
    with django_capture_on_commit_callbacks(execute=True):
        services.assessment_reopen(
            assessment=returned, by=returned.created_by, sections=[section], note=NOTE
        )
    unfinished = Response.objects.get(assessment=returned, status="in_progress").invitation
    Invitation.objects.update(sent_at=timezone.now() - timedelta(hours=1))
    mail.outbox.clear()

    manager_client.post(reverse("assessment:invitation_resend", kwargs={"pk": unfinished.pk}))

    (message,) = mail.outbox
    assert "> Ask the owners too." in message.body
    assert "You have not completed your answers yet" in message.body
