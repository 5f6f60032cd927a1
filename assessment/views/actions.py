"""Action plans: create, edit and follow up actions; the calendar feed.

The manager's pages list an assessment's actions and take new ones and changes; the
organisation's calendar page makes and revokes private feed addresses. The feed itself
(``calendar/<token>.ics``) is public to whoever holds its address, like a customer's
personal link: the token is stored only as a digest, and a revoked or unknown one is a 404.
"""

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessment import access, calendars, selectors, services
from assessment.forms.actions import ActionForm, ActionStartForm
from assessment.models import Assessment
from assessment.services import actions as action_services
from assessment.services.common import absolute_url
from assessment.views.common import attempt


def _form(assessment: Assessment, data=None, **kwargs) -> ActionForm:
    return ActionForm(
        data,
        sections=selectors.actions.action_sections(assessment),
        questions=selectors.actions.action_questions(assessment),
        members=access.organisation_members(assessment.organisation),
        **kwargs,
    )


@require_GET
def action_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """The assessment's actions: required ones first, then by due date."""
    assessment = access.assessment_for_manager(request.user, pk)
    return render(
        request,
        "assessment/actions/action_plan.html",
        {
            "assessment": assessment,
            "actions": selectors.actions.assessment_actions(assessment),
        },
    )


@require_http_methods(["GET", "POST"])
def action_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A new action; from the results page's priorities, its section is filled in."""
    assessment = access.assessment_for_manager(request.user, pk)
    if request.method == "POST":
        form = _form(assessment, request.POST)
    else:
        start = ActionStartForm(request.GET, sections=selectors.actions.action_sections(assessment))
        form = _form(assessment, initial={"section": start.initial_section()})
    if form.is_valid():
        try:
            action_services.action_create(
                assessment=assessment, by=request.user, **form.action_fields()
            )
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Action added to the plan."))
            return redirect("assessment:action_plan", pk=assessment.pk)
    return render(
        request,
        "assessment/actions/action_form.html",
        {"assessment": assessment, "form": form, "action": None},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an action. Of one the assessor required, the title and section stay."""
    action = access.action_for_manager(request.user, pk)
    assessment = action.assessment
    form = _form(
        assessment,
        request.POST if request.method == "POST" else None,
        initial=ActionForm.initial_for(action),
        required=action.is_required,
    )
    if form.is_valid():
        try:
            action_services.action_update(action=action, by=request.user, **form.action_fields())
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The action is saved."))
            return redirect("assessment:action_plan", pk=assessment.pk)
    return render(
        request,
        "assessment/actions/action_form.html",
        {"assessment": assessment, "form": form, "action": action},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def action_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete an action the manager created (a required one stays)."""
    action = access.action_for_manager(request.user, pk)
    attempt(
        request,
        partial(action_services.action_delete, action=action, by=request.user),
        success=_("The action is deleted."),
    )
    return redirect("assessment:action_plan", pk=action.assessment_id)


# --- the calendar feed ------------------------------------------------------------------


def _feeds_page(request: HttpRequest, *, new_url: str = "", status: int = 200) -> HttpResponse:
    organisation = access.organisation_for_manager(request.user)
    return render(
        request,
        "assessment/actions/calendar_feeds.html",
        {
            "organisation": organisation,
            "feeds": selectors.actions.organisation_feeds(organisation),
            "new_url": new_url,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def calendar_feeds(request: HttpRequest) -> HttpResponse:
    """The organisation's private feed addresses; a POST makes a new one, shown once."""
    if request.method == "GET":
        return _feeds_page(request)
    organisation = access.organisation_for_manager(request.user)
    _feed, token = action_services.calendar_feed_create(organisation=organisation, by=request.user)
    # Shown on this response only (never stored, not even in a message): a reload of the
    # page shows the list without it.
    url = absolute_url(reverse("calendar_feed", kwargs={"token": token}))
    response = _feeds_page(request, new_url=url)
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def calendar_feed_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    feed = access.calendar_feed_for_manager(request.user, pk)
    attempt(
        request,
        partial(action_services.calendar_feed_revoke, feed=feed, by=request.user),
        success=_("The feed is revoked: calendars that used its address get nothing more."),
    )
    return redirect("assessment:calendar_feeds")


@login_not_required
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The organisation's open actions with due dates, as iCalendar, to whoever holds the
    feed's address; a revoked or unknown address is a 404."""
    feed = selectors.actions.feed_for_token(token)
    if feed is None:
        raise Http404
    content = calendars.action_calendar(
        feed.organisation, selectors.actions.feed_actions(feed.organisation)
    )
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="actions.ics"'
    return response
