"""Downloads: the PDF report, and scores and answers as CSV or XLSX.

One view per format family, for managers (their own organisation's assessments) and
consultants (clients that share with them); the URL fixes the audience, the table
and the format. The one parameter read is the PDF report's language, through a form. Managers and
consultants get the answers counted per question; only the assigned assessor gets
them one row per answer, with anonymous respondent numbers (docs/privacy.md).

Data exports exist only where the results page shows results: once the assessment
is submitted and enough members have completed their answers. Before that the
user is sent back with the reason.
"""

from collections.abc import Callable
from typing import Literal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import get_language, ngettext, override
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from assessment import access, exports
from assessment.forms.public import ReportLanguageForm
from assessment.models import Assessment
from assessment.selectors import actions, customers, manager, results, review

Audience = Literal["manager", "consultant"]

# Who may download, and how each finds the assessment (another's is a 404).
ASSESSMENT_FOR: dict[str, Callable[[AbstractBaseUser, int], Assessment]] = {
    "manager": access.assessment_for_manager,
    "consultant": access.assessment_for_consultant,
}


# The progress page of a report being rendered; htmx polls its "progress" partial.
REPORT_PROGRESS_TEMPLATE = "assessment/report_progress.html"
# The id of the element the "ready" partial loads itself through: that request is
# answered with HX-Redirect to the PDF, which starts the download once.
REPORT_DOWNLOAD_TRIGGER = "report-download"


@require_GET
@never_cache
def report_pdf(request: HttpRequest, pk: int, *, audience: Audience) -> HttpResponse:
    """The printable report (built in ``assessment.reports``), from the cache at once.

    A report not in the cache is never rendered here: its render is queued for the task
    worker and the answer is a progress page (202) that htmx polls every 2 seconds
    and, without JavaScript, reloads every 5 (or by its refresh link). When the PDF is
    ready, this same address serves it; the polled page loads it through an element
    that gets ``HX-Redirect`` here once, which starts the download.
    """
    assessment = ASSESSMENT_FOR[audience](request.user, pk)
    from assessment import reports  # imported here: the report module is built separately

    # The report's language: the one chosen beside the download button, else the page's.
    # An unknown one is ignored (the page's language), never an error page.
    chosen = ReportLanguageForm(request.GET)
    language = (chosen.is_valid() and chosen.cleaned_data["language"]) or get_language()
    # The page's own polling only reports; a download (or "Try again") also queues a
    # failed or stopped render again.
    with override(language):
        download = reports.report_download(assessment, viewer=request.user, retry=not request.htmx)
    url = request.path + (
        f"?{urlencode({'language': language})}" if language != get_language() else ""
    )
    if download.pdf is not None:
        if not request.htmx:
            return exports.attachment(
                download.pdf, filename=download.filename, file_format=exports.PDF
            )
        if request.htmx.trigger == REPORT_DOWNLOAD_TRIGGER:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return _varies(response)
    entry = download.entry
    failed = entry is not None and entry.status == entry.Status.FAILED
    stalled = entry is not None and entry.has_stalled()
    context = {
        "assessment": assessment,
        "url": url,
        "back_url": (
            reverse("assessment:results", kwargs={"pk": pk})
            if audience == "manager"
            else reverse("assessment:portfolio")
        ),
        "entry": entry,
        "ready": download.pdf is not None,
        "failed": failed,
        "stalled": stalled,
        "finished": download.pdf is not None or failed or stalled,
        "may_retry": entry is not None and entry.may_retry(),
        "download_trigger": REPORT_DOWNLOAD_TRIGGER,
    }
    template = f"{REPORT_PROGRESS_TEMPLATE}#progress" if request.htmx else REPORT_PROGRESS_TEMPLATE
    status = 200 if context["finished"] else 202
    return _varies(render(request, template, context, status=status))


def _varies(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ("HX-Request", "HX-Trigger"))
    return response


@require_GET
@never_cache
def table_download(
    request: HttpRequest,
    pk: int,
    *,
    audience: Audience,
    table: Literal["scores", "answers", "customers", "actions", "judgements"],
    file_format: Literal["csv", "xlsx"],
) -> HttpResponse:
    """Section scores of every framework (one row each), the team's answers counted per
    question (never one person's answers as a row), the customers' figures, the action
    plan, or the evidence and the assessor's judgements (once the round is decided), as
    CSV or an Excel workbook."""
    assessment = ASSESSMENT_FOR[audience](request.user, pk)
    if table == "actions":
        return _table(
            assessment,
            exports.actions_table(assessment, actions.assessment_actions(assessment)),
            title=_("Actions"),
            what="actions",
            file_format=file_format,
        )
    found = results.assessment_results(assessment)
    if table == "judgements":
        return _table(
            assessment,
            exports.judgements_table(
                assessment,
                review.evidence_and_judgements(
                    assessment, manager.assessment_versions(assessment), found
                ),
            ),
            title=_("Judgements"),
            what="judgements",
            file_format=file_format,
        )
    if table == "customers":
        return _customers_download(request, assessment, found, audience, file_format)
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


def _customers_download(
    request: HttpRequest,
    assessment: Assessment,
    found: results.AssessmentResults,
    audience: Audience,
    file_format: Literal["csv", "xlsx"],
) -> HttpResponse:
    """The customers' figures of the assessment's survey, once they show (their own
    threshold); the team's columns fill once the team's results show."""
    voice = customers.assessment_customer_voice(assessment, team_visible=found.visible)
    if voice is None or not voice.results.visible:
        messages.error(
            request,
            _(
                "Customer figures are available once the assessment's customer survey has "
                "at least %(threshold)s responses."
            )
            % {"threshold": settings.CUSTOMER_THRESHOLD},
        )
        if audience == "consultant":
            return redirect("assessment:portfolio")
        return redirect("assessment:results", pk=assessment.pk)
    chosen = exports.TABLE_FORMATS[file_format]
    return exports.attachment(
        exports.write_table(exports.customers_table(voice), chosen, title=_("Customers")),
        filename=exports.file_name(assessment, "customers", chosen),
        file_format=chosen,
    )


def _table(
    assessment: Assessment, table: exports.Table, *, title: str, what: str, file_format: str
) -> HttpResponse:
    chosen = exports.TABLE_FORMATS[file_format]
    return exports.attachment(
        exports.write_table(table, chosen, title=title),
        filename=exports.file_name(assessment, what, chosen),
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
