"""Organisations, their managers, teams and rosters."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def token_digest(token: str) -> str:
    """What is stored for a secret link token: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenQuerySet(models.QuerySet):
    """For models reached through a secret link, whose token is stored only as a digest."""

    def for_token(self, token: str):
        """The row whose link carries ``token``, or None."""
        return self.for_digest(token_digest(token))

    def for_digest(self, token_hash: str):
        """The row whose link's token has this digest, or None: what a session keeps, so
        that no raw token is ever stored, not even in the session table."""
        return self.filter(token_hash=token_hash).first()


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Sign-up leaves this empty until the person who signed up follows the link sent
    # to their address; until then nothing is e-mailed on the organisation's behalf.
    email_confirmed_at = models.DateTimeField(
        _("e-mail address confirmed at"),
        null=True,
        blank=True,
        help_text=_(
            "When the address of the person who signed up was confirmed. Invitations "
            "are sent only after that."
        ),
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in an organisation. Assessor and consultant access are separate grants."""

    class Role(models.TextChoices):
        MANAGER = "manager", _("Manager")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MANAGER)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="membership_unique_user_organisation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organisation})"


class ManagerInvitation(models.Model):
    """An e-mailed invitation to become a manager of an organisation."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="manager_invitations",
        verbose_name=_("organisation"),
    )
    email = models.EmailField(_("e-mail"))
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = TokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("manager invitation")
        verbose_name_plural = _("manager invitations")

    def __str__(self) -> str:
        return self.email


class Team(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="teams", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="team_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("assessment:team_detail", kwargs={"pk": self.pk})


class RosterEntry(models.Model):
    """A team member, by name and e-mail; team members need no account."""

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="roster", verbose_name=_("team")
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))

    class Meta:
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster entries")
        ordering = ["name", "email"]
        constraints = [
            models.UniqueConstraint(fields=["team", "email"], name="roster_unique_email"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class SentMail(models.Model):
    """One message sent on an organisation's behalf: the record its sending caps count."""

    class Kind(models.TextChoices):
        INVITATION = "invitation", _("Invitation to answer")
        MANAGER_INVITATION = "manager_invitation", _("Invitation to manage")
        CUSTOMER_INVITATION = "customer_invitation", _("Invitation to a customer survey")
        ACTION_DIGEST = "action_digest", _("Weekly digest of actions")
        # To the person who signed up, never counted against the caps; it sets the
        # cool-down between two confirmation links.
        CONFIRMATION = "confirmation", _("Address confirmation")

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="sent_mail",
        verbose_name=_("organisation"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    sent_at = models.DateTimeField(_("sent at"), db_default=Now())

    class Meta:
        verbose_name = _("sent e-mail")
        verbose_name_plural = _("sent e-mails")
        indexes = [models.Index(fields=["organisation", "sent_at"], name="sentmail_org_time_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.organisation}, {self.sent_at:%Y-%m-%d %H:%M})"


class PersonalPreference(models.Model):
    """What a signed-in person chose for themselves: for now, their language (copied
    into the session at sign-in; see assessment.languages)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="personal_preference",
        verbose_name=_("user"),
    )
    language = models.CharField(_("language"), max_length=10)

    class Meta:
        verbose_name = _("personal preference")
        verbose_name_plural = _("personal preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"
