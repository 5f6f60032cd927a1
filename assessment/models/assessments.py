"""Team assessments, their invitations and the managers' section targets."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessment.models.organisations import Organisation, Team, TokenQuerySet
from frameworks.models import SCALE_MAX, SCALE_MIN, FrameworkVersion


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
    # Before submission: invitees can still be added, sent, renewed or revoked.
    INVITING_STATUSES = (Status.DRAFT, Status.OPEN)

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
    # 1 when first opened; raised by every reopening after a return for revision.
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    # The language invitees and customers read in until they choose their own, and that
    # their e-mails start in (assessment.languages). Checked against settings.LANGUAGES
    # by the forms, not by choices here, so adding a language needs no migration.
    language = models.CharField(_("language"), max_length=10, default=settings.LANGUAGE_CODE)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("assessment:detail", kwargs={"pk": self.pk})

    @property
    def judgements_shown(self) -> bool:
        """Whether the assessor's judgements may be shown beyond the review: whenever the
        assessment is not in review. Judgements are made only in review, so outside it
        every one belongs to a decided round; while in review they are the assessor's work
        in progress (``selectors.review.judgements_shown``)."""
        return self.status != self.Status.IN_REVIEW

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED_STATUSES

    @property
    def status_tone(self) -> str:
        """The Bootstrap tone of this status's badge, the same on every page."""
        return STATUS_TONES.get(self.status, "secondary")

    @property
    def accepts_invitations(self) -> bool:
        """Whether invitees may still be added, sent or revoked: a draft or an open one."""
        return self.status in self.INVITING_STATUSES

    def results_visible(self, completed_members: int) -> bool:
        """Whether team figures may show: only once the answers are closed (while open, the
        change after each completion would give that person's answers away), and only from
        ``ANONYMITY_THRESHOLD`` completed member responses (see ``Response.objects.members``)."""
        return self.is_closed and completed_members >= settings.ANONYMITY_THRESHOLD

    def sections_open_for_revision(self) -> frozenset[int] | None:
        """The sections whose answers a response completed earlier may change in this round;
        None when there is no limit (the first round). One query after the first round."""
        if self.round <= 1:
            return None
        reopening = self.reopenings.filter(round=self.round).first()
        if reopening is None:  # reopened before sections were chosen (older data)
            return None
        return frozenset(reopening.sections.values_list("pk", flat=True))


# One colour per status, for every badge (text-bg-* pairs each tone with a readable text
# colour). Waiting on the organisation is primary, waiting on review is info, a return
# asks for action (warning), approval is done.
STATUS_TONES = {
    Assessment.Status.DRAFT: "secondary",
    Assessment.Status.OPEN: "primary",
    Assessment.Status.SUBMITTED: "info",
    Assessment.Status.IN_REVIEW: "info",
    Assessment.Status.RETURNED: "warning",
    Assessment.Status.APPROVED: "success",
}


class Invitation(models.Model):
    """A team member's invitation to answer; the link's token is stored only as a hash."""

    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("assessment"),
    )

    class Audience(models.TextChoices):
        TEAM = "team", _("Team member")
        LEADERSHIP = "leadership", _("Leadership")

    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"))
    # Who this person answers as: the team's questions, or (format-2 frameworks) the
    # leadership questions that front-line staff cannot know. Managers answer theirs
    # signed in (Response.Audience.MANAGER).
    audience = models.CharField(
        _("answers as"), max_length=20, choices=Audience, default=Audience.TEAM
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    token_expires_at = models.DateTimeField(_("link expires at"))
    token_used_at = models.DateTimeField(_("link used at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    send_count = models.PositiveSmallIntegerField(_("times sent"), default=0)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The language the invitee last chose (empty: the assessment's); their reminders
    # and fresh links go out in it.
    language = models.CharField(_("language"), max_length=10, blank=True)

    objects = TokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "email"], name="invitation_unique_email"),
            models.CheckConstraint(
                condition=models.Q(audience__in=["team", "leadership"]),
                name="invitation_audience_known",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    # The one set of reasons a link cannot be used. ``services.invitation_redeem_digest``
    # refuses on them (on a POST); ``selectors.respondent.link_state`` says them on the
    # first view, before anyone presses anything.
    INVALID_LINK_MESSAGE = _("This link is not valid. Check that you copied all of it.")
    USED_LINK_MESSAGE = _("This link has already been used. We can e-mail you a fresh one.")

    def link_problem(self) -> tuple[str, str] | None:
        """Why this invitation's link cannot be used now, as (problem, message), or None
        for a live link. Checked in this order: withdrawn, the assessment closed, used,
        expired (needs ``assessment``)."""
        if self.is_revoked:
            return "revoked", str(_("This invitation was withdrawn by the manager."))
        if not self.assessment.is_open:
            return "closed", str(_("This assessment is closed."))
        if self.token_used_at is not None:
            return "used", str(self.USED_LINK_MESSAGE)
        if self.token_expires_at <= timezone.now():
            return "expired", str(_("This link has expired. We can e-mail you a fresh one."))
        return None


class Reopening(models.Model):
    """A returned assessment opened again for one more round: which sections accept changes
    in that round, and the note its respondents read (by e-mail and in the questionnaire).

    Completed responses stay completed; their owners may revise only these sections. A
    response that was never completed may be finished in full.
    """

    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.CASCADE,
        related_name="reopenings",
        verbose_name=_("assessment"),
    )
    # The round this reopening starts (Assessment.round after it).
    round = models.PositiveSmallIntegerField(_("round"))
    sections = models.ManyToManyField(
        "frameworks.Section", related_name="+", verbose_name=_("sections open for changes")
    )
    note = models.TextField(_("note to respondents"), max_length=4000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("reopened at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reopening")
        verbose_name_plural = _("reopenings")
        ordering = ["-round"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "round"], name="reopening_one_per_round"),
        ]

    def __str__(self) -> str:
        return f"{self.assessment}: round {self.round}"


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
