"""Action plans: what a team will do about its priorities, who owns it and by when.

An action belongs to an assessment (and so to its organisation and team) and may name
the section or question it answers. The assessor may require actions as a condition of
approval (``required_by`` set on the decision's actions). Owners get a weekly digest
(``ActionDigest`` keeps one row per owner and week, so a digest never goes twice), and
due dates reach calendars through an organisation's private feed (``CalendarFeed``).
"""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessment.models.assessments import Assessment
from assessment.models.organisations import Organisation, TokenQuerySet


class ActionQuerySet(models.QuerySet):
    def open(self) -> "ActionQuerySet":
        """Actions still to do: planned or in progress."""
        return self.filter(status__in=Action.OPEN_STATUSES)


class Action(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    OPEN_STATUSES = (Status.PLANNED, Status.IN_PROGRESS)

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="actions", verbose_name=_("assessment")
    )
    section = models.ForeignKey(
        "frameworks.Section",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("section"),
    )
    question = models.ForeignKey(
        "frameworks.Question",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("question"),
    )
    title = models.CharField(_("title"), max_length=200)
    # The owner: a member of the organisation, or a named person without an account
    # (with an address for the digest, if given).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    owner_name = models.CharField(_("owner (no account)"), max_length=200, blank=True)
    owner_email = models.EmailField(_("owner's e-mail"), blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )
    notes = models.TextField(_("notes"), max_length=4000, blank=True)
    # Set when the assessor requires this action as a condition of approval.
    required_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("required by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ActionQuerySet.as_manager()

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = [models.F("due_date").asc(nulls_last=True), "pk"]
        indexes = [models.Index(fields=["status", "due_date"], name="action_status_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(owner__isnull=False) | models.Q(owner_name=""),
                name="action_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def status_tone(self) -> str:
        """The Bootstrap tone of this status's badge, the same on every page."""
        return ACTION_STATUS_TONES.get(self.status, "secondary")

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def overdue_on(self, day: datetime.date) -> bool:
        """Open, and due before ``day``."""
        return self.is_open and self.due_date is not None and self.due_date < day

    @property
    def is_overdue(self) -> bool:
        return self.overdue_on(timezone.localdate())

    @property
    def is_required(self) -> bool:
        return self.required_by_id is not None

    @property
    def owner_label(self) -> str:
        """The owner's name as people read it, or "" when nobody owns it yet."""
        if self.owner is not None:
            return self.owner.get_full_name() or self.owner.get_username()
        return self.owner_name


ACTION_STATUS_TONES = {
    Action.Status.PLANNED: "secondary",
    Action.Status.IN_PROGRESS: "primary",
    Action.Status.DONE: "success",
    Action.Status.DROPPED: "dark",
}


class ActionDigest(models.Model):
    """One weekly digest sent to one owner's address: the row that stops a second."""

    email = models.EmailField(_("e-mail"))
    week = models.DateField(_("week starting"))
    actions = models.PositiveSmallIntegerField(_("actions listed"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("action digest")
        verbose_name_plural = _("action digests")
        constraints = [
            models.UniqueConstraint(fields=["email", "week"], name="action_digest_once_a_week"),
        ]

    def __str__(self) -> str:
        return f"{self.email} {self.week}"


class CalendarFeed(models.Model):
    """An organisation's private iCalendar feed of action due dates; only the token's
    hash is kept, and a revoked feed answers 404."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
        verbose_name=_("organisation"),
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = TokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.organisation} ({self.created_at:%Y-%m-%d})"
