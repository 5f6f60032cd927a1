"""Accredited review: assessors, assignments, moderations, decisions and the audit trail."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessment.models.assessments import Assessment
from frameworks.models import SCALE_MAX, SCALE_MIN


class AssessorProfile(models.Model):
    """An external assessor's accreditation; only a current one can be assigned."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="assessor_profile",
        verbose_name=_("user"),
    )
    accrediting_body = models.CharField(_("accrediting body"), max_length=200)
    accreditation_number = models.CharField(_("accreditation number"), max_length=100)
    valid_until = models.DateField(_("valid until"))

    class Meta:
        verbose_name = _("assessor profile")
        verbose_name_plural = _("assessor profiles")
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["accrediting_body", "accreditation_number"],
                name="assessor_unique_accreditation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.get_username()} ({self.accrediting_body})"

    def is_current(self, today: "timezone.datetime.date | None" = None) -> bool:
        return self.valid_until >= (today or timezone.localdate())


class Assignment(models.Model):
    """Which assessor reviews an assessment; one at a time."""

    assessment = models.OneToOneField(
        Assessment,
        on_delete=models.CASCADE,
        related_name="assignment",
        verbose_name=_("assessment"),
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="review_assignments",
        verbose_name=_("assessor"),
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self) -> str:
        return f"{self.assessment} -> {self.assessor}"


class Moderation(models.Model):
    """An assessor's moderated score for one section, with the reason. The latest counts."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="moderations")
    section = models.ForeignKey("frameworks.Section", on_delete=models.PROTECT, related_name="+")
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    score = models.DecimalField(_("moderated score"), max_digits=5, decimal_places=1)
    rationale = models.TextField(_("rationale"), max_length=4000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("moderation")
        verbose_name_plural = _("moderations")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=100), name="moderation_score_range"
            ),
            models.CheckConstraint(
                condition=~models.Q(rationale=""), name="moderation_needs_rationale"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.section}: {self.score}"


class Decision(models.Model):
    """An assessor's decision on one review round: approve with a level, or return."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned for revision")

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="decisions")
    round = models.PositiveSmallIntegerField(_("review round"))
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    awarded_level = models.PositiveSmallIntegerField(_("awarded level"), null=True, blank=True)
    summary = models.TextField(_("summary"), max_length=4000, blank=True)
    required_changes = models.TextField(_("required changes"), max_length=4000, blank=True)
    # Section scores (team, and moderated where set) at the time of the decision, so the
    # next round can show what changed: {"<framework slug>": {"<section key>": score}}.
    snapshot = models.JSONField(_("scores at decision"), default=dict)
    created_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Two assessors (or two clicks) deciding at once: exactly one decision a round.
            models.UniqueConstraint(fields=["assessment", "round"], name="decision_one_per_round"),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        outcome="approved",
                        awarded_level__gte=SCALE_MIN,
                        awarded_level__lte=SCALE_MAX,
                    )
                    | models.Q(outcome="returned", awarded_level__isnull=True)
                ),
                name="decision_level_when_approved",
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="returned", required_changes=""),
                name="decision_return_needs_changes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment}: {self.get_outcome_display()}"


class AuditEvent(models.Model):
    """Append-only record of what happened to an assessment: who, when, what, before, after.

    Nothing in the app updates or deletes these rows, and the admin only shows them.
    """

    class Action(models.TextChoices):
        OPENED = "opened", _("Opened")
        SUBMITTED = "submitted", _("Submitted for review")
        ASSIGNED = "assigned", _("Assessor assigned")
        REVIEW_STARTED = "review_started", _("Review started")
        MODERATED = "moderated", _("Section moderated")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned for revision")
        REOPENED = "reopened", _("Reopened for revision")

    assessment = models.ForeignKey(
        Assessment, on_delete=models.PROTECT, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_action_display()}"

    def changes(self) -> list[tuple[str, object, object]]:
        """(label, before, after) for every field the event recorded, in a stable order."""
        keys = sorted(set(self.before) | set(self.after))
        return [
            (
                AUDIT_FIELD_LABELS.get(key, key.replace("_", " ")),
                self.before.get(key),
                self.after.get(key),
            )
            for key in keys
        ]


AUDIT_FIELD_LABELS = {
    "status": _("status"),
    "assessor": _("assessor (user id)"),
    "section": _("section"),
    "score": _("moderated score"),
    "rationale": _("rationale"),
    "round": _("review round"),
    "awarded_level": _("awarded level"),
    "summary": _("summary"),
    "required_changes": _("required changes"),
    "responses_reopened": _("responses reopened"),
}
