"""Public pages: home, scoring rules, the glossary, health, errors; confirming a sign-up's
address and asking for a password reset."""

import sys

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessment import access, languages, scoring, services
from assessment.forms.public import ConfirmationLinkForm, LanguageForm, PasswordResetForm
from assessment.log_filters import first_line, is_database_outage
from assessment.scoring import formula2
from assessment.selectors import public as public_selectors
from frameworks import selectors as framework_selectors


@login_not_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Landing page: what the product is, and the models it encodes."""
    return render(
        request,
        "assessment/home.html",
        {"frameworks": framework_selectors.current_versions()},
    )


def _thresholds() -> dict:
    """The thresholds in force, for the pages that explain them (no query): the settings'
    and the scoring modules' own values, never numbers written into a template."""
    floor_level = settings.SCORING_FLOOR_LEVEL
    scale = scoring.SCALE_V2
    return {
        "rules": scoring,
        "formula2": formula2,
        "min_rated_percent": round(scoring.MIN_RATED_SHARE * 100),
        "anonymity_minimum": settings.ANONYMITY_THRESHOLD,
        "floor_level": floor_level,
        "floor": formula2.band_floor(floor_level, scale),
        "level_points": round(scoring.level_to_score(scale.min + 1, scale)),
    }


@login_not_required
@require_GET
def scoring_rules(request: HttpRequest) -> HttpResponse:
    """How scores, balance, verdicts and awards are worked out, with the thresholds in
    force (formula 2 first, then version 1's rules). One query: the scale's names."""
    scale = scoring.SCALE_V2
    steps = public_selectors.scale_steps()
    # The names the current frameworks give the levels, when they are the 0-5 ladder that
    # formula 2 scores (before any format-2 framework is loaded there are none to show).
    names = {step.value: step.labels[0] for step in steps if step.labels}
    if not steps or steps[0].value != scale.min:
        names = {}
    bands = [
        {
            "level": level,
            "low": formula2.band_floor(level, scale),
            "high": formula2.band_floor(level + 1, scale) if level < scale.max else 100,
            "name": names.get(level, ""),
        }
        for level in scale.levels
    ]
    return render(
        request,
        "assessment/scoring.html",
        _thresholds()
        | {
            "bands": bands,
            "floor_name": names.get(settings.SCORING_FLOOR_LEVEL, ""),
            "top_level": scale.max,
        },
    )


@login_not_required
@require_GET
def glossary(request: HttpRequest) -> HttpResponse:
    """The words of the results pages in plain language, each under its own anchor."""
    return render(
        request,
        "assessment/glossary.html",
        _thresholds() | {"levels": public_selectors.scale_steps()},
    )


@login_not_required
@require_GET
@never_cache
def health(request: HttpRequest) -> HttpResponse:
    """Liveness and database check for load balancers: 200 when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any database failure means "not healthy"
        response = JsonResponse({"status": "unavailable", "database": "down"}, status=503)
        # A warning, not an error with Django's default wording: a load balancer polls
        # this every few seconds during an outage.
        log_response(
            "Health check: database unavailable (%s)",
            first_line(error),
            response=response,
            request=request,
            level="warning",
        )
        return response
    return JsonResponse({"status": "ok", "database": "up"})


# How long a client should wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 10


def server_error(request: HttpRequest) -> HttpResponse:
    """The error page (``handler500``). A database that cannot be reached is a 503,
    "try again shortly", not a crash. Renders without the request's context: the
    context processors (the signed-in user) would need the database that just failed."""
    if is_database_outage(sys.exc_info()[1]):
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(loader.render_to_string("500.html"), status=500)


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a sign-in while that username is locked for this client."""
    return render(
        request,
        "registration/locked_out.html",
        {
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


# --- confirming the address an organisation signed up with ---------------------------


@login_not_required
@require_http_methods(["GET", "POST"])
@never_cache
@sensitive_variables("token")
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the confirmation e-mail: a GET shows a button (a mail scanner that
    follows links confirms nothing); the POST confirms. Works in any browser."""
    form = ConfirmationLinkForm({"token": token})
    if not form.is_valid():
        problem = form.errors["token"][0]
        return render(request, "assessment/manager/email_confirm.html", {"problem": problem})
    if request.method == "GET":
        return render(request, "assessment/manager/email_confirm.html", {"ready": True})
    claim = form.cleaned_data["token"]
    try:
        services.organisation_email_confirm(
            organisation_id=claim["organisation"], user_id=claim["user"], email=claim["email"]
        )
    except services.ServiceError as error:
        return render(request, "assessment/manager/email_confirm.html", {"problem": str(error)})
    messages.success(
        request, _("Thank you: your e-mail address is confirmed. You can send invitations now.")
    )
    if request.user.is_authenticated:
        return redirect("assessment:dashboard")
    return redirect("login")


@require_POST
def email_confirm_resend(request: HttpRequest) -> HttpResponse:
    """Send the signed-in manager a new confirmation link, at most once every few minutes."""
    organisation = access.organisation_for_manager(request.user)
    try:
        services.email_confirmation_send(organisation=organisation, user=request.user)
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("We sent a new link to %(email)s. It works for a few days.")
            % {"email": request.user.email},
        )
    return redirect("assessment:dashboard")


# --- password reset -----------------------------------------------------------------


@login_not_required
@require_http_methods(["GET", "POST"])
@never_cache
def password_reset(request: HttpRequest) -> HttpResponse:
    """Ask for a password reset link. Known and unknown addresses get the same answer
    after the same work: the lookup and the e-mail happen in a background task."""
    form = PasswordResetForm(request.POST or None)
    if form.is_valid():
        services.password_reset_request(email=form.cleaned_data["email"])
        return redirect("password_reset_done")
    return render(request, "registration/password_reset_form.html", {"form": form})


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switcher (a plain form in every page's footer; no script needed):
    keep the choice (assessment.languages) and go back to the page it was made on."""
    form = LanguageForm(request.POST, request=request)
    if not form.is_valid():
        return render(request, "assessment/language_refused.html", {"form": form}, status=400)
    language = form.cleaned_data["language"]
    services.language_choose(
        language=language,
        user=request.user if request.user.is_authenticated else None,
        held_responses=access.responses_held(request),
    )
    response = HttpResponseRedirect(form.cleaned_data["next"] or reverse("home"))
    languages.remember(request, response, language)
    return response
