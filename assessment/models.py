"""Organisations, teams, team assessments, invitations, responses and answers.

State changes happen in ``services.py`` as conditional updates; nothing here
has logic in ``save()`` or signals.
"""

import hashlib

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

    def link_is_usable(self, now: "timezone.datetime | None" = None) -> bool:
        now = now or timezone.now()
        return (
            self.revoked_at is None and self.token_used_at is None and self.token_expires_at > now
        )


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
