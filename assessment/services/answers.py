"""Saving answers (autosave and page saves) and completing a response."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.models import (
    COMMENT_MAX_LENGTH,
    Assessment,
    Response,
)
from assessment.services.common import (
    ServiceError,
)
from frameworks.models import SCALE_MAX, SCALE_MIN

# --- answering ------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerInput:
    """One question's input: level 1-5, or not_applicable, or neither (blank)."""

    question_id: int
    level: int | None
    not_applicable: bool
    comment: str
    base_revision: int  # the revision the user's page showed; 0 for "no answer yet"


@dataclass(frozen=True)
class SavedAnswer:
    question_id: int
    revision: int


@dataclass(frozen=True)
class SaveConflict:
    """A save refused because someone (another tab) saved a newer answer first."""

    question_id: int
    submitted: AnswerInput


@dataclass(frozen=True)
class SaveOutcome:
    saved: list[SavedAnswer]
    conflicts: list[SaveConflict]


def validate_answer(answer: AnswerInput) -> None:
    if answer.level is not None and not SCALE_MIN <= answer.level <= SCALE_MAX:
        raise ServiceError(_("Choose a level from 1 to 5."))
    if answer.level is not None and answer.not_applicable:
        raise ServiceError(_("Choose a level or “not applicable”, not both."))
    if len(answer.comment) > COMMENT_MAX_LENGTH:
        raise ServiceError(
            _("Comments can be at most %(limit)d characters; this one has %(length)d.")
            % {"limit": COMMENT_MAX_LENGTH, "length": len(answer.comment)}
        )


# One statement inserts a first answer or updates the existing one, but only if
# the stored revision is the one the user's page was based on. No row back means
# a newer answer won: the caller reports a conflict and keeps the user's input.
_UPSERT_SQL = """
INSERT INTO assessment_answer
    (response_id, question_id, section_id, level, not_applicable, comment, revision, updated_at)
SELECT %s, q.id, q.section_id, %s, %s, %s, 1, %s
FROM frameworks_question q
WHERE q.id = %s
  AND EXISTS (
      SELECT 1 FROM assessment_response r
      JOIN assessment_assessment a ON a.id = r.assessment_id
      WHERE r.id = %s AND r.status = %s AND a.status = %s
  )
ON CONFLICT (response_id, question_id) DO UPDATE SET
    level = excluded.level,
    not_applicable = excluded.not_applicable,
    comment = excluded.comment,
    revision = assessment_answer.revision + 1,
    updated_at = excluded.updated_at
WHERE assessment_answer.revision = %s
RETURNING revision
"""


def answers_save(*, response: Response, answers: Sequence[AnswerInput]) -> SaveOutcome:
    """Save answers to an in-progress response; each is upserted against its base revision.

    The caller has checked that every question belongs to the response's assessment.
    Both autosave (one answer) and "Save and continue" (a page) come through here.
    """
    if not response.is_editable or response.assessment.status != Assessment.Status.OPEN:
        raise ServiceError(_("These answers were submitted and can no longer be changed."))
    for answer in answers:
        validate_answer(answer)
    saved: list[SavedAnswer] = []
    conflicts: list[SaveConflict] = []
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # savepoint=False: one save is one transaction; no savepoint round-trips when nested.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        for answer in answers:
            cursor.execute(
                _UPSERT_SQL,
                [
                    response.pk,
                    answer.level,
                    answer.not_applicable,
                    answer.comment,
                    now,
                    answer.question_id,
                    response.pk,
                    Response.Status.IN_PROGRESS,
                    Assessment.Status.OPEN,
                    answer.base_revision,
                ],
            )
            row = cursor.fetchone()
            if row is None:
                conflicts.append(SaveConflict(question_id=answer.question_id, submitted=answer))
            else:
                saved.append(SavedAnswer(question_id=answer.question_id, revision=row[0]))
        # Nothing is written once the response is completed or the assessment closed,
        # even by a request that loaded it just before: the statement checks it too.
        closed = bool(conflicts) and not _still_open(response)
    if closed:
        raise ServiceError(_("These answers were submitted and can no longer be changed."))
    return SaveOutcome(saved=saved, conflicts=conflicts)


def _still_open(response: Response) -> bool:
    return Response.objects.filter(
        pk=response.pk,
        status=Response.Status.IN_PROGRESS,
        assessment__status=Assessment.Status.OPEN,
    ).exists()


def response_complete(*, response: Response) -> bool:
    """Make a response final. Returns False when it already was (a second click)."""
    if response.assessment.status != Assessment.Status.OPEN:
        if response.status == Response.Status.COMPLETED:
            return False
        raise ServiceError(_("This assessment is closed; answers can no longer be submitted."))
    # The status test must sit on the updated row itself: a filter across the join
    # (assessment__status) makes Django write UPDATE … WHERE id IN (SELECT …), and
    # PostgreSQL does not re-check a subquery when a concurrent completion commits
    # first, so two of them would both "win". An __in on the foreign key keeps the
    # response's own status in the outer WHERE.
    open_assessment = Assessment.objects.filter(
        pk=response.assessment_id, status=Assessment.Status.OPEN
    ).values("pk")
    completed = Response.objects.filter(
        pk=response.pk,
        status=Response.Status.IN_PROGRESS,
        assessment_id__in=open_assessment,
    ).update(status=Response.Status.COMPLETED, completed_at=timezone.now())
    if (
        not completed
        and not Response.objects.filter(pk=response.pk, status=Response.Status.COMPLETED).exists()
    ):
        raise ServiceError(_("These answers were closed by the manager."))
    response.refresh_from_db()
    return bool(completed)
