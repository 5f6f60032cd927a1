"""Organisations, managers, teams and rosters; confirming the address an organisation
signed up with, and password resets."""

import contextlib
import logging
from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.models import (
    ManagerInvitation,
    Membership,
    Organisation,
    RosterEntry,
    SentMail,
    Team,
)
from assessment.selectors.manager import manager_invitation_for_digest
from assessment.services.common import (
    MANAGER_INVITATION_DAYS,
    ServiceError,
    absolute_url,
    new_token_pair,
    send_email,
)
from assessment.services.mail import Unconfirmed, mail_send

logger = logging.getLogger(__name__)

# The confirmation link is signed (``django.core.signing``, with a timestamp), not stored.
CONFIRMATION_SALT = "assessment.organisation-email-confirmation"
CONFIRMATION_LINK_DAYS = 3
# At most one confirmation message per organisation in this time.
CONFIRMATION_RESEND_INTERVAL = timedelta(minutes=5)

# --- organisations and managers ---------------------------------------------


@transaction.atomic
def organisation_sign_up(
    *,
    organisation_name: str,
    full_name: str,
    email: str,
    username: str,
    password: str,
    confirmed: bool = False,
) -> AbstractBaseUser:
    """Create an account, its organisation, and make the account the first manager.

    The organisation sends nothing until the address is confirmed: a link to confirm it
    is e-mailed once this is committed (a failed send is logged; the dashboard offers to
    send it again). ``confirmed`` is for the demo and load seeds, whose addresses are
    invented.
    """
    user = _user_create(full_name=full_name, email=email, username=username, password=password)
    organisation = Organisation.objects.create(
        name=organisation_name.strip(), email_confirmed_at=timezone.now() if confirmed else None
    )
    Membership.objects.create(user=user, organisation=organisation, role=Membership.Role.MANAGER)
    if not confirmed:
        transaction.on_commit(partial(_confirmation_send_quietly, organisation, user))
    return user


def email_confirmation_send(*, organisation: Organisation, user: AbstractBaseUser) -> None:
    """E-mail ``user`` a signed link that confirms their address for ``organisation``.

    The message is fixed text: it names neither the organisation nor the person, so an
    address typed by someone else receives nothing they wrote.
    """
    if organisation.email_confirmed_at is not None:
        raise ServiceError(_("Your e-mail address is already confirmed."))
    reservation = _confirmation_reserve(organisation)
    token = signing.dumps(
        {"organisation": organisation.pk, "user": user.pk, "email": user.email.lower()},
        salt=CONFIRMATION_SALT,
        compress=True,
    )
    try:
        send_email(
            to=user.email,
            subject=_("Confirm your e-mail address for Service Balance"),
            template="assessment/email/email_confirmation.txt",
            context={
                "link": absolute_url(reverse("assessment:email_confirm", kwargs={"token": token})),
                "days": CONFIRMATION_LINK_DAYS,
            },
        )
    except (OSError, ValueError):  # smtplib's errors are OSErrors; bad headers ValueErrors
        reservation.delete()
        logger.exception("The confirmation link for organisation %s was not sent", organisation.pk)
        raise ServiceError(
            _("The e-mail could not be sent just now. Please try again in a few minutes.")
        ) from None


@transaction.atomic
def _confirmation_reserve(organisation: Organisation) -> SentMail:
    """Record a confirmation message about to go, or refuse one within the cool-down.

    Kept in the database (``SentMail``), so a new session or a second browser does not
    start the cool-down afresh; the organisation's row is locked while it is checked.
    """
    locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
    now = timezone.now()
    if SentMail.objects.filter(
        organisation=locked,
        kind=SentMail.Kind.CONFIRMATION,
        sent_at__gt=now - CONFIRMATION_RESEND_INTERVAL,
    ).exists():
        raise ServiceError(
            _(
                "We sent you a link a few minutes ago. Please check your inbox (and spam "
                "folder) before asking again."
            )
        )
    return SentMail.objects.create(
        organisation=locked, kind=SentMail.Kind.CONFIRMATION, sent_at=now
    )


def _confirmation_send_quietly(organisation: Organisation, user: AbstractBaseUser) -> None:
    # A failure is logged; the banner on the manager's pages offers to send it again.
    with contextlib.suppress(ServiceError):
        email_confirmation_send(organisation=organisation, user=user)


def organisation_email_confirm(*, organisation_id: int, user_id: int, email: str) -> Organisation:
    """Confirm the organisation's address, from the claim of a confirmation link whose
    signature and age were checked (``forms.public.ConfirmationLinkForm``).

    The link stands only while its account still manages the organisation with that
    address; it works once (a conditional update: a second use changes nothing).
    """
    organisation = Organisation.objects.filter(
        pk=organisation_id,
        memberships__user_id=user_id,
        memberships__user__email__iexact=email,
    ).first()
    if organisation is None:
        raise ServiceError(
            _("This link is not valid any more. Sign in and ask for a new one from your dashboard.")
        )
    confirmed = Organisation.objects.filter(
        pk=organisation.pk, email_confirmed_at__isnull=True
    ).update(email_confirmed_at=timezone.now())
    if not confirmed:
        raise ServiceError(_("This address is already confirmed. You can send invitations."))
    organisation.refresh_from_db()
    return organisation


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
    """E-mail a link that lets someone become a manager of the organisation.

    Sent within the organisation's caps, and only once its address is confirmed; the
    invitation is recorded after the mail went, so a refused send leaves nothing behind.
    """
    email = email.strip().lower()
    Unconfirmed.check(organisation)
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise ServiceError(_("%(email)s is already a manager here.") % {"email": email})
    token, digest = new_token_pair()
    mail_send(
        organisation=organisation,
        kind=SentMail.Kind.MANAGER_INVITATION,
        to=email,
        subject=_("You are invited to manage customer-service assessments"),
        template="assessment/email/manager_invitation.txt",
        context={
            "organisation": organisation.name,
            "sender": by.get_full_name() or by.get_username(),
            "link": absolute_url(reverse("assessment:manager_join", kwargs={"token": token})),
            "days": MANAGER_INVITATION_DAYS,
        },
    )
    return ManagerInvitation.objects.create(
        organisation=organisation,
        email=email,
        token_hash=digest,
        invited_by=by,
        expires_at=timezone.now() + timedelta(days=MANAGER_INVITATION_DAYS),
    )


@transaction.atomic
def manager_invitation_accept(
    *, token_hash: str, full_name: str, username: str, password: str
) -> AbstractBaseUser:
    """Create the invitee's account and manager membership; the link (known here by its
    token's digest, ``models.token_digest``) works once."""
    invitation = manager_invitation_for_digest(token_hash)
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


# --- password resets -----------------------------------------------------------


def password_reset_request(*, email: str) -> None:
    """Queue a password reset for ``email``, known or not.

    The request does the same work either way (it only enqueues), so neither its answer
    nor its timing tells whether an account uses the address; the task looks it up.
    """
    # Imported here: the task module imports the report renderer (WeasyPrint).
    from assessment.tasks import password_reset_send

    password_reset_send.enqueue(email=email)


def password_reset_mail(*, email: str) -> None:
    """E-mail a reset link to each active account using ``email`` (none: nothing).

    The link is built from ``SITE_URL``, never from a request's Host header.
    """
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return
    site = urlsplit(settings.SITE_URL)
    form.save(
        domain_override=site.netloc + site.path.rstrip("/"),
        use_https=site.scheme == "https",
        subject_template_name="registration/password_reset_subject.txt",
        email_template_name="registration/password_reset_email.html",
    )
