import sys

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.log import log_response
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from assessment import scoring
from assessment.log_filters import first_line, is_database_outage
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


@login_not_required
@require_GET
def scoring_rules(request: HttpRequest) -> HttpResponse:
    """How scores, balance and verdicts are worked out, with the thresholds in force."""
    return render(
        request,
        "assessment/scoring.html",
        {"rules": scoring, "min_rated_percent": round(scoring.MIN_RATED_SHARE * 100)},
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
