"""Customer surveys: the customers' public page, and the manager's pages that open a
survey, show its link as a QR code and show what customers said (docs/customer-voice.md).

The public page has no account, no session and no script: a customer opens the link,
answers and sends. The only cookie it sets is a signed note that this browser answered.
"""

import logging
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessment import access, charts, exports, languages, selectors, services
from assessment.client_ip import client_ip
from assessment.forms.customers import (
    CustomerLinksUploadForm,
    CustomerResponseForm,
    CustomerSurveyCreateForm,
)
from assessment.models import CustomerSurvey
from assessment.models.customers import CUSTOMER_COMMENT_MAX_LENGTH
from assessment.services.common import absolute_url
from assessment.views.common import attempt

log = logging.getLogger("assessment.customers")

Refusal = CustomerSurvey.Refusal
ANSWERED_SALT = "customer-survey-answered"
ANSWERED_MAX_AGE = 365 * 24 * 60 * 60
# The status of a refused submission, by reason: a script sees a refusal, not a success.
REFUSAL_STATUS = {
    Refusal.REPEAT: 409,
    Refusal.RATE: 429,
    Refusal.BOT: 403,
    Refusal.CLOSED: 410,
}


def _answered_cookie(survey: CustomerSurvey) -> str:
    return f"answered-{survey.pk}"


def _answered(request: HttpRequest, survey: CustomerSurvey) -> bool:
    """Whether this browser carries our signed note that it answered this survey."""
    value = request.get_signed_cookie(
        _answered_cookie(survey), default=None, salt=ANSWERED_SALT, max_age=ANSWERED_MAX_AGE
    )
    return value is not None


def _public_survey(token: str) -> CustomerSurvey:
    survey = selectors.customers.survey_for_public(token)
    if survey is None:
        raise Http404
    return survey


def _in_survey_language(request: HttpRequest, survey: CustomerSurvey) -> None:
    """A customer who has not chosen a language reads the survey in its own."""
    languages.use_default(request, languages.for_survey(survey))


def _closed_message(survey: CustomerSurvey, state: str) -> str:
    if state == "not-yet":
        return _("This survey opens on %(date)s. Please come back then.") % {
            "date": formats.date_format(survey.opens_on, "DATE_FORMAT")
        }
    return CustomerSurvey.refusal_message(Refusal.CLOSED)


def _refused(request: HttpRequest, survey: CustomerSurvey, message: str, status: int):
    return render(
        request,
        "assessment/customers/refused.html",
        {"survey": survey, "message": message},
        status=status,
    )


def _survey_page(
    request: HttpRequest, survey: CustomerSurvey, form, status: int = 200, personal: bool = False
):
    return render(
        request,
        "assessment/customers/survey.html",
        {
            "survey": survey,
            "form": form,
            "comment_max": CUSTOMER_COMMENT_MAX_LENGTH,
            "personal": personal,
        },
        status=status,
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def survey_public(request: HttpRequest, token: str) -> HttpResponse:
    """The customers' page: the questions, then one INSERT or a polite refusal."""
    survey = _public_survey(token)
    _in_survey_language(request, survey)
    answered = _answered(request, survey)
    if request.method == "GET":
        state = survey.state(selectors.customers.response_count(survey))
        if state != "open":
            return _refused(request, survey, _closed_message(survey, state), status=200)
        if answered and not survey.allow_repeat:
            return _refused(
                request,
                survey,
                CustomerSurvey.refusal_message(Refusal.REPEAT),
                status=200,
            )
        return _survey_page(
            request, survey, CustomerResponseForm(version=survey.version, survey_id=survey.pk)
        )

    form = CustomerResponseForm(request.POST, version=survey.version, survey_id=survey.pk)
    if not form.is_valid():
        return _survey_page(request, survey, form, status=400)
    refusal = services.customer_response_submit(
        survey_id=survey.pk,
        answers=form.answers(),
        address=client_ip(request),
        repeat=answered,
        automated=form.looks_automated(),
    )
    if refusal is not None:
        log.info("Customer survey %s refused a submission: %s", survey.pk, refusal)
        return _refused(
            request,
            survey,
            CustomerSurvey.refusal_message(refusal),
            REFUSAL_STATUS[Refusal(refusal)],
        )
    response = redirect("customer_survey_thanks", token=token)
    response.set_signed_cookie(
        _answered_cookie(survey),
        "1",
        salt=ANSWERED_SALT,
        max_age=ANSWERED_MAX_AGE,
        path=survey.public_path(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def survey_personal(request: HttpRequest, token: str) -> HttpResponse:
    """A customer's personal link: the same questions, once. No cookie and no rate limit
    (the link itself is the limit); the minimum time and the hidden field still apply."""
    link = selectors.customers.link_for_token(token)
    if link is None or link.used:
        return render(
            request,
            "assessment/customers/link_problem.html",
            {"survey": link.survey if link else None},
            status=404 if link is None else 410,
        )
    survey = link.survey
    _in_survey_language(request, survey)
    if request.method == "GET":
        state = survey.state(selectors.customers.response_count(survey))
        if state != "open":
            return _refused(request, survey, _closed_message(survey, state), status=200)
        form = CustomerResponseForm(version=survey.version, survey_id=survey.pk)
        return _survey_page(request, survey, form, personal=True)
    form = CustomerResponseForm(request.POST, version=survey.version, survey_id=survey.pk)
    if not form.is_valid():
        return _survey_page(request, survey, form, status=400, personal=True)
    refusal = services.customer_link_submit(
        token=token, answers=form.answers(), automated=form.looks_automated()
    )
    if refusal == "used":
        return render(
            request, "assessment/customers/link_problem.html", {"survey": survey}, status=410
        )
    if refusal is not None:
        return _refused(
            request,
            survey,
            CustomerSurvey.refusal_message(refusal),
            REFUSAL_STATUS[Refusal(refusal)],
        )
    return render(request, "assessment/customers/thanks.html", {"survey": survey, "personal": True})


@login_not_required
@require_GET
def survey_thanks(request: HttpRequest, token: str) -> HttpResponse:
    survey = _public_survey(token)
    _in_survey_language(request, survey)
    return render(request, "assessment/customers/thanks.html", {"survey": survey})


# --- the manager's pages -----------------------------------------------------------


@require_http_methods(["GET", "POST"])
def survey_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a customer survey for an assessment (one per assessment)."""
    assessment = access.assessment_for_manager(request.user, pk)
    existing = selectors.customers.surveys_for_assessment(assessment)
    if existing is not None:
        return redirect(existing)
    return _create_page(request, assessment.team, assessment)


@require_http_methods(["GET", "POST"])
def team_survey_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a customer survey of a team on its own, outside any assessment."""
    team = access.team_for_manager(request.user, pk)
    return _create_page(request, team, None)


def _create_page(request: HttpRequest, team, assessment) -> HttpResponse:
    initial = CustomerSurveyCreateForm.initial_for(_("Customers of %(team)s") % {"team": team.name})
    form = CustomerSurveyCreateForm(request.POST or None, initial=initial)
    if form.is_valid():
        try:
            survey = services.customer_survey_create(
                team=team, assessment=assessment, user=request.user, **form.cleaned_data
            )
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Customer survey opened. Share its link or print its QR code.")
            )
            return redirect(survey)
    return render(
        request,
        "assessment/manager/customer_survey_create.html",
        {
            "team": team,
            "assessment": assessment,
            "form": form,
            "threshold": settings.CUSTOMER_THRESHOLD,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def survey_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a survey's title, dates, cap and whether a browser may answer again (to
    close it early, set its closing date to yesterday)."""
    survey = access.customer_survey_for_manager(request.user, pk)
    form = CustomerSurveyCreateForm(
        request.POST or None,
        initial={
            "title": survey.title,
            "opens_on": survey.opens_on,
            "closes_on": survey.closes_on,
            "max_responses": survey.max_responses,
            "allow_repeat": survey.allow_repeat,
        },
    )
    if form.is_valid():
        try:
            services.customer_survey_update(survey=survey, **form.cleaned_data)
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The survey's settings are saved."))
            return redirect(survey)
    return render(
        request,
        "assessment/manager/customer_survey_edit.html",
        {"survey": survey, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_GET
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The survey's link and QR code, its counts, and (from the threshold) its results."""
    survey = access.customer_survey_for_manager(request.user, pk)
    return _detail_page(request, survey)


def _detail_page(
    request: HttpRequest,
    survey: CustomerSurvey,
    *,
    links_form: CustomerLinksUploadForm | None = None,
    status: int = 200,
) -> HttpResponse:
    team_visible = survey.assessment is not None and selectors.results.team_visible(
        survey.assessment
    )
    voice = selectors.customers.customer_voice(survey, team_visible=team_visible)
    return render(
        request,
        "assessment/manager/customer_survey.html",
        {
            "survey": survey,
            "public_url": absolute_url(survey.public_path()),
            "state": survey.state(voice.results.responses),
            "customers": voice,
            "results": voice.results,
            "links": selectors.customers.link_counts(survey),
            "comments": selectors.customers.customer_comments(voice.results, survey),
            "links_form": links_form or CustomerLinksUploadForm(),
        },
        status=status,
    )


@require_POST
def survey_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop taking answers now: the closing date becomes yesterday."""
    survey = access.customer_survey_for_manager(request.user, pk)
    attempt(
        request,
        partial(services.customer_survey_close, survey=survey),
        success=_("The survey is closed: it takes no more answers."),
    )
    return redirect(survey)


@require_POST
def links_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Add customers from a CSV file to the survey's personal-link list (all or nothing)."""
    survey = access.customer_survey_for_manager(request.user, pk)
    form = CustomerLinksUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            added = services.customer_links_add(survey=survey, entries=form.cleaned_data["file"])
        except services.ServiceError as error:
            form.add_error("file", str(error))
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d customer added to the list. Send the links when you are ready.",
                    "%(count)d customers added to the list. Send the links when you are ready.",
                    added,
                )
                % {"count": added},
            )
            return redirect(survey)
    return _detail_page(request, survey, links_form=form, status=400)


@require_POST
def links_send(request: HttpRequest, pk: int) -> HttpResponse:
    """E-mail a personal link to every customer on the list not yet sent one."""
    survey = access.customer_survey_for_manager(request.user, pk)
    attempt(
        request,
        partial(services.customer_links_send, survey=survey),
        success=_("The links were sent."),
    )
    return redirect(survey)


@require_GET
def survey_qr_svg(request: HttpRequest, pk: int) -> HttpResponse:
    survey = access.customer_survey_for_manager(request.user, pk)
    url = absolute_url(survey.public_path())
    return exports.attachment(
        charts.qr_code(url, "svg", scale=8, title=survey.title),
        filename=f"survey-{survey.pk}-qr.svg",
        file_format=exports.SVG,
    )


@require_GET
def survey_qr_png(request: HttpRequest, pk: int) -> HttpResponse:
    survey = access.customer_survey_for_manager(request.user, pk)
    url = absolute_url(survey.public_path())
    return exports.attachment(
        charts.qr_code(url, "png", scale=12),
        filename=f"survey-{survey.pk}-qr.png",
        file_format=exports.PNG,
    )


@require_GET
def survey_poster(request: HttpRequest, pk: int) -> HttpResponse:
    """An A4 poster of the public link for the counter: the QR code, the address and what
    the survey asks, rendered by the report's locked-down renderer."""
    from assessment import reports  # imported here, as in views.exports

    survey = access.customer_survey_for_manager(request.user, pk)
    url = absolute_url(survey.public_path())
    html = render_to_string(
        "reports/customer_poster.html",
        {
            "survey": survey,
            "public_url": url,
            "qr_svg": charts.qr_svg(url),
            "stylesheet_url": reports.STYLESHEET_URL,
        },
    )
    pdf, _served, _refused = reports.html_to_pdf(html)
    return exports.attachment(
        pdf, filename=f"survey-{survey.pk}-poster.pdf", file_format=exports.PDF
    )
