"""Read queries for the manager pages, each in a constant number of queries.

Team figures never expose one person's answers: they are counts over completed
member responses, and only from ``settings.ANONYMITY_THRESHOLD`` of them.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.errors import ServiceError
from assessment.models import (
    Assessment,
    ConsultantGrant,
    Decision,
    Invitation,
    ManagerInvitation,
    Membership,
    Organisation,
    Reopening,
    Response,
    RosterEntry,
    Team,
)
from assessment.selectors.common import (
    count_per_assessment,
    versions_prefetch,
)
from frameworks import selectors as framework_selectors
from frameworks.models import SCALE_MAX, SCALE_MIN, FrameworkVersion, Question, ScaleLevel, Section
from frameworks.translation import localise

# --- dashboard and team pages ------------------------------------------------------


def organisation_teams(organisation: Organisation) -> QuerySet[Team]:
    """The organisation's teams with their roster sizes (one query)."""
    return Team.objects.filter(organisation=organisation).annotate(roster_size=Count("roster"))


def organisation_assessments(
    organisation: Organisation, *, user: AbstractBaseUser
) -> QuerySet[Assessment]:
    """Assessments with completion counts ("n of m") and the manager's own response
    status (two queries: the assessments with their counts, their framework versions)."""
    own_status = Response.objects.filter(assessment=OuterRef("pk"), user=user).values("status")[:1]
    return (
        Assessment.objects.filter(organisation=organisation)
        .select_related("team")
        .prefetch_related(versions_prefetch())
        .annotate(
            # The team's list only: "n of m" team members (leadership is a list of its own).
            invited_count=count_per_assessment(
                Invitation.objects.filter(
                    revoked_at__isnull=True, audience=Invitation.Audience.TEAM
                )
            ),
            completed_count=count_per_assessment(
                # "n of m": m counts invitations still standing, so n does too.
                Response.objects.members().completed().filter(invitation__revoked_at__isnull=True)
            ),
            own_response_status=Subquery(own_status),
        )
        .order_by("-created_at", "-pk")
    )


def team_assessments(team: Team) -> QuerySet[Assessment]:
    """The team's assessments, newest first (two queries, with their framework versions)."""
    return team.assessments.prefetch_related(versions_prefetch()).order_by("-created_at", "-pk")


def organisation_managers(organisation: Organisation) -> QuerySet[Membership]:
    """The organisation's managers, by name (one query)."""
    return (
        Membership.objects.filter(organisation=organisation, role=Membership.Role.MANAGER)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )


def pending_manager_invitations(organisation: Organisation) -> QuerySet[ManagerInvitation]:
    """Manager invitations not yet accepted and not expired (one query)."""
    return ManagerInvitation.objects.filter(
        organisation=organisation, accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("email")


# --- new assessment ------------------------------------------------------------------


def creatable_versions() -> QuerySet[FrameworkVersion]:
    """The versions a new assessment pins (the newest of each framework), with section and
    question counts, and for format 2 the questions meant for each audience (one query)."""
    return framework_selectors.current_versions().annotate(
        **{
            f"{audience}_count": Count(
                "questions", filter=Q(questions__audience=audience), distinct=True
            )
            for audience in Question.Audience.values
        }
    )


# --- assessment detail ---------------------------------------------------------------


@dataclass(frozen=True)
class InvitationRow:
    """One invitee as the manager sees them: progress only, never answers."""

    invitation: Invitation
    status: str  # not_sent, sent, opened, in_progress, completed, closed, revoked
    can_resend: bool
    can_revoke: bool


def invitation_rows(assessment: Assessment) -> list[InvitationRow]:
    """Every invitee with their progress and what the manager may do (one query)."""
    invitations = (
        Invitation.objects.filter(assessment=assessment)
        .select_related("response")
        .annotate(answer_count=Count("response__answers"))
        .order_by("email")
    )
    editable = assessment.accepts_invitations
    rows = []
    for invitation in invitations:
        response = getattr(invitation, "response", None)
        if invitation.is_revoked:
            status = "revoked"
        elif response is not None and response.is_counted:
            # Revising counts as completed: the answers as last completed still count, and
            # showing who is revising would single them out between rounds (docs/privacy.md).
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


@dataclass(frozen=True)
class InvitationLists:
    """The invitees on each list: the team's (the roster's list) and the leadership's."""

    team: list[InvitationRow]
    leadership: list[InvitationRow]


def invitation_lists(assessment: Assessment) -> InvitationLists:
    """``invitation_rows``, split by the list each invitee is on (one query)."""
    rows = invitation_rows(assessment)
    return InvitationLists(
        team=[r for r in rows if r.invitation.audience == Invitation.Audience.TEAM],
        leadership=[r for r in rows if r.invitation.audience == Invitation.Audience.LEADERSHIP],
    )


def questions_asked(assessment: Assessment, *, audience: str) -> int:
    """How many of the assessment's questions a person of this audience answers
    (``Question.objects.asked_of``; one query)."""
    return Question.objects.filter(version__assessments=assessment).asked_of(audience).count()


def leadership_questions(assessment: Assessment) -> int:
    """How many of the assessment's questions are meant for leadership: the questions that
    make a leadership list possible (format 2 only; format 1 has none). One query."""
    return Question.objects.filter(
        version__assessments=assessment, audience=Question.Audience.LEADERSHIP
    ).count()


@dataclass(frozen=True)
class AudienceQuestions:
    """What each audience of an assessment is asked, and whether leadership is listed."""

    team: int  # questions a team member answers
    manager: int  # questions a manager answers (their own, signed in)
    leadership: int  # questions a leadership invitee answers
    manager_only: int  # format-2 questions meant for managers
    leadership_only: int  # format-2 questions meant for leadership
    leadership_listed: int  # leadership invitations not revoked

    @property
    def has_leadership(self) -> bool:
        """Whether the assessment may have a leadership list."""
        return self.leadership_only > 0

    @property
    def has_manager_questions(self) -> bool:
        """Whether managers answer questions of their own (format 2), rather than the
        whole questionnaire as a self-view to compare with the team's (format 1)."""
        return self.manager_only > 0

    @property
    def leadership_unanswered(self) -> bool:
        """Leadership questions with nobody on the leadership list to answer them."""
        return self.has_leadership and not self.leadership_listed


def audience_questions(assessment: Assessment) -> AudienceQuestions:
    """Question counts per audience for the assessment page (five queries)."""
    meant_for = Question.objects.filter(version__assessments=assessment).aggregate(
        manager=Count("pk", filter=Q(audience=Question.Audience.MANAGER)),
        leadership=Count("pk", filter=Q(audience=Question.Audience.LEADERSHIP)),
    )
    return AudienceQuestions(
        team=questions_asked(assessment, audience=Question.Audience.TEAM),
        manager=questions_asked(assessment, audience=Question.Audience.MANAGER),
        leadership=questions_asked(assessment, audience=Question.Audience.LEADERSHIP),
        manager_only=meant_for["manager"],
        leadership_only=meant_for["leadership"],
        leadership_listed=assessment.invitations.filter(
            audience=Invitation.Audience.LEADERSHIP, revoked_at__isnull=True
        ).count(),
    )


def assessment_versions(assessment: Assessment) -> list[FrameworkVersion]:
    """The framework versions the assessment is pinned to, by slug (one query)."""
    return list(
        assessment.framework_versions.select_related("framework").order_by("framework__slug")
    )


def assessment_sections(assessment: Assessment) -> QuerySet[Section]:
    """The sections of the assessment's frameworks: those a target may be set for (1 query)."""
    return Section.objects.filter(version__assessments=assessment).order_by("pk")


def target_levels(version: FrameworkVersion) -> range:
    """The levels a section of this version may be given as a target: its scale's levels
    from 1 (format 1: 1-5; format 2: 1-5 too, with that version's labels). Level 0, "not
    in place", is no level to aim for, and ``SectionTarget`` holds 1-5."""
    return range(max(version.scale_min, SCALE_MIN), SCALE_MAX + 1)


def target_level_message(levels: range) -> str:
    """The refusal of a target level outside a section's target levels, naming them."""
    return _("Choose a target level from %(min)d to %(max)d.") % {
        "min": levels.start,
        "max": levels.stop - 1,
    }


def assessment_target_levels(assessment: Assessment) -> list[int]:
    """Every level some section of the assessment may be given as a target (one query)."""
    return sorted(
        {level for version in assessment_versions(assessment) for level in target_levels(version)}
    )


def target_choices(assessment: Assessment) -> dict[int, list[tuple[int, str]]]:
    """Section pk -> the (level, label) pairs it may be given as a target, labelled as
    its version's scale labels them (two queries: the sections, the scale levels)."""
    sections = list(
        Section.objects.filter(version__assessments=assessment)
        .select_related("version")
        .order_by("pk")
    )
    labels: dict[tuple[int, int], str] = {
        (version_id, value): localise(label, translations, "label")
        for version_id, value, label, translations in ScaleLevel.objects.filter(
            version_id__in={s.version_id for s in sections}
        ).values_list("version_id", "value", "label", "translations")
    }
    return {
        section.pk: [
            (level, labels.get((section.version_id, level), ""))
            for level in target_levels(section.version)
        ]
        for section in sections
    }


@dataclass(frozen=True)
class SubmitCheck:
    """What the manager should know before closing an assessment for good."""

    completed_members: int  # team members whose answers count (never the manager's own)
    threshold: int  # settings.ANONYMITY_THRESHOLD
    own_completed: bool  # the signed-in manager's self-view is completed
    unfinished: int  # responses in progress, closed by submitting
    not_responded: list[Invitation]  # invitees standing who have not completed

    @property
    def results_possible(self) -> bool:
        """Whether team results could show once closed (enough members completed)."""
        return self.completed_members >= self.threshold


def submit_check(assessment: Assessment, *, user: AbstractBaseUser) -> SubmitCheck:
    """Counts for the submit page: completed members (``Response.objects.members``) apart
    from the manager's own answers, and the invitees who have not completed (three
    queries)."""
    completed_members = Response.objects.members().completed().filter(assessment=assessment).count()
    counts = assessment.responses.aggregate(
        own=Count("pk", filter=Q(user=user, status__in=Response.COUNTED_STATUSES)),
        unfinished=Count("pk", filter=Q(status=Response.Status.IN_PROGRESS)),
    )
    not_responded = list(
        Invitation.objects.filter(assessment=assessment, revoked_at__isnull=True)
        .exclude(response__status__in=Response.COUNTED_STATUSES)
        .order_by("name", "email")
    )
    return SubmitCheck(
        completed_members=completed_members,
        threshold=settings.ANONYMITY_THRESHOLD,
        own_completed=bool(counts["own"]),
        unfinished=counts["unfinished"],
        not_responded=not_responded,
    )


# --- reopening after a return --------------------------------------------------------


def unsent_invitations(assessment: Assessment) -> QuerySet[Invitation]:
    """Standing invitations not e-mailed in this round: never sent, or not sent since the
    assessment was reopened (the reopening's e-mail was refused or failed). One query."""
    reopened_at = Reopening.objects.filter(assessment=assessment, round=assessment.round).values(
        "created_at"
    )[:1]
    return assessment.invitations.filter(revoked_at__isnull=True).filter(
        Q(send_count=0) | Q(sent_at__lt=Subquery(reopened_at))
    )


@dataclass(frozen=True)
class SectionGroup:
    """One framework's sections, as the reopen form groups its checkboxes."""

    framework: str
    sections: list[Section]


def reopen_choices(assessment: Assessment) -> tuple[list[SectionGroup], Decision | None]:
    """The assessment's sections grouped by framework, and the latest decision with the
    sections it asked to revise (three queries)."""
    groups: dict[int, SectionGroup] = {}
    for section in (
        Section.objects.filter(version__assessments=assessment)
        .select_related("version")
        .order_by("version__name", "position")
    ):
        group = groups.setdefault(
            section.version_id, SectionGroup(framework=section.version.name, sections=[])
        )
        group.sections.append(section)
    decision = (
        Decision.objects.filter(assessment=assessment)
        .prefetch_related("required_sections")
        .order_by("-round")
        .first()
    )
    return list(groups.values()), decision


def manager_response(assessment: Assessment, *, user: AbstractBaseUser) -> Response | None:
    """The signed-in manager's own response, if they started one (one query)."""
    return Response.objects.filter(assessment=assessment, user=user).first()


# --- consultants' grants and joining links ---------------------------------------------


@dataclass(frozen=True)
class GrantRow:
    grant: ConsultantGrant
    status: str  # "current", "expired" or "revoked"
    status_label: str

    @property
    def is_current(self) -> bool:
        return self.status == "current"


def organisation_grants(
    organisation: Organisation, *, now: datetime | None = None
) -> list[GrantRow]:
    """Every grant the organisation made, newest first, with its status (one query)."""
    now = now or timezone.now()
    rows = []
    for grant in ConsultantGrant.objects.filter(organisation=organisation).select_related(
        "consultancy"
    ):
        if grant.revoked_at is not None:
            status, label = "revoked", _("Revoked")
        elif grant.expires_at <= now:
            status, label = "expired", _("Expired")
        else:
            status, label = "current", _("Current")
        rows.append(GrantRow(grant=grant, status=status, status_label=label))
    return rows


def manager_invitation_for_digest(token_hash: str) -> ManagerInvitation:
    """The open invitation whose link's token has this digest (what the session keeps), or
    ServiceError saying why it cannot be used (one query)."""
    invitation = ManagerInvitation.objects.select_related("organisation").for_digest(token_hash)
    if invitation is None:
        raise ServiceError(_("This invitation link is not valid. Check that it is complete."))
    if invitation.accepted_at is not None:
        raise ServiceError(_("This invitation has already been accepted. Sign in instead."))
    if invitation.expires_at <= timezone.now():
        raise ServiceError(_("This invitation has expired. Ask a manager to invite you again."))
    return invitation


def team_roster(team: Team) -> QuerySet[RosterEntry]:
    """The team's members by name (one query)."""
    return team.roster.order_by("name", "email")
