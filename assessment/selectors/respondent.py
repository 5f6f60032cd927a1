"""Reads for the questionnaire a respondent fills in.

``questionnaire_page`` gathers one section's page in a constant number of
queries, whatever the number of questions. Posted answers are read by
``assessment.forms.respondent``, which also names the fields each row shows.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q

from assessment.forms.respondent import field_names, level_value
from assessment.models import Answer, Invitation, Response
from frameworks.models import Question, ScaleLevel, Section


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
    """Answers that count as answered (a level, or "not applicable"), as a Q object."""
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
    """One section's page; None when the section is not part of this response's
    assessment (five queries: the progress two, questions, answers, scale)."""
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


def stored_answers(response: Response, question_ids: Iterable[int]) -> dict[int, Answer]:
    """The stored answers to these questions, by question id (one query): what a
    refused save is shown beside."""
    return {a.question_id: a for a in response.answers.filter(question_id__in=list(question_ids))}


def invitation_to_renew(invitation_pk: int | None) -> Invitation | None:
    """The invitation whose dead link the visitor just opened, with its assessment (one
    query; none without a pk)."""
    if not invitation_pk:
        return None
    return Invitation.objects.filter(pk=invitation_pk).select_related("assessment").first()
