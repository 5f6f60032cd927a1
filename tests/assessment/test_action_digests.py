"""The owners' weekly digest (``manage.py send_action_digests``, issue 18): once per address
and ISO week, through the organisation's mail service and its caps; the locmem backend."""

import datetime
import io
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from assessment.models import SentMail
from assessment.models.actions import Action, ActionDigest
from tests.factories import (
    make_assessment,
    make_membership,
    make_organisation,
    make_team,
    make_user,
)

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 3, 2)  # an ISO week's first day
WEDNESDAY = MONDAY + datetime.timedelta(days=2)


@pytest.fixture
def assessment(organisation):
    return make_assessment(make_team(organisation), status="open")


def make_action(assessment, **fields) -> Action:
    fields.setdefault("title", "An action")
    return Action.objects.create(assessment=assessment, created_by=assessment.created_by, **fields)


def run(*args: str, today: datetime.date = WEDNESDAY) -> str:
    out = io.StringIO()
    with mock.patch.object(timezone, "localdate", return_value=today):
        call_command("send_action_digests", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def owners(assessment):
    """A member owning an overdue and a far action, a named person owning one due soon, an
    unowned action and a named person without an address."""
    member = make_user("mira", first_name="Mira", email="mira@example.com")
    make_membership(assessment.organisation, member)
    make_action(
        assessment, title="Late one", owner=member, due_date=WEDNESDAY - datetime.timedelta(days=2)
    )
    make_action(
        assessment, title="Far one", owner=member, due_date=WEDNESDAY + datetime.timedelta(days=60)
    )
    make_action(assessment, title="Finished", owner=member, status="done")
    make_action(
        assessment,
        title="Soon one",
        owner_name="Pat Named",
        owner_email="pat@example.com",
        due_date=WEDNESDAY + datetime.timedelta(days=5),
    )
    make_action(assessment, title="Nobody's")
    make_action(assessment, title="No address", owner_name="Quiet Person")
    return member


def test_each_owner_gets_one_digest_listing_their_open_actions(owners):
    output = run()

    assert "2 digest(s) sent" in output
    by_address = {message.to[0]: message for message in mail.outbox}
    assert set(by_address) == {"mira@example.com", "pat@example.com"}
    mira = by_address["mira@example.com"].body
    assert "Late one" in mira
    assert "Far one" in mira
    assert "Finished" not in mira
    assert mira.index("Overdue") < mira.index("Late one") < mira.index("Other open actions")
    assert "/actions/" in mira  # a member can open the plan
    pat = by_address["pat@example.com"]
    assert "Soon one" in pat.body
    assert "Due in the next two weeks" in pat.body
    assert "/actions/" not in pat.body  # no account: no link to a page they cannot open
    # An HTML alternative beside the text.
    (html, kind) = pat.alternatives[0]
    assert kind == "text/html"
    assert "Soon one" in html
    assert ActionDigest.objects.filter(week=MONDAY).count() == 2
    assert SentMail.objects.filter(kind=SentMail.Kind.ACTION_DIGEST).count() == 2


def test_running_twice_in_one_week_sends_each_digest_once(owners):
    run(today=MONDAY)
    first = len(mail.outbox)
    output = run(today=MONDAY + datetime.timedelta(days=4))

    assert first == 2
    assert len(mail.outbox) == 2
    assert "0 digest(s) sent, 2 already sent this week" in output
    assert ActionDigest.objects.count() == 2


def test_next_week_each_owner_gets_one_again(owners):
    run(today=WEDNESDAY)
    run(today=WEDNESDAY + datetime.timedelta(days=7))
    run(today=WEDNESDAY + datetime.timedelta(days=8))

    assert len(mail.outbox) == 4
    assert sorted(ActionDigest.objects.values_list("week", flat=True)) == [
        MONDAY,
        MONDAY,
        MONDAY + datetime.timedelta(days=7),
        MONDAY + datetime.timedelta(days=7),
    ]


def test_dry_run_prints_who_would_get_what_and_sends_nothing(owners):
    output = run("--dry-run")

    assert "mira@example.com: 1 overdue, 0 due soon, 1 other open" in output
    assert "pat@example.com: 0 overdue, 1 due soon, 0 other open" in output
    assert "Late one" in output
    assert mail.outbox == []
    assert not ActionDigest.objects.exists()


def test_an_unconfirmed_organisation_sends_nothing(db):
    organisation = make_organisation("Unconfirmed Ltd", confirmed=False)
    assessment = make_assessment(make_team(organisation), status="open")
    make_action(assessment, owner=organisation.manager, due_date=WEDNESDAY)

    run()

    assert mail.outbox == []
    assert not ActionDigest.objects.exists()


def test_at_the_sending_cap_the_digest_waits_for_a_later_run(owners, settings):
    settings.MAIL_CAP_PER_HOUR = 1

    first = run()
    assert "1 digest(s) sent" in first
    assert "1 not sent" in first
    assert len(mail.outbox) == 1
    assert ActionDigest.objects.count() == 1  # the refused one left no record

    settings.MAIL_CAP_PER_HOUR = 100
    run()
    assert len(mail.outbox) == 2
    assert ActionDigest.objects.count() == 2


def test_a_failing_backend_records_nothing_so_the_next_run_retries(owners):
    with mock.patch("assessment.services.common.send_mail", side_effect=OSError("down")):
        output = run()
    assert "2 not sent" in output
    assert not ActionDigest.objects.exists()
    assert not SentMail.objects.exists()

    run()
    assert len(mail.outbox) == 2


def test_one_address_owning_actions_of_two_organisations_gets_one_digest(owners, assessment):
    other = make_organisation("Other Ltd")
    make_membership(other, owners)
    make_action(
        make_assessment(make_team(other), status="open"),
        title="Other organisation's",
        owner=owners,
        due_date=WEDNESDAY,
    )

    run()

    (digest,) = [m for m in mail.outbox if m.to == ["mira@example.com"]]
    assert "Other organisation's" in digest.body
    assert "Late one" in digest.body
    # Counted against both organisations' caps.
    assert SentMail.objects.filter(organisation=other).count() == 1


# --- found by reading the change (issue 18 review) --------------------------------------


def test_an_address_in_another_case_is_the_same_owner_and_gets_one_digest(assessment):
    make_action(assessment, title="One", owner_name="Pat", owner_email="pat@example.com")
    run()
    # A new action, due earlier, names the same address in capitals.
    make_action(
        assessment,
        title="Two",
        owner_name="Pat",
        owner_email="Pat@Example.com",
        due_date=WEDNESDAY - datetime.timedelta(days=1),
    )

    run()

    assert len(mail.outbox) == 1
    assert ActionDigest.objects.count() == 1


def test_a_former_member_gets_no_digest(assessment):
    gone = make_user("gone", email="gone@example.com")
    membership = make_membership(assessment.organisation, gone)
    make_action(assessment, title="Left behind", owner=gone)
    membership.delete()
    inactive = make_user("idle", email="idle@example.com", is_active=False)
    make_membership(assessment.organisation, inactive)
    make_action(assessment, title="Asleep", owner=inactive)
    still = make_user("still", email="still@example.com")
    make_membership(assessment.organisation, still)
    make_action(assessment, title="Mine", owner=still)

    run()

    assert [message.to for message in mail.outbox] == [["still@example.com"]]
