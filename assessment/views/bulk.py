"""Consultants: a ZIP of many clients' PDF reports, made in the background.

The export page polls its own progress fragment with htmx while the task runs;
without JavaScript it offers a plain refresh link instead.
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from assessment import access, exports, selectors, services
from assessment.forms.consultant import BulkExportForm, ExportSeenForm
from assessment.models import BulkExport

DETAIL_TEMPLATE = "assessment/bulk/export_detail.html"


@require_http_methods(["GET", "POST"])
def bulk_new(request: HttpRequest) -> HttpResponse:
    """Choose client teams' latest closed assessments, then start the export."""
    consultancy = access.consultancy_for(request.user)
    choices = selectors.consultant.bulk_export_choices(consultancy=consultancy, by=request.user)
    form = BulkExportForm(
        request.POST if request.method == "POST" else None,
        exportable=selectors.consultant.bulk_exportable(consultancy=consultancy, by=request.user),
    )
    if form.is_valid():
        try:
            export = services.bulk_export_start(
                consultancy=consultancy,
                by=request.user,
                assessments=form.cleaned_data["assessments"],
            )
        except services.ServiceError as error:
            form.add_error("assessments", str(error))
        else:
            messages.success(request, _("Export started."))
            return redirect("assessment:bulk_detail", pk=export.pk)
    context = {
        "consultancy": consultancy,
        "choices": choices,
        "form": form,
        "chosen": form.chosen() if form.is_bound else set(),
        "max": services.BULK_EXPORT_MAX,
    }
    return render(
        request,
        "assessment/bulk/export_new.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@require_GET
def bulk_list(request: HttpRequest) -> HttpResponse:
    """The consultancy's bulk exports: status, date, size, and the file until it is pruned."""
    consultancy = access.consultancy_for(request.user)
    return render(
        request,
        "assessment/bulk/export_list.html",
        {
            "consultancy": consultancy,
            "exports": selectors.consultant.consultant_exports(
                consultancy=consultancy, by=request.user
            ),
            "retention_days": settings.BULK_EXPORT_RETENTION_DAYS,
        },
    )


@require_GET
@never_cache
def bulk_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress of one export; htmx asks for the progress fragment alone, saying what it
    showed last, and gets the live region's words only when the progress changed."""
    export = access.export_for_consultant(request.user, pk)
    stalled = export.has_stalled()
    seen = ExportSeenForm(request.GET if request.htmx else None)
    context = {
        "export": export,
        "failures": selectors.consultant.bulk_export_failures(export=export, by=request.user),
        "stalled": stalled,
        "finished": stalled or export.status in (BulkExport.Status.DONE, BulkExport.Status.FAILED),
        "announce": bool(request.htmx) and (stalled or seen.changed(export)),
    }
    template = f"{DETAIL_TEMPLATE}#progress" if request.htmx else DETAIL_TEMPLATE
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
@never_cache
def bulk_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The finished ZIP as a download; 404 before then, or once a client withdrew access."""
    export, archive = access.export_archive_for_consultant(request.user, pk)
    return exports.attachment(archive, filename=f"reports-{export.pk}.zip", file_format=exports.ZIP)
