"""Team assessments: creation, invitations and their links, opening and submission."""

import logging
import smtplib
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.models import (
    Assessment,
    Assignment,
    AuditEvent,
    Invitation,
    Response,
    SectionTarget,
    Team,
)
from assessment.services.audit import assessment_transition
from assessment.services.common import (
    INVITATION_LINK_DAYS,
    ServiceError,
    absolute_url,
    new_token_pair,
    notify_after_commit,
    send_email,
)
from frameworks.models import SCALE_MAX, SCALE_MIN, Framework, Section

# --- assessments ---------------------------------------------------------------

logger = logging.getLogger(__name__)
EMAIL_MAX_LENGTH = 254  # the database columns' limit (RFC 5321's practical maximum)


@transaction.atomic
def assessment_create(
    *,
    team: Team,
    title: str,
    framework_slugs: Sequence[str],
    due_date: date | None,
    by: AbstractBaseUser,
) -> Assessment:
    """A draft assessment pinned to the newest version of each chosen framework.

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
    )
    assessment.framework_versions.set(versions)
    invitations_add(assessment=assessment, people=[(e.name, e.email) for e in team.roster.all()])
    return assessment


def invitations_add(*, assessment: Assessment, people: Iterable[tuple[str, str]]) -> int:
    """Invite people (name, e-mail) who are not invited yet; return how many were added.

    On an open assessment the new invitations are sent at once.
    """
    if not assessment.accepts_invitations:
        raise ServiceError(_("This assessment no longer takes new invitations."))
    existing = {e.lower() for e in assessment.invitations.values_list("email", flat=True)}
    created = []
    for name, email in people:
        email = email.strip().lower()
        if email in existing:
            continue
        existing.add(email)
        _token, digest = new_token_pair()
        created.append(
            Invitation(
                assessment=assessment,
                name=name.strip(),
                email=email,
                token_hash=digest,
                token_expires_at=_link_expiry(assessment),
            )
        )
    Invitation.objects.bulk_create(created)
    if assessment.status == Assessment.Status.OPEN:
        _send_all(assessment.invitations.filter(sent_at__isnull=True, revoked_at__isnull=True))
    return len(created)


def _link_expiry(assessment: Assessment) -> datetime:
    expiry = timezone.now() + timedelta(days=INVITATION_LINK_DAYS)
    if assessment.due_date is not None:
        end_of_due = timezone.make_aware(
            datetime.combine(assessment.due_date + timedelta(days=1), datetime.min.time())
        )
        expiry = max(expiry, end_of_due)
    return expiry


def assessment_open(*, assessment: Assessment, by: AbstractBaseUser) -> Assessment:
    """Draft to open: send every invitation. Needs at least one invitee who is not revoked.

    The mail is sent after the state change is committed, one invitation at a time,
    so no database lock waits on the mail server and one failed send undoes nothing.
    """
    if not assessment.invitations.filter(revoked_at__isnull=True).exists():
        raise ServiceError(_("Invite at least one team member before opening the assessment."))
    opened = assessment_transition(
        assessment=assessment,
        by=by,
        action=AuditEvent.Action.OPENED,
        fields={"opened_at": timezone.now()},
    )
    if not opened:
        raise ServiceError(_("Only a draft assessment can be opened."))
    _send_all(assessment.invitations.filter(revoked_at__isnull=True))
    return assessment


def _send_all(invitations: Iterable[Invitation]) -> None:
    """Send each invitation; report the addresses that failed, after trying them all."""
    failed = []
    for invitation in invitations:
        try:
            invitation_send(invitation=invitation)
        except ServiceError:
            failed.append(invitation.email)
    if failed:
        raise ServiceError(
            _(
                "The e-mail to %(addresses)s could not be sent. The others were sent; "
                "use Resend to try again."
            )
            % {"addresses": ", ".join(failed)}
        )


def invitation_send(*, invitation: Invitation) -> Invitation:
    """(Re)send the invitation with a fresh link; any earlier link stops working.

    The mail goes first and the new token's hash is stored after it: a failed send
    changes nothing, and the earlier link keeps working.
    """
    assessment = invitation.assessment
    if not assessment.is_open:
        raise ServiceError(_("Invitations can only be sent while the assessment is open."))
    if invitation.is_revoked:
        raise ServiceError(_("This invitation was revoked."))
    token, digest = new_token_pair()
    try:
        send_email(
            to=invitation.email,
            subject=_("Your team assessment: %(title)s") % {"title": assessment.title},
            template="assessment/email/invitation.txt",
            context={
                "invitation": invitation,
                "assessment": assessment,
                "organisation": assessment.organisation,
                "link": absolute_url(
                    reverse("assessment:invitation_open", kwargs={"token": token})
                ),
            },
        )
    except (OSError, smtplib.SMTPException):
        logger.exception("Invitation %s could not be e-mailed", invitation.pk)
        raise ServiceError(
            _("The e-mail to %(email)s could not be sent; please try again later.")
            % {"email": invitation.email}
        ) from None
    Invitation.objects.filter(pk=invitation.pk).update(
        token_hash=digest,
        token_expires_at=_link_expiry(assessment),
        token_used_at=None,
        sent_at=timezone.now(),
        send_count=F("send_count") + 1,
    )
    invitation.refresh_from_db()
    return invitation


RENEWAL_INTERVAL = timedelta(minutes=5)


def invitation_renew(*, invitation: Invitation) -> Invitation:
    """A fresh link at the invitee's request, at most once every few minutes, so an old
    link cannot be used to flood their inbox."""
    if invitation.sent_at and timezone.now() - invitation.sent_at < RENEWAL_INTERVAL:
        raise ServiceError(
            _("We sent a fresh link a few minutes ago. Please check your inbox (and spam folder).")
        )
    return invitation_send(invitation=invitation)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    """Withdraw an invitation: its link stops working and unfinished answers close.

    An invitee who has completed keeps their answers; the check and the change
    happen under a row lock, so a completion at the same moment cannot slip between.
    """
    if not invitation.assessment.accepts_invitations:
        raise ServiceError(_("This assessment is closed; its invitations can no longer change."))
    response = Response.objects.select_for_update().filter(invitation=invitation).first()
    if response is not None and response.status == Response.Status.COMPLETED:
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


@transaction.atomic
def invitation_redeem(*, token: str) -> Response:
    """Use a link once: mark it used and return the invitee's response (created if new)."""
    invitation = Invitation.objects.select_related("assessment").for_token(token)
    if invitation is None:
        raise LinkProblem(_("This link is not valid. Check that you copied all of it."))
    if invitation.is_revoked:
        raise LinkProblem(_("This invitation was withdrawn by the manager."), invitation=invitation)
    if not invitation.assessment.is_open:
        raise LinkProblem(_("This assessment is closed."), invitation=invitation)
    if invitation.token_used_at is not None:
        raise LinkProblem(
            _("This link has already been used. We can e-mail you a fresh one."),
            invitation=invitation,
        )
    if invitation.token_expires_at <= timezone.now():
        raise LinkProblem(
            _("This link has expired. We can e-mail you a fresh one."), invitation=invitation
        )
    claimed = Invitation.objects.filter(pk=invitation.pk, token_used_at__isnull=True).update(
        token_used_at=timezone.now()
    )
    if not claimed:
        raise LinkProblem(
            _("This link has already been used. We can e-mail you a fresh one."),
            invitation=invitation,
        )
    response, _created = Response.objects.get_or_create(
        invitation=invitation, defaults={"assessment": invitation.assessment}
    )
    return response


def manager_response_start(*, assessment: Assessment, by: AbstractBaseUser) -> Response:
    """The manager's own answers (their self-view), kept apart from the team's."""
    if not assessment.is_open:
        raise ServiceError(_("You can answer once the assessment is open."))
    try:
        with transaction.atomic():
            response, _created = Response.objects.get_or_create(
                assessment=assessment, user=by, defaults={"is_manager_view": True}
            )
    except IntegrityError:
        response = Response.objects.get(assessment=assessment, user=by)
    return response


@transaction.atomic
def assessment_submit(*, assessment: Assessment, by: AbstractBaseUser) -> bool:
    """Open to submitted: close unfinished responses; answers become immutable.

    Returns False when it was already submitted (a repeated click), and refuses
    an assessment without any completed response.
    """
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.status in Assessment.CLOSED_STATUSES:
        return False
    if locked.status != Assessment.Status.OPEN:
        raise ServiceError(_("Only an open assessment can be submitted."))
    if not locked.responses.filter(status=Response.Status.COMPLETED).exists():
        raise ServiceError(
            _(
                "Nobody has completed their answers yet. At least one completed response "
                "is needed before the assessment can be submitted for review."
            )
        )
    submitted = assessment_transition(
        assessment=locked,
        by=by,
        action=AuditEvent.Action.SUBMITTED,
        fields={"submitted_at": timezone.now()},
    )
    if not submitted:
        return False
    Response.objects.filter(assessment=locked, status=Response.Status.IN_PROGRESS).update(
        status=Response.Status.CLOSED
    )
    # A resubmission after revision goes straight back to the assessor who returned it.
    assignment = Assignment.objects.filter(assessment=locked).select_related("assessor").first()
    if assignment is not None:
        review_start(assessment=locked, assignment=assignment, by=by)
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
    notify_after_commit(
        to=assignment.assessor.email,
        subject=_("An assessment is waiting for your review: %(title)s")
        % {"title": assessment.title},
        template="assessment/email/review_waiting.txt",
        context={
            "assessment": assessment,
            "link": absolute_url(reverse("assessment:review_detail", kwargs={"pk": assessment.pk})),
        },
    )


@transaction.atomic
def targets_set(*, assessment: Assessment, levels: dict[int, int | None]) -> int:
    """Set (or clear, with None) target levels by section id; returns how many changed.

    Every section must belong to one of the assessment's frameworks.
    """
    allowed = set(
        Section.objects.filter(version__assessments=assessment).values_list("pk", flat=True)
    )
    if not set(levels) <= allowed:
        raise ServiceError(_("One of those sections is not part of this assessment."))
    for level in levels.values():
        if level is not None and not SCALE_MIN <= level <= SCALE_MAX:
            raise ServiceError(_("Choose a target level from 1 to 5."))
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
