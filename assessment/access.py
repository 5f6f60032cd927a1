"""Who may see what. Every view asks here; nothing else decides access.

Anything a user may not see is a 404, never a 403 that would confirm it exists.
A refusal of something that does exist is logged (logger ``assessment.access``),
so that probing for other organisations' objects shows up in the logs.
Respondents who came through an invitation link have no account: the responses
they may open are listed in their session.
"""

import logging
from typing import NoReturn

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from assessment import languages
from assessment.models import (
    Assessment,
    AssessorProfile,
    BulkExport,
    Consultancy,
    ConsultantGrant,
    CustomerSurvey,
    Evidence,
    Invitation,
    Membership,
    Organisation,
    Response,
    RosterEntry,
    Team,
)
from assessment.models.actions import Action, CalendarFeed
from frameworks.models import Section

SESSION_RESPONSES = "respondent_response_ids"

User = AbstractBaseUser | AnonymousUser

log = logging.getLogger("assessment.access")


def _who(user: User) -> str:
    return f"user {user.pk}" if user.is_authenticated else "anonymous"


def refuse(user: User, what: str) -> NoReturn:
    """Log a refused authorisation and answer 404."""
    log.warning("Access refused: %s may not open %s", _who(user), what)
    raise Http404


def _get_or_refuse[M](queryset: QuerySet[M], user: User, pk: int, /, **lookup) -> M:
    """The object with this pk within what the user may see; otherwise a 404, logged
    as a refusal when the object exists (one extra query, on the failure path only)."""
    try:
        return queryset.get(pk=pk, **lookup)
    except queryset.model.DoesNotExist:
        model = queryset.model
        if model._default_manager.filter(pk=pk).exists():
            refuse(user, f"{model._meta.model_name} {pk}")
        raise Http404 from None


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
        refuse(user, "the manager pages")
    return organisation


def is_manager(user: User) -> bool:
    return managed_organisations(user).exists()


def teams_for_manager(user: User) -> QuerySet[Team]:
    return Team.objects.filter(organisation__in=managed_organisations(user))


def team_for_manager(user: User, pk: int) -> Team:
    return _get_or_refuse(teams_for_manager(user).select_related("organisation"), user, pk)


def roster_entry_for_manager(user: User, team_pk: int, pk: int) -> RosterEntry:
    return _get_or_refuse(
        RosterEntry.objects.filter(team__in=teams_for_manager(user), team_id=team_pk), user, pk
    )


def assessments_for_manager(user: User) -> QuerySet[Assessment]:
    return Assessment.objects.filter(organisation__in=managed_organisations(user))


def assessment_for_manager(user: User, pk: int) -> Assessment:
    return _get_or_refuse(
        assessments_for_manager(user).select_related("team", "organisation"), user, pk
    )


def invitation_for_manager(user: User, pk: int) -> Invitation:
    return _get_or_refuse(
        Invitation.objects.filter(assessment__in=assessments_for_manager(user)).select_related(
            "assessment__organisation"
        ),
        user,
        pk,
    )


def customer_survey_for_manager(user: User, pk: int) -> CustomerSurvey:
    """A customer survey of a team the user manages."""
    return _get_or_refuse(
        CustomerSurvey.objects.filter(organisation__in=managed_organisations(user)).select_related(
            "organisation", "team", "assessment", "version"
        ),
        user,
        pk,
    )


def remember_response(request: HttpRequest, response: Response) -> None:
    """Let this browser session open the response (after its invitation link was used)."""
    ids = set(request.session.get(SESSION_RESPONSES, []))
    ids.add(response.pk)
    request.session[SESSION_RESPONSES] = sorted(ids)


def responses_held(request: HttpRequest) -> list[int]:
    """The responses this browser session may open through used invitation links."""
    return list(request.session.get(SESSION_RESPONSES, []))


def response_for_respondent(request: HttpRequest, pk: int) -> Response:
    """A response the requester may answer: their own as a signed-in user, or one their
    session holds from an invitation link. Anything else is a 404. Every invitee page
    comes through here, so this is also where an invitee without a language of their own
    is put in their invitation's (``languages.use_default``)."""
    queryset = Response.objects.select_related("assessment", "assessment__organisation")
    if pk in responses_held(request):
        response = _get_or_refuse(
            queryset.select_related("invitation"), request.user, pk, invitation__isnull=False
        )
        # An invitee who has not chosen a language here reads in their invitation's.
        languages.use_default(
            request, languages.for_invitation(response.invitation, response.assessment)
        )
        return response
    if request.user.is_authenticated:
        return _get_or_refuse(queryset, request.user, pk, user=request.user)
    refuse(request.user, f"response {pk} (not in this session)")


# --- assessors and staff -------------------------------------------------------------


def is_assessor(user: User) -> bool:
    return user.is_authenticated and AssessorProfile.objects.filter(user=user).exists()


def assessments_for_assessor(user: User) -> QuerySet[Assessment]:
    """Assessments assigned to this assessor, and nothing else."""
    if not user.is_authenticated:
        return Assessment.objects.none()
    return Assessment.objects.filter(assignment__assessor=user)


def assessment_for_assessor(user: User, pk: int) -> Assessment:
    return _get_or_refuse(
        assessments_for_assessor(user).select_related("team", "organisation", "assignment"),
        user,
        pk,
    )


def format_2_section_for_assessor(
    user: User, pk: int, section_pk: int
) -> tuple[Assessment, Section]:
    """A format-2 section of an assessment assigned to this assessor (its criteria are
    judged), with the assessment; anything else is a 404."""
    assessment = assessment_for_assessor(user, pk)
    section = _get_or_refuse(
        Section.objects.filter(version__assessments=assessment, version__format=2).select_related(
            "version"
        ),
        user,
        section_pk,
    )
    return assessment, section


def require_staff(user: User) -> None:
    """Staff pages are invisible (404) to everyone else."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        refuse(user, "the staff pages")


def assessment_for_staff(user: User, pk: int) -> Assessment:
    require_staff(user)
    return _get_or_refuse(Assessment.objects.select_related("team", "organisation"), user, pk)


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
    return _get_or_refuse(
        Assessment.objects.filter(organisation__in=client_organisations(user)).select_related(
            "team", "organisation"
        ),
        user,
        pk,
    )


def grant_for_manager(user: User, pk: int) -> ConsultantGrant:
    """A consultant grant of the manager's own organisation; anyone else's is a 404."""
    organisation = organisation_for_manager(user)
    return _get_or_refuse(
        ConsultantGrant.objects.filter(organisation=organisation).select_related(
            "consultancy", "organisation"
        ),
        user,
        pk,
    )


def consultancy_for(user: User) -> Consultancy:
    """The consultancy the user works for (the first, if several); 404 otherwise."""
    consultancy = consultancies_for(user).order_by("pk").first()
    if consultancy is None:
        refuse(user, "the consultant pages")
    return consultancy


def organisations_shared_with(user: User, consultancy: Consultancy) -> QuerySet[Organisation]:
    """Client organisations the user sees that also granted *this* consultancy access now.

    Both, because a bulk export belongs to the consultancy: every colleague there may
    download it, so it must hold nothing the consultancy itself may not see.
    """
    granted = Organisation.objects.filter(
        consultant_grants__consultancy=consultancy,
        consultant_grants__revoked_at__isnull=True,
        consultant_grants__expires_at__gt=timezone.now(),
    )
    return client_organisations(user).filter(pk__in=granted)


def export_for_consultant(user: User, pk: int) -> BulkExport:
    """A bulk export of the user's consultancy (without its archive loaded); otherwise 404."""
    return _get_or_refuse(
        BulkExport.objects.defer("archive").select_related("consultancy"),
        user,
        pk,
        consultancy__members__user=user,
    )


def export_withdrawn(user: User, consultancy: Consultancy) -> Exists:
    """For an outer bulk export: whether it holds a report of an organisation that no longer
    shares with the consultancy. A revoked or expired grant takes its reports' file with it:
    the download refuses such an export, and the list of exports offers no link to it."""
    shared = organisations_shared_with(user, consultancy)
    return Exists(
        BulkExport.assessments.through.objects.filter(bulkexport=OuterRef("pk")).exclude(
            assessment__organisation__in=shared
        )
    )


def export_archive_for_consultant(user: User, pk: int) -> tuple[BulkExport, bytes]:
    """A finished export's ZIP, while every report in it is still shared with the
    consultancy (``export_withdrawn``)."""
    export = export_for_consultant(user, pk)
    if export.status != BulkExport.Status.DONE:
        raise Http404
    withdrawn, archive = (
        BulkExport.objects.filter(pk=pk)
        .annotate(withdrawn=export_withdrawn(user, export.consultancy))
        .values_list("withdrawn", "archive")
        .get()
    )
    if withdrawn:
        refuse(user, f"bulk export {pk} (a client withdrew access)")
    if archive is None:
        raise Http404
    return export, bytes(archive)


# Evidence


def _evidence_of(assessment: Assessment) -> QuerySet[Evidence]:
    return Evidence.objects.filter(assessment=assessment).select_related(
        "section", "question", "added_by_invitation"
    )


def evidence_for_manager(user: User, pk: int, evidence_pk: int) -> tuple[Assessment, Evidence]:
    """A piece of evidence of an assessment the user manages, with its assessment."""
    assessment = assessment_for_manager(user, pk)
    return assessment, _get_or_refuse(_evidence_of(assessment), user, evidence_pk)


def response_for_leadership(request: HttpRequest, pk: int) -> Response:
    """A leadership invitee's own response (``response_for_respondent``): their way to the
    assessment's evidence. Any other response, a team member's included, is a 404."""
    response = response_for_respondent(request, pk)
    if response.audience != Response.Audience.LEADERSHIP or response.invitation_id is None:
        refuse(request.user, f"the evidence of response {pk} (not a leadership invitee's)")
    # A withdrawn invitation, or a response closed unfinished, no longer speaks for the
    # organisation: its evidence pages go with it.
    if response.invitation.is_revoked or response.status == Response.Status.CLOSED:
        refuse(request.user, f"the evidence of response {pk} (invitation withdrawn or closed)")
    return response


def evidence_for_leadership(
    request: HttpRequest, pk: int, evidence_pk: int
) -> tuple[Response, Evidence]:
    """A piece of evidence of the assessment a leadership invitee answers, with the response."""
    response = response_for_leadership(request, pk)
    evidence = _get_or_refuse(_evidence_of(response.assessment), request.user, evidence_pk)
    return response, evidence


def evidence_for_assessor(user: User, pk: int, evidence_pk: int) -> tuple[Assessment, Evidence]:
    """A piece of evidence of an assessment assigned to this assessor, with its assessment."""
    assessment = assessment_for_assessor(user, pk)
    return assessment, _get_or_refuse(_evidence_of(assessment), user, evidence_pk)


# Actions


def organisation_members(organisation: Organisation) -> QuerySet:
    """Who may own an action of the organisation: users with a membership in it."""
    return (
        get_user_model()
        .objects.filter(memberships__organisation=organisation, is_active=True)
        .order_by("first_name", "last_name", "username")
    )


def action_for_manager(user: User, pk: int) -> Action:
    """An action of one of the user's organisations' assessments; otherwise a 404."""
    return _get_or_refuse(
        Action.objects.filter(assessment__in=assessments_for_manager(user)).select_related(
            "assessment__team", "assessment__organisation", "section", "question", "owner"
        ),
        user,
        pk,
    )


def calendar_feed_for_manager(user: User, pk: int) -> CalendarFeed:
    """A calendar feed of the organisation the user manages; anyone else's is a 404."""
    organisation = organisation_for_manager(user)
    return _get_or_refuse(
        CalendarFeed.objects.filter(organisation=organisation).select_related("organisation"),
        user,
        pk,
    )
