"""Saving answers (autosave and page saves), completing a response, and revising it in a
later review round.

Each answer has two copies: the working copy (``level``, ``not_applicable``,
``dont_know``, ``comment``), which the person edits, and the submitted copy (``submitted_*``), which
team figures count. Completing copies the one into the other; a person revising in a
later round changes only the working copy, so their answers as last completed keep
counting until they complete again.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Case, F, Q, QuerySet, Subquery, When
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.models import (
    COMMENT_MAX_LENGTH,
    Answer,
    Assessment,
    Response,
)
from assessment.services.common import (
    ServiceError,
)
from frameworks.models import SCALE_MAX, SCALE_MIN, FrameworkVersion, Question

# --- answering ------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerInput:
    """One question's input: a level of its version's scale (0-5 in format 2, 1-5 in
    format 1), or not_applicable, or dont_know (format 2 only), or none of them (blank)."""

    question_id: int
    level: int | None
    not_applicable: bool
    comment: str
    base_revision: int  # the revision the user's page showed; 0 for "no answer yet"
    dont_know: bool = False

    @property
    def value(self) -> tuple[int | None, bool, bool, str]:
        """What the answer says, as stored: level, not applicable, don't know, comment."""
        return (self.level, self.not_applicable, self.dont_know, self.comment)


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


@dataclass(frozen=True)
class AnswerChoices:
    """The answers a question's version offers: its levels (0-5 in format 2, 1-5 in
    format 1), "not applicable" (both), and "don't know" as an answer of its own
    (format 2 only). The form reads a posted value by these; the service checks them."""

    levels: range
    dont_know: bool

    @classmethod
    def of(cls, version: FrameworkVersion) -> "AnswerChoices":
        return cls(levels=version.level_range, dont_know=version.has_audiences)


# Format 1's choices: the strict default where no version is known.
FORMAT_1_CHOICES = AnswerChoices(levels=range(SCALE_MIN, SCALE_MAX + 1), dont_know=False)


def validate_answer(answer: AnswerInput, choices: AnswerChoices = FORMAT_1_CHOICES) -> None:
    """Refuse an answer its question's version does not offer (``choices``): a level
    outside the version's scale (level 0 only in format 2), "don't know" in format 1, or
    two answers at once."""
    levels = choices.levels
    if answer.level is not None and answer.level not in levels:
        raise ServiceError(
            _("Choose a level from %(low)d to %(high)d.") % {"low": levels[0], "high": levels[-1]}
        )
    if answer.dont_know and not choices.dont_know:
        raise ServiceError(_("Choose a level or “not applicable / don't know”."))
    if sum((answer.level is not None, answer.not_applicable, answer.dont_know)) > 1:
        raise ServiceError(_("Choose one answer: a level, “not applicable” or “don't know”."))
    if len(answer.comment) > COMMENT_MAX_LENGTH:
        raise ServiceError(
            _("Comments can be at most %(limit)d characters; this one has %(length)d.")
            % {"limit": COMMENT_MAX_LENGTH, "length": len(answer.comment)}
        )


def _asked_questions(response: Response, answers: Sequence[AnswerInput]) -> dict[int, Question]:
    """The questions of these answers that the person is asked (``Question.objects.asked_of``
    their audience, in one of the response's frameworks), with their versions: one query."""
    return {
        q.pk: q
        for q in Question.objects.filter(
            pk__in=[a.question_id for a in answers],
            version__assessments=response.assessment_id,
        )
        .asked_of(response.audience)
        .select_related("version")
        .only("pk", "section_id", "version__format")
    }


def _validate_answers(
    response: Response, answers: Sequence[AnswerInput], questions: Mapping[int, Question]
) -> None:
    """Each answer against its question's version, and only to questions this person is
    asked (``questions``, as ``_asked_questions`` reads them); then, after a reopening by
    section, only to the sections open for changes in this round."""
    for answer in answers:
        question = questions.get(answer.question_id)
        if question is None:
            raise ServiceError(_("This question is not part of your questionnaire."))
        validate_answer(answer, AnswerChoices.of(question.version))
    changeable = response.changeable_section_ids()
    if changeable is not None and any(
        questions[a.question_id].section_id not in changeable for a in answers
    ):
        raise ServiceError(
            _(
                "This section is not open for changes in this round: your answers in it "
                "stay as you submitted them."
            )
        )


def _upsert_sql(count: int) -> str:
    """One statement for ``count`` answers: each inserts a first answer or updates the
    existing one, but only if the stored revision is the one the user's page was based
    on (its ``base_revision``). An answer with no row back lost to a newer one: the
    caller reports a conflict and keeps the user's input.

    The statement itself checks that the response is editable and its assessment open,
    so a request that loaded them just before a completion or a closing writes nothing.
    Typed casts in the VALUES list, as PostgreSQL infers a column of NULLs as text.
    """
    # Only placeholders go into the text; every value is a parameter.
    return _UPSERT_HEAD + ",\n    ".join([_UPSERT_ROW] * count) + _UPSERT_TAIL


_UPSERT_HEAD = """
WITH posted (question_id, level, not_applicable, dont_know, comment, base_revision) AS (
    VALUES """
_UPSERT_ROW = (
    "(CAST(%s AS integer), CAST(%s AS integer), CAST(%s AS boolean), CAST(%s AS boolean),"
    " CAST(%s AS text), CAST(%s AS integer))"
)
_UPSERT_TAIL = """
)
INSERT INTO assessment_answer
    (response_id, question_id, section_id, level, not_applicable, dont_know, comment, revision,
     updated_at, submitted_level, submitted_not_applicable, submitted_dont_know,
     submitted_comment)
SELECT %s, q.id, q.section_id, p.level, p.not_applicable, p.dont_know, p.comment, 1, %s,
       NULL, %s, %s, ''
FROM posted p
JOIN frameworks_question q ON q.id = p.question_id
WHERE EXISTS (
    SELECT 1 FROM assessment_response r
    JOIN assessment_assessment a ON a.id = r.assessment_id
    WHERE r.id = %s AND r.status IN (%s, %s) AND a.status = %s
)
ON CONFLICT (response_id, question_id) DO UPDATE SET
    level = excluded.level,
    not_applicable = excluded.not_applicable,
    dont_know = excluded.dont_know,
    comment = excluded.comment,
    revision = assessment_answer.revision + 1,
    updated_at = excluded.updated_at
WHERE assessment_answer.revision = (
    SELECT p.base_revision FROM posted p WHERE p.question_id = assessment_answer.question_id
)
RETURNING question_id, revision
"""


def answers_save(
    *,
    response: Response,
    answers: Sequence[AnswerInput],
    questions: Mapping[int, Question] | None = None,
) -> SaveOutcome:
    """Save answers to an editable response (in progress, or being revised); each is
    upserted against its base revision, all in one statement. Only the working copy
    changes: team figures count the submitted copy, which ``response_complete`` writes.

    Every question must be one the person is asked, and every answer one its version
    offers (ServiceError otherwise, before anything is written). ``questions``: those
    questions by pk with their versions, as ``selectors.respondent.asked_questions_by_pk``
    reads them, when the caller has them already; otherwise one query reads them here.
    A conflict is per answer: the others in the same call are saved. Both autosave (a
    batch of changed answers) and "Save and continue" (a page) come through here; 2
    queries (1 with ``questions``), 2 more when an answer conflicts.
    """
    if not response.is_editable or response.assessment.status != Assessment.Status.OPEN:
        raise ServiceError(_("These answers were submitted and can no longer be changed."))
    if not answers:
        return SaveOutcome(saved=[], conflicts=[])
    if len({a.question_id for a in answers}) != len(answers):
        raise ServiceError(_("The form was damaged; reload the page."))
    if questions is None:
        questions = _asked_questions(response, answers)
    _validate_answers(response, answers, questions)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params: list = []
    for answer in answers:
        params += [
            answer.question_id,
            answer.level,
            answer.not_applicable,
            answer.dont_know,
            answer.comment,
            answer.base_revision,
        ]
    # Nothing submitted yet on a first answer: response_complete copies it.
    params += [response.pk, now, False, False]
    params += [response.pk, *Response.EDITABLE_STATUSES, Assessment.Status.OPEN]
    # savepoint=False: one save is one transaction; no savepoint round-trips when nested.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_upsert_sql(len(answers)), params)
        revisions = dict(cursor.fetchall())
        saved = [
            SavedAnswer(question_id=a.question_id, revision=revisions[a.question_id])
            for a in answers
            if a.question_id in revisions
        ]
        conflicts = [
            SaveConflict(question_id=a.question_id, submitted=a)
            for a in answers
            if a.question_id not in revisions
        ]
        # Nothing is written once the response is completed or the assessment closed,
        # even by a request that loaded it just before: the statement checks it too.
        closed = bool(conflicts) and not _still_open(response)
    if closed:
        raise ServiceError(_("These answers were submitted and can no longer be changed."))
    if conflicts:
        conflicts = _drop_own_saves(response, conflicts, saved)
    return SaveOutcome(saved=saved, conflicts=conflicts)


def _drop_own_saves(
    response: Response, conflicts: list[SaveConflict], saved: list[SavedAnswer]
) -> list[SaveConflict]:
    """A stale revision whose stored answer already equals the input is no conflict: it is
    the same tab's own save that finished first (an autosave still in flight when "Save and
    continue" was pressed). Such answers count as saved at the stored revision (one query)."""
    stored = {
        a.question_id: a
        for a in Answer.objects.filter(
            response_id=response.pk, question_id__in=[c.question_id for c in conflicts]
        ).only("question_id", "level", "not_applicable", "dont_know", "comment", "revision")
    }
    remaining = []
    for conflict in conflicts:
        mine, theirs = conflict.submitted, stored.get(conflict.question_id)
        if (
            theirs is not None
            and (theirs.level, theirs.not_applicable, theirs.dont_know, theirs.comment)
            == mine.value
        ):
            saved.append(SavedAnswer(question_id=conflict.question_id, revision=theirs.revision))
        else:
            remaining.append(conflict)
    return remaining


def _still_open(response: Response) -> bool:
    return Response.objects.filter(
        pk=response.pk,
        status__in=Response.EDITABLE_STATUSES,
        assessment__status=Assessment.Status.OPEN,
    ).exists()


def _open_assessment(response: Response) -> QuerySet:
    """The response's assessment while it is open, as a subquery on the foreign key."""
    return Assessment.objects.filter(
        pk=response.assessment_id, status=Assessment.Status.OPEN
    ).order_by()


def _value_changed() -> Q:
    """An answer whose working copy differs from its submitted copy: level (compared
    null-safely: either may be empty), N/A state, don't-know state or comment."""
    same_level = Q(level=F("submitted_level")) | Q(level__isnull=True, submitted_level__isnull=True)
    same = (
        same_level
        & Q(not_applicable=F("submitted_not_applicable"))
        & Q(dont_know=F("submitted_dont_know"))
        & Q(comment=F("submitted_comment"))
    )
    return ~same


@transaction.atomic
def response_complete(*, response: Response) -> bool:
    """Make a response final for this round. Returns False when it already was (a second
    click).

    In the same transaction the working copy of every answer becomes the submitted copy,
    the one team figures count, and the response records the round it was completed in.
    """
    if response.assessment.status != Assessment.Status.OPEN:
        if response.status == Response.Status.COMPLETED:
            return False
        raise ServiceError(_("This assessment is closed; answers can no longer be submitted."))
    # The status test must sit on the updated row itself: a filter across the join
    # (assessment__status) makes Django write UPDATE … WHERE id IN (SELECT …), and
    # PostgreSQL does not re-check a subquery when a concurrent completion commits
    # first, so two of them would both "win". An __in on the foreign key keeps the
    # response's own status in the outer WHERE.
    open_assessment = _open_assessment(response)
    completed = Response.objects.filter(
        pk=response.pk,
        status__in=Response.EDITABLE_STATUSES,
        assessment_id__in=open_assessment.values("pk"),
    ).update(
        status=Response.Status.COMPLETED,
        completed_at=timezone.now(),
        completed_round=Subquery(open_assessment.values("round")[:1]),
    )
    if completed:
        # Only the winner of the update above copies, while it holds the response's row.
        # Completing again (completed in an earlier round) first marks, in the same
        # statement, each answer whose value differs from its submitted copy: "what
        # changed" counts those, not answers merely saved again.
        changed_round = (
            {}
            if response.completed_round is None
            else {
                "changed_round": Case(
                    When(_value_changed(), then=Subquery(open_assessment.values("round")[:1])),
                    default=F("changed_round"),
                )
            }
        )
        Answer.objects.filter(response_id=response.pk).update(
            **changed_round,
            submitted_level=F("level"),
            submitted_not_applicable=F("not_applicable"),
            submitted_dont_know=F("dont_know"),
            submitted_comment=F("comment"),
        )
    elif not Response.objects.filter(pk=response.pk, status=Response.Status.COMPLETED).exists():
        raise ServiceError(_("These answers were closed by the manager."))
    response.refresh_from_db()
    return bool(completed)


def response_revise(*, response: Response) -> bool:
    """Completed in an earlier round, to revising in this one: the person may change their
    answers again. Their answers as last completed still count until they complete again.

    Returns False when the response is already being revised (a second click). Refused
    while the assessment is closed, and for answers completed in this round: those are
    final until the assessment is reopened.
    """
    if response.status == Response.Status.REVISING and response.assessment.is_open:
        return False
    if response.assessment.status != Assessment.Status.OPEN:
        raise ServiceError(_("This assessment is closed, so these answers can no longer change."))
    open_assessment = _open_assessment(response)
    # Conditional on the row itself, as in response_complete: status, and a round
    # before the assessment's current one.
    revised = Response.objects.filter(
        pk=response.pk,
        status=Response.Status.COMPLETED,
        completed_round__lt=Subquery(open_assessment.values("round")[:1]),
        assessment_id__in=open_assessment.values("pk"),
    ).update(status=Response.Status.REVISING)
    response.refresh_from_db()
    if revised:
        return True
    if response.status == Response.Status.REVISING:
        return False
    if response.status == Response.Status.COMPLETED:
        raise ServiceError(
            _(
                "Your answers for this round are already submitted. They can change again "
                "only if the assessment is reopened."
            )
        )
    raise ServiceError(_("These answers are not submitted yet, so you can simply change them."))
