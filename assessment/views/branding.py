"""A consultancy's branding for its reports: name, accent colour and logo."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from assessment import access, services
from assessment.forms.consultant import BrandingForm
from assessment.models.consultants import MIN_CONTRAST
from assessment.services.branding import LOGO_MAX_BYTES, NameTaken


@require_http_methods(["GET", "POST"])
def branding(request: HttpRequest) -> HttpResponse:
    """Edit the branding; bad input is explained and changes nothing."""
    consultancy = access.consultancy_for(request.user)
    posted = request.method == "POST"
    form = BrandingForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        initial={"name": consultancy.name, "accent_colour": consultancy.accent_colour},
        consultancy=consultancy,
    )
    status = 400 if form.is_bound else 200
    if form.is_valid():
        try:
            services.branding_update(
                consultancy=consultancy,
                name=form.cleaned_data["name"],
                accent_colour=form.cleaned_data["accent_colour"],
                logo=form.cleaned_data["logo"] or None,
                remove_logo=form.cleaned_data["remove_logo"],
            )
        except NameTaken as error:
            form.add_error("name", str(error))
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Branding saved. New reports carry it."))
            return redirect("assessment:branding")
    return render(
        request,
        "assessment/branding/branding.html",
        {
            "consultancy": consultancy,
            "form": form,
            "preview": dict(zip(("colour", "contrast", "saved"), form.preview(), strict=True)),
            "min_contrast": MIN_CONTRAST,
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
