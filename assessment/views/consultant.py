"""Consultants: managers grant and revoke a consultancy's access; consultants see their
clients' portfolio and download the reports and scores of assessments they may see.

Everything a consultant opens goes through ``access.assessment_for_consultant``: without
a current grant (none, expired or revoked) the assessment is a 404.
"""

from functools import partial

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessment import access, selectors, services
from assessment.forms.consultant import PortfolioFilterForm
from assessment.forms.manager import GrantForm
from assessment.models import Organisation
from assessment.views.common import attempt

# --- managers: grants -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def consultant_grants(request: HttpRequest) -> HttpResponse:
    """The organisation's consultant grants, and a form to grant a consultancy access."""
    organisation = access.organisation_for_manager(request.user)
    form = GrantForm(request.POST or None)
    if form.is_valid():
        try:
            grant = services.grant_create(
                organisation=organisation,
                consultancy=form.cleaned_data["consultancy"],
                by=request.user,
                days=form.cleaned_data["days"],
            )
        except services.ServiceError as error:
            form.add_error("days", str(error))
        else:
            messages.success(
                request,
                _("%(consultancy)s can see your assessments until %(date)s.")
                % {
                    "consultancy": grant.consultancy.name,
                    "date": date_format(timezone.localtime(grant.expires_at), "DATE_FORMAT"),
                },
            )
            return redirect("assessment:consultant_grants")
    return _grants_page(request, organisation, form)


@require_POST
def consultant_grant_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """End a consultancy's access now."""
    grant = access.grant_for_manager(request.user, pk)
    attempt(
        request,
        partial(services.grant_revoke, grant=grant, by=request.user),
        success=_("%(consultancy)s can no longer see your assessments.")
        % {"consultancy": grant.consultancy.name},
    )
    return redirect("assessment:consultant_grants")


def _grants_page(request: HttpRequest, organisation: Organisation, form: GrantForm) -> HttpResponse:
    return render(
        request,
        "assessment/consultant/grants.html",
        {
            "organisation": organisation,
            "grants": selectors.manager.organisation_grants(organisation),
            "form": form,
        },
    )


# --- consultants: portfolio and downloads ----------------------------------------------------


@require_GET
def portfolio(request: HttpRequest) -> HttpResponse:
    """Client teams' latest closed results as heatmaps, filtered by organisation and framework."""
    consultancy = access.consultancy_for(request.user)
    form = PortfolioFilterForm(request.GET or None, user=request.user)
    found = selectors.consultant.consultant_portfolio(request.user, **form.filters())
    return render(
        request,
        "assessment/consultant/portfolio.html",
        {"consultancy": consultancy, "portfolio": found, "form": form},
    )
