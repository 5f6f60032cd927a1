"""Downloads: the PDF report, and scores and answers as CSV or XLSX.

One view per format family, for managers (their own organisation's assessments) and
consultants (clients that share with them); the URL fixes the audience, the table
and the format, so nothing here reads the request's parameters. Managers and
consultants get the answers counted per question; only the assigned assessor gets
them one row per answer, with anonymous respondent numbers (docs/privacy.md).

Data exports exist only where the results page shows results: once the assessment
is submitted and enough members have completed their answers. Before that the
user is sent back with the reason.
"""

from collections.abc import Callable
from typing import Literal

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from assessment import access, exports
from assessment.models import Assessment
from assessment.selectors import results

Audience = Literal["manager", "consultant"]

# Who may download, and how each finds the assessment (another's is a 404).
ASSESSMENT_FOR: dict[str, Callable[[AbstractBaseUser, int], Assessment]] = {
    "manager": access.assessment_for_manager,
    "consultant": access.assessment_for_consultant,
}


@require_GET
def report_pdf(request: HttpRequest, pk: int, *, audience: Audience) -> HttpResponse:
    """The printable report (built in ``assessment.reports``)."""
    assessment = ASSESSMENT_FOR[audience](request.user, pk)
    from assessment import reports  # imported here: the report module is built separately

    return reports.report_response(assessment, viewer=request.user)


@require_GET
@never_cache
def table_download(
    request: HttpRequest,
    pk: int,
    *,
    audience: Audience,
    table: Literal["scores", "answers"],
    file_format: Literal["csv", "xlsx"],
) -> HttpResponse:
    """Section scores of every framework (one row each), or the team's answers counted
    per question (never one person's answers as a row), as CSV or an Excel workbook."""
    assessment = ASSESSMENT_FOR[audience](request.user, pk)
    found = results.assessment_results(assessment)
    if not found.visible:
        return _not_available(request, found, audience)
    if table == "scores":
        rows, title, what = exports.scores_table(found), _("Scores"), "scores"
    else:
        rows = exports.answers_by_question_table(assessment, found=found)
        title, what = _("Answers by question"), "answers-by-question"
    chosen = exports.TABLE_FORMATS[file_format]
    return exports.attachment(
        exports.write_table(rows, chosen, title=title),
        filename=exports.file_name(assessment, what, chosen),
        file_format=chosen,
    )


@require_GET
@never_cache
def review_answers_download(
    request: HttpRequest, pk: int, *, file_format: Literal["csv", "xlsx"]
) -> HttpResponse:
    """For the assigned assessor only: every member's submitted answers, one row each,
    respondents numbered anonymously (the numbers change with each review round)."""
    assessment = access.assessment_for_assessor(request.user, pk)
    found = results.assessment_results(assessment)
    if not found.visible:
        messages.error(
            request,
            _(
                "The answers are available once the assessment is submitted and enough "
                "team members have completed their answers."
            ),
        )
        return redirect("assessment:review_detail", pk=assessment.pk)
    chosen = exports.TABLE_FORMATS[file_format]
    return exports.attachment(
        exports.write_table(
            exports.answers_table(assessment, found=found), chosen, title=_("Answers")
        ),
        filename=exports.file_name(
            assessment, f"answers-by-respondent-round-{assessment.round}", chosen
        ),
        file_format=chosen,
    )


def _not_available(
    request: HttpRequest, found: results.AssessmentResults, audience: Audience
) -> HttpResponse:
    if audience == "consultant":
        messages.error(
            request,
            _(
                "The scores of %(title)s are not available: results show once the "
                "assessment is submitted and enough team members have answered."
            )
            % {"title": found.assessment.title},
        )
        return redirect("assessment:portfolio")
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
