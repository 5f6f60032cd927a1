"""Rendered reports kept for every node, and consultants' bulk exports."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessment.models.assessments import Assessment
from assessment.models.consultants import Consultancy


class ReportCache(models.Model):
    """A PDF report under its cache key: being rendered by the task worker, rendered
    (kept in the database so any web node can serve it), or failed.

    The key covers everything that can change the report; a changed assessment gets a
    new key. One row per key, so a render is never queued twice for the same key. A
    report is somebody's: the viewer (their own answers show apart), the consultancy it
    is branded as, and the language; when a new rendering of theirs is stored, their
    older ones for the assessment are dropped, and other readers' stay.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for the task worker")
        RUNNING = "running", _("Being rendered")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    # A render silent for longer than its bound plus this has stopped (its worker was
    # killed or lost its database): it may be queued again.
    STALL_GRACE_SECONDS = 120

    key = models.CharField(_("key"), max_length=64, unique=True)
    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="+", verbose_name=_("assessment")
    )
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("viewer"),
    )
    consultancy = models.ForeignKey(
        Consultancy,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("branded as"),
    )
    language = models.CharField(_("language"), max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.READY
    )
    pdf = models.BinaryField(_("PDF"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)

    class Meta:
        verbose_name = _("cached report")
        verbose_name_plural = _("cached reports")

    def __str__(self) -> str:
        return f"Report for {self.assessment_id} ({self.status})"

    def has_stalled(self, now: datetime | None = None) -> bool:
        """Queued or running, but silent for longer than any one render may take."""
        if self.status not in (self.Status.QUEUED, self.Status.RUNNING):
            return False
        silence = (now or timezone.now()) - (self.progress_at or self.created_at)
        limit = settings.REPORT_TIMEOUT_SECONDS + self.STALL_GRACE_SECONDS
        return silence.total_seconds() > limit

    # A failed render is queued again by the reader's next download (not by the page's
    # polling) at most this many times in a row; after that, once this long has passed
    # since the last attempt, so a problem fixed meanwhile is noticed.
    RENDER_ATTEMPTS = 3
    RETRY_AFTER = timedelta(minutes=15)

    def may_retry(self, now: datetime | None = None) -> bool:
        """A failed or stopped render that the reader's next download queues again."""
        now = now or timezone.now()
        if self.status == self.Status.FAILED:
            last = self.progress_at or self.created_at
            return self.attempts < self.RENDER_ATTEMPTS or now - last > self.RETRY_AFTER
        return self.has_stalled(now)


class BulkExport(models.Model):
    """A ZIP of PDF reports made by a background task; progress and result in the database."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    consultancy = models.ForeignKey(
        Consultancy, on_delete=models.CASCADE, related_name="bulk_exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assessments = models.ManyToManyField(Assessment, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    total = models.PositiveIntegerField(_("reports"), default=0)
    done = models.PositiveIntegerField(_("reports done"), default=0)
    failures = models.JSONField(_("failures"), default=list, blank=True)
    # The reports' language: the requester's when they asked (empty: the default).
    language = models.CharField(_("language"), max_length=10, blank=True)
    archive = models.BinaryField(_("ZIP archive"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # When the task last moved on (started, or finished a report): a running export
    # that stops moving has lost its worker.
    progress_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    # Beyond the longest one report may take (REPORT_TIMEOUT_SECONDS), this much more
    # silence means the worker has gone.
    STALL_GRACE_SECONDS = 120

    class Meta:
        verbose_name = _("bulk export")
        verbose_name_plural = _("bulk exports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Bulk export {self.pk} ({self.done}/{self.total})"

    def has_stalled(self, now: datetime | None = None) -> bool:
        """Running, but silent for longer than any one report may take: the worker that
        ran it was killed or lost its database, and nothing will finish it."""
        if self.status != self.Status.RUNNING:
            return False
        silence = (now or timezone.now()) - (self.progress_at or self.created_at)
        limit = settings.REPORT_TIMEOUT_SECONDS + self.STALL_GRACE_SECONDS
        return silence.total_seconds() > limit
