"""Consultancies, their consultants and the organisations' grants to them."""

import re

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from assessment.errors import ServiceError
from assessment.models.organisations import Organisation

MIN_CONTRAST = 4.5  # WCAG AA for normal text: white text on the accent colour
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _luminance(hex_colour: str) -> float:
    """Relative luminance (WCAG 2)."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(hex_colour: str) -> float:
    """WCAG contrast ratio of white text on ``hex_colour``."""
    return 1.05 / (_luminance(hex_colour) + 0.05)


def validate_accent_colour(value: str) -> str:
    """The accent colour in canonical form (#rrggbb, lower case), or ServiceError: it must
    be a hex colour dark enough for white text (WCAG AA)."""
    value = (value or "").strip()
    if not HEX_COLOUR.match(value):
        raise ServiceError(
            gettext("Give the accent colour as # and six hex digits, such as #1d4e5f.")
        )
    ratio = contrast_with_white(value)
    if ratio < MIN_CONTRAST:
        raise ServiceError(
            gettext(
                "White text on %(colour)s has a contrast of %(ratio).1f:1; it needs at least "
                "%(minimum).1f:1. Choose a darker colour."
            )
            % {"colour": value, "ratio": ratio, "minimum": MIN_CONTRAST}
        )
    return value.lower()


def normalise_consultancy_name(value: str) -> str:
    """A consultancy's name as stored: stripped, each run of spaces made one space, so
    that with the case-insensitive unique constraint no two firms look alike."""
    return " ".join((value or "").split())


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
            # Names are stored with their whitespace collapsed (forms and services do it),
            # so one firm cannot take another's name by case or spacing.
            models.UniqueConstraint(Lower("name"), name="consultancy_name_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def accent_contrast(self) -> float:
        """How readable white text is on the accent colour (WCAG ratio)."""
        return contrast_with_white(self.accent_colour)


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
