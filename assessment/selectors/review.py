"""Reads for the assessor: the queue, the review workspace, and the history of an assessment."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from assessment import access
from assessment.models import (
    Answer,
    Assessment,
    AssessorProfile,
    Assignment,
    AuditEvent,
    Decision,
    Invitation,
    Judgement,
    Membership,
    Moderation,
    Response,
)
from assessment.models.review import AuditEntry
from assessment.scoring import formula2
from assessment.selectors import manager, results
from assessment.selectors.actions import assessment_actions
from assessment.selectors.concepts import concept_agreement
from assessment.selectors.evidence import evidence_by_section
from assessment.selectors.rules import with_rule_checks
from frameworks.models import (
    SCALE_MAX,
    SCALE_MIN,
    FrameworkVersion,
    Question,
    ScaleLevel,
    Section,
)
from frameworks.translation import localise

# --- the queue -------------------------------------------------------------------------

# Workflow order, so "status" sorts what needs the assessor first.
_STATUS_ORDER = Case(
    When(status=Assessment.Status.IN_REVIEW, then=Value(0)),
    When(status=Assessment.Status.SUBMITTED, then=Value(1)),
    When(status=Assessment.Status.RETURNED, then=Value(2)),
    When(status=Assessment.Status.OPEN, then=Value(3)),
    When(status=Assessment.Status.APPROVED, then=Value(4)),
    default=Value(5),
    output_field=IntegerField(),
)

QUEUE_SORTS: dict[str, Any] = {
    "team": F("team__name"),
    "organisation": F("organisation__name"),
    "submitted": F("submitted_at"),
    "due": F("due_date"),
    "status": _STATUS_ORDER,
}
QUEUE_COLUMNS = [
    ("team", gettext_lazy("Team")),
    ("organisation", gettext_lazy("Organisation")),
    (None, gettext_lazy("Frameworks")),
    ("submitted", gettext_lazy("Submitted")),
    ("due", gettext_lazy("Due")),
    ("status", gettext_lazy("Status")),
]
DEFAULT_SORT = "status"


@dataclass(frozen=True)
class SortColumn:
    """A column heading: its label, and where a click sorts (and how it sorts now)."""

    label: str
    key: str | None
    link: str  # the ?sort= value a click asks for
    direction: str  # "ascending", "descending" or "" when not the sort column


@dataclass(frozen=True)
class AssessorQueue:
    assessments: list[Assessment]
    columns: list[SortColumn]
    sort: str
    is_assessor: bool


def _queue_order(sort: str) -> list:
    key = sort.removeprefix("-")
    expression = QUEUE_SORTS[key]
    primary = (
        expression.desc(nulls_last=True)
        if sort.startswith("-")
        else expression.asc(nulls_last=True)
    )
    # Ties (and empty dates) fall back to the most urgent first, then a stable order.
    return [primary, F("due_date").asc(nulls_last=True), "submitted_at", "pk"]


def _queue_columns(sort: str) -> list[SortColumn]:
    columns = []
    for key, label in QUEUE_COLUMNS:
        if key is None:
            columns.append(SortColumn(str(label), None, "", ""))
        elif sort == key:
            columns.append(SortColumn(str(label), key, f"-{key}", "ascending"))
        elif sort == f"-{key}":
            columns.append(SortColumn(str(label), key, key, "descending"))
        else:
            columns.append(SortColumn(str(label), key, key, ""))
    return columns


def assessor_queue(user: AbstractBaseUser, *, sort: str = DEFAULT_SORT) -> AssessorQueue:
    """The assessments assigned to ``user``, in ``sort`` order (a key of QUEUE_SORTS, or
    "-" and one for descending), with the column headings (two queries: the assessments
    and their frameworks, or, when none is assigned, whether ``user`` is an assessor)."""
    assessments = list(
        access.assessments_for_assessor(user)
        .select_related("team", "organisation")
        .prefetch_related(
            Prefetch(
                "framework_versions",
                queryset=FrameworkVersion.objects.order_by("framework__slug"),
            )
        )
        .order_by(*_queue_order(sort))
    )
    return AssessorQueue(
        assessments=assessments,
        columns=_queue_columns(sort),
        sort=sort,
        is_assessor=bool(assessments) or access.is_assessor(user),
    )


# --- the review workspace --------------------------------------------------------------


@dataclass(frozen=True)
class ModerationRow:
    """One section as the moderation forms show it."""

    section_id: int
    name: str
    team_score: float | None
    moderated: float | None
    rationale: str
    # The round the current moderation was recorded in; earlier than the assessment's
    # round means it was made on other answers (see ``from_earlier_round``).
    moderated_round: int | None = None
    stale: bool = False


@dataclass(frozen=True)
class ModerationGroup:
    framework: str
    rows: list[ModerationRow]


def assessment_levels(versions: Iterable[FrameworkVersion]) -> range:
    """The levels an assessor may award an assessment on these versions: the levels all
    of its frameworks have (0-5 when every one is format 2; 1-5 as soon as one is format
    1, whose scale has no level 0). The one home of this rule: the workspace, the
    approval form and ``services.decision_approve`` read it."""
    ranges = [version.level_range for version in versions]
    if not ranges:
        return range(SCALE_MIN, SCALE_MAX + 1)
    return range(max(r.start for r in ranges), min(r.stop for r in ranges))


def awarded_levels(assessment: Assessment) -> range:
    """``assessment_levels`` of the assessment's pinned versions (one query)."""
    return assessment_levels(assessment.framework_versions.only("format"))


def level_choices(versions: list[FrameworkVersion]) -> list[tuple[int, str]]:
    """The levels that may be awarded (``assessment_levels``), with the scale's labels
    (each framework's, where they differ; one query)."""
    labels: dict[int, list[str]] = {value: [] for value in assessment_levels(versions)}
    for value, english, translations in (
        ScaleLevel.objects.filter(version__in=versions)
        .order_by("version__framework__slug", "value")
        .values_list("value", "label", "translations")
    ):
        label = localise(english, translations, "label")
        if value in labels and label not in labels[value]:
            labels[value].append(label)
    return [(value, " / ".join(names)) for value, names in labels.items()]


# --- the awarded-level rule (format 2) -------------------------------------------------


@dataclass(frozen=True)
class SectionJudgement:
    """One section as the awarded-level rule reads it: the level of its score on its
    version's scale (the moderated score where the assessor set one, else the team's),
    and the level its criteria's judgements support (``formula2.evidenced_level``)."""

    framework: str
    name: str
    level: int | None  # the evidenced level; None: neither a moderated nor a team score
    moderated: bool
    section_id: int | None = None
    scored_level: int | None = None  # the score's band, before the criteria
    criteria: int = 0  # how many criteria (questions) the section has
    judged: int = 0  # how many of them the assessor has judged in this round
    verdicts: tuple[str, ...] = ()  # the judged criteria's verdicts

    @property
    def capped(self) -> bool:
        """The criteria's judgements lowered this section's level."""
        return (
            self.level is not None
            and self.scored_level is not None
            and self.level < self.scored_level
        )

    @property
    def unjudged(self) -> int:
        return self.criteria - self.judged


@dataclass(frozen=True)
class AwardRule:
    """The level ``scoring.formula2.awarded_level`` gives from the sections' evidenced
    levels, and why. ``level`` is None when a section has no level (or no section has
    figures): the rule gives none (never one computed without that section), and the
    award is then a free choice with an optional reason until the assessor moderates it.
    A criterion not judged yet lowers nothing; approval waits until every one is judged
    (``unjudged``)."""

    level: int | None
    sections: list[SectionJudgement]

    @property
    def missing(self) -> list[SectionJudgement]:
        return [section for section in self.sections if section.level is None]

    @property
    def below(self) -> list[SectionJudgement]:
        """The section the rule let stay one level below the award, if any."""
        if self.level is None:
            return []
        return [s for s in self.sections if s.level is not None and s.level < self.level]

    @property
    def capped(self) -> list[SectionJudgement]:
        """The sections whose criteria's judgements lowered their level."""
        return [section for section in self.sections if section.capped]

    @property
    def unjudged(self) -> int:
        """How many criteria of the assessment are not judged yet."""
        return sum(section.unjudged for section in self.sections)

    @property
    def criteria(self) -> int:
        return sum(section.criteria for section in self.sections)

    @property
    def explanation(self) -> str:
        """In words: "The rule gives level N: ..." with the reason."""
        if self.level is None:
            if not self.sections:
                return _(
                    "The rule gives no level: the team's results are not shown yet. Say "
                    "why you award the level you choose."
                )
            missing = self.missing
            return ngettext(
                "The rule gives no level: %(sections)s has no score. Moderate it so that "
                "the rule applies, or say why you award the level you choose.",
                "The rule gives no level: %(sections)s have no score. Moderate them so "
                "that the rule applies, or say why you award the level you choose.",
                len(missing),
            ) % {"sections": ", ".join(section.name for section in missing)}
        below = self.below
        if below:
            return _(
                "The rule gives level %(level)d: every section is at level %(level)d or "
                "above but %(section)s, at level %(below)d (one section may be one level "
                "below)."
            ) % {"level": self.level, "section": below[0].name, "below": below[0].level}
        return _(
            "The rule gives level %(level)d: every section is at level %(level)d or above."
        ) % {"level": self.level}


def award_rule_applies(versions: Iterable[FrameworkVersion]) -> bool:
    """Whether an award on these framework versions follows the awarded-level rule: when
    every one is format 2 (format 1 keeps the free choice). No query."""
    versions = list(versions)
    return bool(versions) and all(version.has_audiences for version in versions)


@dataclass(frozen=True)
class CriteriaState:
    """The assessment's criteria (one per format-2 question) by section, and the verdict
    that counts for each judged one (the latest judgement of its question)."""

    questions: dict[int, list[int]]  # section id -> its questions' ids
    verdicts: dict[int, str]  # question id -> latest verdict
    notes: dict[int, str]  # question id -> the latest judgement's note
    # The questions whose latest judgement was made in the assessment's current round:
    # after a return, each criterion is judged again (or confirmed) before approval.
    this_round: frozenset[int] = frozenset()

    def section_verdicts(self, section_id: int) -> list[str]:
        return [
            self.verdicts[question]
            for question in self.questions.get(section_id, [])
            if question in self.verdicts
        ]

    def judged_this_round(self, section_id: int) -> int:
        return sum(
            1 for question in self.questions.get(section_id, []) if question in self.this_round
        )


NO_CRITERIA = CriteriaState(questions={}, verdicts={}, notes={})


def criteria_state(assessment: Assessment, versions: Iterable[FrameworkVersion]) -> CriteriaState:
    """``CriteriaState`` for ``assessment`` on ``versions``: two queries (the format-2
    questions, the latest judgements); none when no version is format 2."""
    guided = [version for version in versions if version.has_audiences]
    if not guided:
        return NO_CRITERIA
    questions: dict[int, list[int]] = {}
    for question_id, section_id in (
        Question.objects.filter(version__in=guided)
        .order_by("section__position", "position")
        .values_list("pk", "section_id")
    ):
        questions.setdefault(section_id, []).append(question_id)
    verdicts, notes, this_round = {}, {}, set()
    for question_id, verdict, note, judged_round in Judgement.objects.latest_per_question(
        assessment
    ).values_list("question_id", "verdict", "note", "round"):
        verdicts[question_id], notes[question_id] = verdict, note
        if judged_round >= assessment.round:
            this_round.add(question_id)
    return CriteriaState(
        questions=questions, verdicts=verdicts, notes=notes, this_round=frozenset(this_round)
    )


def award_rule(
    versions: Iterable[FrameworkVersion],
    outcome: results.AssessmentResults,
    criteria: CriteriaState = NO_CRITERIA,
) -> AwardRule | None:
    """The awarded-level rule for an assessment on ``versions`` with results ``outcome``
    and the assessor's judgements ``criteria`` (no query): None when a framework is
    format 1 (the award is then a free choice, as it always was). Each section's level is
    its moderated score's band where moderated (``Moderation.objects.latest_per_section``,
    as ``outcome``'s rows carry it), else the team's, on its version's scale, then lowered
    as its judged criteria allow (``formula2.evidenced_level``). The one home of this
    rule: the workspace, ``services.decision_approve`` and the report read it."""
    if not award_rule_applies(versions):
        return None
    sections = []
    for panel in outcome.panels:
        for row in panel.rows:
            score = row.moderated if row.moderated is not None else row.team.score
            scored = None if score is None else formula2.band(score, panel.team.scale)
            verdicts = tuple(criteria.section_verdicts(row.section_id))
            sections.append(
                SectionJudgement(
                    framework=panel.short_name,
                    name=row.name,
                    level=(
                        None
                        if scored is None
                        else formula2.evidenced_level(scored, verdicts, panel.team.scale)
                    ),
                    moderated=row.moderated is not None,
                    section_id=row.section_id,
                    scored_level=scored,
                    criteria=len(criteria.questions.get(row.section_id, [])),
                    judged=criteria.judged_this_round(row.section_id),
                    verdicts=verdicts,
                )
            )
    if not sections or any(section.level is None for section in sections):
        return AwardRule(level=None, sections=sections)
    level = formula2.awarded_level(
        {str(i): section.level for i, section in enumerate(sections)},
        outcome.panels[0].team.scale,
    )
    return AwardRule(level=level, sections=sections)


def assessment_award_rule(assessment: Assessment) -> AwardRule | None:
    """``award_rule`` for ``assessment`` as it stands, with its judgements (twelve queries
    at most: its versions, its results and its criteria)."""
    versions = list(assessment.framework_versions.all())
    return award_rule(
        versions, results.assessment_results(assessment), criteria_state(assessment, versions)
    )


def _latest_moderations(assessment: Assessment) -> dict[int, tuple[float, str, int]]:
    """Each moderated section's current score, rationale and round (one query)."""
    return {
        section_id: (float(score), rationale, moderation_round)
        for section_id, score, rationale, moderation_round in Moderation.objects.latest_per_section(
            assessment
        ).values_list("section_id", "score", "rationale", "round")
    }


def _moderation_groups(
    assessment: Assessment,
    versions: list[FrameworkVersion],
    sections: list[Section],
    panels: list[results.FrameworkPanel],
    latest: dict[int, tuple[float, str, int]],
) -> list[ModerationGroup]:
    """Every section of every framework, with its team score and current moderation."""
    team_scores = {row.section_id: row.team.score for panel in panels for row in panel.rows}
    return [
        ModerationGroup(
            framework=version.short_name,
            rows=[
                ModerationRow(
                    section_id=section.pk,
                    name=section.name,
                    team_score=team_scores.get(section.pk),
                    moderated=latest[section.pk][0] if section.pk in latest else None,
                    rationale=latest[section.pk][1] if section.pk in latest else "",
                    moderated_round=latest[section.pk][2] if section.pk in latest else None,
                    stale=section.pk in latest
                    and from_earlier_round(latest[section.pk][2], assessment),
                )
                for section in sections
                if section.version_id == version.pk
            ],
        )
        for version in versions
    ]


@dataclass(frozen=True)
class Invitee:
    """One invited address as the assessor sees it, and whether its answers count."""

    email: str
    name: str
    counted: bool  # completed answers that count in the figures
    revoked: bool
    audience: str = Invitation.Audience.TEAM
    audience_label: str = ""


def invitees(assessment: Assessment) -> list[Invitee]:
    """Everyone invited, by list (team, then leadership) and address, and whose answers
    count: a team member's once completed, a leadership invitee's once completed and as
    many leadership invitees as the threshold have (``results.audience_counts``). Two
    queries. The assessor checks that the addresses look like real people: made-up ones
    answered by the manager could reach the anonymity threshold (docs/privacy.md)."""
    leaders = Response.objects.invitees(Invitation.Audience.LEADERSHIP).completed()
    counted = Response.objects.members().completed()
    if results.audience_counts(
        Invitation.Audience.LEADERSHIP, leaders.filter(assessment=assessment).count()
    ):
        counted = counted | leaders
    return [
        Invitee(
            email=i.email,
            name=i.name,
            counted=i.counted,
            revoked=i.is_revoked,
            audience=i.audience,
            audience_label=i.get_audience_display(),
        )
        for i in Invitation.objects.filter(assessment=assessment)
        .annotate(counted=Exists(counted.filter(invitation=OuterRef("pk"))))
        .order_by("-audience", "email")  # "team" before "leadership"
    ]


@dataclass(frozen=True)
class QuestionGuidance:
    """One format-2 question as the assessor reads it: the question (its code, text,
    audience and whether it is negatively worded), what each level looks like for it, and
    what the assessor should see to accept a level (criteria and evidence prompts)."""

    question: Question
    anchors: list[tuple[int, str]]  # (level, what you would observe), level 0 first

    @property
    def criteria(self) -> str:
        return self.question.criteria

    @property
    def evidence(self) -> list[str]:
        return list(self.question.evidence)


@dataclass(frozen=True)
class SectionGuidance:
    section: Section
    questions: list[QuestionGuidance]
    # The team's answers in this section, per level, as "How the team answered" shows
    # them (None when the team's figures are not shown; ``hidden`` below the threshold).
    figures: results.SectionFigures | None


@dataclass(frozen=True)
class FrameworkGuidance:
    version: FrameworkVersion
    sections: list[SectionGuidance]


def assessor_guidance(
    versions: list[FrameworkVersion], team: results.TeamResults
) -> list[FrameworkGuidance]:
    """For each format-2 framework of the assessment, section by section, every question
    with its anchors, assessor criteria and evidence prompts, beside the section's team
    figures from ``team``. Criteria and evidence prompts are for assessors: only the
    review workspace reads them. One query; none when no framework is format 2."""
    guided = [version for version in versions if version.has_audiences]
    if not guided:
        return []
    figures = {row.section.pk: row for framework in team.frameworks for row in framework.sections}
    by_section: dict[int, SectionGuidance] = {}
    for question in (
        Question.objects.filter(version__in=guided)
        .select_related("section")
        .order_by("version_id", "section__position", "position")
    ):
        section = by_section.get(question.section_id)
        if section is None:
            section = by_section[question.section_id] = SectionGuidance(
                section=question.section,
                questions=[],
                figures=figures.get(question.section_id),
            )
        section.questions.append(
            QuestionGuidance(question=question, anchors=sorted(question.options()))
        )
    return [
        FrameworkGuidance(
            version=version,
            sections=[
                section
                for section in by_section.values()
                if section.section.version_id == version.pk
            ],
        )
        for version in guided
    ]


@dataclass(frozen=True)
class CriterionRow:
    """One question of a section on the judgement page: its guidance and its current
    judgement (``verdict`` "" while not judged)."""

    guidance: QuestionGuidance
    verdict: str
    note: str

    @property
    def question(self) -> Question:
        return self.guidance.question


def section_criteria(section: Section, criteria: CriteriaState) -> list[CriterionRow]:
    """The section's questions in order, each with its guidance and current judgement
    from ``criteria`` (one query)."""
    return [
        CriterionRow(
            guidance=QuestionGuidance(question=question, anchors=sorted(question.options())),
            verdict=criteria.verdicts.get(question.pk, ""),
            note=criteria.notes.get(question.pk, ""),
        )
        for question in Question.objects.filter(section=section).order_by("position")
    ]


def criteria_form_rows(assessment: Assessment, section: Section) -> list[CriterionRow]:
    """What the judgement form of a section needs, without the page around it: the
    questions and their current judgements (three queries)."""
    return section_criteria(section, criteria_state(assessment, [section.version]))


def criteria_page(assessment: Assessment, section: Section) -> dict[str, Any]:
    """What the assessor judges a section's criteria on: each question's criteria,
    evidence prompts and anchors with its current judgement, the team's answers in the
    section (as "How the team answered" shows them, withheld below the threshold), the
    section's evidence and its level before and after the criteria. Constant queries."""
    versions = manager.assessment_versions(assessment)
    outcome = results.assessment_results(assessment)
    criteria = criteria_state(assessment, versions)
    team = results.team_results(assessment, [section.version])
    figures = {row.section.pk: row for framework in team.frameworks for row in framework.sections}
    rows = section_criteria(section, criteria)
    rule = award_rule(versions, outcome, criteria)
    judged = next(
        (row for row in (rule.sections if rule else []) if row.section_id == section.pk), None
    )
    return {
        "assessment": assessment,
        "section": section,
        "rows": rows,
        "figures": figures.get(section.pk),
        "team": team,
        "evidence": evidence_by_section(assessment).get(section.pk, []),
        "judged": judged,
        "in_review": assessment.status == Assessment.Status.IN_REVIEW,
    }


def review_workspace(assessment: Assessment) -> dict[str, Any]:
    """Everything the review workspace shows, in a constant number of queries however
    many people answered: at most 34 while in review (versions 1, results 9, the
    framework rules 1, concepts 3, decisions and the sections they named 2, the changes
    since the last decision 2, sections and their moderations 2, team figures 4, the
    invitees 1, the audit trail 3, levels 1, the assessor's guidance 1 when a framework is
    format 2, the criteria and their judgements 2 when a framework is format 2, the
    required actions 1), 25 at most otherwise."""
    versions = manager.assessment_versions(assessment)
    # No viewer: assessors have no self-view. Rules are checked on the official scores.
    outcome = with_rule_checks(results.assessment_results(assessment))
    in_review = assessment.status == Assessment.Status.IN_REVIEW
    decisions = decisions_newest_first(assessment)
    if in_review:
        latest = _latest_moderations(assessment)
        changes = changes_since_last_review(
            assessment, outcome, decisions[0] if decisions else None, moderations=latest
        )
        sections = list(
            Section.objects.filter(version__in=versions).order_by("version_id", "position")
        )
        moderation_groups = _moderation_groups(
            assessment, versions, sections, outcome.panels, latest
        )
    else:
        changes = ReviewChanges(decision=None, rows=[], first_completions=None)
        moderation_groups = []
    team = results.team_results(assessment, versions)
    criteria = criteria_state(assessment, versions)
    rule = award_rule(versions, outcome, criteria)
    return {
        "assessment": assessment,
        "versions": versions,
        "results": outcome,
        "concepts": concept_agreement(assessment) if outcome.panels else [],
        "team": team,
        "guidance": assessor_guidance(versions, team),
        "invitees": invitees(assessment),
        "in_review": in_review,
        "last_decision": changes.decision,
        "changes": changes,
        "decisions": decisions,
        "current_decision": decisions[0] if decisions and not in_review else None,
        "timeline": audit_timeline(assessment, reviewing=True),
        "moderation_groups": moderation_groups,
        "stale_moderations": [
            row for group in moderation_groups for row in group.rows if row.stale
        ],
        "level_choices": level_choices(versions) if in_review else [],
        "award_rule": rule if in_review else None,
        # Every framework's sections with their criteria judged so far (format 2).
        "criteria_sections": rule.sections if rule is not None else [],
        # The actions the assessor required as conditions of approval (one query).
        "required_actions": [
            action for action in assessment_actions(assessment) if action.is_required
        ],
        "levels": assessment_levels(versions),
    }


# --- moderations from an earlier round --------------------------------------------------


def from_earlier_round(moderation_round: int, assessment: Assessment) -> bool:
    """A moderation recorded in an earlier round than the assessment's was made on other
    answers: it must be kept (recorded again in this round) or replaced before approval.
    The one rule; ``earlier_round_moderations`` is the same test in the database."""
    return moderation_round < assessment.round


def earlier_round_moderations(assessment: Assessment) -> list[Moderation]:
    """The sections' current moderations that were recorded in an earlier round, in
    questionnaire order, with their sections (one query)."""
    return list(
        Moderation.objects.latest_per_section(assessment)
        .filter(round__lt=assessment.round)
        .select_related("section")
        .order_by("section__version_id", "section__position")
    )


# --- what changed since the last decision -----------------------------------------------

# The decision snapshot's key for the member responses counted at the decision (so the
# next round can say how many completed for the first time). Framework slugs never
# start with an underscore.
COUNTED_KEY = "_counted_responses"
# Per framework slug, the result the decision was made on: the formula version that scored
# it and its official (moderated, in formula 2) overall, balance and verdict.
RESULTS_KEY = "_results"


@dataclass(frozen=True)
class SectionChange:
    """One section then (at the last decision) and now: the team's score and, apart from
    it, the moderated score; and how many answers changed their value in this round."""

    framework: str
    section_id: int
    section: str
    team_before: float | None
    team_after: float | None
    moderated_before: float | None
    moderated_after: float | None
    changed_answers: int
    # An older decision stored one score per section, the one shown then (moderated
    # where there was one, else the team's): it is shown as such, never as the team's.
    shown_before: float | None = None
    moderated_round: int | None = None  # the round of the moderation now in force
    stale: bool = False  # that moderation is from an earlier round

    @staticmethod
    def _difference(before: float | None, after: float | None) -> float | None:
        return None if before is None or after is None else after - before

    @property
    def team_change(self) -> float | None:
        return self._difference(self.team_before, self.team_after)

    @property
    def moderated_change(self) -> float | None:
        return self._difference(self.moderated_before, self.moderated_after)


@dataclass(frozen=True)
class ReviewChanges:
    """What changed since the last decision (``decision`` is None before the first one)."""

    decision: Decision | None
    rows: list[SectionChange]
    # Team members whose answers count now and did not at the last decision; None when
    # the decision did not record who counted (decisions made before this was kept).
    first_completions: int | None
    revised: int = 0  # members who completed again in this round

    @property
    def any_shown_before(self) -> bool:
        return any(row.shown_before is not None for row in self.rows)

    @property
    def changed_answers(self) -> int:
        return sum(row.changed_answers for row in self.rows)


def _then(value: object) -> tuple[float | None, float | None, float | None]:
    """(team, moderated, shown) from one section's entry in a decision's snapshot: a
    mapping in decisions since rounds compare both scores, a plain number before."""
    if isinstance(value, dict):
        team, moderated = value.get("team"), value.get("moderated")
        return (
            float(team) if isinstance(team, int | float) else None,
            float(moderated) if isinstance(moderated, int | float) else None,
            None,
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        return None, None, float(value)
    return None, None, None


def changes_since_last_review(
    assessment: Assessment,
    outcome: results.AssessmentResults,
    last: Decision | None,
    *,
    moderations: dict[int, tuple[float, str, int]] | None = None,
) -> ReviewChanges:
    """Against the last decision: each section's team score and moderated score then and
    now, how many answers of counted team members changed their level, "not applicable"
    or comment in this round (``Answer.changed_round``, set when someone completes
    again), and how many members completed for the first time. Two queries, and one
    more for the current moderations unless ``moderations`` gives them."""
    if last is None:
        return ReviewChanges(decision=None, rows=[], first_completions=None)
    if moderations is None:
        moderations = _latest_moderations(assessment)
    counted = Response.objects.members().completed().filter(assessment=assessment)
    members = list(counted.values_list("pk", "completed_round"))
    changed = dict(
        Answer.objects.filter(response__in=counted, changed_round=assessment.round)
        .values("section_id")
        .annotate(n=Count("pk"))
        .values_list("section_id", "n")
        .order_by()
    )
    then_counted = last.snapshot.get(COUNTED_KEY) if isinstance(last.snapshot, dict) else None
    first = None
    if isinstance(then_counted, list):
        earlier = set(then_counted)
        first = sum(1 for pk, _round in members if pk not in earlier)
        revised = sum(1 for pk, done in members if pk in earlier and done == assessment.round)
    else:
        revised = 0
    snapshot = last.snapshot if isinstance(last.snapshot, dict) else {}
    rows = []
    for panel in outcome.panels:
        then = snapshot.get(panel.slug)
        then = then if isinstance(then, dict) else {}
        for row in panel.rows:
            team, moderated, shown = _then(then.get(row.key))
            rows.append(
                SectionChange(
                    framework=panel.short_name,
                    section_id=row.section_id,
                    section=row.name,
                    team_before=team,
                    team_after=row.team.score,
                    moderated_before=moderated,
                    moderated_after=row.moderated,
                    changed_answers=changed.get(row.section_id, 0),
                    shown_before=shown,
                    moderated_round=moderations[row.section_id][2]
                    if row.section_id in moderations
                    else None,
                    stale=row.section_id in moderations
                    and from_earlier_round(moderations[row.section_id][2], assessment),
                )
            )
    return ReviewChanges(decision=last, rows=rows, first_completions=first, revised=revised)


def decision_snapshot(assessment: Assessment) -> dict[str, Any]:
    """What to store with a decision so the next round can show what changed, and so that
    the decision says which figures it was made on: per framework slug and section key the
    team's and the moderated score; per framework its formula version and official
    overall, balance and verdict (``RESULTS_KEY``); and the member responses counted
    (ten queries at most: the results' nine and the responses)."""
    outcome = results.assessment_results(assessment)
    snapshot: dict[str, Any] = {
        panel.slug: {
            row.key: {"team": row.team.score, "moderated": row.moderated} for row in panel.rows
        }
        for panel in outcome.panels
    }
    snapshot[RESULTS_KEY] = {
        panel.slug: {
            "formula_version": panel.headline.formula_version,
            "floor_level": settings.SCORING_FLOOR_LEVEL
            if panel.headline.formula_version == formula2.FORMULA_VERSION
            else None,
            "overall": panel.headline.overall,
            "balance": panel.headline.balance,
            "verdict": panel.headline.verdict.code if panel.headline.verdict else None,
            "moderated": panel.official is not None,
        }
        for panel in outcome.panels
    }
    snapshot[COUNTED_KEY] = sorted(
        Response.objects.members()
        .completed()
        .filter(assessment=assessment)
        .values_list("pk", flat=True)
    )
    return snapshot


# --- history ---------------------------------------------------------------------------


def audit_timeline(assessment: Assessment, *, reviewing: bool = False) -> list[AuditEntry]:
    """The assessment's audit trail, oldest first, in words (three queries at most). The
    assessor's judgements are in it for the assessor (``reviewing``) and, for everyone
    else, only once the round is decided (``judgements_shown``)."""
    events = AuditEvent.objects.filter(assessment=assessment)
    if not reviewing and not judgements_shown(assessment):
        events = events.exclude(action=AuditEvent.Action.JUDGED)
    return events.rendered()


def review_history(assessment: Assessment) -> dict:
    """The assignment and the decisions of one assessment, newest first (two queries)."""
    return {
        "assignment": Assignment.objects.filter(assessment=assessment)
        .select_related("assessor")
        .first(),
        "decisions": decisions_newest_first(assessment),
    }


def assessor_conflict(*, assessor: AbstractBaseUser, assessment: Assessment) -> bool:
    """An assessor may never review an organisation they belong to (one query)."""
    return Membership.objects.filter(user=assessor, organisation=assessment.organisation).exists()


def available_assessors(*, assessment: Assessment) -> list[AssessorProfile]:
    """Assessors with a current accreditation and no tie to the assessment's organisation
    (one query)."""
    return list(
        # The same tie as assessor_conflict, for every profile in one query.
        AssessorProfile.objects.current()
        .exclude(user__memberships__organisation=assessment.organisation)
        .select_related("user")
    )


def assessor_accounts(profiles: Iterable[AssessorProfile]) -> QuerySet:
    """The user accounts of these assessor profiles, for a choice field (one query)."""
    return get_user_model().objects.filter(pk__in=[p.user_id for p in profiles])


def decisions_newest_first(assessment: Assessment) -> list[Decision]:
    """The assessor's decisions on the assessment, latest round first, with the sections
    a return named (two queries)."""
    return list(
        assessment.decisions.select_related("assessor")
        .prefetch_related(
            Prefetch(
                "required_sections",
                queryset=Section.objects.select_related("version").order_by(
                    "version__framework__slug", "position"
                ),
            )
        )
        .order_by("-round")
    )


# --- evidence and judgements, as the report prints them ---------------------------------


@dataclass(frozen=True)
class JudgedCriterion:
    """One question's judgement as the report prints it (never its criteria text)."""

    code: str
    text: str
    verdict: str  # "" while not judged
    verdict_label: str
    note: str


@dataclass(frozen=True)
class EvidencedSection:
    """A section in the report's "Evidence and judgements" chapter: the evidence attached
    (names and dates), the assessor's judgements and the level they leave it."""

    framework: str
    name: str
    evidence: list
    criteria: list[JudgedCriterion]
    judged: SectionJudgement | None


def judgements_shown(assessment: Assessment) -> bool:
    """Whether the assessor's judgements may be shown beyond the review
    (``Assessment.judgements_shown``, the one rule). The report, the exports and the
    manager's timeline ask here."""
    return assessment.judgements_shown


def evidence_and_judgements(
    assessment: Assessment,
    versions: list[FrameworkVersion],
    outcome: results.AssessmentResults,
) -> list[EvidencedSection]:
    """Every section with evidence or (once shown: ``judgements_shown``) judgements, in
    questionnaire order; empty when there is neither, so a report without them prints as
    before. Five queries at most: the evidence, and for format 2 the questions, the
    judgements and the sections."""
    evidence = evidence_by_section(assessment)
    criteria = criteria_state(assessment, versions) if judgements_shown(assessment) else NO_CRITERIA
    if not evidence and not criteria.verdicts:
        return []
    questions: dict[int, list[Question]] = {}
    if criteria.verdicts:
        for question in Question.objects.filter(
            version__in=[version for version in versions if version.has_audiences]
        ).order_by("section__position", "position"):
            questions.setdefault(question.section_id, []).append(question)
    rule = award_rule(versions, outcome, criteria)
    judged = {row.section_id: row for row in (rule.sections if rule else [])}
    labels = dict(Judgement.Verdict.choices)
    names = {version.pk: version.short_name for version in versions}
    found = []
    for section in Section.objects.filter(version__in=versions).order_by(
        "version__framework__slug", "position"
    ):
        items = evidence.get(section.pk, [])
        rows = [
            JudgedCriterion(
                code=question.code,
                text=question.text,
                verdict=criteria.verdicts.get(question.pk, ""),
                verdict_label=str(labels.get(criteria.verdicts.get(question.pk), _("not judged"))),
                note=criteria.notes.get(question.pk, ""),
            )
            for question in questions.get(section.pk, [])
        ]
        if items or any(row.verdict for row in rows):
            found.append(
                EvidencedSection(
                    framework=names.get(section.version_id, ""),
                    name=section.name,
                    evidence=items,
                    criteria=rows,
                    judged=judged.get(section.pk),
                )
            )
    return found
