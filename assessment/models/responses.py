"""Responses and their answers."""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessment.models.assessments import Assessment, Invitation
from assessment.models.organisations import Membership
from frameworks.models import SCALE_MAX, SCALE_V2_MIN, Question

COMMENT_MAX_LENGTH = 2000


class ResponseQuerySet(models.QuerySet):
    def members(self) -> "ResponseQuerySet":
        """Team members' responses: invited as team members, not a manager's own view, and
        not to the address of anyone who manages the assessment's organisation (compared
        without regard to case): a manager answering through their own invitation is their
        self-view, never team data. Only these count towards team figures and the anonymity
        threshold. (``selectors.results._section_totals`` runs this queryset in its SQL.)"""
        return self.invitees(Question.Audience.TEAM)

    def invitees(self, audience: str) -> "ResponseQuerySet":
        """Invited people's responses of one audience (team or leadership), under the rules
        of ``members``: each audience reaches the anonymity threshold on its own."""
        organisation_member = Membership.objects.annotate(address=Lower("user__email")).filter(
            organisation_id=OuterRef("assessment__organisation_id"),
            address=Lower(OuterRef("invitation__email")),
        )
        return self.filter(
            invitation__isnull=False, is_manager_view=False, audience=audience
        ).filter(~Exists(organisation_member))

    def completed(self) -> "ResponseQuerySet":
        """Responses whose answers count: completed, or completed in an earlier round and
        being revised now (their answers as last completed still count)."""
        return self.filter(status__in=Response.COUNTED_STATUSES)


class Response(models.Model):
    """One person's answers to one assessment: an invitee's, or a signed-in manager's."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        # Completed in an earlier round and being changed in this one: the answers as last
        # completed (Answer.submitted_*) still count until the person completes again.
        REVISING = "revising", _("Revising")
        CLOSED = "closed", _("Closed unfinished")

    # Their submitted answers (Answer.submitted_*) count in team figures.
    COUNTED_STATUSES = (Status.COMPLETED, Status.REVISING)
    # The person may change the working copy of their answers (while the assessment is open).
    EDITABLE_STATUSES = (Status.IN_PROGRESS, Status.REVISING)

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
    # The questions this person answers (``Question.objects.asked_of``): an invitee's
    # audience (team or leadership), or "manager" for a manager's own answers.
    audience = models.CharField(
        _("answers as"), max_length=20, choices=Question.Audience, default=Question.Audience.TEAM
    )
    is_manager_view = models.BooleanField(
        _("manager's self-assessment"),
        default=False,
        help_text=_("The manager's own answers, kept apart from the team's."),
    )

    Audience = Question.Audience
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.IN_PROGRESS
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # The assessment's round in which this response was last completed.
    completed_round = models.PositiveSmallIntegerField(
        _("completed in round"), null=True, blank=True
    )

    objects = ResponseQuerySet.as_manager()

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
            models.CheckConstraint(
                condition=models.Q(audience__in=["team", "manager", "leadership"]),
                name="response_audience_known",
            ),
        ]

    def __str__(self) -> str:
        return f"Response {self.pk} to {self.assessment}"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES

    @property
    def is_counted(self) -> bool:
        """Whether the answers as last completed count in team figures."""
        return self.status in self.COUNTED_STATUSES

    @property
    def can_revise(self) -> bool:
        """Completed in an earlier round of an assessment open again: the person may change
        their answers (``services.response_revise``, which checks the same in its update)."""
        return (
            self.status == self.Status.COMPLETED
            and self.assessment.is_open
            and (self.completed_round or 0) < self.assessment.round
        )

    def changeable_section_ids(self) -> frozenset[int] | None:
        """The sections whose answers this person may change now; None for every section.
        A response never completed may be finished in full; one completed in an earlier
        round may change only the sections its assessment was reopened for."""
        if self.completed_round is None:
            return None
        return self.assessment.sections_open_for_revision()

    @property
    def status_tone(self) -> str:
        """The Bootstrap tone of this status's badge, the same on every page."""
        return {
            self.Status.IN_PROGRESS: "warning",
            self.Status.COMPLETED: "success",
            self.Status.REVISING: "info",
        }.get(self.status, "secondary")


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
    # Format 1 offers one merged "not applicable / don't know", stored here; format 2
    # offers "not applicable to us" (here) and "don't know" (dont_know) apart.
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    dont_know = models.BooleanField(_("don't know"), default=False)
    comment = models.TextField(_("comment"), max_length=COMMENT_MAX_LENGTH, blank=True)
    # The answer as it was when the response was last completed: what team figures count.
    # The fields above are the person's working copy, which may change while revising.
    submitted_level = models.PositiveSmallIntegerField(_("submitted level"), null=True, blank=True)
    submitted_not_applicable = models.BooleanField(_("submitted as not applicable"), default=False)
    submitted_dont_know = models.BooleanField(_("submitted as don't know"), default=False)
    submitted_comment = models.TextField(
        _("submitted comment"), max_length=COMMENT_MAX_LENGTH, blank=True
    )
    # The round in which completing again changed this answer's level, N/A state or comment
    # (set by ``services.response_complete`` for a response completed before); empty when
    # the answer never changed after its first completion. "What changed" counts these.
    changed_round = models.PositiveSmallIntegerField(_("changed in round"), null=True, blank=True)
    revision = models.PositiveIntegerField(
        _("revision"), default=1, help_text=_("Raised by every save; stale saves are refused.")
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [
            models.Index(
                fields=[
                    "response",
                    "section",
                    "submitted_level",
                    "submitted_not_applicable",
                    "submitted_dont_know",
                ],
                name="answer_submitted_totals_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_unique"),
            models.CheckConstraint(
                condition=models.Q(level__isnull=True)
                | models.Q(level__gte=SCALE_V2_MIN, level__lte=SCALE_MAX),
                name="answer_level_in_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(level__isnull=False, not_applicable=True),
                name="answer_level_or_not_applicable",
            ),
            # One choice per answer: a level, "not applicable" or "don't know".
            models.CheckConstraint(
                condition=~models.Q(dont_know=True)
                | models.Q(level__isnull=True, not_applicable=False),
                name="answer_dont_know_alone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question.code}: {'-' if self.level is None else self.level}"

    @property
    def is_answered(self) -> bool:
        return self.level is not None or self.not_applicable or self.dont_know
