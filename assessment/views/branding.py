"""A consultancy's branding for its reports: name, accent colour and logo."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from assessment import access, services
from assessment.services.branding import LOGO_MAX_BYTES, contrast_with_white


@require_http_methods(["GET", "POST"])
def branding(request: HttpRequest) -> HttpResponse:
    """Edit the branding; bad input is explained and changes nothing."""
    consultancy = access.consultancy_for(request.user)
    submitted = {"name": consultancy.name, "accent_colour": consultancy.accent_colour}
    status = 200
    if request.method == "POST":
        submitted = {
            "name": request.POST.get("name", ""),
            "accent_colour": request.POST.get("accent_colour", ""),
        }
        try:
            services.branding_update(
                consultancy=consultancy,
                name=submitted["name"],
                accent_colour=submitted["accent_colour"],
                logo=request.FILES.get("logo"),
                remove_logo=request.POST.get("remove_logo") == "yes",
            )
        except services.ServiceError as error:
            messages.error(request, str(error))
            status = 400
        else:
            messages.success(request, _("Branding saved. New reports carry it."))
            return redirect("assessment:branding")
    return render(
        request,
        "assessment/branding/branding.html",
        {
            "consultancy": consultancy,
            "submitted": submitted,
            "contrast": contrast_with_white(consultancy.accent_colour),
            "max_mb": LOGO_MAX_BYTES // (1024 * 1024),
        },
        status=status,
    )


@require_GET
def branding_logo(request: HttpRequest) -> HttpResponse:
    """The consultancy's logo, as stored after re-encoding (members only)."""
    consultancy = access.consultancy_for(request.user)
    if not consultancy.logo:
        raise Http404
    response = HttpResponse(bytes(consultancy.logo), content_type=consultancy.logo_content_type)
    response["Cache-Control"] = "private, max-age=300"
    return response
