"""Reads for the assessor: the queue, the review workspace, and the history of an assessment."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import gettext_lazy

from assessment import access
from assessment.models import (
    Assessment,
    AssessorProfile,
    Assignment,
    AuditEvent,
    Decision,
    Invitation,
    Membership,
    Moderation,
    Response,
)
from assessment.models.review import AuditEntry
from assessment.selectors import manager, results
from frameworks.models import SCALE_MAX, SCALE_MIN, FrameworkVersion, ScaleLevel, Section

# --- the queue -------------------------------------------------------------------------

# Workflow order, so "status" sorts what needs the assessor first.
_STATUS_ORDER = Case(
    When(status=Assessment.Status.IN_REVIEW, then=Value(0)),
    When(status=Assessment.Status.SUBMITTED, then=Value(1)),
    When(status=Assessment.Status.RETURNED, then=Value(2)),
    When(status=Assessment.Status.OPEN, then=Value(3)),
    When(status=Assessment.Status.APPROVED, then=Value(4)),
    default=Value(5),
    output_field=IntegerField(),
)

QUEUE_SORTS: dict[str, Any] = {
    "team": F("team__name"),
    "organisation": F("organisation__name"),
    "submitted": F("submitted_at"),
    "due": F("due_date"),
    "status": _STATUS_ORDER,
}
QUEUE_COLUMNS = [
    ("team", gettext_lazy("Team")),
    ("organisation", gettext_lazy("Organisation")),
    (None, gettext_lazy("Frameworks")),
    ("submitted", gettext_lazy("Submitted")),
    ("due", gettext_lazy("Due")),
    ("status", gettext_lazy("Status")),
]
DEFAULT_SORT = "status"


@dataclass(frozen=True)
class SortColumn:
    """A column heading: its label, and where a click sorts (and how it sorts now)."""

    label: str
    key: str | None
    link: str  # the ?sort= value a click asks for
    direction: str  # "ascending", "descending" or "" when not the sort column


@dataclass(frozen=True)
class AssessorQueue:
    assessments: list[Assessment]
    columns: list[SortColumn]
    sort: str
    is_assessor: bool


def _queue_order(sort: str) -> list:
    key = sort.removeprefix("-")
    expression = QUEUE_SORTS[key]
    primary = (
        expression.desc(nulls_last=True)
        if sort.startswith("-")
        else expression.asc(nulls_last=True)
    )
    # Ties (and empty dates) fall back to the most urgent first, then a stable order.
    return [primary, F("due_date").asc(nulls_last=True), "submitted_at", "pk"]


def _queue_columns(sort: str) -> list[SortColumn]:
    columns = []
    for key, label in QUEUE_COLUMNS:
        if key is None:
            columns.append(SortColumn(str(label), None, "", ""))
        elif sort == key:
            columns.append(SortColumn(str(label), key, f"-{key}", "ascending"))
        elif sort == f"-{key}":
            columns.append(SortColumn(str(label), key, key, "descending"))
        else:
            columns.append(SortColumn(str(label), key, key, ""))
    return columns


def assessor_queue(user: AbstractBaseUser, *, sort: str = DEFAULT_SORT) -> AssessorQueue:
    """The assessments assigned to ``user``, in ``sort`` order (a key of QUEUE_SORTS, or
    "-" and one for descending), with the column headings (two queries: the assessments
    and their frameworks, or, when none is assigned, whether ``user`` is an assessor)."""
    assessments = list(
        access.assessments_for_assessor(user)
        .select_related("team", "organisation")
        .prefetch_related(
            Prefetch(
                "framework_versions",
                queryset=FrameworkVersion.objects.order_by("framework__slug"),
            )
        )
        .order_by(*_queue_order(sort))
    )
    return AssessorQueue(
        assessments=assessments,
        columns=_queue_columns(sort),
        sort=sort,
        is_assessor=bool(assessments) or access.is_assessor(user),
    )


# --- the review workspace --------------------------------------------------------------


@dataclass(frozen=True)
class ModerationRow:
    """One section as the moderation forms show it."""

    section_id: int
    name: str
    team_score: float | None
    moderated: float | None
    rationale: str


@dataclass(frozen=True)
class ModerationGroup:
    framework: str
    rows: list[ModerationRow]


def level_choices(versions: list[FrameworkVersion]) -> list[tuple[int, str]]:
    """Levels 1-5 with the scale's labels (each framework's, where they differ; one query)."""
    labels: dict[int, list[str]] = {value: [] for value in range(SCALE_MIN, SCALE_MAX + 1)}
    for value, label in (
        ScaleLevel.objects.filter(version__in=versions)
        .order_by("version__framework__slug", "value")
        .values_list("value", "label")
    ):
        if value in labels and label not in labels[value]:
            labels[value].append(label)
    return [(value, " / ".join(names)) for value, names in labels.items()]


def _moderation_groups(
    assessment: Assessment,
    versions: list[FrameworkVersion],
    sections: list[Section],
    panels: list[results.FrameworkPanel],
) -> list[ModerationGroup]:
    """Every section of every framework, with its team score and current moderation."""
    team_scores = {row.section_id: row.team.score for panel in panels for row in panel.rows}
    latest = {
        section_id: (float(score), rationale)
        for section_id, score, rationale in Moderation.objects.latest_per_section(
            assessment
        ).values_list("section_id", "score", "rationale")
    }
    return [
        ModerationGroup(
            framework=version.short_name,
            rows=[
                ModerationRow(
                    section_id=section.pk,
                    name=section.name,
                    team_score=team_scores.get(section.pk),
                    moderated=latest[section.pk][0] if section.pk in latest else None,
                    rationale=latest[section.pk][1] if section.pk in latest else "",
                )
                for section in sections
                if section.version_id == version.pk
            ],
        )
        for version in versions
    ]


@dataclass(frozen=True)
class Invitee:
    """One invited address as the assessor sees it, and whether its answers count."""

    email: str
    name: str
    counted: bool  # a team member's completed answers, in the team figures
    revoked: bool


def invitees(assessment: Assessment) -> list[Invitee]:
    """Everyone invited, by address, and whose answers count (one query). The assessor
    checks that the addresses look like real team members: made-up ones answered by
    the manager could reach the anonymity threshold (docs/privacy.md)."""
    counted = Response.objects.members().completed().filter(invitation=OuterRef("pk"))
    return [
        Invitee(email=i.email, name=i.name, counted=i.counted, revoked=i.is_revoked)
        for i in Invitation.objects.filter(assessment=assessment)
        .annotate(counted=Exists(counted))
        .order_by("email")
    ]


def review_workspace(assessment: Assessment) -> dict[str, Any]:
    """Everything the review workspace shows, in a constant number of queries however
    many people answered: at most 22 while in review (versions 1, results 7, the changes
    since the last decision 2, decisions 1, sections and their moderations 2, team
    figures 4, the invitees 1, the audit trail 3, levels 1), 16 at most otherwise."""
    versions = manager.assessment_versions(assessment)
    outcome = results.assessment_results(assessment)  # no viewer: assessors have no self-view
    in_review = assessment.status == Assessment.Status.IN_REVIEW
    last_decision, changes = (
        results.changes_since_last_review(assessment, outcome) if in_review else (None, [])
    )
    decisions = decisions_newest_first(assessment)
    if in_review:
        sections = list(
            Section.objects.filter(version__in=versions).order_by("version_id", "position")
        )
        moderation_groups = _moderation_groups(assessment, versions, sections, outcome.panels)
    else:
        moderation_groups = []
    return {
        "assessment": assessment,
        "versions": versions,
        "results": outcome,
        "team": results.team_results(assessment, versions),
        "invitees": invitees(assessment),
        "in_review": in_review,
        "last_decision": last_decision,
        "changes": changes,
        "decisions": decisions,
        "current_decision": decisions[0] if decisions and not in_review else None,
        "timeline": audit_timeline(assessment),
        "moderation_groups": moderation_groups,
        "level_choices": level_choices(versions) if in_review else [],
        "levels": range(SCALE_MIN, SCALE_MAX + 1),
    }


def decision_snapshot(assessment: Assessment) -> dict[str, dict[str, float | None]]:
    """The section scores to store with a decision (the results' seven queries)."""
    return results.scores_snapshot(results.assessment_results(assessment))


# --- history ---------------------------------------------------------------------------


def audit_timeline(assessment: Assessment) -> list[AuditEntry]:
    """The assessment's audit trail, oldest first, in words (three queries at most)."""
    return AuditEvent.objects.filter(assessment=assessment).rendered()


def review_history(assessment: Assessment) -> dict:
    """The assignment and the decisions of one assessment, newest first (two queries)."""
    return {
        "assignment": Assignment.objects.filter(assessment=assessment)
        .select_related("assessor")
        .first(),
        "decisions": decisions_newest_first(assessment),
    }


def assessor_conflict(*, assessor: AbstractBaseUser, assessment: Assessment) -> bool:
    """An assessor may never review an organisation they belong to (one query)."""
    return Membership.objects.filter(user=assessor, organisation=assessment.organisation).exists()


def available_assessors(*, assessment: Assessment) -> list[AssessorProfile]:
    """Assessors with a current accreditation and no tie to the assessment's organisation
    (one query)."""
    return list(
        # The same tie as assessor_conflict, for every profile in one query.
        AssessorProfile.objects.current()
        .exclude(user__memberships__organisation=assessment.organisation)
        .select_related("user")
    )


def assessor_accounts(profiles: Iterable[AssessorProfile]) -> QuerySet:
    """The user accounts of these assessor profiles, for a choice field (one query)."""
    return get_user_model().objects.filter(pk__in=[p.user_id for p in profiles])


def decisions_newest_first(assessment: Assessment) -> list[Decision]:
    """The assessor's decisions on the assessment, latest round first (one query)."""
    return list(assessment.decisions.select_related("assessor").order_by("-round"))
