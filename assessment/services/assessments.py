"""Team assessments: creation, invitations and their links, opening and submission."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessment import languages
from assessment.models import (
    Assessment,
    Assignment,
    AuditEvent,
    Invitation,
    Membership,
    Reopening,
    Response,
    SectionTarget,
    SentMail,
    Team,
    token_digest,
)
from assessment.selectors.common import current_reopening
from assessment.selectors.manager import (
    leadership_questions,
    questions_asked,
    target_level_message,
    target_levels,
    unsent_invitations,
)
from assessment.services.audit import assessment_transition
from assessment.services.common import (
    INVITATION_LINK_DAYS,
    ServiceError,
    absolute_url,
    new_token_pair,
    notify_after_commit,
)
from assessment.services.mail import (
    CapReached,
    PartlySent,
    ResendTooSoon,
    Unconfirmed,
    UnusableAddress,
    mail_send,
    send_each,
)
from assessment.services.reports import reports_render_ahead
from frameworks.models import Framework, Section

# --- assessments ---------------------------------------------------------------


@transaction.atomic
def assessment_create(
    *,
    team: Team,
    title: str,
    framework_slugs: Sequence[str],
    due_date: date | None,
    by: AbstractBaseUser,
    language: str = "",
) -> Assessment:
    """A draft assessment pinned to the newest version of each chosen framework, in
    ``language`` (its invitees' and customers' language until they choose their own;
    the creator's own by default).

    The team's roster is invited by default; the list stays editable until it opens.
    """
    if not framework_slugs:
        raise ServiceError(_("Choose at least one framework."))
    if due_date is not None and due_date < timezone.localdate():
        raise ServiceError(_("The due date cannot be in the past."))
    versions = []
    for framework in Framework.objects.filter(slug__in=framework_slugs):
        latest = framework.latest_version()
        if latest is not None:
            versions.append(latest)
    if len(versions) != len(set(framework_slugs)):
        raise ServiceError(_("One of the chosen frameworks is not available."))
    assessment = Assessment.objects.create(
        organisation=team.organisation,
        team=team,
        title=title.strip(),
        due_date=due_date,
        created_by=by,
        language=languages.supported(language) or languages.for_user(by),
    )
    assessment.framework_versions.set(versions)
    invitations_add(assessment=assessment, people=[(e.name, e.email) for e in team.roster.all()])
    return assessment


class InviteeRefused(ServiceError):
    """Addresses that cannot be invited as asked; nobody was invited. ``field`` names the
    input the message belongs beside (the pasted addresses)."""

    field = "addresses"


class AudienceRefused(InviteeRefused):
    """A list the assessment cannot have: leadership invitees where none of its framework
    versions asks leadership questions (format 1 asks everyone everything)."""

    field = "audience"


def invitations_add(
    *,
    assessment: Assessment,
    people: Iterable[tuple[str, str]],
    audience: str = Invitation.Audience.TEAM,
) -> int:
    """Invite people (name, e-mail) to one list, the team's or the leadership's, who are
    not on it yet; return how many were added. On an open assessment the new invitations
    are sent at once.

    An address is on one list only (one invitation per address and assessment): one
    already on the other list refuses the whole batch, naming it (``InviteeRefused``).
    A leadership list needs leadership questions to answer (``AudienceRefused``).
    """
    if not assessment.accepts_invitations:
        raise ServiceError(_("This assessment no longer takes new invitations."))
    if audience not in Invitation.Audience.values:
        raise AudienceRefused(_("Choose who they are: team members or leadership."))
    if audience == Invitation.Audience.LEADERSHIP and not leadership_questions(assessment):
        raise AudienceRefused(
            _(
                "None of this assessment's frameworks asks leadership questions (a version 1 "
                "framework asks everyone the same questions), so there is no leadership list. "
                "Invite them as team members, or nobody."
            )
        )
    existing = {
        email.lower(): listed
        for email, listed in assessment.invitations.values_list("email", "audience")
    }
    people = [(name.strip(), email.strip().lower()) for name, email in people]
    elsewhere = sorted(
        {email for _name, email in people if existing.get(email, audience) != audience}
    )
    if elsewhere:
        raise InviteeRefused(
            ngettext(
                "%(addresses)s is already on the %(other)s list, and an address can be on "
                "one list only. Remove it from what you pasted; nobody was invited yet.",
                "%(addresses)s are already on the %(other)s list, and an address can be on "
                "one list only. Remove them from what you pasted; nobody was invited yet.",
                len(elsewhere),
            )
            % {
                "addresses": ", ".join(elsewhere),
                "other": _other_list_name(audience),
            }
        )
    if audience == Invitation.Audience.LEADERSHIP:
        # A member of the organisation answering through an invitation never counts
        # (``Response.objects.invitees``): say so now, not after they have answered.
        managers = sorted(
            set(
                Membership.objects.filter(organisation_id=assessment.organisation_id)
                .annotate(address=Lower("user__email"))
                .filter(address__in=[email for _name, email in people])
                .values_list("address", flat=True)
            )
        )
        if managers:
            raise InviteeRefused(
                ngettext(
                    "%(addresses)s belongs to a manager of this organisation. Managers answer "
                    "the manager questions signed in, and answers through an invitation to "
                    "their address would not count. Remove it; nobody was invited yet.",
                    "%(addresses)s belong to managers of this organisation. Managers answer "
                    "the manager questions signed in, and answers through an invitation to "
                    "their addresses would not count. Remove them; nobody was invited yet.",
                    len(managers),
                )
                % {"addresses": ", ".join(managers)}
            )
    created = []
    for name, email in people:
        if email in existing:
            continue
        existing[email] = audience
        _token, digest = new_token_pair()
        created.append(
            Invitation(
                assessment=assessment,
                name=name,
                email=email,
                audience=audience,
                token_hash=digest,
                token_expires_at=_link_expiry(assessment),
            )
        )
    # Every refusal came before this one statement: a refused batch invites nobody.
    Invitation.objects.bulk_create(created)
    if assessment.status == Assessment.Status.OPEN:
        invitations_send(
            assessment.invitations.filter(sent_at__isnull=True, revoked_at__isnull=True)
        )
    return len(created)


def _other_list_name(audience: str) -> str:
    return _("team") if audience == Invitation.Audience.LEADERSHIP else _("leadership")


def _link_expiry(assessment: Assessment) -> datetime:
    expiry = timezone.now() + timedelta(days=INVITATION_LINK_DAYS)
    if assessment.due_date is not None:
        end_of_due = timezone.make_aware(
            datetime.combine(assessment.due_date + timedelta(days=1), datetime.min.time())
        )
        expiry = max(expiry, end_of_due)
    return expiry


def assessment_open(*, assessment: Assessment, by: AbstractBaseUser) -> Assessment:
    """Draft to open: send every invitation. Needs at least one team invitee who is not
    revoked, a confirmed organisation, and an address every invitation can be sent to.
    An empty leadership list does not stop it: the page warns that the leadership
    questions will then go unanswered (``selectors.manager.audience_questions``).

    Those checks come before anything changes. The mail is sent after the state change
    is committed, one invitation at a time, so no database lock waits on the mail
    server; one that fails (or waits for the sending cap) stays unsent, to be sent from
    the assessment's page, and ``PartlySent`` says which and why.
    """
    invitations = list(assessment.invitations.filter(revoked_at__isnull=True))
    # The team answers the team's questions; leadership alone cannot make a team assessment.
    if not any(i.audience == Invitation.Audience.TEAM for i in invitations):
        raise ServiceError(_("Invite at least one team member before opening the assessment."))
    Unconfirmed.check(assessment.organisation)
    unusable = [
        UnusableAddress(invitation.email, reason)
        for invitation in invitations
        if (reason := UnusableAddress.reason_for(invitation.email)) is not None
    ]
    if unusable:
        raise ServiceError(
            " ".join(
                [
                    *(str(problem) for problem in unusable),
                    _(
                        "Revoke those invitations (and invite the right addresses), then open "
                        "the assessment again. Nothing was sent."
                    ),
                ]
            )
        )
    opened = assessment_transition(
        assessment=assessment,
        by=by,
        action=AuditEvent.Action.OPENED,
        fields={"opened_at": timezone.now()},
    )
    if not opened:
        raise ServiceError(_("Only a draft assessment can be opened."))
    try:
        invitations_send(invitations)
    except PartlySent as problem:
        raise PartlySent(
            _("The assessment is open, but not every invitation was sent. %(problem)s")
            % {"problem": problem}
        ) from None
    return assessment


def invitations_send_unsent(*, assessment: Assessment) -> int:
    """Send the open assessment's invitations not sent in this round (a failed send, the
    sending cap, or the cool-down when it was reopened); return how many went. Raises
    ``PartlySent`` when some still did not."""
    if not assessment.is_open:
        raise ServiceError(_("Invitations can only be sent while the assessment is open."))
    Unconfirmed.check(assessment.organisation)
    unsent = list(unsent_invitations(assessment))
    if not unsent:
        raise ServiceError(_("Every invitation has been sent already."))
    return invitations_send(unsent, reopening=current_reopening(assessment))


def invitations_send(
    invitations: Iterable[Invitation], *, reopening: Reopening | None = None
) -> int:
    """Send each invitation, one at a time; return how many were sent.

    Every address is tried; each failure is named with its reason. At the sending cap
    the rest wait, unsent. Raises ``PartlySent`` if anything was not sent.
    """
    return send_each(
        invitations, lambda invitation: invitation_send(invitation=invitation, reopening=reopening)
    )


def invitation_send(*, invitation: Invitation, reopening: Reopening | None = None) -> Invitation:
    """(Re)send the invitation with a fresh link; any earlier link stops working.

    In a round the assessment was reopened for (``reopening``, looked up when not given),
    the message is the reopening's: what was asked, which sections to look at, and that
    completed answers still count. At most once every
    ``INVITATION_RESEND_COOLDOWN_MINUTES``, within the organisation's sending caps
    (``services.mail``). The mail goes first and the new token's hash is stored after it:
    a refused or failed send changes nothing, and the earlier link keeps working.
    """
    assessment = invitation.assessment
    if not assessment.is_open:
        raise ServiceError(_("Invitations can only be sent while the assessment is open."))
    if invitation.is_revoked:
        raise ServiceError(_("This invitation was revoked."))
    allowed_at = ResendTooSoon.until(invitation.sent_at)
    if allowed_at is not None:
        raise ResendTooSoon(email=invitation.email, allowed_at=allowed_at)
    if reopening is None:
        reopening = current_reopening(assessment)
    token, digest = new_token_pair()
    # Written in the invitee's language: the one they last chose, else the assessment's
    # (a refusal to send is the manager's to read, in theirs).
    language = languages.for_invitation(invitation)
    with translation.override(language):
        organisation = assessment.organisation
        sender = assessment.created_by
        context = {
            "name": invitation.name,
            "title": assessment.title,
            "organisation": organisation.name,
            "sender": sender.get_full_name() or sender.get_username(),
            "due_date": assessment.due_date,
            "link": absolute_url(reverse("assessment:invitation_open", kwargs={"token": token})),
            "leadership": invitation.audience == Invitation.Audience.LEADERSHIP,
        }
        if context["leadership"]:
            context |= {
                "question_count": questions_asked(assessment, audience=invitation.audience),
                "threshold": settings.ANONYMITY_THRESHOLD,
            }
        if reopening is None:
            # Fixed: a subject is what a spam filter and a reader trust first, so no user text.
            subject = _("You are invited to a team assessment")
            template = "assessment/email/invitation.txt"
        else:
            subject = _("A team assessment is open again: a few sections to look at")
            template = "assessment/email/reopened.txt"
            context |= _reopening_context(invitation, reopening)
    mail_send(
        organisation=organisation,
        kind=SentMail.Kind.INVITATION,
        to=invitation.email,
        subject=subject,
        template=template,
        context=context,
        language=language,
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        token_hash=digest,
        token_expires_at=_link_expiry(assessment),
        token_used_at=None,
        sent_at=timezone.now(),
        send_count=F("send_count") + 1,
    )
    invitation.refresh_from_db()
    return invitation


def _reopening_context(invitation: Invitation, reopening: Reopening) -> dict:
    """The reopening's part of the message: the note as quoted lines (lists are not folded
    to one line by ``mail_send``), the sections by framework, and whether this person's
    completed answers stand."""
    sections: dict[str, list[str]] = {}
    for section in reopening.sections.all():
        sections.setdefault(section.version.name, []).append(section.name)
    return {
        "note_lines": [" ".join(line.split()) for line in reopening.note.splitlines()],
        "sections": list(sections.items()),
        "completed": Response.objects.filter(
            invitation=invitation, completed_round__isnull=False
        ).exists(),
    }


def invitation_renew(*, invitation: Invitation) -> Invitation:
    """A fresh link at the invitee's request, at most once per resend cool-down, so an old
    link cannot be used to flood their inbox."""
    if ResendTooSoon.until(invitation.sent_at) is not None:
        raise ServiceError(
            _("We sent a fresh link a few minutes ago. Please check your inbox (and spam folder).")
        )
    try:
        return invitation_send(invitation=invitation)
    except CapReached as cap:  # the organisation's cap: said in the invitee's terms
        raise ServiceError(
            _("We cannot send a fresh link just now. Please try again after %(when)s.")
            % {"when": cap.resume_at_text}
        ) from None


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    """Withdraw an invitation: its link stops working and unfinished answers close.

    An invitee who has completed keeps their answers; the check and the change
    happen under a row lock, so a completion at the same moment cannot slip between.
    """
    if not invitation.assessment.accepts_invitations:
        raise ServiceError(_("This assessment is closed; its invitations can no longer change."))
    response = Response.objects.select_for_update().filter(invitation=invitation).first()
    if response is not None and response.is_counted:
        raise ServiceError(_("This person has already completed their answers."))
    Invitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    Response.objects.filter(invitation=invitation, status=Response.Status.IN_PROGRESS).update(
        status=Response.Status.CLOSED
    )
    invitation.refresh_from_db()
    return invitation


class LinkProblem(ServiceError):
    """An invitation link that cannot be used; ``renewable`` says whether a new one may be sent."""

    def __init__(self, message: str, *, invitation: Invitation | None = None) -> None:
        super().__init__(message)
        self.invitation = invitation

    @property
    def renewable(self) -> bool:
        return (
            self.invitation is not None
            and not self.invitation.is_revoked
            and self.invitation.assessment.is_open
        )


def invitation_redeem(*, token: str) -> Response:
    """Use a link once: mark it used and return the invitee's response (created if new)."""
    return invitation_redeem_digest(token_hash=token_digest(token))


@transaction.atomic
def invitation_redeem_digest(*, token_hash: str) -> Response:
    """``invitation_redeem`` for a link known only by its digest (as the session keeps it)."""
    invitation = (
        Invitation.objects.select_related("assessment").filter(token_hash=token_hash).first()
    )
    if invitation is None:
        raise LinkProblem(str(Invitation.INVALID_LINK_MESSAGE))
    problem = invitation.link_problem()
    if problem is not None:
        raise LinkProblem(problem[1], invitation=invitation)
    claimed = Invitation.objects.filter(pk=invitation.pk, token_used_at__isnull=True).update(
        token_used_at=timezone.now()
    )
    if not claimed:  # used by a concurrent request since the check above
        raise LinkProblem(str(Invitation.USED_LINK_MESSAGE), invitation=invitation)
    response, _created = Response.objects.get_or_create(
        invitation=invitation,
        defaults={"assessment": invitation.assessment, "audience": invitation.audience},
    )
    return response


def manager_response_start(*, assessment: Assessment, by: AbstractBaseUser) -> Response:
    """The manager's own answers (their self-view), kept apart from the team's."""
    if not assessment.is_open:
        raise ServiceError(_("You can answer once the assessment is open."))
    try:
        with transaction.atomic():
            response, _created = Response.objects.get_or_create(
                assessment=assessment,
                user=by,
                defaults={"is_manager_view": True, "audience": Response.Audience.MANAGER},
            )
    except IntegrityError:
        response = Response.objects.get(assessment=assessment, user=by)
    return response


class ResultsNeverShown(ServiceError):
    """Closing now would leave too few completed member responses for team results ever to
    show; the manager must say explicitly that they close it without results."""


@transaction.atomic
def assessment_submit(
    *, assessment: Assessment, by: AbstractBaseUser, without_results: bool = False
) -> bool:
    """Open to submitted: close unfinished responses; answers become immutable. Responses
    being revised go back to completed, counted with their answers as last completed.

    Returns False when it was already submitted (a repeated click), and refuses
    an assessment without any completed response. With fewer completed team members
    than ``ANONYMITY_THRESHOLD`` its team results could never show: that is refused
    (``ResultsNeverShown``) unless ``without_results`` says the manager chose it, which
    the audit trail records.
    """
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.status in Assessment.CLOSED_STATUSES:
        return False
    if locked.status != Assessment.Status.OPEN:
        raise ServiceError(_("Only an open assessment can be submitted."))
    if not locked.responses.completed().exists():
        raise ServiceError(
            _(
                "Nobody has completed their answers yet. At least one completed response "
                "is needed before the assessment can be submitted for review."
            )
        )
    members = Response.objects.members().completed().filter(assessment=locked).count()
    results_possible = members >= settings.ANONYMITY_THRESHOLD
    if not results_possible and not without_results:
        raise ResultsNeverShown(
            ngettext(
                "Only %(count)d team member has completed their answers; team results need "
                "at least %(threshold)d. Once closed, no more answers can arrive, so its team "
                "results would never be shown. Wait for more answers, or tick “Close without "
                "results”.",
                "Only %(count)d team members have completed their answers; team results need "
                "at least %(threshold)d. Once closed, no more answers can arrive, so its team "
                "results would never be shown. Wait for more answers, or tick “Close without "
                "results”.",
                members,
            )
            % {"count": members, "threshold": settings.ANONYMITY_THRESHOLD}
        )
    submitted = assessment_transition(
        assessment=locked,
        by=by,
        action=AuditEvent.Action.SUBMITTED,
        fields={"submitted_at": timezone.now()},
        recorded={
            "completed_members": members,
            **({} if results_possible else {"closed_without_results": True}),
        },
    )
    if not submitted:
        return False
    Response.objects.filter(assessment=locked, status=Response.Status.IN_PROGRESS).update(
        status=Response.Status.CLOSED
    )
    # Someone revising an earlier round's answers who did not complete again: their
    # answers as last completed count (nothing they typed since is lost, only not counted).
    Response.objects.filter(assessment=locked, status=Response.Status.REVISING).update(
        status=Response.Status.COMPLETED
    )
    # A resubmission after revision goes straight back to the assessor who returned it.
    assignment = Assignment.objects.filter(assessment=locked).select_related("assessor").first()
    if assignment is not None:
        review_start(assessment=locked, assignment=assignment, by=by)
    reports_render_ahead(assessment=locked)
    assessment.refresh_from_db()
    return True


def review_start(*, assessment: Assessment, assignment: Assignment, by: AbstractBaseUser) -> None:
    """Submitted to in review, once an assessor is assigned; the assessor is told by e-mail."""
    started = assessment_transition(
        assessment=assessment,
        by=by,
        action=AuditEvent.Action.REVIEW_STARTED,
        recorded={"assessor": assignment.assessor_id},
    )
    if not started:
        return
    language = languages.for_user(assignment.assessor, assessment.language)
    with translation.override(language):
        subject = _("An assessment is waiting for your review")
    notify_after_commit(
        to=assignment.assessor.email,
        subject=subject,
        template="assessment/email/review_waiting.txt",
        context={
            "assessment": assessment,
            "link": absolute_url(reverse("assessment:review_detail", kwargs={"pk": assessment.pk})),
        },
        language=language,
    )


@transaction.atomic
def targets_set(*, assessment: Assessment, levels: dict[int, int | None]) -> int:
    """Set (or clear, with None) target levels by section id; returns how many changed.

    Every section must belong to one of the assessment's frameworks, and each level be
    one of its version's target levels (``target_levels``).
    """
    allowed = {
        section.pk: target_levels(section.version)
        for section in Section.objects.filter(version__assessments=assessment).select_related(
            "version"
        )
    }
    if not set(levels) <= set(allowed):
        raise ServiceError(_("One of those sections is not part of this assessment."))
    for pk, level in levels.items():
        if level is not None and level not in allowed[pk]:
            raise ServiceError(target_level_message(allowed[pk]))
    cleared = [pk for pk, level in levels.items() if level is None]
    SectionTarget.objects.filter(assessment=assessment, section_id__in=cleared).delete()
    chosen = [
        SectionTarget(assessment=assessment, section_id=pk, level=level)
        for pk, level in levels.items()
        if level is not None
    ]
    SectionTarget.objects.bulk_create(
        chosen,
        update_conflicts=True,
        unique_fields=["assessment", "section"],
        update_fields=["level", "updated_at"],
    )
    return len(levels)
