"""Read queries for the manager pages, each in a constant number of queries.

Team figures never expose one person's answers: they are counts over completed
member responses, and only from ``settings.ANONYMITY_THRESHOLD`` of them.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from assessment.models import (
    Answer,
    Assessment,
    AssessorProfile,
    Assignment,
    Invitation,
    ManagerInvitation,
    Membership,
    Organisation,
    Response,
    Team,
)
from frameworks.models import SCALE_MAX, SCALE_MIN, FrameworkVersion, Question, Section

LEVELS = range(SCALE_MIN, SCALE_MAX + 1)


def _count_per_assessment(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT over ``queryset`` for each outer assessment (no row multiplication)."""
    counted = (
        queryset.filter(assessment=OuterRef("pk"))
        .order_by()
        .values("assessment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _versions_prefetch() -> Prefetch:
    return Prefetch(
        "framework_versions",
        queryset=FrameworkVersion.objects.select_related("framework").order_by("framework__slug"),
    )


def member_responses(assessment: Assessment) -> QuerySet[Response]:
    """Completed responses of invited team members; the manager's own view is not one."""
    return Response.objects.filter(
        assessment=assessment,
        invitation__isnull=False,
        is_manager_view=False,
        status=Response.Status.COMPLETED,
    )


# --- dashboard and team pages ------------------------------------------------------


def organisation_teams(organisation: Organisation) -> QuerySet[Team]:
    return Team.objects.filter(organisation=organisation).annotate(roster_size=Count("roster"))


def organisation_assessments(
    organisation: Organisation, *, user: AbstractBaseUser
) -> QuerySet[Assessment]:
    """Assessments with completion counts ("n of m") and the manager's own response status."""
    own_status = Response.objects.filter(assessment=OuterRef("pk"), user=user).values("status")[:1]
    return (
        Assessment.objects.filter(organisation=organisation)
        .select_related("team")
        .prefetch_related(_versions_prefetch())
        .annotate(
            invited_count=_count_per_assessment(Invitation.objects.filter(revoked_at__isnull=True)),
            completed_count=_count_per_assessment(
                Response.objects.filter(
                    invitation__isnull=False,
                    invitation__revoked_at__isnull=True,
                    status=Response.Status.COMPLETED,
                )
            ),
            own_response_status=Subquery(own_status),
        )
        .order_by("-created_at", "-pk")
    )


def team_assessments(team: Team) -> QuerySet[Assessment]:
    return team.assessments.prefetch_related(_versions_prefetch()).order_by("-created_at", "-pk")


def organisation_managers(organisation: Organisation) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation=organisation, role=Membership.Role.MANAGER)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )


def pending_manager_invitations(organisation: Organisation) -> QuerySet[ManagerInvitation]:
    return ManagerInvitation.objects.filter(
        organisation=organisation, accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("email")


# --- assessment detail ---------------------------------------------------------------


@dataclass(frozen=True)
class InvitationRow:
    """One invitee as the manager sees them: progress only, never answers."""

    invitation: Invitation
    status: str  # not_sent, sent, opened, in_progress, completed, closed, revoked
    can_resend: bool
    can_revoke: bool


def invitation_rows(assessment: Assessment) -> list[InvitationRow]:
    invitations = (
        Invitation.objects.filter(assessment=assessment)
        .select_related("response")
        .annotate(answer_count=Count("response__answers"))
        .order_by("email")
    )
    editable = assessment.status in (Assessment.Status.DRAFT, Assessment.Status.OPEN)
    rows = []
    for invitation in invitations:
        response = getattr(invitation, "response", None)
        if invitation.is_revoked:
            status = "revoked"
        elif response is not None and response.status == Response.Status.COMPLETED:
            status = "completed"
        elif response is not None and response.status == Response.Status.CLOSED:
            status = "closed"
        elif response is not None and invitation.answer_count:
            status = "in_progress"
        elif response is not None or invitation.token_used_at is not None:
            status = "opened"
        elif invitation.send_count:
            status = "sent"
        else:
            status = "not_sent"
        finished = status in ("revoked", "completed", "closed")
        rows.append(
            InvitationRow(
                invitation=invitation,
                status=status,
                can_resend=assessment.is_open and not finished,
                can_revoke=editable and not finished,
            )
        )
    return rows


def assessment_versions(assessment: Assessment) -> list[FrameworkVersion]:
    return list(
        assessment.framework_versions.select_related("framework").order_by("framework__slug")
    )


def response_counts(assessment: Assessment) -> dict[str, int]:
    """How many responses are completed and how many are still in progress."""
    return assessment.responses.aggregate(
        completed=Count("pk", filter=Q(status=Response.Status.COMPLETED)),
        in_progress=Count("pk", filter=Q(status=Response.Status.IN_PROGRESS)),
    )


def manager_response(assessment: Assessment, *, user: AbstractBaseUser) -> Response | None:
    return Response.objects.filter(assessment=assessment, user=user).first()


@dataclass(frozen=True)
class SectionFigures:
    """Counts for one section: answers, "not applicable", and how many chose each level."""

    section: Section
    answered: int
    not_applicable: int
    level_counts: list[tuple[int, int]]
    hidden: bool = False  # fewer than the threshold rated this section: counts withheld


@dataclass(frozen=True)
class QuestionComments:
    question: Question
    comments: list[str]


@dataclass(frozen=True)
class FrameworkFigures:
    version: FrameworkVersion
    sections: list[SectionFigures]
    comments: list[QuestionComments]


@dataclass(frozen=True)
class TeamResults:
    """Team-level figures, empty unless enough members have completed their answers."""

    threshold: int
    completed: int
    frameworks: list[FrameworkFigures]
    submitted: bool = True

    @property
    def visible(self) -> bool:
        return self.submitted and self.completed >= self.threshold


def team_results(assessment: Assessment, versions: list[FrameworkVersion]) -> TeamResults:
    """Per-section counts and members' comments, aggregated in SQL (four queries at most)."""
    threshold = settings.ANONYMITY_THRESHOLD
    responses = member_responses(assessment)
    completed = responses.count()
    # Figures appear only once the assessment is submitted: while it is open, the
    # change after each person completes would give away that person's answers.
    submitted = assessment.is_closed
    if completed < threshold or not submitted:
        return TeamResults(
            threshold=threshold, completed=completed, frameworks=[], submitted=submitted
        )

    # Answers carry their section (see Answer.section): no join to the questions here.
    answers = Answer.objects.filter(response__in=responses, section__version__in=versions)
    level_counts = {f"level_{n}": Count("pk", filter=Q(level=n)) for n in LEVELS}
    stats = {
        row["section"]: row
        for row in answers.order_by()
        .values("section")
        .annotate(
            answered=Count("pk", filter=Q(level__isnull=False) | Q(not_applicable=True)),
            raters=Count("response", distinct=True, filter=Q(level__isnull=False)),
            not_applicable=Count("pk", filter=Q(not_applicable=True)),
            **level_counts,
        )
    }
    sections = Section.objects.filter(version__in=versions).order_by("position")
    sections_by_version: dict[int, list[SectionFigures]] = defaultdict(list)
    for section in sections:
        row = stats.get(section.pk, {})
        hidden = row.get("raters", 0) < threshold
        sections_by_version[section.version_id].append(
            SectionFigures(
                section=section,
                answered=row.get("answered", 0),
                not_applicable=row.get("not_applicable", 0),
                level_counts=[(n, 0 if hidden else row.get(f"level_{n}", 0)) for n in LEVELS],
                hidden=hidden,
            )
        )

    # Grouped by question and sorted by text, so nothing hints at who wrote what.
    comments = (
        answers.exclude(comment="")
        .select_related("question")
        .order_by("question__section__position", "question__position", "comment")
    )
    comments_by_version: dict[int, list[QuestionComments]] = defaultdict(list)
    for answer in comments:
        grouped = comments_by_version[answer.question.version_id]
        if not grouped or grouped[-1].question.pk != answer.question.pk:
            grouped.append(QuestionComments(question=answer.question, comments=[]))
        grouped[-1].comments.append(answer.comment)

    return TeamResults(
        threshold=threshold,
        completed=completed,
        frameworks=[
            FrameworkFigures(
                version=version,
                sections=sections_by_version[version.pk],
                comments=comments_by_version[version.pk],
            )
            for version in versions
        ],
    )


# --- review queue (staff) -----------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    assessment: Assessment
    assessor: object | None  # the assigned user, if any
    candidates: list  # AssessorProfile: current, and not a member of the organisation


def review_queue_rows() -> list[QueueRow]:
    """Submitted and in-review assessments with the assessors each may get (four queries)."""
    assessments = list(
        Assessment.objects.filter(
            status__in=[Assessment.Status.SUBMITTED, Assessment.Status.IN_REVIEW]
        )
        .select_related("organisation", "team", "assignment__assessor")
        .prefetch_related(_versions_prefetch())
        .order_by("submitted_at", "pk")
    )
    profiles = list(
        AssessorProfile.objects.filter(valid_until__gte=timezone.localdate()).select_related("user")
    )
    memberships: dict[int, set[int]] = defaultdict(set)
    for user_id, organisation_id in Membership.objects.filter(
        user__in=[p.user_id for p in profiles]
    ).values_list("user_id", "organisation_id"):
        memberships[user_id].add(organisation_id)
    rows = []
    for assessment in assessments:
        assignment = getattr(assessment, "assignment", None)
        rows.append(
            QueueRow(
                assessment=assessment,
                assessor=assignment.assessor if assignment else None,
                candidates=[
                    p for p in profiles if assessment.organisation_id not in memberships[p.user_id]
                ],
            )
        )
    return rows


def review_history(assessment: Assessment) -> dict:
    """Assignment, decisions and the audit timeline of one assessment (three queries)."""
    return {
        "assignment": Assignment.objects.filter(assessment=assessment)
        .select_related("assessor")
        .first(),
        "decisions": list(assessment.decisions.select_related("assessor").order_by("-round")),
        "timeline": list(
            assessment.audit_events.select_related("actor").order_by("created_at", "pk")
        ),
    }
