"""Reads for the questionnaire a respondent fills in.

``questionnaire_page`` gathers one section's page in a constant number of
queries, whatever the number of questions. Posted answers are read by
``assessment.forms.respondent``, which also names the fields each row shows.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from django.conf import settings
from django.db.models import Count, Q

from assessment.forms.respondent import field_names, level_value
from assessment.models import Answer, Assessment, Invitation, Response
from assessment.selectors.common import current_reopening
from frameworks.models import Question, ScaleLevel, Section

# A time estimate for the first page: reading a statement and its five level
# descriptions, choosing one, now and then a comment.
SECONDS_PER_QUESTION = 30


@dataclass(frozen=True)
class SectionProgress:
    section: Section
    total: int
    answered: int
    # False for a section the response may not change in this round (reopened by section).
    open_for_changes: bool = True

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


@dataclass(frozen=True)
class Introduction:
    """What a member's first page says about the assessment they are asked to answer."""

    organisation: str
    team: str
    due_date: date | None
    questions: int
    minutes: int
    minimum: int


@dataclass(frozen=True)
class RoundNote:
    """The current round's reopening, as the questionnaire shows it: the note, the sections
    open for changes, and which of them this response may change (None: every section)."""

    note: str
    sections: list[Section]
    changeable: frozenset[int] | None

    def allows(self, section_id: int) -> bool:
        return self.changeable is None or section_id in self.changeable


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
    round_note: RoundNote | None = None
    introduction: Introduction | None = None

    @property
    def section_open(self) -> bool:
        """Whether this section accepts changes in this round (reopened by section)."""
        return self.round_note is None or self.round_note.allows(self.section.pk)

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


def minutes_for(questions: int) -> int:
    """About how long a questionnaire of this many questions takes, in whole minutes."""
    return max(1, math.ceil(questions * SECONDS_PER_QUESTION / 60))


def round_note(response: Response) -> RoundNote | None:
    """The reopening of the response's assessment in its current round, with the sections
    it opened (in questionnaire order), and which of them this response may change; None
    in the first round (no query) or without a reopening. Four queries after the first
    round: the reopening and its sections, and the rule ``Response.changeable_section_ids``."""
    reopening = current_reopening(response.assessment)
    if reopening is None:
        return None
    return RoundNote(
        note=reopening.note,
        sections=list(reopening.sections.all()),
        changeable=response.changeable_section_ids(),
    )


def with_round_note(
    progress: list[SectionProgress], note: RoundNote | None
) -> list[SectionProgress]:
    """The progress list with the sections this round does not open marked as such."""
    if note is None or note.changeable is None:
        return progress
    return [replace(p, open_for_changes=note.allows(p.section.pk)) for p in progress]


def introduction(response: Response, questions: int) -> Introduction:
    """The first page's facts: organisation, team, due date, length, the anonymity minimum
    (one query, for the team's name)."""
    assessment = Assessment.objects.select_related("team", "organisation").get(
        pk=response.assessment_id
    )
    return Introduction(
        organisation=assessment.organisation.name,
        team=assessment.team.name,
        due_date=assessment.due_date,
        questions=questions,
        minutes=minutes_for(questions),
        minimum=settings.ANONYMITY_THRESHOLD,
    )


def questionnaire_page(response: Response, section_pk: int | None) -> QuestionnairePage | None:
    """One section's page; None when the section is not part of this response's
    assessment. Five queries (the progress two, questions, answers, scale), one more
    on a member's first page (nothing answered yet: the introduction), and the four of
    ``round_note`` after the first round."""
    note = round_note(response)
    progress = with_round_note(section_progress(response), note)
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
    page = QuestionnairePage(
        response=response,
        progress=progress,
        section=section,
        levels=list(ScaleLevel.objects.filter(version_id=section.version_id).order_by("value")),
        rows=rows,
        previous=progress[index - 1].section if index > 0 else None,
        next=progress[index + 1].section if index + 1 < len(progress) else None,
        round_note=note,
    )
    if page.answered == 0 and not response.is_manager_view and response.invitation_id:
        page.introduction = introduction(response, page.total)
    return page


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


# --- invitation links ------------------------------------------------------------------


@dataclass(frozen=True)
class LinkState:
    """What an invitation link (known by its token's digest) is, read without using it.

    ``problem`` is None for a live link; otherwise one of "invalid", "revoked", "closed",
    "used", "expired", with ``message`` saying so. ``response_id`` is the invitation's
    response, if the link was used before (by anyone)."""

    invitation: Invitation | None
    problem: str | None
    message: str
    response_id: int | None = None
    questions: int = 0

    @property
    def renewable(self) -> bool:
        """Whether a fresh link may be e-mailed: a used or expired link of an open assessment."""
        return self.problem in {"used", "expired"}

    @property
    def status(self) -> int:
        """The HTTP status of a page about this link: 404 unknown, 410 dead, 200 live."""
        if self.problem == "invalid":
            return 404
        return 410 if self.problem else 200

    @property
    def introduction(self) -> Introduction | None:
        if self.invitation is None:
            return None
        assessment = self.invitation.assessment
        return Introduction(
            organisation=assessment.organisation.name,
            team=assessment.team.name,
            due_date=assessment.due_date,
            questions=self.questions,
            minutes=minutes_for(self.questions),
            minimum=settings.ANONYMITY_THRESHOLD,
        )


def link_state(token_hash: str) -> LinkState:
    """Inspect a link by its digest (never uses it: only ``services.invitation_redeem_digest``
    does, on a POST). The reasons and their order are ``Invitation.link_problem``'s, as for
    the service. One query (the invitation with its assessment, organisation, team and
    response), and one more for a live link (the number of questions, for the start page)."""
    invitation = (
        Invitation.objects.filter(token_hash=token_hash)
        .select_related("assessment__organisation", "assessment__team", "response")
        .first()
    )
    if invitation is None:
        return LinkState(None, "invalid", str(Invitation.INVALID_LINK_MESSAGE))
    response = getattr(invitation, "response", None)
    response_id = response.pk if response is not None else None
    problem, message = invitation.link_problem() or (None, "")
    questions = (
        Question.objects.filter(version__assessments=invitation.assessment_id).count()
        if problem is None
        else 0
    )
    return LinkState(invitation, problem, message, response_id=response_id, questions=questions)


def remembered_responses(response_ids: Iterable[int]) -> list[Response]:
    """The invitees' responses a browser session holds (see ``access.remember_response``),
    with their assessments, newest first (one query; none without ids)."""
    ids = list(response_ids)
    if not ids:
        return []
    return list(
        Response.objects.filter(pk__in=ids, invitation__isnull=False)
        .select_related("assessment__organisation")
        .order_by("-pk")
    )
