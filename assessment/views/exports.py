"""Downloads for managers: the PDF report, and scores and anonymised answers as CSV or XLSX.

Data exports exist only where the results page shows results: once the assessment
is submitted and enough members have completed their answers. Before that the
manager is sent back to the assessment with the reason.
"""

from typing import Literal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from assessment import access, exports
from assessment.selectors import results


@require_GET
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable report (built in ``assessment.reports``)."""
    assessment = access.assessment_for_manager(request.user, pk)
    from assessment import reports  # imported here: the report module is built separately

    return reports.report_response(assessment, viewer=request.user)


@require_GET
@never_cache
def table_download(
    request: HttpRequest,
    pk: int,
    *,
    table: Literal["scores", "answers"],
    file_format: Literal["csv", "xlsx"],
) -> HttpResponse:
    """Section scores of every framework (one row each), or every member's answers
    (respondents numbered anonymously), as CSV or an Excel workbook. The URL fixes
    ``table`` and ``file_format``; nothing here reads the request's parameters."""
    assessment = access.assessment_for_manager(request.user, pk)
    found = results.assessment_results(assessment)
    if not found.visible:
        return _not_available(request, found)
    if table == "scores":
        rows, title = exports.scores_table(found), _("Scores")
    else:
        rows, title = exports.answers_table(assessment, found=found), _("Answers")
    chosen = exports.TABLE_FORMATS[file_format]
    return exports.attachment(
        exports.write_table(rows, chosen, title=title),
        filename=exports.file_name(assessment, table, chosen),
        file_format=chosen,
    )


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
