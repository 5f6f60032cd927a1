"""The shared report cache: PDFs rendered by the task worker, kept in the database for
every node, and the state of each render (``ReportCache.Status``).

One row per cache key: asking for a report that is queued, running or ready queues
nothing, so the same report is never rendered twice at once. The worker claims a row
before it renders (queued or stopped to running, in one UPDATE), so of two tasks for
one key only one renders.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from assessment.models import Assessment, ReportCache

RENDER_ATTEMPTS = ReportCache.RENDER_ATTEMPTS

Status = ReportCache.Status


@dataclass(frozen=True)
class Reader:
    """Whose report: the viewer, the consultancy it is branded as, the language."""

    viewer_id: int | None
    consultancy_id: int | None
    language: str


def _new_entry(assessment: Assessment, reader: Reader, status: str, now, attempts: int = 0) -> dict:
    """The fields of a new cache row for ``reader``'s report of ``assessment``."""
    return {
        "assessment": assessment,
        "viewer_id": reader.viewer_id,
        "consultancy_id": reader.consultancy_id,
        "language": reader.language,
        "status": status,
        "progress_at": now,
        "attempts": attempts,
    }


def report_render_request(
    *,
    assessment: Assessment,
    key: str,
    reader: Reader,
    enqueue: Callable[[], object],
    retry: bool,
) -> ReportCache:
    """The report's row under ``key``, queueing its render when there is none (and, with
    ``retry``, when its last render failed or stopped and ``ReportCache.may_retry`` allows it).

    ``enqueue`` starts the task; it runs once the row is committed, so a worker never
    looks for a row it cannot see yet. Of two requests racing for one key, only the one
    that made the row (or moved it back to queued) enqueues.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            entry, created = ReportCache.objects.get_or_create(
                key=key,
                defaults=_new_entry(assessment, reader, Status.QUEUED, now),
            )
    except IntegrityError:  # made by another request between the look-up and the insert
        return ReportCache.objects.defer("pdf").get(key=key)
    if created:
        transaction.on_commit(enqueue)
        return entry
    if retry and entry.may_retry(now):
        # Only if nobody moved it on since it was read: one request re-queues it.
        requeued = ReportCache.objects.filter(
            pk=entry.pk, status=entry.status, progress_at=entry.progress_at
        ).update(status=Status.QUEUED, progress_at=now)
        if requeued:
            transaction.on_commit(enqueue)
            entry.status, entry.progress_at = Status.QUEUED, now
    return entry


def report_render_claim(*, assessment: Assessment, key: str, reader: Reader) -> bool:
    """The worker takes the render of ``key``: True when this task should render it (the
    row was queued, stopped, or not there yet); False when another has it or it is done
    or has failed (a failed render is queued again only by a download)."""
    now = timezone.now()
    stalled_before = now - timedelta(
        seconds=settings.REPORT_TIMEOUT_SECONDS + ReportCache.STALL_GRACE_SECONDS
    )
    claimed = (
        ReportCache.objects.filter(key=key)
        .filter(Q(status=Status.QUEUED) | Q(status=Status.RUNNING, progress_at__lt=stalled_before))
        .update(status=Status.RUNNING, progress_at=now, attempts=F("attempts") + 1)
    )
    if claimed:
        return True
    try:
        with transaction.atomic():
            _entry, created = ReportCache.objects.get_or_create(
                key=key,
                defaults=_new_entry(assessment, reader, Status.RUNNING, now, attempts=1),
            )
    except IntegrityError:
        return False
    return created


def report_render_failed(*, key: str) -> None:
    """The render of ``key`` failed (logged where it failed): the reader's page says so."""
    ReportCache.objects.filter(key=key, status=Status.RUNNING).update(
        status=Status.FAILED, progress_at=timezone.now()
    )


# A rendering stored for no reader in particular (kept before readers were recorded).
NO_READER = Reader(viewer_id=None, consultancy_id=None, language="")


@transaction.atomic
def report_cache_store(
    *, assessment: Assessment, key: str, pdf: bytes, reader: Reader = NO_READER
) -> None:
    """Keep ``pdf`` under ``key``, dropping the reader's older renderings of the assessment
    and those kept for no reader in particular (before readers were recorded); other
    readers' stay. Two workers storing the same report both succeed."""
    same_reader = Q(
        viewer_id=reader.viewer_id, consultancy_id=reader.consultancy_id, language=reader.language
    )
    ReportCache.objects.filter(same_reader | Q(language=""), assessment=assessment).exclude(
        key=key
    ).delete()
    now = timezone.now()
    entry, created = ReportCache.objects.get_or_create(
        key=key,
        defaults={
            "assessment": assessment,
            "viewer_id": reader.viewer_id,
            "consultancy_id": reader.consultancy_id,
            "language": reader.language,
            "status": Status.READY,
            "pdf": pdf,
            "progress_at": now,
        },
    )
    if not created and entry.status != Status.READY:
        ReportCache.objects.filter(pk=entry.pk).update(
            status=Status.READY, pdf=pdf, progress_at=now
        )


# --- rendering ahead: queued once the transaction commits, run by the task worker ------


def _renders_in_background() -> bool:
    """Whether tasks run in a worker. The immediate backend (development) runs a task
    inside the request that queues it: rendering ahead there would hold a submission or
    a decision for seconds; a download renders on demand instead."""
    from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django.tasks.backends.immediate import ImmediateBackend

    return not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], ImmediateBackend)


def reports_render_ahead(*, assessment: Assessment) -> None:
    """Render the reports of a closed assessment for everyone who may download one
    (``tasks.render_reports_of``), once the transaction commits: after a submission or a
    decision."""
    if not _renders_in_background():
        return
    # Imported here: the task module imports the report renderer (WeasyPrint).
    from assessment.tasks import render_reports_of

    transaction.on_commit(partial(render_reports_of.enqueue, assessment.pk))


def reports_render_branded(*, consultancy_id: int) -> None:
    """Render again the reports a consultancy's branding is on (``tasks.render_branded_
    reports``), once the transaction commits: after its name, colour or logo changed."""
    if not _renders_in_background():
        return
    from assessment.tasks import render_branded_reports

    transaction.on_commit(partial(render_branded_reports.enqueue, consultancy_id))
