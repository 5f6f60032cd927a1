"""Organisations, managers, teams and rosters."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.models import (
    ManagerInvitation,
    Membership,
    Organisation,
    RosterEntry,
    Team,
)
from assessment.selectors.manager import manager_invitation_for_token
from assessment.services.common import (
    MANAGER_INVITATION_DAYS,
    ServiceError,
    absolute_url,
    new_token_pair,
    send_email,
)

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
    token, digest = new_token_pair()
    invitation = ManagerInvitation.objects.create(
        organisation=organisation,
        email=email,
        token_hash=digest,
        invited_by=by,
        expires_at=timezone.now() + timedelta(days=MANAGER_INVITATION_DAYS),
    )
    send_email(
        to=email,
        subject=_("You are invited to manage %(org)s on Service Balance")
        % {"org": organisation.name},
        template="assessment/email/manager_invitation.txt",
        context={
            "organisation": organisation,
            "invited_by": by,
            "link": absolute_url(reverse("assessment:manager_join", kwargs={"token": token})),
            "days": MANAGER_INVITATION_DAYS,
        },
    )
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
