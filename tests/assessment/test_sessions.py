"""Sessions: every session idles out after SESSION_IDLE_TIMEOUT and ends at a hard
maximum (SESSION_MAX_AGE); an invitee's session is also capped by their invitation's
expiry, a signed-in user who opens a link keeps their idle timeout, and a session only
ever holds the digest of a link token, never the token itself."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from assessment.models import Answer, Invitation, token_digest
from tests.factories import (
    PASSWORD,
    make_assessment,
    make_organisation,
    make_team,
    make_user,
)

IDLE = 30 * 60


@pytest.fixture
def clock(monkeypatch):
    """Move the clock that sessions, links and the middleware read (``timezone.now``)."""

    class Clock:
        offset = timedelta(0)

        def advance(self, **delta) -> None:
            self.offset += timedelta(**delta)

    clock, real_now = Clock(), timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + clock.offset)
    return clock


@pytest.fixture
def invitation(db):
    """An invitation to an open assessment whose link is ``/r/token-<pk>-1/``."""
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="open", invitees=1)
    return assessment.invitations.get()


def token_of(invitation) -> str:
    return f"token-{invitation.assessment_id}-1"


def open_link(client, invitation):
    """Follow the link, then press "Open my questionnaire"; the response's page."""
    first = client.get(
        reverse("assessment:invitation_open", kwargs={"token": token_of(invitation)})
    )
    return client.post(first["Location"])


def stored_expiry_seconds() -> float:
    """Seconds until the one stored session expires, as the database holds it."""
    return (Session.objects.get().expire_date - timezone.now()).total_seconds()


def every_stored_session_text() -> str:
    return " ".join(str(s.get_decoded()) for s in Session.objects.all())


# --- only digests ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_link_opened_but_not_used_leaves_no_token_in_the_session_table(client, invitation):
    token = token_of(invitation)

    client.get(reverse("assessment:invitation_open", kwargs={"token": token}))

    stored = every_stored_session_text()
    assert Session.objects.count() == 1
    assert token not in stored
    assert token_digest(token) in stored  # only what the database holds too


@pytest.mark.django_db
def test_a_link_opened_but_not_used_is_forgotten_after_the_idle_timeout(client, invitation):
    client.get(reverse("assessment:invitation_open", kwargs={"token": token_of(invitation)}))

    assert stored_expiry_seconds() <= settings.SESSION_IDLE_TIMEOUT


@pytest.mark.django_db
def test_the_digest_in_the_session_still_opens_the_questionnaire_once(client, invitation):
    opened = open_link(client, invitation)

    assert opened.status_code == 302
    assert opened["Location"].startswith("/responses/")
    assert token_of(invitation) not in every_stored_session_text()
    # The same browser holds the response: opening the link again leads back to it...
    again = open_link(client, invitation)
    assert again.status_code == 302
    assert again["Location"] == opened["Location"]
    # ...while any other browser finds it used, and is offered a fresh link instead.
    assert open_link(Client(), invitation).status_code == 410


# --- the invitee's session --------------------------------------------------------------


@pytest.mark.django_db
def test_an_invitee_session_idles_out_like_everyone_elses(client, invitation, clock):
    Invitation.objects.update(token_expires_at=timezone.now() + timedelta(days=700))
    opened = open_link(client, invitation)

    assert settings.SESSION_IDLE_TIMEOUT == IDLE
    assert stored_expiry_seconds() == pytest.approx(IDLE, abs=5)

    # Activity slides it (at most once a minute) ...
    clock.advance(minutes=20)
    assert client.get(opened["Location"], follow=True).status_code == 200
    assert stored_expiry_seconds() == pytest.approx(IDLE, abs=5)

    # ... and half an hour without a request ends it.
    clock.advance(minutes=31)
    assert client.get(opened["Location"]).status_code == 404


@pytest.mark.django_db
def test_an_invitee_session_ends_at_the_invitations_expiry(client, invitation, clock):
    Invitation.objects.update(token_expires_at=timezone.now() + timedelta(minutes=10))
    opened = open_link(client, invitation)

    assert stored_expiry_seconds() == pytest.approx(10 * 60, abs=5)
    clock.advance(minutes=9)
    client.get(opened["Location"])
    assert stored_expiry_seconds() == pytest.approx(60, abs=5)  # never slid past the link
    clock.advance(minutes=2)
    assert client.get(opened["Location"]).status_code == 404


@pytest.mark.django_db
@override_settings(SESSION_MAX_AGE=2 * 60 * 60)
def test_an_active_invitee_session_ends_at_the_hard_maximum(client, invitation, clock):
    Invitation.objects.update(token_expires_at=timezone.now() + timedelta(days=700))
    opened = open_link(client, invitation)

    # Busy all along: a request every twenty minutes for almost two hours.
    for _ in range(5):
        clock.advance(minutes=20)
        assert client.get(opened["Location"], follow=True).status_code == 200
    assert stored_expiry_seconds() == pytest.approx(20 * 60, abs=5)
    clock.advance(minutes=19)
    assert client.get(opened["Location"], follow=True).status_code == 200
    clock.advance(minutes=2)  # two hours and a minute after the link was used

    assert client.get(opened["Location"]).status_code == 404


def test_the_hard_maximum_defaults_to_thirty_days():
    assert settings.SESSION_MAX_AGE == 30 * 24 * 60 * 60


# --- signed-in users ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_signed_in_manager_who_opens_a_link_keeps_the_idle_timeout(client, invitation):
    Invitation.objects.update(token_expires_at=timezone.now() + timedelta(days=700))
    client.force_login(make_user("visiting-manager", password=PASSWORD))

    opened = open_link(client, invitation)

    assert opened.status_code == 302
    assert client.session.get_expiry_age() == settings.SESSION_IDLE_TIMEOUT
    assert stored_expiry_seconds() == pytest.approx(IDLE, abs=5)


@pytest.mark.django_db
@override_settings(SESSION_MAX_AGE=2 * 60 * 60)
def test_a_signed_in_session_ends_at_the_hard_maximum(client, clock):
    make_organisation(manager="ana")
    client.force_login(make_user("ana"))
    dashboard = reverse("assessment:dashboard")

    for _ in range(5):  # busy for almost two hours
        clock.advance(minutes=20)
        assert client.get(dashboard).status_code == 200
    clock.advance(minutes=19)
    assert client.get(dashboard).status_code == 200
    clock.advance(minutes=2)

    assert client.get(dashboard).status_code == 302  # asked to sign in again


# --- coming back after the session ended ---------------------------------------------


@pytest.mark.django_db
def test_an_idled_out_invitee_gets_a_fresh_link_and_finds_their_answers(
    client, invitation, clock, mailoutbox
):
    """The invitee has no password: after their session ends they reopen their link,
    which is used, ask for a fresh one by e-mail, and resume the same response."""
    opened = open_link(client, invitation)
    section_page = opened["Location"]  # straight to the first section
    response_pk = int(opened["Location"].strip("/").split("/")[1])
    page = client.get(section_page)
    question = page.context["page"].rows[0].question
    prefix = f"q{question.pk}"
    saved = client.post(
        reverse("assessment:autosave", kwargs={"pk": response_pk, "question_pk": question.pk}),
        {f"{prefix}-level": "4", f"{prefix}-comment": "Kept.", f"{prefix}-revision": 0},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200

    clock.advance(minutes=31)
    assert client.get(section_page).status_code == 404
    # Typed on the page still open after the session ended: refused, still on the page.
    typed = {f"{prefix}-level": "5", f"{prefix}-comment": "Typed later.", f"{prefix}-revision": 1}
    assert client.post(section_page, typed).status_code == 404
    reopened = open_link(client, invitation)
    assert reopened.status_code == 410
    assert "fresh" in reopened.text
    renewed = client.post(reverse("assessment:invitation_renew"))
    assert renewed.status_code == 200, renewed.text
    assert mailoutbox, renewed.text
    fresh = mailoutbox[-1].body.split("/r/")[1].split("/")[0]
    first = client.get(reverse("assessment:invitation_open", kwargs={"token": fresh}))
    resumed = client.post(first["Location"])

    assert resumed["Location"] == opened["Location"]
    answer = Answer.objects.get(response_id=response_pk, question=question)
    assert (answer.level, answer.comment) == (4, "Kept.")
    # "Save and continue" on the old page, now that the fresh link is open here.
    assert client.post(section_page, typed).status_code == 302
    answer.refresh_from_db()
    assert (answer.level, answer.comment) == (5, "Typed later.")
