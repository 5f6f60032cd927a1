"""Writes that span models. Keyword-only arguments; state changes are conditional updates.

Every function here either completes or raises ``ServiceError`` (with a message
fit to show the user) and changes nothing.
"""

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.models import (
    COMMENT_MAX_LENGTH,
    Assessment,
    Invitation,
    ManagerInvitation,
    Membership,
    Organisation,
    Response,
    RosterEntry,
    Team,
    token_digest,
)
from frameworks.models import SCALE_MAX, SCALE_MIN, Framework

INVITATION_LINK_DAYS = 30
MANAGER_INVITATION_DAYS = 7


class ServiceError(Exception):
    """A refused action; ``str(error)`` is a message for the user."""


def new_token() -> str:
    """A 256-bit URL-safe secret for a link; store only ``token_digest(token)``."""
    return secrets.token_urlsafe(32)


def _new_token() -> tuple[str, str]:
    token = new_token()
    return token, token_digest(token)


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    body = render_to_string(template, context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


# --- organisations and managers ---------------------------------------------


@transaction.atomic
def organisation_sign_up(
    *, organisation_name: str, full_name: str, email: str, username: str, password: str
) -> AbstractBaseUser:
    """Create an account, its organisation, and make the account the first manager."""
    user = _user_create(full_name=full_name, email=email, username=username, password=password)
    organisation = Organisation.objects.create(name=organisation_name.strip())
    Membership.objects.create(user=user, organisation=organisation, role=Membership.Role.MANAGER)
    return user


def _user_create(*, full_name: str, email: str, username: str, password: str) -> AbstractBaseUser:
    taken = ServiceError(_("That username is taken. Please choose another."))
    if get_user_model().objects.filter(username__iexact=username).exists():
        raise taken
    first, _sep, last = full_name.strip().partition(" ")
    user = get_user_model()(username=username, email=email, first_name=first, last_name=last)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # a simultaneous sign-up took the name first
        raise taken from None
    return user


def manager_invite(
    *, organisation: Organisation, email: str, by: AbstractBaseUser
) -> ManagerInvitation:
    """E-mail a link that lets someone become a manager of the organisation."""
    email = email.strip().lower()
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise ServiceError(_("%(email)s is already a manager here.") % {"email": email})
    token, digest = _new_token()
    invitation = ManagerInvitation.objects.create(
        organisation=organisation,
        email=email,
        token_hash=digest,
        invited_by=by,
        expires_at=timezone.now() + timedelta(days=MANAGER_INVITATION_DAYS),
    )
    _send(
        to=email,
        subject=_("You are invited to manage %(org)s on Service Balance")
        % {"org": organisation.name},
        template="assessment/email/manager_invitation.txt",
        context={
            "organisation": organisation,
            "invited_by": by,
            "link": _absolute(reverse("assessment:manager_join", kwargs={"token": token})),
            "days": MANAGER_INVITATION_DAYS,
        },
    )
    return invitation


def manager_invitation_for_token(token: str) -> ManagerInvitation:
    """The open invitation for a token, or ServiceError saying why it cannot be used."""
    invitation = (
        ManagerInvitation.objects.filter(token_hash=token_digest(token))
        .select_related("organisation")
        .first()
    )
    if invitation is None:
        raise ServiceError(_("This invitation link is not valid. Check that it is complete."))
    if invitation.accepted_at is not None:
        raise ServiceError(_("This invitation has already been accepted. Sign in instead."))
    if invitation.expires_at <= timezone.now():
        raise ServiceError(_("This invitation has expired. Ask a manager to invite you again."))
    return invitation


@transaction.atomic
def manager_invitation_accept(
    *, token: str, full_name: str, username: str, password: str
) -> AbstractBaseUser:
    """Create the invitee's account and manager membership; the link works once."""
    invitation = manager_invitation_for_token(token)
    claimed = ManagerInvitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        accepted_at=timezone.now()
    )
    if not claimed:
        raise ServiceError(_("This invitation has already been accepted. Sign in instead."))
    user = _user_create(
        full_name=full_name, email=invitation.email, username=username, password=password
    )
    Membership.objects.create(
        user=user, organisation=invitation.organisation, role=Membership.Role.MANAGER
    )
    return user


# --- teams and rosters --------------------------------------------------------


def team_create(*, organisation: Organisation, name: str) -> Team:
    name = name.strip()
    if Team.objects.filter(organisation=organisation, name__iexact=name).exists():
        raise ServiceError(_("There is already a team called %(name)s.") % {"name": name})
    return Team.objects.create(organisation=organisation, name=name)


def roster_entry_add(*, team: Team, name: str, email: str) -> RosterEntry:
    email = email.strip().lower()
    entry, created = RosterEntry.objects.get_or_create(
        team=team, email=email, defaults={"name": name.strip()}
    )
    if not created:
        raise ServiceError(_("%(email)s is already on this team.") % {"email": email})
    return entry


def roster_entry_remove(*, entry: RosterEntry) -> None:
    entry.delete()


# --- assessments ---------------------------------------------------------------


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


@dataclass(frozen=True)
class ParsedAddresses:
    valid: list[str]
    invalid: list[str]


def parse_addresses(text: str) -> ParsedAddresses:
    """Split pasted text into addresses (commas, semicolons, spaces or new lines).

    Duplicates are dropped (case-insensitively); each invalid entry is kept to report.
    """
    valid: list[str] = []
    invalid: list[str] = []
    seen: set[str] = set()
    for raw in text.replace(",", " ").replace(";", " ").split():
        candidate = raw.strip().strip("<>").lower()
        if not candidate or candidate in seen:
            continue
        seen.add(candidate)
        try:
            validate_email(candidate)
        except Exception:  # ValidationError: reported to the user one by one
            invalid.append(raw.strip())
        else:
            valid.append(candidate)
    return ParsedAddresses(valid=valid, invalid=invalid)


@transaction.atomic
def invitations_add(*, assessment: Assessment, people: Iterable[tuple[str, str]]) -> int:
    """Invite people (name, e-mail) who are not invited yet; return how many were added.

    On an open assessment the new invitations are sent at once.
    """
    if assessment.status not in (Assessment.Status.DRAFT, Assessment.Status.OPEN):
        raise ServiceError(_("This assessment no longer takes new invitations."))
    existing = {e.lower() for e in assessment.invitations.values_list("email", flat=True)}
    created = []
    for name, email in people:
        email = email.strip().lower()
        if email in existing:
            continue
        existing.add(email)
        _token, digest = _new_token()
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
        for invitation in assessment.invitations.filter(
            sent_at__isnull=True, revoked_at__isnull=True
        ):
            invitation_send(invitation=invitation)
    return len(created)


def _link_expiry(assessment: Assessment) -> datetime:
    expiry = timezone.now() + timedelta(days=INVITATION_LINK_DAYS)
    if assessment.due_date is not None:
        end_of_due = timezone.make_aware(
            datetime.combine(assessment.due_date + timedelta(days=1), datetime.min.time())
        )
        expiry = max(expiry, end_of_due)
    return expiry


@transaction.atomic
def assessment_open(*, assessment: Assessment, by: AbstractBaseUser) -> Assessment:
    """Draft to open: send every invitation. Needs at least one invitee who is not revoked."""
    if not assessment.invitations.filter(revoked_at__isnull=True).exists():
        raise ServiceError(_("Invite at least one team member before opening the assessment."))
    opened = Assessment.objects.filter(pk=assessment.pk, status=Assessment.Status.DRAFT).update(
        status=Assessment.Status.OPEN, opened_at=timezone.now()
    )
    if not opened:
        raise ServiceError(_("Only a draft assessment can be opened."))
    assessment.refresh_from_db()
    for invitation in assessment.invitations.filter(revoked_at__isnull=True):
        invitation_send(invitation=invitation)
    return assessment


def invitation_send(*, invitation: Invitation) -> Invitation:
    """(Re)send the invitation with a fresh link; any earlier link stops working."""
    assessment = invitation.assessment
    if not assessment.is_open:
        raise ServiceError(_("Invitations can only be sent while the assessment is open."))
    if invitation.is_revoked:
        raise ServiceError(_("This invitation was revoked."))
    token, digest = _new_token()
    with transaction.atomic():
        Invitation.objects.filter(pk=invitation.pk).update(
            token_hash=digest,
            token_expires_at=_link_expiry(assessment),
            token_used_at=None,
            sent_at=timezone.now(),
            send_count=F("send_count") + 1,
        )
        invitation.refresh_from_db()
        _send(
            to=invitation.email,
            subject=_("Your team assessment: %(title)s") % {"title": assessment.title},
            template="assessment/email/invitation.txt",
            context={
                "invitation": invitation,
                "assessment": assessment,
                "organisation": assessment.organisation,
                "link": _absolute(reverse("assessment:invitation_open", kwargs={"token": token})),
            },
        )
    return invitation


def invitation_revoke(*, invitation: Invitation) -> Invitation:
    if invitation.assessment.status not in (Assessment.Status.DRAFT, Assessment.Status.OPEN):
        raise ServiceError(_("This assessment is closed; its invitations can no longer change."))
    if hasattr(invitation, "response") and invitation.response.status == Response.Status.COMPLETED:
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
    invitation = (
        Invitation.objects.filter(token_hash=token_digest(token))
        .select_related("assessment")
        .first()
    )
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


# --- answering ------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerInput:
    """One question's input: level 1-5, or not_applicable, or neither (blank)."""

    question_id: int
    level: int | None
    not_applicable: bool
    comment: str
    base_revision: int  # the revision the user's page showed; 0 for "no answer yet"


@dataclass(frozen=True)
class SavedAnswer:
    question_id: int
    revision: int


@dataclass(frozen=True)
class SaveConflict:
    """A save refused because someone (another tab) saved a newer answer first."""

    question_id: int
    submitted: AnswerInput


@dataclass(frozen=True)
class SaveOutcome:
    saved: list[SavedAnswer]
    conflicts: list[SaveConflict]


def validate_answer(answer: AnswerInput) -> None:
    if answer.level is not None and not SCALE_MIN <= answer.level <= SCALE_MAX:
        raise ServiceError(_("Choose a level from 1 to 5."))
    if answer.level is not None and answer.not_applicable:
        raise ServiceError(_("Choose a level or “not applicable”, not both."))
    if len(answer.comment) > COMMENT_MAX_LENGTH:
        raise ServiceError(
            _("Comments can be at most %(limit)d characters; this one has %(length)d.")
            % {"limit": COMMENT_MAX_LENGTH, "length": len(answer.comment)}
        )


# One statement inserts a first answer or updates the existing one, but only if
# the stored revision is the one the user's page was based on. No row back means
# a newer answer won: the caller reports a conflict and keeps the user's input.
_UPSERT_SQL = """
INSERT INTO assessment_answer
    (response_id, question_id, level, not_applicable, comment, revision, updated_at)
VALUES (%s, %s, %s, %s, %s, 1, %s)
ON CONFLICT (response_id, question_id) DO UPDATE SET
    level = excluded.level,
    not_applicable = excluded.not_applicable,
    comment = excluded.comment,
    revision = assessment_answer.revision + 1,
    updated_at = excluded.updated_at
WHERE assessment_answer.revision = %s
RETURNING revision
"""


def answers_save(*, response: Response, answers: Sequence[AnswerInput]) -> SaveOutcome:
    """Save answers to an in-progress response; each is upserted against its base revision.

    The caller has checked that every question belongs to the response's assessment.
    Both autosave (one answer) and "Save and continue" (a page) come through here.
    """
    if not response.is_editable or response.assessment.status != Assessment.Status.OPEN:
        raise ServiceError(_("These answers were submitted and can no longer be changed."))
    for answer in answers:
        validate_answer(answer)
    saved: list[SavedAnswer] = []
    conflicts: list[SaveConflict] = []
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # savepoint=False: one save is one transaction; no savepoint round-trips when nested.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        for answer in answers:
            cursor.execute(
                _UPSERT_SQL,
                [
                    response.pk,
                    answer.question_id,
                    answer.level,
                    answer.not_applicable,
                    answer.comment,
                    now,
                    answer.base_revision,
                ],
            )
            row = cursor.fetchone()
            if row is None:
                conflicts.append(SaveConflict(question_id=answer.question_id, submitted=answer))
            else:
                saved.append(SavedAnswer(question_id=answer.question_id, revision=row[0]))
    return SaveOutcome(saved=saved, conflicts=conflicts)


def response_complete(*, response: Response) -> bool:
    """Make a response final. Returns False when it already was (a second click)."""
    if response.assessment.status != Assessment.Status.OPEN:
        if response.status == Response.Status.COMPLETED:
            return False
        raise ServiceError(_("This assessment is closed; answers can no longer be submitted."))
    completed = Response.objects.filter(pk=response.pk, status=Response.Status.IN_PROGRESS).update(
        status=Response.Status.COMPLETED, completed_at=timezone.now()
    )
    if (
        not completed
        and not Response.objects.filter(pk=response.pk, status=Response.Status.COMPLETED).exists()
    ):
        raise ServiceError(_("These answers were closed by the manager."))
    response.refresh_from_db()
    return bool(completed)


@transaction.atomic
def assessment_submit(*, assessment: Assessment, by: AbstractBaseUser) -> bool:
    """Open to submitted: close unfinished responses; answers become immutable.

    Returns False when it was already submitted (a repeated click), and refuses
    an assessment without any completed response.
    """
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.status == Assessment.Status.SUBMITTED:
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
    submitted = Assessment.objects.filter(pk=locked.pk, status=Assessment.Status.OPEN).update(
        status=Assessment.Status.SUBMITTED, submitted_at=timezone.now()
    )
    if not submitted:
        return False
    Response.objects.filter(assessment=locked, status=Response.Status.IN_PROGRESS).update(
        status=Response.Status.CLOSED
    )
    assessment.refresh_from_db()
    return True
