"""Accredited review: assessors, assignments, moderations, decisions and the audit trail."""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessment.models.assessments import Assessment
from frameworks.models import SCALE_MAX, SCALE_V2_MIN
from frameworks.translation import localise


class AssessorProfileQuerySet(models.QuerySet):
    def current(self) -> "AssessorProfileQuerySet":
        """Accreditations valid today: only these assessors may be assigned
        (``AssessorProfile.is_current`` is the same rule for one profile)."""
        return self.filter(valid_until__gte=timezone.localdate())


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

    objects = AssessorProfileQuerySet.as_manager()

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


class ModerationQuerySet(models.QuerySet):
    def latest_per_section(self, assessment: Assessment) -> "ModerationQuerySet":
        """The moderation that counts for each section of ``assessment``: the latest one.

        Every moderation is kept (the audit trail shows them all); only the latest of a
        section is its moderated score. One query when evaluated.
        """
        later = Moderation.objects.filter(
            assessment=models.OuterRef("assessment"),
            section=models.OuterRef("section"),
            pk__gt=models.OuterRef("pk"),
        )
        return self.filter(assessment=assessment).exclude(models.Exists(later))


class Moderation(models.Model):
    """An assessor's moderated score for one section, with the reason. The latest counts."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="moderations")
    section = models.ForeignKey("frameworks.Section", on_delete=models.PROTECT, related_name="+")
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    score = models.DecimalField(_("moderated score"), max_digits=5, decimal_places=1)
    rationale = models.TextField(_("rationale"), max_length=4000)
    # The assessment's round when recorded. A moderation from an earlier round was made on
    # other answers: it must be confirmed or replaced before approval.
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ModerationQuerySet.as_manager()

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


class JudgementQuerySet(models.QuerySet):
    def latest_per_question(self, assessment: Assessment) -> "JudgementQuerySet":
        """The judgement that counts for each question of ``assessment``: the latest one.
        Every judgement is kept (the audit trail shows them all). One query."""
        later = Judgement.objects.filter(
            assessment=models.OuterRef("assessment"),
            question=models.OuterRef("question"),
            pk__gt=models.OuterRef("pk"),
        )
        return self.filter(assessment=assessment).exclude(models.Exists(later))


class Judgement(models.Model):
    """An assessor's judgement of one question's criteria on the evidence: met, partly
    met, not met or not evidenced, with a note. The latest of a question counts; the
    awarded-level rule reads them (``scoring.formula2.evidenced_level``)."""

    class Verdict(models.TextChoices):
        MET = "met", _("Met")
        PARTLY = "partly", _("Partly met")
        NOT_MET = "not_met", _("Not met")
        NOT_EVIDENCED = "not_evidenced", _("Not evidenced")

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="judgements")
    question = models.ForeignKey("frameworks.Question", on_delete=models.PROTECT, related_name="+")
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verdict = models.CharField(_("judgement"), max_length=20, choices=Verdict.choices)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    created_at = models.DateTimeField(_("judged at"), auto_now_add=True)

    objects = JudgementQuerySet.as_manager()

    class Meta:
        verbose_name = _("judgement")
        verbose_name_plural = _("judgements")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["assessment", "question"], name="judgement_question_idx")]

    def __str__(self) -> str:
        return f"{self.question}: {self.get_verdict_display()}"


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
    # On a return: the sections the assessor asks the team to look at again (the manager's
    # reopening starts from these).
    required_sections = models.ManyToManyField(
        "frameworks.Section", blank=True, related_name="+", verbose_name=_("sections to revise")
    )
    # Section scores (team, and moderated where set) at the time of the decision, so the
    # next round can show what changed: {"<framework slug>": {"<section key>": score}}.
    snapshot = models.JSONField(_("scores at decision"), default=dict)
    # Format 2: the level the awarded-level rule gave at the decision
    # (``scoring.formula2.awarded_level`` on the sections' levels, moderated where set);
    # None on a return, on format 1 (a free choice) and when a section had no level.
    rule_level = models.PositiveSmallIntegerField(_("level the rule gives"), null=True, blank=True)
    # Why the assessor awarded another level than the rule's (required then), or, when the
    # rule gave none, why this level (optional). Empty when the award follows the rule.
    deviation_reason = models.TextField(
        _("reason for another level than the rule's"), max_length=4000, blank=True
    )
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
                        # 0 ("not in place") exists in format 2; the service checks the
                        # range of the assessment's frameworks (review.assessment_levels).
                        awarded_level__gte=SCALE_V2_MIN,
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
            # Another level than the rule's only with a written reason.
            models.CheckConstraint(
                condition=models.Q(rule_level__isnull=True)
                | models.Q(awarded_level=models.F("rule_level"))
                | ~models.Q(deviation_reason=""),
                name="decision_deviation_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment}: {self.get_outcome_display()}"

    @property
    def deviates(self) -> bool:
        """An approval with a reason for its level (another than the rule gave, or the
        rule gave none): the decision text and the report print ``deviation_reason``."""
        return self.outcome == self.Outcome.APPROVED and bool(self.deviation_reason)


@dataclass(frozen=True)
class AuditChange:
    """One recorded field in words; ``before`` is "" when the event recorded no earlier value."""

    label: str
    before: str
    after: str


@dataclass(frozen=True)
class AuditEntry:
    """An audit event as people read it: who did what, and each change in words."""

    event: "AuditEvent"
    actor: str
    changes: list[AuditChange]


def _person(user: Any) -> str:
    if user is None:
        return str(_("System"))
    return user.get_full_name() or user.get_username()


class AuditEventQuerySet(models.QuerySet):
    def rendered(self) -> list[AuditEntry]:
        """These events, oldest first, with ids resolved to names and codes to words.

        Three queries for any number of events: the events, the people they name (actors
        and assessors) and the sections they name.
        """
        events = list(self.order_by("created_at", "pk"))
        user_ids = {event.actor_id for event in events if event.actor_id is not None}
        section_keys: set[str] = set()
        for event in events:
            for key, value in event.recorded():
                if key == "assessor" and isinstance(value, int):
                    user_ids.add(value)
                elif key == "section" and isinstance(value, str):
                    section_keys.add(value)
                elif key == "sections" and isinstance(value, list):
                    section_keys.update(v for v in value if isinstance(v, str))
        people = (
            {user.pk: user for user in get_user_model().objects.filter(pk__in=user_ids)}
            if user_ids
            else {}
        )
        sections: dict[int, dict[str, str]] = defaultdict(dict)
        if section_keys:
            from frameworks.models import Section

            for assessment_id, key, name, translations in Section.objects.filter(
                version__assessments__in={event.assessment_id for event in events},
                key__in=section_keys,
            ).values_list("version__assessments", "key", "name", "translations"):
                sections[assessment_id][key] = localise(name, translations, "name")
        return [
            AuditEntry(
                event=event,
                actor=_person(people.get(event.actor_id)),
                changes=event.changes(people=people, sections=sections[event.assessment_id]),
            )
            for event in events
        ]


class AuditEvent(models.Model):
    """Append-only record of what happened to an assessment: who, when, what, before, after.

    Nothing in the app updates or deletes these rows, and the admin only shows them.
    Read it through ``AuditEvent.objects.filter(...).rendered()``, the one renderer.
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
        JUDGED = "judged", _("Criteria judged")
        EVIDENCE_DELETED = "evidence_deleted", _("Evidence deleted")
        ACTIONS_REQUIRED = "actions_required", _("Actions required")

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

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_action_display()}"

    def recorded(self) -> list[tuple[str, Any]]:
        """Every (field, value) the event recorded, before and after."""
        return [
            (key, value)
            for values in (self.before, self.after)
            if isinstance(values, dict)
            for key, value in values.items()
        ]

    def changes(
        self, *, people: dict[int, Any] | None = None, sections: dict[str, str] | None = None
    ) -> list[AuditChange]:
        """Each recorded field in words, in the order recorded (before's fields first).

        ``people`` (users by pk) and ``sections`` (names by key) resolve ids; the
        queryset's ``rendered()`` gathers them for a whole timeline at once.
        """
        before = self.before if isinstance(self.before, dict) else {}
        after = self.after if isinstance(self.after, dict) else {}
        people, sections = people or {}, sections or {}

        def words(key: str, value: Any) -> str:
            if value is None or value == "":
                return "—"
            if key == "status":
                return str(Assessment.Status(value).label) if value in Assessment.Status else "—"
            if key == "verdict":
                return str(Judgement.Verdict(value).label) if value in Judgement.Verdict else "—"
            if key == "outcome":
                return str(Decision.Outcome(value).label) if value in Decision.Outcome else "—"
            if key == "assessor":
                return _person(people[value]) if value in people else str(_("unknown person"))
            if key == "section":
                return sections.get(value, str(_("unknown section")))
            if key == "sections" and isinstance(value, list):
                return ", ".join(sections.get(v, str(_("unknown section"))) for v in value)
            if value is True:
                return str(_("yes"))
            if value is False:
                return str(_("no"))
            return str(value)

        changes = []
        for key in [*before, *(k for k in after if k not in before)]:
            label = str(AUDIT_FIELD_LABELS.get(key, key.replace("_", " ").capitalize()))
            old, new = before.get(key), after.get(key)
            if key not in before or (key == "section" and old == new):
                # A moderation names its section on both sides; say it once.
                changes.append(AuditChange(label, "", words(key, new)))
            else:
                changes.append(AuditChange(label, words(key, old), words(key, new)))
        return changes


# The one table of audit labels: every page that shows the trail reads it through changes().
AUDIT_FIELD_LABELS = {
    "status": _("Status"),
    "outcome": _("Outcome"),
    "assessor": _("Assessor"),
    "section": _("Section"),
    "score": _("Moderated score"),
    "rationale": _("Rationale"),
    "round": _("Review round"),
    "awarded_level": _("Awarded level"),
    "summary": _("Summary"),
    "required_changes": _("Required changes"),
    "responses_reopened": _("Responses reopened"),
    "sections": _("Sections to look at again"),
    "note": _("Note to the team"),
    "completed_members": _("Team members completed"),
    "closed_without_results": _("Closed without results"),
    "kept_from_round": _("Kept from round"),
    "rule_level": _("Level the rule gives"),
    "deviation_reason": _("Reason for another level"),
    "question": _("Question"),
    "verdict": _("Judgement"),
    "judgement_note": _("Note on the judgement"),
    "evidence": _("Evidence"),
    "added_by": _("Added by"),
    "actions": _("Required actions"),
}
