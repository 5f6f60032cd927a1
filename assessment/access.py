"""Who may see what. Every view asks here; nothing else decides access.

Anything a user may not see is a 404, never a 403 that would confirm it exists.
Respondents who came through an invitation link have no account: the responses
they may open are listed in their session.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone

from assessment.models import (
    Assessment,
    AssessorProfile,
    BulkExport,
    Consultancy,
    Invitation,
    Membership,
    Organisation,
    Response,
    RosterEntry,
    Team,
)

SESSION_RESPONSES = "respondent_response_ids"

User = AbstractBaseUser | AnonymousUser


def managed_organisations(user: User) -> QuerySet[Organisation]:
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.MANAGER
    )


def organisation_for_manager(user: User) -> Organisation:
    """The organisation the user manages (the first, if several); 404 for non-managers."""
    organisation = managed_organisations(user).order_by("pk").first()
    if organisation is None:
        raise Http404
    return organisation


def is_manager(user: User) -> bool:
    return managed_organisations(user).exists()


def teams_for_manager(user: User) -> QuerySet[Team]:
    return Team.objects.filter(organisation__in=managed_organisations(user))


def team_for_manager(user: User, pk: int) -> Team:
    return get_object_or_404(teams_for_manager(user).select_related("organisation"), pk=pk)


def roster_entry_for_manager(user: User, team_pk: int, pk: int) -> RosterEntry:
    return get_object_or_404(
        RosterEntry.objects.filter(team__in=teams_for_manager(user), team_id=team_pk), pk=pk
    )


def assessments_for_manager(user: User) -> QuerySet[Assessment]:
    return Assessment.objects.filter(organisation__in=managed_organisations(user))


def assessment_for_manager(user: User, pk: int) -> Assessment:
    return get_object_or_404(
        assessments_for_manager(user).select_related("team", "organisation"), pk=pk
    )


def invitation_for_manager(user: User, pk: int) -> Invitation:
    return get_object_or_404(
        Invitation.objects.filter(assessment__in=assessments_for_manager(user)).select_related(
            "assessment__organisation"
        ),
        pk=pk,
    )


def remember_response(request: HttpRequest, response: Response) -> None:
    """Let this browser session open the response (after its invitation link was used)."""
    ids = set(request.session.get(SESSION_RESPONSES, []))
    ids.add(response.pk)
    request.session[SESSION_RESPONSES] = sorted(ids)


def response_for_respondent(request: HttpRequest, pk: int) -> Response:
    """A response the requester may answer: their own as a signed-in user, or one their
    session holds from an invitation link. Anything else is a 404."""
    queryset = Response.objects.select_related("assessment", "assessment__organisation")
    if pk in request.session.get(SESSION_RESPONSES, []):
        return get_object_or_404(queryset, pk=pk, invitation__isnull=False)
    if request.user.is_authenticated:
        return get_object_or_404(queryset, pk=pk, user=request.user)
    raise Http404


# --- assessors and staff -------------------------------------------------------------


def is_assessor(user: User) -> bool:
    return user.is_authenticated and AssessorProfile.objects.filter(user=user).exists()


def assessments_for_assessor(user: User) -> QuerySet[Assessment]:
    """Assessments assigned to this assessor, and nothing else."""
    if not user.is_authenticated:
        return Assessment.objects.none()
    return Assessment.objects.filter(assignment__assessor=user)


def assessment_for_assessor(user: User, pk: int) -> Assessment:
    return get_object_or_404(
        assessments_for_assessor(user).select_related("team", "organisation", "assignment"),
        pk=pk,
    )


def require_staff(user: User) -> None:
    """Staff pages are invisible (404) to everyone else."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        raise Http404


def assessment_for_staff(user: User, pk: int) -> Assessment:
    require_staff(user)
    return get_object_or_404(Assessment.objects.select_related("team", "organisation"), pk=pk)


# --- consultants -------------------------------------------------------------------


def consultancies_for(user: User) -> QuerySet[Consultancy]:
    if not user.is_authenticated:
        return Consultancy.objects.none()
    return Consultancy.objects.filter(members__user=user)


def client_organisations(user: User) -> QuerySet[Organisation]:
    """Organisations that granted one of the user's consultancies access, still current."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(
        consultant_grants__consultancy__members__user=user,
        consultant_grants__revoked_at__isnull=True,
        consultant_grants__expires_at__gt=timezone.now(),
    ).distinct()


def assessment_for_consultant(user: User, pk: int) -> Assessment:
    """An assessment of a client organisation with a current grant; otherwise 404."""
    return get_object_or_404(
        Assessment.objects.filter(organisation__in=client_organisations(user)).select_related(
            "team", "organisation"
        ),
        pk=pk,
    )


def consultancy_for(user: User) -> Consultancy:
    """The consultancy the user works for (the first, if several); 404 otherwise."""
    consultancy = consultancies_for(user).order_by("pk").first()
    if consultancy is None:
        raise Http404
    return consultancy


def export_for_consultant(user: User, pk: int) -> BulkExport:
    """A bulk export of the user's consultancy (without its archive loaded); otherwise 404."""
    return get_object_or_404(
        BulkExport.objects.defer("archive").select_related("consultancy"),
        pk=pk,
        consultancy__members__user=user,
    )
