"""Bulk export: a ZIP of PDF reports for a consultancy, made by a background task."""

from collections.abc import Iterable
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessment import access, languages
from assessment.models import Assessment, BulkExport, Consultancy
from assessment.services.common import ServiceError

BULK_EXPORT_MAX = 200


def bulk_export_start(
    *, consultancy: Consultancy, by: AbstractBaseUser, assessments: Iterable[Assessment]
) -> BulkExport:
    """Queue a ZIP of the reports of closed assessments the consultancy may see, each
    branded as the consultancy (``tasks.make_bulk_export``).

    The task is enqueued once the export is committed, so a worker never looks
    for a row it cannot see yet.
    """
    if not access.consultancies_for(by).filter(pk=consultancy.pk).exists():
        raise ServiceError(_("You do not work for this consultancy."))
    ids = {assessment.pk for assessment in assessments}
    if not ids:
        raise ServiceError(_("Choose at least one assessment."))
    if len(ids) > BULK_EXPORT_MAX:
        raise ServiceError(
            ngettext(
                "Choose at most %(max)d assessment.",
                "Choose at most %(max)d assessments.",
                BULK_EXPORT_MAX,
            )
            % {"max": BULK_EXPORT_MAX}
        )
    allowed = Assessment.objects.filter(
        pk__in=ids,
        organisation__in=access.organisations_shared_with(by, consultancy),
        status__in=Assessment.CLOSED_STATUSES,
    ).values_list("pk", flat=True)
    if set(allowed) != ids:
        raise ServiceError(
            _(
                "Some of the chosen assessments are not closed yet, or their organisation "
                "no longer shares them with your consultancy. Choose again."
            )
        )
    with transaction.atomic():
        export = BulkExport.objects.create(
            consultancy=consultancy,
            requested_by=by,
            total=len(ids),
            # In the language the consultant is reading in as they ask.
            language=languages.supported(translation.get_language()) or "",
        )
        export.assessments.set(ids)
        # Imported here: the task module imports the report renderer (WeasyPrint).
        from assessment.tasks import make_bulk_export

        transaction.on_commit(partial(make_bulk_export.enqueue, export.pk))
    return export


# --- the task's writes: it claims the export, reports progress, and finishes it ---------


def bulk_export_claim(*, export_id: int) -> bool:
    """Queued to running; False when another worker (or an earlier run) has it already,
    so a task enqueued twice runs once."""
    return bool(
        BulkExport.objects.filter(pk=export_id, status=BulkExport.Status.QUEUED).update(
            status=BulkExport.Status.RUNNING, progress_at=timezone.now()
        )
    )


def bulk_export_progress(*, export_id: int, failures: list[dict] | None = None) -> None:
    """One more report done (and the failures so far, when one failed); the page polls
    ``progress_at`` to tell a working export from one whose worker died."""
    fields: dict = {"done": F("done") + 1, "progress_at": timezone.now()}
    if failures is not None:
        fields["failures"] = failures
    _running(export_id).update(**fields)


def bulk_export_finish(*, export_id: int, archive: bytes | None, failures: list[dict]) -> None:
    """Done with the ZIP, or failed when no report could be rendered."""
    _running(export_id).update(
        status=BulkExport.Status.DONE if archive else BulkExport.Status.FAILED,
        archive=archive,
        failures=failures,
        finished_at=timezone.now(),
    )


def bulk_export_abandon(*, export_id: int) -> None:
    """Failed, after an unexpected error: never leave an export "running" for ever (its
    page would poll it for ever)."""
    _running(export_id).update(status=BulkExport.Status.FAILED, finished_at=timezone.now())


def _running(export_id: int) -> QuerySet[BulkExport]:
    return BulkExport.objects.filter(pk=export_id, status=BulkExport.Status.RUNNING)
