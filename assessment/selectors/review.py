"""Reads for the assessor's review: the history of an assessment and who may review it."""

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from assessment.models import (
    Assessment,
    AssessorProfile,
    Assignment,
    Membership,
)


def review_history(assessment: Assessment) -> dict:
    """Assignment, decisions and the audit timeline of one assessment (three queries)."""
    return {
        "assignment": Assignment.objects.filter(assessment=assessment)
        .select_related("assessor")
        .first(),
        "decisions": list(assessment.decisions.select_related("assessor").order_by("-round")),
        "timeline": list(
            assessment.audit_events.select_related("actor").order_by("created_at", "pk")
        ),
    }


def assessor_conflict(*, assessor: AbstractBaseUser, assessment: Assessment) -> bool:
    """An assessor may never review an organisation they belong to."""
    return Membership.objects.filter(user=assessor, organisation=assessment.organisation).exists()


def available_assessors(*, assessment: Assessment) -> list[AssessorProfile]:
    """Assessors with a current accreditation and no tie to the assessment's organisation."""
    return list(
        AssessorProfile.objects.filter(valid_until__gte=timezone.localdate())
        .exclude(user__memberships__organisation=assessment.organisation)
        .select_related("user")
    )
