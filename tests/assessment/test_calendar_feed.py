"""The organisation's private iCalendar feed of action due dates (issue 18): made and
revoked by a manager, read by calendars without signing in, 404 once revoked."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from assessment.gunicorn_conf import redact
from assessment.models import token_digest
from assessment.models.actions import Action, CalendarFeed
from frameworks.models import Section
from tests.factories import make_assessment, make_organisation, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessment(organisation):
    return make_assessment(make_team(organisation), status="open")


def make_action(assessment, **fields) -> Action:
    fields.setdefault("title", "An action")
    return Action.objects.create(assessment=assessment, created_by=assessment.created_by, **fields)


def new_feed(manager_client) -> str:
    """Make a feed on the manager's page; the feed's path, read from the page."""
    response = manager_client.post(reverse("assessment:calendar_feeds"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    url = re.search(r'value="(https?://[^"]+/calendar/[^"]+\.ics)"', response.text).group(1)
    return "/" + url.split("/", 3)[3]


def events(response) -> list:
    calendar = Calendar.from_ical(response.content)
    return list(calendar.walk("VEVENT"))


def test_the_feed_lists_each_open_action_with_a_due_date(manager_client, assessment, settings):
    settings.SITE_URL = "https://balance.example"
    section = Section.objects.filter(version__assessments=assessment).first()
    due = timezone.localdate() + datetime.timedelta(days=9)
    action = make_action(
        assessment, title="Train the desk", due_date=due, section=section, owner_name="Pat"
    )
    make_action(assessment, title="Done already", due_date=due, status="done")
    make_action(assessment, title="Undated")
    elsewhere = make_assessment(make_team(make_organisation("Other Ltd")), status="open")
    make_action(elsewhere, title="Not ours", due_date=due)
    path = new_feed(manager_client)

    response = Client().get(path)  # a calendar program: no session

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    (event,) = events(response)
    assert str(event["SUMMARY"]) == "Train the desk"
    assert str(event["UID"]) == f"action-{action.pk}@balance.example"
    assert event.decoded("DTSTART") == due
    assert event.decoded("DTEND") == due + datetime.timedelta(days=1)
    assert "DTSTAMP" in event
    description = str(event["DESCRIPTION"])
    assert "Pat" in description
    assert section.name in description
    assert assessment.title in description
    assert "Planned" in description
    assert str(event["URL"]) == "https://balance.example" + reverse(
        "assessment:action_plan", args=[assessment.pk]
    )


def test_the_uid_is_stable_between_fetches(manager_client, assessment):
    make_action(assessment, due_date=timezone.localdate())
    path = new_feed(manager_client)

    first, second = (events(Client().get(path))[0]["UID"] for _ in range(2))

    assert first == second


def test_only_the_tokens_digest_is_stored(manager_client, organisation):
    path = new_feed(manager_client)
    token = path.removeprefix("/calendar/").removesuffix(".ics")

    feed = CalendarFeed.objects.get()
    assert feed.token_hash == token_digest(token)
    assert token not in str(list(CalendarFeed.objects.values()))
    # Shown once: the page afterwards lists the feed, not its address.
    assert token not in manager_client.get(reverse("assessment:calendar_feeds")).text


def test_a_revoked_feed_is_a_404(manager_client, assessment):
    make_action(assessment, due_date=timezone.localdate())
    path = new_feed(manager_client)
    assert Client().get(path).status_code == 200
    feed = CalendarFeed.objects.get()

    response = manager_client.post(reverse("assessment:calendar_feed_revoke", args=[feed.pk]))

    assert response.status_code == 302
    assert Client().get(path).status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is not None


@pytest.mark.parametrize("token", ["unknown", "x" * 500, "%00", "../../etc/passwd"])
def test_an_unknown_token_is_a_404(client, token):
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_another_organisations_feed_cannot_be_revoked(client, manager_client, assessment):
    path = new_feed(manager_client)
    feed = CalendarFeed.objects.get()
    client.force_login(make_organisation("Other Ltd").manager)

    response = client.post(reverse("assessment:calendar_feed_revoke", args=[feed.pk]))

    assert response.status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is None
    assert Client().get(path).status_code == 200


def test_the_feed_takes_no_post(manager_client):
    path = new_feed(manager_client)
    assert Client().post(path).status_code == 405


def test_the_token_is_redacted_in_the_access_log():
    line = "GET /calendar/Abc_123-xyz.ics HTTP/1.1"
    assert redact(line) == "GET /calendar/[redacted] HTTP/1.1"
