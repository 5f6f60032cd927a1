"""Reads for staff: the review queue."""

from collections import defaultdict
from dataclasses import dataclass

from assessment.models import (
    Assessment,
    AssessorProfile,
    Membership,
)
from assessment.selectors.common import versions_prefetch


@dataclass(frozen=True)
class QueueRow:
    assessment: Assessment
    assessor: object | None  # the assigned user, if any
    candidates: list  # AssessorProfile: current, and not a member of the organisation


def review_queue_rows() -> list[QueueRow]:
    """Submitted and in-review assessments with the assessors each may get (four queries)."""
    assessments = list(
        Assessment.objects.filter(
            status__in=[Assessment.Status.SUBMITTED, Assessment.Status.IN_REVIEW]
        )
        .select_related("organisation", "team", "assignment__assessor")
        .prefetch_related(versions_prefetch())
        .order_by("submitted_at", "pk")
    )
    profiles = list(AssessorProfile.objects.current().select_related("user"))
    memberships: dict[int, set[int]] = defaultdict(set)
    for user_id, organisation_id in Membership.objects.filter(
        user__in=[p.user_id for p in profiles]
    ).values_list("user_id", "organisation_id"):
        memberships[user_id].add(organisation_id)
    rows = []
    for assessment in assessments:
        assignment = getattr(assessment, "assignment", None)
        rows.append(
            QueueRow(
                assessment=assessment,
                assessor=assignment.assessor if assignment else None,
                candidates=[
                    p for p in profiles if assessment.organisation_id not in memberships[p.user_id]
                ],
            )
        )
    return rows
