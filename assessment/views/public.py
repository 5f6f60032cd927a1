from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from assessment import scoring
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
def health(request: HttpRequest) -> HttpResponse:
    """Liveness and database check for load balancers: 200 when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not healthy"
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})
