"""Reads of action plans: an assessment's actions (its page, the report, the exports),
the dashboard's overdue and due-soon actions, the owners' weekly digests, the calendar
feed, and the earlier assessment's actions beside the change in their sections' scores.
Each function states its query count."""

import datetime
from dataclasses import dataclass, field

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone

from assessment.models import Assessment, Membership, Organisation
from assessment.models.actions import Action, ActionDigest, CalendarFeed
from assessment.scoring import formula2
from assessment.selectors import results as results_selectors
from frameworks.models import Question, Section

# "Due soon": due within this many days from today (the dashboard and the digest).
DUE_SOON_DAYS = 14

_RELATED = (
    "owner",
    "required_by",
    "section__version__framework",
    "question",
)


def _ordered(queryset: QuerySet[Action]) -> QuerySet[Action]:
    """Required actions first, then by due date (none last)."""
    return queryset.alias(
        unrequired=ExpressionWrapper(Q(required_by__isnull=True), output_field=BooleanField())
    ).order_by("unrequired", *Action._meta.ordering)


def assessment_actions(assessment: Assessment) -> list[Action]:
    """The assessment's actions with their owners, sections (and frameworks) and questions,
    required ones first, then by due date (one query)."""
    return list(_ordered(Action.objects.filter(assessment=assessment).select_related(*_RELATED)))


def action_sections(assessment: Assessment) -> QuerySet[Section]:
    """The sections an action of the assessment may answer: its frameworks' (one query)."""
    return (
        Section.objects.filter(version__assessments=assessment)
        .select_related("version")
        .order_by("version__framework__slug", "position")
    )


def action_questions(assessment: Assessment) -> QuerySet[Question]:
    """The questions an action of the assessment may answer (one query)."""
    return (
        Question.objects.filter(version__assessments=assessment)
        .select_related("version", "section")
        .order_by("version__framework__slug", "section__position", "position")
    )


# --- the dashboard ----------------------------------------------------------------------


@dataclass(frozen=True)
class DueActions:
    overdue: list[Action]
    due_soon: list[Action]

    def __bool__(self) -> bool:
        return bool(self.overdue or self.due_soon)


def due_actions(organisation: Organisation) -> DueActions:
    """The organisation's open actions that are overdue or due within ``DUE_SOON_DAYS``,
    soonest first, with their assessments, teams and owners (one query)."""
    today = timezone.localdate()
    rows = list(
        Action.objects.open()
        .filter(
            assessment__organisation=organisation,
            due_date__lte=today + datetime.timedelta(days=DUE_SOON_DAYS),
        )
        .select_related("assessment__team", "owner", "section")
        .order_by("due_date", "pk")
    )
    return DueActions(
        overdue=[a for a in rows if a.overdue_on(today)],
        due_soon=[a for a in rows if not a.overdue_on(today)],
    )


# --- the weekly digest ------------------------------------------------------------------


def digest_week(today: datetime.date | None = None) -> datetime.date:
    """The Monday of the current ISO week: what a digest is counted by."""
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=today.weekday())


@dataclass
class Digest:
    """One owner's weekly digest: their open actions, overdue, due soon and the rest."""

    email: str
    name: str
    week: datetime.date
    organisations: list[Organisation] = field(default_factory=list)
    overdue: list[Action] = field(default_factory=list)
    due_soon: list[Action] = field(default_factory=list)
    others: list[Action] = field(default_factory=list)

    @property
    def actions(self) -> list[Action]:
        return [*self.overdue, *self.due_soon, *self.others]


def owner_digests(today: datetime.date | None = None) -> list[Digest]:
    """One digest per owner's address (a member's account address, or the address given
    for a named person) with open actions, of organisations whose address is confirmed
    (nothing is e-mailed for the others). Addresses are compared case-insensitively.
    One query."""
    today = today or timezone.localdate()
    soon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    # An owner with an account gets the digest only while still an active member of the
    # action's organisation (``access.organisation_members``, the same rule per row).
    still_member = Exists(
        Membership.objects.filter(
            user=OuterRef("owner"),
            organisation=OuterRef("assessment__organisation"),
            user__is_active=True,
        )
    )
    rows = (
        Action.objects.open()
        .filter(assessment__organisation__email_confirmed_at__isnull=False)
        .filter(Q(owner__isnull=True) | still_member)
        .select_related("owner", "section", "assessment__team", "assessment__organisation")
        .order_by(*Action._meta.ordering)
    )
    digests: dict[str, Digest] = {}
    for action in rows:
        if action.owner is not None:
            email, name = action.owner.email, action.owner_label
        else:
            email, name = action.owner_email, action.owner_name
        if not email:
            continue
        digest = digests.get(email.lower())
        if digest is None:
            digest = digests[email.lower()] = Digest(
                email=email, name=name, week=digest_week(today)
            )
        organisation = action.assessment.organisation
        if organisation not in digest.organisations:
            digest.organisations.append(organisation)
        if action.overdue_on(today):
            digest.overdue.append(action)
        elif action.due_date is not None and action.due_date <= soon:
            digest.due_soon.append(action)
        else:
            digest.others.append(action)
    for digest in digests.values():
        digest.organisations.sort(key=lambda o: o.pk)
    return sorted(digests.values(), key=lambda d: d.email.lower())


# --- calendar feeds ---------------------------------------------------------------------


def organisation_feeds(organisation: Organisation) -> QuerySet[CalendarFeed]:
    """The organisation's calendar feeds still working, newest first (one query)."""
    return (
        CalendarFeed.objects.filter(organisation=organisation, revoked_at__isnull=True)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )


def feed_for_token(token: str) -> CalendarFeed | None:
    """The working feed whose address carries ``token``, or None (one query)."""
    return (
        CalendarFeed.objects.filter(revoked_at__isnull=True)
        .select_related("organisation")
        .for_token(token)
    )


def feed_actions(organisation: Organisation) -> list[Action]:
    """The organisation's open actions with a due date, for its calendar feed (one query)."""
    return list(
        Action.objects.open()
        .filter(assessment__organisation=organisation, due_date__isnull=False)
        .select_related("owner", "section", "assessment__team")
        .order_by("due_date", "pk")
    )


# --- since the last assessment ----------------------------------------------------------


@dataclass(frozen=True)
class ActionProgress:
    """An earlier assessment's action, and its section's score then and now (None where
    either is withheld, unscored or not comparable)."""

    action: Action
    before: float | None
    now: float | None
    # The team's interval statistics behind each score (formula 2; None for a moderated
    # score, which carries no interval, and in formula 1).
    before_stats: "formula2.SectionStats | None" = None
    now_stats: "formula2.SectionStats | None" = None

    @property
    def change(self) -> float | None:
        if self.before is None or self.now is None:
            return None
        return self.now - self.before

    @property
    def change_margin(self) -> float | None:
        """The change's 95 % margin (``formula2.change_margin``), as the trend uses it."""
        return formula2.change_margin(self.now_stats, self.before_stats)

    @property
    def change_beyond_noise(self) -> bool:
        margin = self.change_margin
        return self.change is not None and margin is not None and abs(self.change) > margin


@dataclass(frozen=True)
class SinceLast:
    earlier: Assessment
    rows: list[ActionProgress]


def _section_scores(
    found: results_selectors.AssessmentResults,
) -> dict[tuple[str, str], tuple[float, "formula2.SectionStats | None"]]:
    """Official section scores by (framework slug, section key), each with the team's
    interval statistics where the score is the team's own (a moderated score has none);
    empty while withheld."""
    return {
        (panel.slug, row.key): (row.official, row.stats if row.moderated is None else None)
        for panel in found.panels
        for row in panel.rows
        if row.official is not None
    }


def since_last_assessment(
    assessment: Assessment,
    current: results_selectors.AssessmentResults,
    *,
    viewer_id: int | None = None,
) -> SinceLast | None:
    """The team's latest assessment created before this one that has actions, with each of
    its actions beside the change in its section's score between the two (sections
    matched by framework slug and section key, since the versions may differ). None when
    there is no such assessment. Two queries without one; else two, plus the earlier
    results (``results.assessment_results``)."""
    earlier = (
        Assessment.objects.filter(team_id=assessment.team_id, created_at__lt=assessment.created_at)
        .exclude(pk=assessment.pk)
        .filter(Exists(Action.objects.filter(assessment=OuterRef("pk"))))
        .order_by("-created_at", "-pk")
        .first()
    )
    if earlier is None:
        return None
    actions = assessment_actions(earlier)
    before = _section_scores(results_selectors.assessment_results(earlier, viewer_id=viewer_id))
    now = _section_scores(current)
    rows = []
    for action in actions:
        key = None
        if action.section is not None:
            key = (action.section.version.framework.slug, action.section.key)
        then_score, then_stats = before.get(key, (None, None)) if key else (None, None)
        now_score, now_stats = now.get(key, (None, None)) if key else (None, None)
        rows.append(
            ActionProgress(
                action=action,
                before=then_score,
                now=now_score,
                before_stats=then_stats,
                now_stats=now_stats,
            )
        )
    return SinceLast(earlier=earlier, rows=rows)


def digests_sent(week: datetime.date) -> set[str]:
    """The addresses (lower case) already sent this week's digest (one query)."""
    return {
        email.lower()
        for email in ActionDigest.objects.filter(week=week).values_list("email", flat=True)
    }
