"""Manager pages: sign-up, organisation, teams and rosters, assessments and invitations."""

from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessment import access, selectors, services
from assessment.forms.manager import (
    AddressesForm,
    AssessmentForm,
    AssessorChoiceForm,
    ManagerInviteForm,
    PreselectTeamForm,
    ReopenForm,
    RosterEntryForm,
    SubmitForm,
    TargetsForm,
    TeamForm,
)
from assessment.forms.public import ManagerJoinForm, SignUpForm
from assessment.models import Assessment, Organisation, Team, token_digest
from assessment.services.assessments import InviteeRefused
from assessment.views.common import attempt

# The digest of the join link's token (never the token itself, as for invitees).
SESSION_MANAGER_INVITATION = "manager_join_token_hash"

# A user who just chose a password is signed in with the password backend (django-axes
# sits first in AUTHENTICATION_BACKENDS and only throttles).
SIGN_IN_BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- sign-up and dashboard ------------------------------------------------------------


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Sign up a new organisation with its first manager, then sign them in."""
    if request.user.is_authenticated:
        return redirect("assessment:dashboard")
    form = SignUpForm(request.POST or None)
    if form.is_valid():
        try:
            user = services.organisation_sign_up(
                organisation_name=form.cleaned_data["organisation_name"],
                full_name=form.cleaned_data["full_name"],
                email=form.cleaned_data["email"],
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            login(request, user, backend=SIGN_IN_BACKEND)
            messages.success(
                request,
                _(
                    "Welcome! Your organisation is set up. We sent a link to %(email)s: "
                    "follow it to confirm your address before you send any invitations."
                )
                % {"email": user.email},
            )
            return redirect("assessment:dashboard")
    return render(request, "assessment/manager/signup.html", {"form": form})


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The organisation's teams and assessments, with what can be done next."""
    if not access.is_manager(request.user):
        # Everyone lands here after signing in: send assessors, staff and consultants to
        # their own work.
        if access.is_assessor(request.user):
            return redirect("assessment:assessor_queue")
        if request.user.is_staff:
            return redirect("assessment:staff_queue")
        if access.consultancies_for(request.user).exists():
            return redirect("assessment:portfolio")
        return render(request, "assessment/manager/not_a_manager.html")
    organisation = access.organisation_for_manager(request.user)
    return render(
        request,
        "assessment/manager/dashboard.html",
        {
            "organisation": organisation,
            "teams": selectors.manager.organisation_teams(organisation),
            "assessments": selectors.manager.organisation_assessments(
                organisation, user=request.user
            ),
            "due": selectors.actions.due_actions(organisation),
        },
    )


# --- managers -------------------------------------------------------------------------


def _managers_page(
    request: HttpRequest, organisation: Organisation, form: ManagerInviteForm
) -> HttpResponse:
    return render(
        request,
        "assessment/manager/managers.html",
        {
            "organisation": organisation,
            "memberships": selectors.manager.organisation_managers(organisation),
            "invitations": selectors.manager.pending_manager_invitations(organisation),
            "form": form,
        },
    )


@require_GET
def managers(request: HttpRequest) -> HttpResponse:
    """The organisation's managers and pending invitations, with a form to invite another."""
    organisation = access.organisation_for_manager(request.user)
    return _managers_page(request, organisation, ManagerInviteForm())


@require_POST
def manager_invite(request: HttpRequest) -> HttpResponse:
    """E-mail someone a link to become a manager of the organisation."""
    organisation = access.organisation_for_manager(request.user)
    form = ManagerInviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.manager_invite(
                organisation=organisation, email=form.cleaned_data["email"], by=request.user
            )
        except services.ServiceError as error:
            form.add_error("email", str(error))
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": invitation.email}
            )
            return redirect("assessment:managers")
    return _managers_page(request, organisation, form)


@login_not_required
@require_GET
def manager_join_link(request: HttpRequest, token: str) -> HttpResponse:
    """Keep the token's digest in the session and move to a URL without the token (no token
    in Referer, none in the session table)."""
    request.session[SESSION_MANAGER_INVITATION] = token_digest(token)
    return redirect("assessment:manager_join_clean")


@login_not_required
@require_http_methods(["GET", "POST"])
def manager_join(request: HttpRequest) -> HttpResponse:
    """Create the invited manager's account from the invitation held in the session."""
    token_hash = request.session.get(SESSION_MANAGER_INVITATION, "")
    try:
        invitation = selectors.manager.manager_invitation_for_digest(token_hash)
    except services.ServiceError as error:
        return render(request, "assessment/manager/join.html", {"problem": str(error)})
    form = ManagerJoinForm(request.POST or None, email=invitation.email)
    if form.is_valid():
        try:
            user = services.manager_invitation_accept(
                token_hash=token_hash,
                full_name=form.cleaned_data["full_name"],
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            login(request, user, backend=SIGN_IN_BACKEND)
            request.session.pop(SESSION_MANAGER_INVITATION, None)
            messages.success(
                request,
                _("Welcome! You now manage %(org)s.") % {"org": invitation.organisation.name},
            )
            return redirect("assessment:dashboard")
    return render(request, "assessment/manager/join.html", {"invitation": invitation, "form": form})


# --- teams and rosters --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def team_create(request: HttpRequest) -> HttpResponse:
    """Create a team in the manager's organisation."""
    organisation = access.organisation_for_manager(request.user)
    form = TeamForm(request.POST or None)
    if form.is_valid():
        try:
            team = services.team_create(organisation=organisation, name=form.cleaned_data["name"])
        except services.ServiceError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, _("Team %(name)s created.") % {"name": team.name})
            return redirect(team)
    return render(request, "assessment/manager/team_create.html", {"form": form})


def _team_page(request: HttpRequest, team: Team, form: RosterEntryForm) -> HttpResponse:
    return render(
        request,
        "assessment/manager/team_detail.html",
        {
            "team": team,
            "roster": selectors.manager.team_roster(team),
            "assessments": selectors.manager.team_assessments(team),
            "surveys": selectors.customers.team_surveys(team).select_related("assessment"),
            "form": form,
        },
    )


@require_GET
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A team's roster, a form to add members, and the team's assessments."""
    team = access.team_for_manager(request.user, pk)
    return _team_page(request, team, RosterEntryForm())


@require_POST
def roster_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a member (name and e-mail) to the team's roster; a refusal shows beside the field."""
    team = access.team_for_manager(request.user, pk)
    form = RosterEntryForm(request.POST)
    if form.is_valid():
        try:
            entry = services.roster_entry_add(
                team=team, name=form.cleaned_data["name"], email=form.cleaned_data["email"]
            )
        except services.ServiceError as error:
            form.add_error("email", str(error))
        else:
            messages.success(request, _("%(name)s added to the team.") % {"name": entry.name})
            return redirect(team)
    return _team_page(request, team, form)


@require_POST
def roster_remove(request: HttpRequest, team_pk: int, pk: int) -> HttpResponse:
    """Remove a member from the roster; existing invitations are not affected."""
    entry = access.roster_entry_for_manager(request.user, team_pk, pk)
    services.roster_entry_remove(entry=entry)
    messages.success(request, _("%(name)s removed from the team.") % {"name": entry.name})
    return redirect("assessment:team_detail", pk=team_pk)


# --- assessments ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def assessment_create(request: HttpRequest) -> HttpResponse:
    """A new draft assessment for one of the manager's teams."""
    access.organisation_for_manager(request.user)
    teams = access.teams_for_manager(request.user).order_by("name")
    versions = list(selectors.manager.creatable_versions())
    initial = {"team": PreselectTeamForm(request.GET, teams=teams).preselected()}
    form = AssessmentForm(request.POST or None, teams=teams, versions=versions, initial=initial)
    if form.is_valid():
        try:
            assessment = services.assessment_create(
                team=form.cleaned_data["team"],
                title=form.cleaned_data["title"],
                framework_slugs=form.cleaned_data["frameworks"],
                due_date=form.cleaned_data["due_date"],
                by=request.user,
                language=form.cleaned_data["language"],
            )
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Assessment created as a draft. Check the invitations, then open it."),
            )
            return redirect(assessment)
    selected = form["frameworks"].value() or []
    return render(
        request,
        "assessment/manager/assessment_create.html",
        {
            "form": form,
            "versions": versions,
            "selected": set(selected),
            "has_teams": teams.exists(),
        },
    )


@require_GET
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Status, the team's and the leadership's invitations, and (from enough completed
    responses) anonymous team figures."""
    assessment = access.assessment_for_manager(request.user, pk)
    return _detail_page(request, assessment)


def _detail_page(
    request: HttpRequest, assessment: Assessment, addresses_form: AddressesForm | None = None
) -> HttpResponse:
    versions = selectors.manager.assessment_versions(assessment)
    lists = selectors.manager.invitation_lists(assessment)
    questions = selectors.manager.audience_questions(assessment)
    if addresses_form is None:
        addresses_form = AddressesForm(questions=questions)
    return render(
        request,
        "assessment/manager/assessment_detail.html",
        {
            "assessment": assessment,
            "versions": versions,
            "rows": lists.team,
            "leadership_rows": lists.leadership,
            "questions": questions,
            "unsent_count": selectors.manager.unsent_invitations(assessment).count()
            if assessment.is_open
            else 0,
            "reopening": selectors.common.current_reopening(assessment),
            "own_response": selectors.manager.manager_response(assessment, user=request.user),
            "results": selectors.results.team_results(assessment, versions),
            "customer_survey": selectors.customers.surveys_for_assessment(assessment),
            "addresses_form": addresses_form,
            "accepts_invitations": assessment.accepts_invitations,
            "threshold": settings.ANONYMITY_THRESHOLD,
            "leadership_warning": leadership_unanswered_message(questions)
            if questions.leadership_unanswered and assessment.accepts_invitations
            else "",
            **selectors.review.review_history(assessment),
            "timeline": selectors.review.audit_timeline(assessment),
        },
    )


@require_POST
def invitations_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Invite pasted addresses to the team's list or the leadership's; duplicates are
    skipped.

    A form that is not valid (nothing pasted, an invalid address, named, or a list the
    assessment cannot have) is shown again with the reason beside the field and the
    pasted text kept; then nobody is invited.
    """
    assessment = access.assessment_for_manager(request.user, pk)
    form = AddressesForm(request.POST, questions=selectors.manager.audience_questions(assessment))
    if not form.is_valid():
        return _detail_page(request, assessment, form)
    parsed = form.cleaned_data["addresses"]
    try:
        added = services.invitations_add(
            assessment=assessment,
            people=[("", email) for email in parsed.valid],
            audience=form.cleaned_data["audience"],
        )
    except InviteeRefused as error:
        form.add_error(error.field, str(error))
        return _detail_page(request, assessment, form)
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        skipped = len(parsed.valid) - added
        message = ngettext("%(count)d person invited.", "%(count)d people invited.", added) % {
            "count": added
        }
        if skipped:
            message += " " + ngettext(
                "%(count)d was already invited.", "%(count)d were already invited.", skipped
            ) % {"count": skipped}
        messages.success(request, message)
    return redirect(assessment)


@require_POST
def assessment_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a draft assessment and e-mail every invitee their link."""
    assessment = access.assessment_for_manager(request.user, pk)
    opened = attempt(
        request,
        partial(services.assessment_open, assessment=assessment, by=request.user),
        success=_("The assessment is open and the invitations are sent."),
    )
    if opened:
        questions = selectors.manager.audience_questions(assessment)
        if questions.leadership_unanswered:
            messages.warning(request, leadership_unanswered_message(questions))
    return redirect(assessment)


def leadership_unanswered_message(questions: selectors.manager.AudienceQuestions) -> str:
    """The warning for an assessment whose leadership questions nobody is listed to answer,
    and what it costs under scoring rules version 2: a section nobody rates has no score,
    and a framework with such a section no overall score, balance or verdict."""
    return ngettext(
        "Nobody is on the leadership list, so its %(count)d leadership question will go "
        "unanswered and the sections that ask it rest on fewer answers. Invite "
        "leadership (executives, finance, owners) below to have it answered. A section "
        "that nobody rates has no score, and then its framework has no overall score, "
        "balance or verdict.",
        "Nobody is on the leadership list, so its %(count)d leadership questions will go "
        "unanswered and the sections that ask them rest on fewer answers. Invite "
        "leadership (executives, finance, owners) below to have them answered. A section "
        "that nobody rates has no score, and then its framework has no overall score, "
        "balance or verdict.",
        questions.leadership_only,
    ) % {"count": questions.leadership_only}


@require_http_methods(["GET", "POST"])
def assessment_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then submit the assessment for review; unfinished responses are closed.

    The page names who has not completed and the anonymity minimum; closing with fewer
    completed team members than that needs "Close without results" ticked."""
    assessment = access.assessment_for_manager(request.user, pk)
    if assessment.is_closed:
        messages.info(request, _("This assessment has already been submitted."))
        return redirect(assessment)
    form = SubmitForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            submitted = services.assessment_submit(
                assessment=assessment,
                by=request.user,
                without_results=form.cleaned_data["close_without_results"],
            )
        except services.ResultsNeverShown as error:
            form.add_error("close_without_results", str(error))
        except services.ServiceError as error:
            messages.error(request, str(error))
            return redirect(assessment)
        else:
            if submitted:
                messages.success(request, _("The assessment was submitted for review."))
            else:
                messages.info(request, _("This assessment has already been submitted."))
            return redirect(assessment)
    return render(
        request,
        "assessment/manager/assessment_submit.html",
        {
            "assessment": assessment,
            "check": selectors.manager.submit_check(assessment, user=request.user),
            "form": form,
        },
    )


@require_POST
def invitations_send_unsent(request: HttpRequest, pk: int) -> HttpResponse:
    """E-mail every invitation not sent in this round (its send failed, waited for the
    sending cap, or was too soon after the last one when the assessment was reopened)."""
    assessment = access.assessment_for_manager(request.user, pk)
    try:
        sent = services.invitations_send_unsent(assessment=assessment)
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            ngettext("%(count)d invitation was sent.", "%(count)d invitations were sent.", sent)
            % {"count": sent},
        )
    return redirect(assessment)


@require_POST
def respond_as_manager(request: HttpRequest, pk: int) -> HttpResponse:
    """Start (or continue) the manager's own answers, kept apart from the team's."""
    assessment = access.assessment_for_manager(request.user, pk)
    try:
        response = services.manager_response_start(assessment=assessment, by=request.user)
    except services.ServiceError as error:
        messages.error(request, str(error))
        return redirect(assessment)
    return redirect(reverse("assessment:response_start", kwargs={"pk": response.pk}))


@require_POST
def invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """E-mail the invitee a fresh link; the earlier one stops working."""
    invitation = access.invitation_for_manager(request.user, pk)
    attempt(
        request,
        partial(services.invitation_send, invitation=invitation),
        success=_("A new link was sent to %(email)s.") % {"email": invitation},
    )
    return redirect(invitation.assessment)


@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw an invitation; its link stops working and unfinished answers are closed."""
    invitation = access.invitation_for_manager(request.user, pk)
    attempt(
        request,
        partial(services.invitation_revoke, invitation=invitation),
        success=_("The invitation to %(email)s was withdrawn.") % {"email": invitation},
    )
    return redirect(invitation.assessment)


# --- results --------------------------------------------------------------------------------


@require_GET
def assessment_results(request: HttpRequest, pk: int) -> HttpResponse:
    """Scores, balance, verdicts, gaps, priorities and trend, once anonymity allows."""
    assessment = access.assessment_for_manager(request.user, pk)
    found = selectors.results.assessment_results(assessment, viewer_id=request.user.pk)
    customers = selectors.customers.assessment_customer_voice(
        assessment, team_visible=found.visible
    )
    selectors.customers.with_customer_series(found, customers)
    return render(
        request,
        "assessment/manager/assessment_results.html",
        {
            "assessment": assessment,
            "since_last": selectors.actions.since_last_assessment(
                assessment, found, viewer_id=request.user.pk
            ),
            "results": selectors.rules.with_rule_checks(found),
            "concepts": selectors.concepts.concept_agreement(assessment, counted=found),
            # The target levels offered (``selectors.manager.target_levels``): the same
            # for every version today; each section's own are checked on saving.
            "levels": selectors.manager.assessment_target_levels(assessment),
            "customers": customers,
            "judgements_shown": selectors.review.judgements_shown(assessment),
        },
    )


@require_POST
def targets_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the target level of each section of one framework ("" restores the default)."""
    assessment = access.assessment_for_manager(request.user, pk)
    form = TargetsForm(request.POST, choices=selectors.manager.target_choices(assessment))
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
            break  # one message: every refusal here names the same fix
        return redirect("assessment:results", pk=assessment.pk)
    attempt(
        request,
        partial(services.targets_set, assessment=assessment, levels=form.levels()),
        success=_("Targets saved. Priorities are updated."),
    )
    return redirect("assessment:results", pk=assessment.pk)


# --- review ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def assessment_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """Reopen an assessment returned for revision, for the sections chosen, with a note;
    every invitee gets it by e-mail with a fresh link. Completed answers keep counting."""
    assessment = access.assessment_for_manager(request.user, pk)
    if assessment.status != Assessment.Status.RETURNED:
        messages.info(request, _("Only an assessment returned for revision can be reopened."))
        return redirect(assessment)
    groups, decision = selectors.manager.reopen_choices(assessment)
    initial = {}
    if decision is not None:
        initial = {
            "sections": [section.pk for section in decision.required_sections.all()],
            "note": decision.required_changes,
        }
    form = ReopenForm(
        request.POST if request.method == "POST" else None,
        sections=selectors.manager.assessment_sections(assessment),
        initial=initial,
    )
    if form.is_valid():
        try:
            reopening = services.assessment_reopen(
                assessment=assessment,
                by=request.user,
                sections=form.cleaned_data["sections"],
                note=form.cleaned_data["note"],
            )
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _(
                    "The assessment is open again. Completed answers still count; team "
                    "members were e-mailed a fresh link and asked to look at the sections "
                    "you chose. Submit it again when they are done."
                ),
            )
            if reopening.unsent:
                messages.warning(
                    request,
                    ngettext(
                        "%(count)d e-mail was not sent. %(why)s",
                        "%(count)d e-mails were not sent. %(why)s",
                        reopening.unsent,
                    )
                    % {"count": reopening.unsent, "why": reopening.send_problem},
                )
            return redirect(assessment)
    chosen = {str(value) for value in (form["sections"].value() or [])}
    return render(
        request,
        "assessment/manager/assessment_reopen.html",
        {"assessment": assessment, "form": form, "groups": groups, "chosen": chosen},
    )


@require_http_methods(["GET", "POST"])
def assessor_choose(request: HttpRequest, pk: int) -> HttpResponse:
    """Pick the assessor for a submitted assessment from those available to it."""
    assessment = access.assessment_for_manager(request.user, pk)
    candidates = selectors.review.available_assessors(assessment=assessment)
    form = AssessorChoiceForm(
        request.POST if request.method == "POST" else None,
        assessors=selectors.review.assessor_accounts(candidates),
    )
    if form.is_valid():
        chosen = form.cleaned_data["assessor"]
        profile = next(p for p in candidates if p.user_id == chosen.pk)
        try:
            services.assessor_assign(assessment=assessment, assessor=chosen, by=request.user)
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("%(name)s will review this assessment.") % {"name": profile}
            )
            return redirect(assessment)
    return render(
        request,
        "assessment/manager/assessor_choose.html",
        {"assessment": assessment, "candidates": candidates, "form": form},
    )
