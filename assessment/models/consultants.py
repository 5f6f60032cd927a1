"""Consultancies, their consultants and the organisations' grants to them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessment.models.organisations import Organisation


class Consultancy(models.Model):
    """A consultancy firm: its consultants see client organisations that granted access."""

    name = models.CharField(_("name"), max_length=200)
    accent_colour = models.CharField(
        _("accent colour"),
        max_length=7,
        default="#1d4e5f",
        help_text=_("A hex colour such as #1d4e5f, dark enough for white text."),
    )
    # The logo, re-encoded by Pillow on upload (PNG or JPEG, at most 1 MB); kept in the
    # database so every web and worker node can serve it.
    logo = models.BinaryField(_("logo"), null=True, blank=True, editable=False)
    logo_content_type = models.CharField(_("logo type"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("consultancy")
        verbose_name_plural = _("consultancies")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(accent_colour__regex=r"^#[0-9a-fA-F]{6}$"),
                name="consultancy_accent_colour_hex",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ConsultantMembership(models.Model):
    """A consultant working for a consultancy."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consultancies"
    )
    consultancy = models.ForeignKey(Consultancy, on_delete=models.CASCADE, related_name="members")

    class Meta:
        verbose_name = _("consultant")
        verbose_name_plural = _("consultants")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "consultancy"], name="consultant_unique_membership"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.consultancy})"


class ConsultantGrant(models.Model):
    """An organisation's permission for a consultancy to see its assessments, until it
    expires or is revoked. Without a current grant, everything of the organisation is a 404."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="consultant_grants"
    )
    consultancy = models.ForeignKey(Consultancy, on_delete=models.CASCADE, related_name="grants")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("consultant grant")
        verbose_name_plural = _("consultant grants")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.consultancy} → {self.organisation}"

    def is_current(self, now: "timezone.datetime | None" = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now
