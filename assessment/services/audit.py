"""The audit trail: one append-only row for every state change, assignment, moderation
and decision. Services call ``audit_record`` inside the transaction that makes the change,
so the record and the change land together or not at all."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

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
