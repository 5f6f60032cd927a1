"""An organisation's action due dates as an iCalendar feed (RFC 5545), built with the
``icalendar`` package: one all-day event per open action with a due date.

Each event's UID is fixed by the action's id and the site's host, so a calendar that
subscribes updates an event when its action changes rather than adding another.
"""

import datetime
from collections.abc import Iterable
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from assessment.models import Organisation
from assessment.models.actions import Action

PRODUCT_ID = "-//Service Balance//Action plans//EN"


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "service-balance"


def action_uid(action: Action) -> str:
    """The event's identifier: the same for one action at every fetch of the feed."""
    return f"action-{action.pk}@{_host()}"


def _description(action: Action) -> str:
    nobody = _("nobody yet")
    lines = [
        _("Owner: %(owner)s") % {"owner": action.owner_label or nobody},
        _("Section: %(section)s") % {"section": action.section.name if action.section else "—"},
        _("Assessment: %(assessment)s (%(team)s)")
        % {"assessment": action.assessment.title, "team": action.assessment.team.name},
        _("Status: %(status)s") % {"status": action.get_status_display()},
    ]
    if action.is_required:
        lines.append(_("Required by the assessor"))
    return "\n".join(lines)


def action_calendar(organisation: Organisation, actions: Iterable[Action]) -> bytes:
    """The feed's content: one all-day VEVENT per action given (each with a due date)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    name = _("Actions: %(organisation)s") % {"organisation": organisation.name}
    calendar.add("x-wr-calname", name)
    for action in actions:
        event = icalendar.Event()
        event.add("uid", action_uid(action))
        event.add("dtstamp", action.updated_at.astimezone(datetime.UTC))
        event.add("last-modified", action.updated_at.astimezone(datetime.UTC))
        event.add("dtstart", action.due_date)
        event.add("dtend", action.due_date + datetime.timedelta(days=1))
        event.add("summary", action.title)
        event.add("description", _description(action))
        event.add(
            "url",
            settings.SITE_URL.rstrip("/")
            + reverse("assessment:action_plan", args=[action.assessment_id]),
        )
        event.add("transp", "TRANSPARENT")  # a due date, not time taken
        calendar.add_component(event)
    return calendar.to_ical()
