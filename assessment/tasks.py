"""Background tasks (``django.tasks``): run at once in development, by ``db_worker`` in production.

A task gets only ids, re-reads everything from the database and writes its progress
there, so the web pages of any node can show it while a worker on another runs it.
"""

import io
import logging
import zipfile

from django.conf import settings
from django.db.models import F
from django.tasks import task
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from assessment import reports
from assessment.models import Assessment, BulkExport

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
    """Render every report of the export into one ZIP, kept in the database.

    Runs at most once: it starts only by moving the export from queued to running.
    One failed report is recorded by name and the rest carry on.
    """
    started = BulkExport.objects.filter(pk=export_id, status=BulkExport.Status.QUEUED).update(
        status=BulkExport.Status.RUNNING, progress_at=timezone.now()
    )
    if not started:
        return
    try:
        with translation.override(settings.LANGUAGE_CODE):
            _build(export_id)
    except BaseException:
        # Never leave an export "running" for ever: the page would poll it forever.
        BulkExport.objects.filter(pk=export_id, status=BulkExport.Status.RUNNING).update(
            status=BulkExport.Status.FAILED, finished_at=timezone.now()
        )
        raise


def _build(export_id: int) -> None:
    export = BulkExport.objects.defer("archive").get(pk=export_id)
    assessments = export.assessments.select_related("organisation", "team").order_by(
        "organisation__name", "team__name", "title", "pk"
    )
    running = BulkExport.objects.filter(pk=export_id, status=BulkExport.Status.RUNNING)
    failures: list[dict[str, str | int]] = []
    taken: set[str] = set()
    rendered = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for assessment in assessments:
            try:
                report = reports.render_report(assessment)
            except Exception as error:
                logger.exception("Bulk export %s: report for %s failed", export_id, assessment.pk)
                failures.append(
                    {
                        "assessment": assessment.title,
                        "assessment_id": assessment.pk,
                        "error": short_error(error),
                    }
                )
                running.update(done=F("done") + 1, failures=failures, progress_at=timezone.now())
                continue
            archive.writestr(archive_name(assessment, taken), report.pdf)
            rendered += 1
            running.update(done=F("done") + 1, progress_at=timezone.now())
    status = BulkExport.Status.DONE if rendered else BulkExport.Status.FAILED
    running.update(
        status=status,
        archive=buffer.getvalue() if rendered else None,
        failures=failures,
        finished_at=timezone.now(),
    )
