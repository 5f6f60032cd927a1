"""Staff pages: the queue of submitted assessments and assessor assignment."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assessment import access, selectors, services
from assessment.forms.staff import AssignForm


@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """Assessments waiting for review or in review, with the assessors each may be given."""
    access.require_staff(request.user)
    return render(
        request,
        "assessment/staff/review_queue.html",
        {"rows": selectors.staff.review_queue_rows()},
    )


@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Assign (or reassign) the assessor of a submitted assessment."""
    assessment = access.assessment_for_staff(request.user, pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("assessor", []):
            messages.error(request, error)
        return redirect("assessment:staff_queue")
    assessor = form.cleaned_data["assessor"]
    try:
        services.assessor_assign(assessment=assessment, assessor=assessor, by=request.user)
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        name = assessor.get_full_name() or assessor.get_username()
        messages.success(
            request,
            _("%(assessor)s now reviews %(title)s.") % {"assessor": name, "title": assessment},
        )
    return redirect("assessment:staff_queue")
