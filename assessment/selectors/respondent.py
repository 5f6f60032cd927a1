"""Reads and input parsing for the questionnaire a respondent fills in.

``questionnaire_page`` gathers one section's page in a constant number of
queries, whatever the number of questions. ``parse_answer_inputs`` turns posted
form data into ``services.AnswerInput`` values for both save paths (autosave
and "Save and continue").
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.http import QueryDict
from django.utils.translation import gettext as _

from assessment.models import Answer, Response
from assessment.services import AnswerInput, ServiceError
from frameworks.models import SCALE_MAX, SCALE_MIN, Question, ScaleLevel, Section

NOT_APPLICABLE = "na"
LEVEL_VALUES = frozenset(str(n) for n in range(SCALE_MIN, SCALE_MAX + 1))


def field_names(question_id: int) -> dict[str, str]:
    prefix = f"q{question_id}"
    return {
        "level": f"{prefix}-level",
        "comment": f"{prefix}-comment",
        "revision": f"{prefix}-revision",
    }


@dataclass(frozen=True)
class SectionProgress:
    section: Section
    total: int
    answered: int

    @property
    def state(self) -> str:
        if self.answered == 0:
            return "todo"
        return "done" if self.answered >= self.total else "partial"


@dataclass
class QuestionRow:
    """A question with what the form shows for it: the stored answer or the user's input."""

    question: Question
    level: str = ""  # "1".."5", "na" or ""
    comment: str = ""
    revision: int = 0
    conflict: "Answer | None" = None
    error: str = ""

    @property
    def names(self) -> dict[str, str]:
        return field_names(self.question.pk)


@dataclass
class QuestionnairePage:
    response: Response
    progress: list[SectionProgress]
    section: Section
    levels: list[ScaleLevel]
    rows: list[QuestionRow]
    previous: Section | None = None
    next: Section | None = None
    conflicts: int = field(default=0)

    @property
    def total(self) -> int:
        return sum(p.total for p in self.progress)

    @property
    def answered(self) -> int:
        return sum(p.answered for p in self.progress)

    @property
    def answered_elsewhere(self) -> int:
        """Answered questions in other sections (this page's are counted live in the browser)."""
        here = sum(1 for row in self.rows if row.level)
        return self.answered - here

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 0


def answered_filter(prefix: str = "") -> Q:
    return Q(**{f"{prefix}level__isnull": False}) | Q(**{f"{prefix}not_applicable": True})


def section_progress(response: Response) -> list[SectionProgress]:
    """Every section of the response's frameworks, in order, with answered counts (2 queries)."""
    sections = list(
        Section.objects.filter(version__assessments=response.assessment_id)
        .select_related("version", "version__framework")
        .annotate(question_count=Count("questions", distinct=True))
        .order_by("version__framework__slug", "position")
    )
    answered = dict(
        Answer.objects.filter(response=response)
        .filter(answered_filter())
        .values_list("question__section")
        .annotate(n=Count("pk"))
        .values_list("question__section", "n")
    )
    return [
        SectionProgress(section=s, total=s.question_count, answered=answered.get(s.pk, 0))
        for s in sections
    ]


def questionnaire_page(response: Response, section_pk: int | None) -> QuestionnairePage | None:
    """One section's page; None when the section is not part of this response's assessment."""
    progress = section_progress(response)
    index = next(
        (i for i, p in enumerate(progress) if section_pk is None or p.section.pk == section_pk),
        None,
    )
    if index is None:
        return None
    section = progress[index].section
    questions = list(Question.objects.filter(section=section).order_by("position"))
    answers = {
        a.question_id: a
        for a in Answer.objects.filter(response=response, question__section=section)
    }
    rows = [_row_from_answer(q, answers.get(q.pk)) for q in questions]
    return QuestionnairePage(
        response=response,
        progress=progress,
        section=section,
        levels=list(ScaleLevel.objects.filter(version_id=section.version_id).order_by("value")),
        rows=rows,
        previous=progress[index - 1].section if index > 0 else None,
        next=progress[index + 1].section if index + 1 < len(progress) else None,
    )


def _row_from_answer(question: Question, answer: Answer | None) -> QuestionRow:
    if answer is None:
        return QuestionRow(question=question)
    return QuestionRow(
        question=question,
        level=level_value(answer.level, answer.not_applicable),
        comment=answer.comment,
        revision=answer.revision,
    )


def level_value(level: int | None, not_applicable: bool) -> str:
    if not_applicable:
        return NOT_APPLICABLE
    return str(level) if level is not None else ""


def parse_answer_input(data: QueryDict | Mapping[str, str], question_id: int) -> AnswerInput:
    """Read one question's fields; ServiceError with a user message when they are malformed."""
    names = field_names(question_id)
    raw_level = (data.get(names["level"]) or "").strip()
    comment = (data.get(names["comment"]) or "").replace("\r\n", "\n").strip()
    raw_revision = (data.get(names["revision"]) or "0").strip()
    if not (raw_revision.isascii() and raw_revision.isdigit()) or len(raw_revision) > 9:
        raise ServiceError(_("The form was damaged; reload the page."))
    revision = int(raw_revision)
    if raw_level == NOT_APPLICABLE:
        level, not_applicable = None, True
    elif raw_level == "":
        level, not_applicable = None, False
    elif raw_level in LEVEL_VALUES:
        level, not_applicable = int(raw_level), False
    else:
        raise ServiceError(_("Choose a level from 1 to 5, or “not applicable”."))
    return AnswerInput(
        question_id=question_id,
        level=level,
        not_applicable=not_applicable,
        comment=comment,
        base_revision=revision,
    )


def rows_from_input(questions: Iterable[QuestionRow], data: QueryDict) -> list[QuestionRow]:
    """The page as the user typed it, for showing their input back after a refused save."""
    rows = []
    for row in questions:
        names = row.names
        rows.append(
            QuestionRow(
                question=row.question,
                level=(data.get(names["level"]) or "").strip(),
                comment=data.get(names["comment"]) or "",
                revision=row.revision,
            )
        )
    return rows


def unanswered_questions(response: Response) -> list[Question]:
    """Questions of the response's frameworks without a level or "not applicable" (1 query)."""
    return list(
        Question.objects.filter(version__assessments=response.assessment_id)
        .exclude(
            pk__in=Answer.objects.filter(response=response)
            .filter(answered_filter())
            .values("question_id")
        )
        .select_related("section", "version__framework")
        .order_by("version__framework__slug", "section__position", "position")
    )


def question_for_response(response: Response, question_pk: int) -> Question | None:
    """The question if it belongs to one of the response's frameworks (1 query)."""
    return (
        Question.objects.filter(pk=question_pk, version__assessments=response.assessment_id)
        .only("pk", "section_id", "version_id", "code")
        .first()
    )
