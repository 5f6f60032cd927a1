"""The audit trail and state transitions.

Every state change, assignment, moderation and decision leaves one append-only
row. Services call ``audit_record`` (or ``assessment_transition``, which calls it)
inside the transaction that makes the change, so the record and the change land
together or not at all.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from assessment.models import Assessment, AuditEvent


def audit_record(
    *,
    assessment: Assessment,
    actor: AbstractBaseUser | None,
    action: AuditEvent.Action,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        assessment=assessment,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        before=before or {},
        after=after or {},
    )


# The assessment's life, one row per move: the action that records it, from, to.
TRANSITIONS: dict[AuditEvent.Action, tuple[Assessment.Status, Assessment.Status]] = {
    AuditEvent.Action.OPENED: (Assessment.Status.DRAFT, Assessment.Status.OPEN),
    AuditEvent.Action.SUBMITTED: (Assessment.Status.OPEN, Assessment.Status.SUBMITTED),
    AuditEvent.Action.REVIEW_STARTED: (Assessment.Status.SUBMITTED, Assessment.Status.IN_REVIEW),
    AuditEvent.Action.APPROVED: (Assessment.Status.IN_REVIEW, Assessment.Status.APPROVED),
    AuditEvent.Action.RETURNED: (Assessment.Status.IN_REVIEW, Assessment.Status.RETURNED),
    AuditEvent.Action.REOPENED: (Assessment.Status.RETURNED, Assessment.Status.OPEN),
}


@transaction.atomic
def assessment_transition(
    *,
    assessment: Assessment,
    action: AuditEvent.Action,
    by: AbstractBaseUser | None,
    fields: dict[str, Any] | None = None,
    recorded: dict[str, Any] | None = None,
) -> bool:
    """Make the move ``TRANSITIONS[action]`` and record it, in one transaction.

    The change is a conditional UPDATE (``WHERE status = <from>``), so of two requests
    racing for the same move exactly one wins; the loser gets False and nothing
    changes. On success ``assessment`` is refreshed and one audit row records the
    status change, plus ``recorded`` (extra facts for the trail). ``fields`` are other
    columns set by the same UPDATE (``submitted_at``…).
    """
    source, target = TRANSITIONS[action]
    changed = Assessment.objects.filter(pk=assessment.pk, status=source).update(
        status=target, **(fields or {})
    )
    if not changed:
        return False
    assessment.refresh_from_db()
    audit_record(
        assessment=assessment,
        actor=by,
        action=action,
        before={"status": source},
        after={"status": target, **(recorded or {})},
    )
    return True
