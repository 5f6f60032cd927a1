"""Background tasks (``django.tasks``): run at once in development, by ``db_worker`` in production.

A task gets only ids, re-reads everything from the database and writes its progress
there, so the web pages of any node can show it while a worker on another runs it.
"""

import io
import logging
import zipfile

from django.conf import settings
from django.tasks import task
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from assessment import languages, reports
from assessment.models import Assessment, BulkExport, Consultancy
from assessment.selectors import reports as report_selectors
from assessment.services import bulk, organisations

logger = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 200
NAME_PART_MAX_LENGTH = 60


def archive_name(assessment: Assessment, taken: set[str]) -> str:
    """A file name inside the ZIP: ASCII, no folders, unique within ``taken`` (which it joins)."""
    parts = (assessment.organisation.name, assessment.team.name, assessment.title)
    stem = "-".join(filter(None, (slugify(p)[:NAME_PART_MAX_LENGTH] for p in parts)))
    stem = stem or "assessment"
    name = f"{stem}.pdf"
    if name in taken:
        name = f"{stem}-{assessment.pk}.pdf"
    taken.add(name)
    return name


def short_error(error: Exception) -> str:
    """What the failure list shows: the kind of problem, never internals (the traceback
    and message go to the log)."""
    if isinstance(error, MemoryError | TimeoutError | reports.RenderLimitExceeded):
        return _("The report was too large to render.")
    return _("The report could not be rendered; the details are in the server log.")


@task
def make_bulk_export(export_id: int) -> None:
    """Render every report of the export into one ZIP, kept in the database, each branded
    as the export's consultancy.

    Runs at most once: it starts only by moving the export from queued to running.
    One failed report is recorded by name and the rest carry on.
    """
    if not bulk.bulk_export_claim(export_id=export_id):
        return
    language = BulkExport.objects.filter(pk=export_id).values_list("language", flat=True).first()
    try:
        with translation.override(language or settings.LANGUAGE_CODE):
            _build(export_id)
    except BaseException:
        bulk.bulk_export_abandon(export_id=export_id)
        raise


def _build(export_id: int) -> None:
    export = BulkExport.objects.defer("archive").select_related("consultancy").get(pk=export_id)
    assessments = export.assessments.select_related("organisation", "team").order_by(
        "organisation__name", "team__name", "title", "pk"
    )
    failures: list[dict[str, str | int]] = []
    taken: set[str] = set()
    rendered = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for assessment in assessments:
            try:
                # As the consultant who asked would download it one by one: branded as
                # their consultancy, so the ZIP shares the report cache with those downloads.
                report = reports.render_report(
                    assessment, viewer_id=export.requested_by_id, consultancy=export.consultancy
                )
            except Exception as error:
                logger.exception("Bulk export %s: report for %s failed", export_id, assessment.pk)
                failures.append(
                    {
                        "assessment": assessment.title,
                        "assessment_id": assessment.pk,
                        "error": short_error(error),
                    }
                )
                bulk.bulk_export_progress(export_id=export_id, failures=failures)
                continue
            archive.writestr(archive_name(assessment, taken), report.pdf)
            rendered += 1
            bulk.bulk_export_progress(export_id=export_id)
    bulk.bulk_export_finish(
        export_id=export_id, archive=buffer.getvalue() if rendered else None, failures=failures
    )


@task
def render_report_task(
    assessment_id: int, viewer_id: int | None, consultancy_id: int | None, language: str
) -> None:
    """One reader's report, queued by their download (``reports.report_download``): rendered
    into the cache unless another task has it or it is there already; a failure is
    recorded on the report's row and its progress page says so."""
    assessment = (
        Assessment.objects.select_related("team", "organisation").filter(pk=assessment_id).first()
    )
    if assessment is None:  # deleted since: nothing to render
        return
    consultancy = Consultancy.objects.filter(pk=consultancy_id).first() if consultancy_id else None
    with translation.override(language):
        reports.render_in_worker(assessment, viewer_id=viewer_id, consultancy=consultancy)


@task
def render_reports_of(assessment_id: int, consultancy_id: int | None = None) -> None:
    """Queue the report of a closed assessment for each person who may download one
    (``report_selectors.report_readers``; only the consultancy's people when given), as
    they would get it, so their downloads come from the cache: one ``render_report_task``
    each, at ``reports.AHEAD_PRIORITY``, below bulk exports (0) and downloads
    (``reports.DOWNLOAD_PRIORITY``), which somebody is waiting for. Queued when the
    assessment is submitted or decided, and for a consultancy's clients when its branding
    changes."""
    assessment = (
        Assessment.objects.select_related("organisation")
        .filter(pk=assessment_id, status__in=Assessment.CLOSED_STATUSES)
        .first()
    )
    if assessment is None:  # reopened or deleted since: nothing to prepare
        return
    ahead = render_report_task.using(priority=reports.AHEAD_PRIORITY)
    for viewer in report_selectors.report_readers(assessment, consultancy_id=consultancy_id):
        brand = reports.branding_for(assessment, viewer)
        # The language each reader is likeliest to ask for: their own.
        language = languages.for_user(viewer, assessment.language)
        ahead.enqueue(assessment.pk, viewer.pk, brand.pk if brand else None, language)


@task
def render_branded_reports(consultancy_id: int) -> None:
    """After a consultancy's branding changed: ``render_reports_of`` for each closed
    assessment of its clients, for the consultancy's own people."""
    for assessment_id in report_selectors.branded_assessments(consultancy_id=consultancy_id):
        render_reports_of.enqueue(assessment_id, consultancy_id)


@task
def password_reset_send(email: str) -> None:
    """E-mail a password reset link to the accounts using ``email``, if any.

    Run outside the request (``services.password_reset_request``), so the request does
    the same work for an address that has an account and one that has none.
    """
    organisations.password_reset_mail(email=email)
