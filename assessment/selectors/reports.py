"""Reads for the task worker's report renders: who may download an assessment's report,
and which reports a consultancy's branding is on."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from assessment.models import Assessment, Membership

User = get_user_model()


def _current_grant(prefix: str, **fields: object) -> Q:
    return Q(
        **{
            f"{prefix}revoked_at__isnull": True,
            f"{prefix}expires_at__gt": timezone.now(),
            **fields,
        }
    )


def report_readers(assessment: Assessment, *, consultancy_id: int | None = None) -> QuerySet:
    """The people who may download the assessment's report, in one query: its
    organisation's managers (``access.assessment_for_manager``) and the members of every
    consultancy it shares with now (``access.assessment_for_consultant``); with
    ``consultancy_id``, only that consultancy's members."""
    consultants = Q(
        consultancies__consultancy__grants__in=_grants(assessment, consultancy_id=consultancy_id)
    )
    if consultancy_id is not None:
        readers = consultants
    else:
        managers = Q(
            memberships__organisation_id=assessment.organisation_id,
            memberships__role=Membership.Role.MANAGER,
        )
        readers = managers | consultants
    return User.objects.filter(readers, is_active=True).distinct().order_by("pk")


def _grants(assessment: Assessment, *, consultancy_id: int | None) -> QuerySet:
    from assessment.models import ConsultantGrant

    grants = ConsultantGrant.objects.filter(
        _current_grant("", organisation_id=assessment.organisation_id)
    )
    if consultancy_id is not None:
        grants = grants.filter(consultancy_id=consultancy_id)
    return grants.values("pk")


def branded_assessments(*, consultancy_id: int) -> list[int]:
    """The closed assessments of the organisations that share with the consultancy now:
    the reports its branding is on, in one query."""
    return list(
        Assessment.objects.filter(
            _current_grant("organisation__consultant_grants__"),
            organisation__consultant_grants__consultancy_id=consultancy_id,
            status__in=Assessment.CLOSED_STATUSES,
        )
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
