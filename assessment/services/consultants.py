"""Consultants: organisations grant a consultancy access for a while; consultants see a
portfolio of their clients' latest results.

Writes (``grant_create``, ``grant_revoke``) follow the services contract. The reads
that feed the grants page and the portfolio sit below them, in their own section,
because they belong to this feature alone.
"""

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.models import Consultancy, ConsultantGrant, Organisation
from assessment.services.common import ServiceError

GRANT_DAYS_MIN = 1
GRANT_DAYS_MAX = 366
GRANT_DAYS_DEFAULT = 90


# --- writes -------------------------------------------------------------------------


@transaction.atomic
def grant_create(
    *, organisation: Organisation, consultancy: Consultancy, by: AbstractBaseUser, days: int
) -> ConsultantGrant:
    """Let the consultancy see the organisation's assessments for ``days`` days (1 to 366).

    A grant that is still current for the same consultancy is extended (never
    shortened) instead of adding a second one, so the list stays one line per firm.
    """
    if not isinstance(days, int) or not GRANT_DAYS_MIN <= days <= GRANT_DAYS_MAX:
        raise ServiceError(
            _("Access can be granted for %(min)d to %(max)d days.")
            % {"min": GRANT_DAYS_MIN, "max": GRANT_DAYS_MAX}
        )
    now = timezone.now()
    expires_at = now + timedelta(days=days)
    current = (
        ConsultantGrant.objects.select_for_update()
        .filter(
            organisation=organisation,
            consultancy=consultancy,
            revoked_at__isnull=True,
            expires_at__gt=now,
        )
        .order_by("-expires_at")
        .first()
    )
    if current is not None:
        # Conditional: a revoke that landed in between wins, and we add a new grant.
        extended = ConsultantGrant.objects.filter(
            pk=current.pk, revoked_at__isnull=True, expires_at__gt=now
        ).update(expires_at=max(current.expires_at, expires_at))
        if extended:
            current.refresh_from_db(fields=["expires_at"])
            return current
    return ConsultantGrant.objects.create(
        organisation=organisation,
        consultancy=consultancy,
        granted_by=by,
        expires_at=expires_at,
    )


@transaction.atomic
def grant_revoke(*, grant: ConsultantGrant, by: AbstractBaseUser) -> ConsultantGrant:
    """End a current grant now; the consultancy loses access at once."""
    now = timezone.now()
    revoked = ConsultantGrant.objects.filter(
        pk=grant.pk, revoked_at__isnull=True, expires_at__gt=now
    ).update(revoked_at=now)
    if not revoked:
        raise ServiceError(_("This access has already ended."))
    grant.refresh_from_db(fields=["revoked_at"])
    return grant


# --- reads: the grants page -----------------------------------------------------------


# --- reads: the consultant's portfolio ---------------------------------------------------
