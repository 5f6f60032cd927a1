"""Downloads for managers: the PDF report, and scores and anonymised answers as CSV or XLSX.

Data exports exist only where the results page shows results: once the assessment
is submitted and enough members have completed their answers. Before that the
manager is sent back to the assessment with the reason.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from assessment import access, exports
from assessment.models import Assessment
from assessment.selectors import results

CSV = ("csv", "text/csv; charset=utf-8")
XLSX = ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@require_GET
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable report (built in ``assessment.reports``)."""
    assessment = access.assessment_for_manager(request.user, pk)
    from assessment import reports  # imported here: the report module is built separately

    return reports.report_response(assessment, viewer=request.user)


@require_GET
@never_cache
def scores_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """Section scores of every framework, one row each, as CSV."""
    assessment = access.assessment_for_manager(request.user, pk)
    found = results.assessment_results(assessment)
    if not found.visible:
        return _not_available(request, found)
    return _attachment(exports.to_csv(*exports.scores_table(found)), assessment, "scores", CSV)


@require_GET
@never_cache
def scores_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    """Section scores of every framework, one row each, as an Excel workbook."""
    assessment = access.assessment_for_manager(request.user, pk)
    found = results.assessment_results(assessment)
    if not found.visible:
        return _not_available(request, found)
    table = exports.scores_table(found)
    return _attachment(exports.to_xlsx(*table, title=_("Scores")), assessment, "scores", XLSX)


@require_GET
@never_cache
def answers_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """Every member's answers, respondents numbered anonymously, as CSV."""
    assessment = access.assessment_for_manager(request.user, pk)
    found = results.assessment_results(assessment)
    if not found.visible:
        return _not_available(request, found)
    table = exports.answers_table(assessment, found=found)
    return _attachment(exports.to_csv(*table), assessment, "answers", CSV)


@require_GET
@never_cache
def answers_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    """Every member's answers, respondents numbered anonymously, as an Excel workbook."""
    assessment = access.assessment_for_manager(request.user, pk)
    found = results.assessment_results(assessment)
    if not found.visible:
        return _not_available(request, found)
    table = exports.answers_table(assessment, found=found)
    return _attachment(exports.to_xlsx(*table, title=_("Answers")), assessment, "answers", XLSX)


def _not_available(request: HttpRequest, found: results.AssessmentResults) -> HttpResponse:
    if not found.submitted:
        message = _(
            "Exports are available once the assessment is submitted: while it is open, "
            "the figures would change as each person finishes, which could give their "
            "answers away."
        )
    else:
        message = ngettext(
            "To protect anonymity, exports are available once at least %(threshold)d "
            "team member has completed their answers.",
            "To protect anonymity, exports are available once at least %(threshold)d "
            "team members have completed their answers.",
            found.threshold,
        ) % {"threshold": found.threshold}
    messages.error(request, message)
    return redirect("assessment:detail", pk=found.assessment.pk)


def _attachment(
    content: bytes, assessment: Assessment, what: str, kind: tuple[str, str]
) -> HttpResponse:
    extension, content_type = kind
    # An ASCII slug: nothing in the title can break out of the header or the file name.
    name = slugify(assessment.title)[:80].strip("-") or f"assessment-{assessment.pk}"
    return HttpResponse(
        content,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}-{what}.{extension}"'},
    )
