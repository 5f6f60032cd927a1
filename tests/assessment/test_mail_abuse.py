"""The service cannot be used as a relay for spam or phishing.

Sign-up confirms the address before anything is sent on the organisation's behalf;
sending is capped per organisation per hour and per day, with a cool-down per
invitation; subjects are fixed (user text appears only quoted, in the body); opening an
assessment checks every address first and a failed send leaves something to retry;
the password reset link comes from ``SITE_URL`` and known and unknown addresses take
the same path. Everything goes through the real views, with Django's locmem outbox.
"""

import re
from datetime import timedelta
from functools import partial

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection
from django.tasks import default_task_backend
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from assessment import services
from assessment.models import (
    Assessment,
    AuditEvent,
    Invitation,
    ManagerInvitation,
    Organisation,
    SentMail,
)
from assessment.services.mail import CapReached
from tests.factories import (
    SIGN_UP,
    make_assessment,
    make_invitation,
    make_organisation,
    make_team,
    messages_of,
)
from tests.mail import delivering_again, links_in, refusing_everyone
from tests.threads import run_together

BAD_ADDRESS = '"a\x0bb"@x.example'


def sign_up(client, capture_on_commit, **kwargs):
    """Sign up through the page; the confirmation link goes once the sign-up is committed."""
    with capture_on_commit(execute=True):
        return client.post(reverse("assessment:signup"), SIGN_UP, **kwargs)


def confirmation_link(mailoutbox) -> str:
    (link,) = [link for m in mailoutbox for link in links_in(m) if "/confirm/" in link]
    return link


def path_of(link: str, settings) -> str:
    return link.removeprefix(settings.SITE_URL.rstrip("/"))


def clock(moment) -> str:
    return date_format(timezone.localtime(moment), "H:i")


# --- sign-up confirms the address first ------------------------------------------------


@pytest.mark.django_db
def test_sign_up_leaves_the_organisation_unconfirmed_and_mails_a_link(
    client, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://balance.example.org"

    response = sign_up(client, django_capture_on_commit_callbacks, follow=True)

    organisation = Organisation.objects.get(name="Harbour Bakery")
    assert organisation.email_confirmed_at is None
    assert [m.to for m in mailoutbox] == [["ada@example.com"]]
    assert "Harbour Bakery" not in mailoutbox[0].subject
    assert confirmation_link(mailoutbox).startswith("https://balance.example.org/confirm/")
    assert "ada@example.com" in " ".join(messages_of(response))
    assert "Confirm your e-mail address" in response.text  # the banner


@pytest.mark.django_db
def test_an_unconfirmed_organisation_can_build_but_not_send(manager_client, mailoutbox):
    organisation = make_organisation("Unconfirmed Ltd", confirmed=False)
    manager_client.force_login(organisation.manager)
    draft = make_assessment(make_team(organisation, members=2), invitees=2)
    open_one = make_assessment(make_team(organisation, name="Back office"), status="open")
    invitation = make_invitation(open_one)

    made = manager_client.post(reverse("assessment:team_create"), {"name": "Kitchen"})
    opened = manager_client.post(reverse("assessment:open", args=[draft.pk]), follow=True)
    resent = manager_client.post(
        reverse("assessment:invitation_resend", args=[invitation.pk]), follow=True
    )
    invited = manager_client.post(
        reverse("assessment:manager_invite"), {"email": "colleague@example.com"}, follow=True
    )

    assert made.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Assessment.Status.DRAFT
    assert not AuditEvent.objects.filter(assessment=draft).exists()
    assert mailoutbox == []
    assert not ManagerInvitation.objects.exists()
    assert not SentMail.objects.exists()
    invitation.refresh_from_db()
    assert (invitation.send_count, invitation.sent_at) == (0, None)
    for response in (opened, resent, invited):
        assert response.status_code == 200
        assert "Confirm your e-mail address" in response.text
    assert any("confirm your e-mail address" in m.lower() for m in messages_of(opened))


@pytest.mark.django_db
def test_the_confirmation_link_asks_for_a_press_and_works_once(
    client, client_factory, mailoutbox, settings, django_capture_on_commit_callbacks
):
    sign_up(client, django_capture_on_commit_callbacks)
    path = path_of(confirmation_link(mailoutbox), settings)
    elsewhere = client_factory()  # the link works in any browser: it proves the mailbox

    shown = elsewhere.get(path)
    organisation = Organisation.objects.get(name="Harbour Bakery")
    organisation.refresh_from_db()
    assert shown.status_code == 200
    assert "Confirm" in shown.text
    assert organisation.email_confirmed_at is None  # a GET (a mail scanner) changes nothing

    confirmed = elsewhere.post(path, follow=True)
    organisation.refresh_from_db()
    first = organisation.email_confirmed_at
    again = elsewhere.post(path, follow=True)
    organisation.refresh_from_db()

    assert confirmed.status_code == 200
    assert first is not None
    assert "confirmed" in " ".join(messages_of(confirmed))
    assert again.status_code == 200
    assert "already confirmed" in again.text
    assert organisation.email_confirmed_at == first


@pytest.mark.django_db
def test_an_expired_or_damaged_confirmation_link_confirms_nothing(
    client, client_factory, mailoutbox, settings, monkeypatch, django_capture_on_commit_callbacks
):
    sign_up(client, django_capture_on_commit_callbacks)
    token = path_of(confirmation_link(mailoutbox), settings).strip("/").split("/")[-1]
    mailoutbox.clear()
    later = client_factory()  # signed in again, days later: the cool-down is long over
    later.force_login(Organisation.objects.get().memberships.get().user)
    SentMail.objects.update(sent_at=timezone.now() - timedelta(days=4))
    four_days_ago = timezone.now().timestamp() - 4 * 24 * 3600
    with monkeypatch.context() as patch:
        patch.setattr(signing.time, "time", lambda: four_days_ago)
        later.post(reverse("assessment:email_confirm_resend"))
    expired = path_of(confirmation_link(mailoutbox), settings)
    damaged = reverse(
        "assessment:email_confirm", args=[token[:-2] + ("xy" if token[-2:] != "xy" else "yz")]
    )

    answers = [client.get(expired), client.post(expired), client.post(damaged)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "expired" in answers[0].text
    assert "expired" in answers[1].text
    assert "not valid" in answers[2].text
    assert Organisation.objects.get().email_confirmed_at is None


@pytest.mark.django_db
def test_the_confirmation_can_be_sent_again_after_a_cool_down(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    sign_up(client, django_capture_on_commit_callbacks)

    again = client.post(reverse("assessment:email_confirm_resend"), follow=True)
    SentMail.objects.filter(kind=SentMail.Kind.CONFIRMATION).update(
        sent_at=timezone.now() - timedelta(minutes=6)
    )
    later = client.post(reverse("assessment:email_confirm_resend"), follow=True)

    assert len(mailoutbox) == 2  # the sign-up's own message, and the later resend
    assert "a few minutes" in " ".join(messages_of(again))
    assert "We sent a new link to ada@example.com" in " ".join(messages_of(later))


@pytest.mark.django_db
def test_the_confirmation_cool_down_holds_in_a_new_session(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    sign_up(client, django_capture_on_commit_callbacks)
    elsewhere = Client()
    elsewhere.force_login(get_user_model().objects.get(email="ada@example.com"))

    refused = elsewhere.post(reverse("assessment:email_confirm_resend"), follow=True)

    assert len(mailoutbox) == 1
    assert "a few minutes" in " ".join(messages_of(refused))
    assert SentMail.objects.filter(kind=SentMail.Kind.CONFIRMATION).count() == 1


# --- caps and cool-downs ---------------------------------------------------------------


@pytest.mark.django_db
def test_two_hundred_invitations_in_one_minute_stop_at_the_cap(
    manager_client, mailoutbox, settings
):
    settings.MAIL_CAP_PER_HOUR, settings.MAIL_CAP_PER_DAY = 100, 500
    organisation = manager_client.organisation
    assessment = make_assessment(make_team(organisation), status="open")
    addresses = [f"person{n}@example.com" for n in range(200)]
    started = timezone.now()

    pasted = manager_client.post(
        reverse("assessment:invitations_add", args=[assessment.pk]),
        {"addresses": "\n".join(addresses)},
        follow=True,
    )
    # The manager tries again at once, invitation by invitation, and all together.
    pending = list(assessment.invitations.filter(send_count=0).order_by("pk")[:50])
    sent = list(assessment.invitations.filter(send_count=1).order_by("pk")[:50])
    one_by_one = [
        manager_client.post(reverse("assessment:invitation_resend", args=[i.pk]))
        for i in pending + sent
    ]
    all_at_once = manager_client.post(
        reverse("assessment:send_unsent", args=[assessment.pk]), follow=True
    )

    statuses = [pasted.status_code, all_at_once.status_code, *(r.status_code for r in one_by_one)]
    assert [s for s in statuses if s >= 500] == []
    assert len(mailoutbox) == 100
    assert SentMail.objects.filter(organisation=organisation).count() == 100
    assert assessment.invitations.count() == 200
    assert assessment.invitations.filter(send_count=0).count() == 100
    first = SentMail.objects.filter(organisation=organisation).earliest("sent_at").sent_at
    message = " ".join(messages_of(pasted))
    assert "100 invitations were sent" in message
    assert "100 are waiting" in message
    assert clock(first + timedelta(hours=1)) in message
    assert "100 an hour" in message
    assert "Send the unsent invitations" in pasted.text
    assert "100 are waiting" in " ".join(messages_of(all_at_once))
    assert timezone.now() - started < timedelta(minutes=1)


@pytest.mark.django_db
def test_the_daily_cap_counts_the_whole_day(manager_client, mailoutbox, settings):
    settings.MAIL_CAP_PER_HOUR, settings.MAIL_CAP_PER_DAY = 10, 12
    organisation = manager_client.organisation
    earlier = timezone.now() - timedelta(hours=5)
    for _ in range(10):
        SentMail.objects.create(organisation=organisation, kind=SentMail.Kind.INVITATION)
    SentMail.objects.filter(organisation=organisation).update(sent_at=earlier)
    assessment = make_assessment(make_team(organisation), invitees=5)

    response = manager_client.post(reverse("assessment:open", args=[assessment.pk]), follow=True)

    assert len(mailoutbox) == 2
    message = " ".join(messages_of(response))
    assert "3 are waiting" in message
    assert "12 a day" in message
    assert clock(earlier + timedelta(days=1)) in message


@pytest.mark.django_db
def test_a_resend_within_the_cool_down_is_refused_with_when_it_can_go(
    manager_client, mailoutbox, settings
):
    settings.INVITATION_RESEND_COOLDOWN_MINUTES = 10
    assessment = make_assessment(make_team(manager_client.organisation), invitees=1)
    manager_client.post(reverse("assessment:open", args=[assessment.pk]))
    invitation = assessment.invitations.get()

    too_soon = manager_client.post(
        reverse("assessment:invitation_resend", args=[invitation.pk]), follow=True
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_at=timezone.now() - timedelta(minutes=11)
    )
    later = manager_client.post(
        reverse("assessment:invitation_resend", args=[invitation.pk]), follow=True
    )

    invitation.refresh_from_db()
    assert len(mailoutbox) == 2
    assert invitation.send_count == 2
    assert "10 minutes" in " ".join(messages_of(too_soon))
    assert "A new link was sent" in " ".join(messages_of(later))


@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_cannot_pass_the_cap_together(settings, mailoutbox):
    """Ten invitations sent at the same moment with room for four: the count and the record
    are one step under the organisation's row lock (PostgreSQL), or SQLite's one writer."""
    settings.MAIL_CAP_PER_HOUR = 4
    assessment = make_assessment(make_team(make_organisation()), status="open", invitees=10)
    invitations = list(assessment.invitations.select_related("assessment__organisation"))

    outcomes = run_together(
        *(partial(services.invitation_send, invitation=invitation) for invitation in invitations)
    )

    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert SentMail.objects.count() == 4
    assert len(mailoutbox) == 4
    assert len(refused) == 6
    assert all(isinstance(o, CapReached) for o in refused), refused


@pytest.mark.django_db
def test_an_invitee_asking_for_a_fresh_link_at_the_cap_is_told_in_their_terms(settings):
    settings.MAIL_CAP_PER_HOUR = 1
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="open")
    invitation = make_invitation(assessment)
    SentMail.objects.create(organisation=organisation, kind=SentMail.Kind.INVITATION)

    with pytest.raises(services.ServiceError, match="cannot send a fresh link just now") as error:
        services.invitation_renew(invitation=invitation)

    assert "organisation" not in str(error.value)
    invitation.refresh_from_db()
    assert (invitation.send_count, invitation.sent_at) == (0, None)


# --- user text only quoted in the body, never in a subject -------------------------------


@pytest.mark.django_db
def test_no_subject_carries_text_a_user_typed(manager_client, mailoutbox, settings):
    organisation = manager_client.organisation
    Organisation.objects.filter(pk=organisation.pk).update(name="WIN A PRIZE at evil.example")
    manager = organisation.manager
    manager.first_name, manager.last_name = "Claim", "Yours Now"
    manager.save()
    team = make_team(organisation, members=1)
    assessment = make_assessment(team, invitees=1)
    Assessment.objects.filter(pk=assessment.pk).update(title="Your account is suspended")

    manager_client.post(reverse("assessment:open", args=[assessment.pk]))
    manager_client.post(reverse("assessment:manager_invite"), {"email": "new@example.com"})
    manager_client.post(reverse("password_reset"), {"email": manager.email})

    assert len(mailoutbox) == 3
    typed = ("WIN A PRIZE", "evil.example", "suspended", "Claim", "Yours Now")
    for message in mailoutbox:
        assert not any(text in message.subject for text in typed), message.subject
    invitation, manager_invitation, _reset = mailoutbox
    assert '"Your account is suspended"' in invitation.body
    assert '"WIN A PRIZE at evil.example"' in invitation.body
    assert "on behalf of" in invitation.body
    assert '"WIN A PRIZE at evil.example"' in manager_invitation.body
    assert "on behalf of" in manager_invitation.body


# --- opening checks every address; a failed send can be retried ---------------------------


@pytest.mark.django_db
def test_an_address_with_a_control_character_refuses_the_opening_and_changes_nothing(
    manager_client, mailoutbox
):
    assessment = make_assessment(make_team(manager_client.organisation), invitees=5)
    Invitation.objects.create(  # stored before the forms refused such addresses
        assessment=assessment,
        email=BAD_ADDRESS,
        token_hash="0" * 64,
        token_expires_at=timezone.now() + timedelta(days=30),
    )

    response = manager_client.post(reverse("assessment:open", args=[assessment.pk]), follow=True)

    assessment.refresh_from_db()
    assert response.status_code == 200
    assert assessment.status == Assessment.Status.DRAFT
    assert assessment.opened_at is None
    assert not AuditEvent.objects.filter(assessment=assessment).exists()
    assert mailoutbox == []
    assert not SentMail.objects.exists()
    assert not assessment.invitations.filter(send_count__gt=0).exists()
    message = " ".join(messages_of(response))
    assert r'"a\x0bb"@x.example' in message
    assert "Revoke" in message


@pytest.mark.django_db
def test_a_stored_bad_address_on_an_open_assessment_is_reported_each_time(
    manager_client, mailoutbox
):
    assessment = make_assessment(make_team(manager_client.organisation), status="open")
    bad = make_invitation(assessment, email=BAD_ADDRESS)

    answers = [
        manager_client.post(reverse("assessment:invitation_resend", args=[bad.pk]), follow=True)
        for _ in range(2)
    ]

    bad.refresh_from_db()
    assert [a.status_code for a in answers] == [200, 200]
    assert all(r'"a\x0bb"@x.example' in " ".join(messages_of(a)) for a in answers)
    assert (bad.send_count, bad.sent_at) == (0, None)
    assert mailoutbox == []
    assert not SentMail.objects.exists()


@pytest.mark.django_db
def test_a_mail_server_that_is_down_leaves_an_open_assessment_to_retry_from(
    manager_client, mailoutbox, settings
):
    assessment = make_assessment(make_team(manager_client.organisation), invitees=3)
    refusing_everyone(settings)

    opened = manager_client.post(reverse("assessment:open", args=[assessment.pk]), follow=True)

    assessment.refresh_from_db()
    assert opened.status_code == 200
    assert assessment.status == Assessment.Status.OPEN
    assert not SentMail.objects.exists()
    assert not assessment.invitations.filter(send_count__gt=0).exists()
    message = " ".join(messages_of(opened))
    for email in assessment.invitations.values_list("email", flat=True):
        assert email in message
    assert "could not be reached" in message
    assert opened.text.count("Not sent") == 3
    assert "Send the unsent invitations" in opened.text

    delivering_again(settings)
    retried = manager_client.post(
        reverse("assessment:send_unsent", args=[assessment.pk]), follow=True
    )

    assert len(mailoutbox) == 3
    assert SentMail.objects.count() == 3
    assert assessment.invitations.filter(send_count=1).count() == 3
    assert "3 invitations were sent" in " ".join(messages_of(retried))
    assert "Send the unsent invitations" not in retried.text


# --- password reset ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_reset_link_uses_site_url_whatever_the_host_header(client, mailoutbox, settings):
    settings.SITE_URL = "https://balance.example.org"
    settings.ALLOWED_HOSTS = ["testserver", "balance.example.org", "evil.example"]
    user = make_organisation().manager

    response = client.post(
        reverse("password_reset"), {"email": user.email}, HTTP_HOST="evil.example"
    )

    assert response.status_code == 302
    (message,) = mailoutbox
    (link,) = links_in(message)
    assert link.startswith("https://balance.example.org/accounts/reset/")
    assert "evil.example" not in message.body + message.subject
    assert client.get(path_of(link, settings), follow=True).status_code == 200


@pytest.mark.django_db
def test_known_and_unknown_addresses_take_the_same_path(client, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    user = make_organisation().manager
    default_task_backend.clear()

    def ask(email: str):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(reverse("password_reset"), {"email": email})
        templates = [t.name for t in response.templates]
        return response.status_code, response["Location"], len(queries), templates

    known = ask(user.email)
    unknown = ask("nobody@example.com")

    assert known == unknown
    assert [r.task.name for r in default_task_backend.results] == [
        "password_reset_send",
        "password_reset_send",
    ]
    assert [r.kwargs for r in default_task_backend.results] == [
        {"email": user.email},
        {"email": "nobody@example.com"},
    ]


def test_the_confirmation_link_pattern_is_what_the_tests_expect():
    """The tests above find the link by ``/confirm/``; keep them honest if it moves."""
    assert re.match(r"^/confirm/", reverse("assessment:email_confirm", args=["x"]))
