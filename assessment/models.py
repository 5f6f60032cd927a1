"""Organisations, teams, team assessments, invitations, responses and answers.

State changes happen in ``services.py`` as conditional updates; nothing here
has logic in ``save()`` or signals.
"""

import hashlib
from datetime import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frameworks.models import SCALE_MAX, SCALE_MIN, FrameworkVersion, Question

COMMENT_MAX_LENGTH = 2000


def token_digest(token: str) -> str:
    """What is stored for a secret link token: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in an organisation. Assessor and consultant access are separate grants."""

    class Role(models.TextChoices):
        MANAGER = "manager", _("Manager")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MANAGER)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="membership_unique_user_organisation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organisation})"


class ManagerInvitation(models.Model):
    """An e-mailed invitation to become a manager of an organisation."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="manager_invitations",
        verbose_name=_("organisation"),
    )
    email = models.EmailField(_("e-mail"))
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("manager invitation")
        verbose_name_plural = _("manager invitations")

    def __str__(self) -> str:
        return self.email


class Team(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="teams", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="team_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("assessment:team_detail", kwargs={"pk": self.pk})


class RosterEntry(models.Model):
    """A team member, by name and e-mail; team members need no account."""

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="roster", verbose_name=_("team")
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))

    class Meta:
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster entries")
        ordering = ["name", "email"]
        constraints = [
            models.UniqueConstraint(fields=["team", "email"], name="roster_unique_email"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Assessment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        SUBMITTED = "submitted", _("Submitted")
        IN_REVIEW = "in_review", _("In review")
        RETURNED = "returned", _("Returned for revision")
        APPROVED = "approved", _("Approved")

    # Submitted, or past it: the answers are closed and team results may show.
    CLOSED_STATUSES = (Status.SUBMITTED, Status.IN_REVIEW, Status.RETURNED, Status.APPROVED)

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="assessments",
        verbose_name=_("organisation"),
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("team")
    )
    title = models.CharField(_("title"), max_length=200)
    framework_versions = models.ManyToManyField(
        FrameworkVersion, related_name="assessments", verbose_name=_("frameworks")
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("assessment:detail", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED_STATUSES


class Invitation(models.Model):
    """A team member's invitation to answer; the link's token is stored only as a hash."""

    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("assessment"),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"))
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    token_expires_at = models.DateTimeField(_("link expires at"))
    token_used_at = models.DateTimeField(_("link used at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    send_count = models.PositiveSmallIntegerField(_("times sent"), default=0)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "email"], name="invitation_unique_email"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class Response(models.Model):
    """One person's answers to one assessment: an invitee's, or a signed-in manager's."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        CLOSED = "closed", _("Closed unfinished")

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="responses", verbose_name=_("assessment")
    )
    invitation = models.OneToOneField(
        Invitation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="response",
        verbose_name=_("invitation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responses",
        verbose_name=_("user"),
    )
    is_manager_view = models.BooleanField(
        _("manager's self-assessment"),
        default=False,
        help_text=_("The manager's own answers, kept apart from the team's."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.IN_PROGRESS
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(invitation__isnull=False) | models.Q(user__isnull=False),
                name="response_has_respondent",
            ),
            models.UniqueConstraint(
                fields=["assessment", "user"],
                condition=models.Q(user__isnull=False),
                name="response_unique_user",
            ),
        ]

    def __str__(self) -> str:
        return f"Response {self.pk} to {self.assessment}"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.IN_PROGRESS


class Answer(models.Model):
    """A rating (1-5), or "not applicable / don't know" (level empty, not_applicable set)."""

    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", verbose_name=_("response")
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="answers", verbose_name=_("question")
    )
    # The question's section, copied when the answer is first written (questions never
    # move: versions are immutable). Results then sum answers per respondent and
    # section from one covering index, without joining every answer to its question.
    section = models.ForeignKey(
        "frameworks.Section",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("section"),
    )
    level = models.PositiveSmallIntegerField(_("level"), null=True, blank=True)
    not_applicable = models.BooleanField(_("not applicable / don't know"), default=False)
    comment = models.TextField(_("comment"), max_length=COMMENT_MAX_LENGTH, blank=True)
    revision = models.PositiveIntegerField(
        _("revision"), default=1, help_text=_("Raised by every save; stale saves are refused.")
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [
            models.Index(
                fields=["response", "section", "level", "not_applicable"],
                name="answer_totals_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_unique"),
            models.CheckConstraint(
                condition=models.Q(level__isnull=True)
                | models.Q(level__gte=SCALE_MIN, level__lte=SCALE_MAX),
                name="answer_level_in_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(level__isnull=False, not_applicable=True),
                name="answer_level_or_not_applicable",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question.code}: {self.level or '-'}"

    @property
    def is_answered(self) -> bool:
        return self.level is not None or self.not_applicable


class SectionTarget(models.Model):
    """The level a manager aims for in one section; without one, one level above today's."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="targets", verbose_name=_("assessment")
    )
    section = models.ForeignKey(
        "frameworks.Section", on_delete=models.PROTECT, related_name="+", verbose_name=_("section")
    )
    level = models.PositiveSmallIntegerField(_("target level"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("section target")
        verbose_name_plural = _("section targets")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "section"], name="target_unique"),
            models.CheckConstraint(
                condition=models.Q(level__gte=SCALE_MIN, level__lte=SCALE_MAX),
                name="target_level_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.section}: {self.level}"


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


class ReportCache(models.Model):
    """A rendered PDF report, kept in the database so any web node can serve it.

    The key covers everything that can change the report; a changed assessment
    gets a new key, and its older entries are dropped when the new one is made.
    """

    key = models.CharField(_("key"), max_length=64, unique=True)
    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="+", verbose_name=_("assessment")
    )
    pdf = models.BinaryField(_("PDF"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cached report")
        verbose_name_plural = _("cached reports")

    def __str__(self) -> str:
        return f"Report for {self.assessment_id}"


class Consultancy(models.Model):
    """A consultancy firm: its consultants see client organisations that granted access."""

    name = models.CharField(_("name"), max_length=200)
    accent_colour = models.CharField(
        _("accent colour"),
        max_length=7,
        default="#1d4e5f",
        help_text=_("A hex colour such as #1d4e5f, dark enough for white text."),
    )
    # The logo, re-encoded by Pillow on upload (PNG or JPEG, at most 1 MB); kept in the
    # database so every web and worker node can serve it.
    logo = models.BinaryField(_("logo"), null=True, blank=True, editable=False)
    logo_content_type = models.CharField(_("logo type"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("consultancy")
        verbose_name_plural = _("consultancies")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(accent_colour__regex=r"^#[0-9a-fA-F]{6}$"),
                name="consultancy_accent_colour_hex",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ConsultantMembership(models.Model):
    """A consultant working for a consultancy."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consultancies"
    )
    consultancy = models.ForeignKey(Consultancy, on_delete=models.CASCADE, related_name="members")

    class Meta:
        verbose_name = _("consultant")
        verbose_name_plural = _("consultants")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "consultancy"], name="consultant_unique_membership"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.consultancy})"


class ConsultantGrant(models.Model):
    """An organisation's permission for a consultancy to see its assessments, until it
    expires or is revoked. Without a current grant, everything of the organisation is a 404."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="consultant_grants"
    )
    consultancy = models.ForeignKey(Consultancy, on_delete=models.CASCADE, related_name="grants")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("consultant grant")
        verbose_name_plural = _("consultant grants")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.consultancy} → {self.organisation}"

    def is_current(self, now: "timezone.datetime | None" = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


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
