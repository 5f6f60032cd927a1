"""Reads for the questionnaire a respondent fills in.

``questionnaire_page`` gathers one section's page in a constant number of
queries, whatever the number of questions. Posted answers are read by
``assessment.forms.respondent``, which also names the fields each row shows.

Every set of questions a person sees goes through ``Question.objects.asked_of`` their
audience (``Response.audience``; an invitation's before it is used): in a format-2
version a team member, a manager and a leadership invitee each answer only their own
audience's questions, and a section with none of theirs is left out of their
questionnaire.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property

from django.conf import settings
from django.db.models import Count, Q

from assessment.forms.respondent import field_names, level_value
from assessment.models import Answer, Assessment, Invitation, Response
from assessment.selectors.common import current_reopening
from frameworks import selectors as framework_selectors
from frameworks.models import FrameworkVersion, Question, ScaleLevel, Section
from frameworks.selectors import AskedContent

# A time estimate for the first page: reading a statement and its five level
# descriptions, choosing one, now and then a comment.
SECONDS_PER_QUESTION = 30


@dataclass(frozen=True)
class SectionProgress:
    section: Section
    total: int  # the questions of this section the person is asked
    answered: int  # of which answered: a level, "not applicable" or "don't know"
    # False for a section the response may not change in this round (reopened by section).
    open_for_changes: bool = True
    not_applicable: int = 0  # of the answered: "not applicable" (format 1: "… / don't know")
    dont_know: int = 0  # of the answered: "don't know" (format 2)

    @property
    def state(self) -> str:
        if self.answered == 0:
            return "todo"
        return "done" if self.answered >= self.total else "partial"


@dataclass(frozen=True)
class Choice:
    """One level a question offers: its value, the scale's generic label, and what it
    means for this question (format 2: the question's own anchor; format 1: the scale's
    descriptor)."""

    level: int
    label: str
    description: str

    @property
    def value(self) -> str:
        return str(self.level)


@dataclass
class QuestionRow:
    """A question with what the form shows for it: the stored answer or the user's input."""

    question: Question
    level: str = ""  # a level ("0".."5"), "na", "dk" or ""
    comment: str = ""
    revision: int = 0
    conflict: "Answer | None" = None
    error: str = ""
    levels: tuple[ScaleLevel, ...] = ()  # the version's scale

    @cached_property
    def choices(self) -> list[Choice]:
        """The levels, in display order (worked out only when the row is rendered in full:
        a question's shared block needs them once per process)."""
        return choices_for(self.question, list(self.levels))

    @property
    def names(self) -> dict[str, str]:
        return field_names(self.question.pk)


def choices_for(question: Question, levels: list[ScaleLevel]) -> list[Choice]:
    """The levels a question offers, in the order the questionnaire lists them: format 2
    in ``Question.options`` order (a reversed question from 5 down to 0) with the
    question's anchors; format 1 the scale's ladder, 1 to 5."""
    ladder = {level.value: level for level in levels}
    options = question.options() if question.version.has_audiences else []
    if not options:
        return [Choice(level.value, level.label, level.descriptor) for level in levels]
    return [
        Choice(value, ladder[value].label if value in ladder else "", anchor)
        for value, anchor in options
    ]


@dataclass(frozen=True)
class Introduction:
    """What an invitee's first page says about the assessment they are asked to answer;
    ``audience`` is whom they answer as (team or leadership)."""

    organisation: str
    team: str
    due_date: date | None
    questions: int
    minutes: int
    minimum: int
    audience: str = Question.Audience.TEAM


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
    def has_audiences(self) -> bool:
        """A format-2 page: anchors per question, "not applicable to us" and "don't know"
        apart, the generic ladder as a legend, and questions for one audience."""
        return self.section.version.has_audiences

    @property
    def audience(self) -> str:
        """Whom the person answers as: team, manager or leadership."""
        return self.response.audience

    @property
    def anonymity_minimum(self) -> int:
        """How many of an invited audience must complete before their answers count."""
        return settings.ANONYMITY_THRESHOLD

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
    """Answers that count as answered (a level, "not applicable" or "don't know"), as a
    Q object."""
    return (
        Q(**{f"{prefix}level__isnull": False})
        | Q(**{f"{prefix}not_applicable": True})
        | Q(**{f"{prefix}dont_know": True})
    )


def asked_questions(response: Response):
    """The questions of the response's frameworks this person is asked, as a queryset
    (``Question.objects.asked_of`` their audience)."""
    return Question.objects.filter(version__assessments=response.assessment_id).asked_of(
        response.audience
    )


def asked_content(response: Response) -> list[AskedContent]:
    """What each framework of the response's assessment asks this person, in questionnaire
    order (by framework slug): one query for the versions; their content is read once per
    process (``frameworks.selectors.asked_content``: versions are immutable)."""
    versions = (
        FrameworkVersion.objects.filter(assessments=response.assessment_id)
        .select_related("framework")
        .order_by("framework__slug")
    )
    return [framework_selectors.asked_content(v, response.audience) for v in versions]


def section_progress(
    response: Response, content: list[AskedContent] | None = None
) -> list[SectionProgress]:
    """Every section of the response's frameworks with a question the person is asked,
    in order, with the number asked and answered (2 queries, or 1 given ``content``). A
    section without any of their questions (format 2: all of them for another audience)
    is left out."""
    if content is None:
        content = asked_content(response)
    asked = [q.pk for c in content for qs in c.questions.values() for q in qs]
    counts = {
        row["section"]: row
        for row in Answer.objects.filter(response=response, question__in=asked)
        .order_by()
        .values("section")
        .annotate(
            answered=Count("pk", filter=answered_filter()),
            not_applicable=Count("pk", filter=Q(not_applicable=True)),
            dont_know=Count("pk", filter=Q(dont_know=True)),
        )
    }
    return [
        SectionProgress(
            section=s,
            total=len(c.questions[s.pk]),
            answered=counts.get(s.pk, {}).get("answered", 0),
            not_applicable=counts.get(s.pk, {}).get("not_applicable", 0),
            dont_know=counts.get(s.pk, {}).get("dont_know", 0),
        )
        for c in content
        for s in c.sections
    ]


def contents_in_progress() -> list[AskedContent]:
    """What the questionnaires of the open assessments ask, for each framework version and
    audience (one query for the versions, then three per version and audience the first
    time in a process): what a web worker reads before its first request
    (``assessment.warmup``)."""
    versions = (
        FrameworkVersion.objects.filter(assessments__status=Assessment.Status.OPEN)
        .select_related("framework")  # as asked_content(response) reads them
        .distinct()
    )
    return [
        framework_selectors.asked_content(version, audience)
        for version in versions
        for audience in Question.Audience.values
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
        audience=response.audience,
    )


def questionnaire_page(response: Response, section_pk: int | None) -> QuestionnairePage | None:
    """One section's page: the section's questions this person is asked; None when the
    section is not part of this response's questionnaire (not of its assessment, or
    without a question for its audience). Three queries (the versions, the answer counts
    and this section's answers; a version's content is read once per process), one more
    on an invitee's first page (nothing answered yet: the introduction), and the four of
    ``round_note`` after the first round."""
    note = round_note(response)
    content = asked_content(response)
    progress = with_round_note(section_progress(response, content), note)
    index = next(
        (i for i, p in enumerate(progress) if section_pk is None or p.section.pk == section_pk),
        None,
    )
    if index is None:
        return None
    section = progress[index].section
    version = next(c for c in content if c.version.pk == section.version_id)
    questions = version.questions[section.pk]
    answers = {
        a.question_id: a
        for a in Answer.objects.filter(response=response, question__section=section)
    }
    levels = version.levels
    rows = [_row_from_answer(q, answers.get(q.pk), levels) for q in questions]
    page = QuestionnairePage(
        response=response,
        progress=progress,
        section=section,
        levels=levels,
        rows=rows,
        previous=progress[index - 1].section if index > 0 else None,
        next=progress[index + 1].section if index + 1 < len(progress) else None,
        round_note=note,
    )
    if page.answered == 0 and not response.is_manager_view and response.invitation_id:
        page.introduction = introduction(response, page.total)
    return page


def _row_from_answer(
    question: Question, answer: Answer | None, levels: tuple[ScaleLevel, ...]
) -> QuestionRow:
    if answer is None:
        return QuestionRow(question=question, levels=levels)
    return QuestionRow(
        question=question,
        level=level_value(answer.level, answer.not_applicable, answer.dont_know),
        comment=answer.comment,
        revision=answer.revision,
        levels=levels,
    )


@dataclass(frozen=True)
class SetAside:
    """The questions a person answered without a level, for the review page: "don't know"
    (format 2) and "not applicable" (format 2: "to us"; format 1: the merged answer)."""

    dont_know: list[Question]
    not_applicable: list[Question]


@dataclass(frozen=True)
class ReviewLists:
    """What the review page lists: each section's progress, the questions not yet answered
    (no level, "not applicable" or "don't know") and those set aside, each in
    questionnaire order, every question with its section attached."""

    progress: list[SectionProgress]
    unanswered: list[Question]
    set_aside: SetAside


def review_lists(response: Response) -> ReviewLists:
    """The review page's lists from the person's answers and the questions they are asked
    (two queries: the versions, whose content is read once per process, and the answers
    that count as answered by ``answered_filter``, the rule ``section_progress`` counts by)."""
    content = asked_content(response)
    answered = {
        question_id: (not_applicable, dont_know)
        for question_id, not_applicable, dont_know in Answer.objects.filter(response=response)
        .filter(answered_filter())
        .values_list("question_id", "not_applicable", "dont_know")
    }
    progress, unanswered, dont_know, not_applicable = [], [], [], []
    for version in content:
        for section in version.sections:
            questions = version.questions[section.pk]
            before = (len(unanswered), len(dont_know), len(not_applicable))
            for question in questions:
                given = answered.get(question.pk)
                if given is None:
                    unanswered.append(question)
                elif given[1]:
                    dont_know.append(question)
                elif given[0]:
                    not_applicable.append(question)
            progress.append(
                SectionProgress(
                    section=section,
                    total=len(questions),
                    answered=len(questions) - (len(unanswered) - before[0]),
                    dont_know=len(dont_know) - before[1],
                    not_applicable=len(not_applicable) - before[2],
                )
            )
    return ReviewLists(progress, unanswered, SetAside(dont_know, not_applicable))


def question_for_response(response: Response, question_pk: int) -> Question | None:
    """The question if the person is asked it: one of the response's frameworks, and
    of their audience (``Question.objects.asked_of``); with its version (1 query)."""
    return (
        asked_questions(response)
        .filter(pk=question_pk)
        .select_related("version")
        .only("pk", "section_id", "version_id", "code", "version__format")
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
            audience=self.invitation.audience,
        )


def link_state(token_hash: str) -> LinkState:
    """Inspect a link by its digest (never uses it: only ``services.invitation_redeem_digest``
    does, on a POST). The reasons and their order are ``Invitation.link_problem``'s, as for
    the service. One query (the invitation with its assessment, organisation, team and
    response), and one more for a live link (the number of questions the invitee is asked,
    by the invitation's audience, for the start page)."""
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
        Question.objects.filter(version__assessments=invitation.assessment_id)
        .asked_of(invitation.audience)
        .count()
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


def asked_questions_by_pk(response: Response, question_pks: Iterable[int]) -> dict[int, Question]:
    """Of these questions, those the person is asked (``asked_content``), by pk, each with
    its version and section attached (1 query, for the versions; their content is read once
    per process): what an autosave's batch of answers is read and checked against."""
    asked = {q.pk: q for c in asked_content(response) for qs in c.questions.values() for q in qs}
    return {pk: asked[pk] for pk in question_pks if pk in asked}
