"""Results of an assessment: tallies gathered in SQL, scored by ``scoring``, drawn by ``charts``.

``assessment_results`` runs a constant number of queries however many people
answered: sums and counts per (response, section) are computed by the database,
never row by row. Scoring the same stored answers again gives the same figures.

Once an assessment is closed its answers cannot change until it is reopened, in a
new round, so the sums of the team's and leadership's answers are stored
(``StoredResults``) under a key of everything that can change them, and a later view
reads no answer at all. Everything else (moderation, targets, settings, formulas,
the viewer's own answers) is read and applied on every view.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from assessment import charts, scoring
from assessment.models import (
    Answer,
    Assessment,
    Moderation,
    Response,
    SectionTarget,
    StoredResults,
)
from assessment.scoring import formula2
from frameworks.models import SCALE_MAX, SCALE_MIN, FrameworkVersion, Question, ScaleLevel, Section
from frameworks.translation import localise

# Frameworks whose verdict follows the "no loser" rule (every stakeholder must win).
NO_LOSER_FRAMEWORKS = frozenset({"win4"})


@dataclass(frozen=True)
class SectionRow:
    """One row of the data table beside a chart."""

    key: str
    name: str
    team: scoring.SectionScore
    self_score: float | None
    target_level: int | None
    previous: float | None
    change: float | None
    level_label: str = ""
    target_label: str = ""
    stored_target: int | None = None  # what the manager chose, if anything
    moderated: float | None = None  # the assessor's moderated score, if any
    rationale: str = ""
    section_id: int = 0
    # Formula 2's statistics of the pooled section (format 2, scored sections): interval,
    # agreement, average level and its distribution.
    stats: "formula2.SectionStats | None" = None
    # Formula 2: the 95 % margin of ``change`` (formula2.change_margin); None without one.
    change_margin: float | None = None
    # The section's official score: formula 2, the assessor's moderated score where set;
    # otherwise (and always in formula 1, whose figures never follow moderation) the team's.
    official: float | None = None

    @property
    def change_beyond_noise(self) -> bool:
        """Formula 2: the change is larger than its margin, so it is shown as a change
        rather than as noise. Format 1 has no margin and never flags one."""
        return (
            self.change is not None
            and self.change_margin is not None
            and abs(self.change) > self.change_margin
        )


@dataclass
class FrameworkPanel:
    slug: str
    name: str
    short_name: str
    version: int
    team: scoring.FrameworkResult
    self_view: scoring.FrameworkResult | None
    gaps: list[scoring.PerspectiveGap]
    priorities: list[scoring.Priority]
    trend: list[scoring.TrendPoint] | None
    previous_title: str | None
    rows: list[SectionRow]
    sections: list[tuple[int, str, str]]  # pk, key, name: for the targets form
    level_labels: dict[int, str] = field(default_factory=dict)
    chart: SafeString = field(default_factory=lambda: SafeString(""))
    # Format 2: who rated what, per section and audience (see AudienceRow).
    audiences: list["AudienceRow"] = field(default_factory=list)
    # Format 2: leadership invitees who completed, when fewer than the anonymity threshold
    # (their answers are then left out of every figure, and the page says so).
    leadership_withheld: int = 0
    # The title of the team's previous assessment of this framework when it was scored on
    # another scale (a version-1 edition): not compared, and the page says so.
    previous_other_scale: str | None = None
    # The framework's rules checked against these scores (``selectors.rules``), when asked.
    rules: list = field(default_factory=list)
    # Formula 2, once an assessor has moderated a section of it: the official result from
    # the moderated scores (the team's own stays in ``team``, shown beside it).
    official: scoring.FrameworkResult | None = None
    # The customers' own figures on this framework's axes, as (section name, AxisScore)
    # (``selectors.customers.with_customer_series``); drawn as a series of the radar.
    customer_points: list = field(default_factory=list)

    @property
    def headline(self) -> scoring.FrameworkResult:
        """The result every headline figure, verdict and priority is read from: the
        official (moderated) one where there is one, else the team's."""
        return self.official or self.team

    @property
    def overall_label(self) -> str:
        return self.level_labels.get(self.headline.overall_level, "")

    @property
    def team_overall_label(self) -> str:
        return self.level_labels.get(self.team.overall_level, "")


@dataclass
class AssessmentResults:
    assessment: Assessment
    completed_members: int
    threshold: int
    panels: list[FrameworkPanel]

    submitted: bool = True
    # Who counted, per (assessment, group), as read for these results (``group_counts``):
    # ``concepts.concept_agreement`` may take them rather than read them again.
    groups: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def visible(self) -> bool:
        return self.assessment.results_visible(self.completed_members)

    @property
    def format_2_only(self) -> bool:
        """Whether every framework shown is scored by formula 2 (format 2)."""
        return bool(self.panels) and all(
            panel.team.formula_version == formula2.FORMULA_VERSION for panel in self.panels
        )

    @property
    def moderated(self) -> bool:
        """Whether any framework's official figures follow an assessor's moderation."""
        return any(panel.official is not None for panel in self.panels)


@dataclass(frozen=True)
class AudienceCell:
    """One audience's figures for one section (format 2)."""

    audience: str
    asked: bool  # the section has questions for this audience
    respondents: int  # completed responses of this audience
    score: scoring.SectionScore | None  # None: not asked, or the audience is withheld
    withheld: bool = False  # fewer respondents than the anonymity threshold


@dataclass(frozen=True)
class AudienceRow:
    key: str
    name: str
    cells: list[AudienceCell]


@dataclass
class _Scored:
    """Team and self-view results of every framework version of one assessment; for
    format-2 versions the team result pools the audiences, and ``audiences`` holds who
    rated what."""

    team: dict[int, scoring.FrameworkResult] = field(default_factory=dict)
    self_view: dict[int, scoring.FrameworkResult] = field(default_factory=dict)
    audiences: dict[int, list[AudienceRow]] = field(default_factory=dict)
    stats: dict[int, dict[str, "formula2.SectionStats"]] = field(default_factory=dict)
    leadership_withheld: int = 0


def assessment_results(
    assessment: Assessment, *, viewer_id: int | None = None
) -> AssessmentResults:
    """Everything the results and review pages (and the report) show, in eight queries
    when the assessment's sums are stored, nine when they are computed (and stored), two
    while its results cannot show.

    The self-view is the viewer's own answers (a manager's), never another manager's.
    """
    threshold = settings.ANONYMITY_THRESHOLD
    versions = _versions_with_previous(assessment)  # query 1
    current = versions[assessment.pk]
    # Built once (the ORM's work on its subqueries is a fair share of this function's time),
    # counted by query 2 and run again inside the totals query.
    counted = _counted_responses(list(versions), viewer_id=viewer_id)
    groups = group_counts(counted, viewer_id=viewer_id)  # query 2
    members = groups.get((assessment.pk, TEAM), _NOBODY).count
    submitted = assessment.is_closed
    if not assessment.results_visible(members):
        return AssessmentResults(
            assessment, members, threshold, panels=[], submitted=submitted, groups=groups
        )

    version_ids = {v["version_id"] for rows in versions.values() for v in rows}
    sections = list(  # query 3
        Section.objects.filter(version_id__in=version_ids)
        .select_related("version")
        .annotate(
            question_count=Count("questions"),
            **{
                f"asked_{audience}": Count("questions", filter=Q(questions__audience=audience))
                for audience in AUDIENCES
            },
        )
        .order_by("version_id", "position")
    )
    # Queries 4 and 5 when stored (the lookup, the managers' own answers); 4 to 6 when
    # not (the lookup, every answer, the store). The groups as the totals counted them.
    totals, groups = _totals(
        assessment, versions, counted, groups, viewer_id=viewer_id, threshold=threshold
    )
    members = groups.get((assessment.pk, TEAM), _NOBODY).count
    if not assessment.results_visible(members):  # fewer now than a moment ago
        return AssessmentResults(
            assessment, members, threshold, panels=[], submitted=submitted, groups=groups
        )
    targets = dict(
        SectionTarget.objects.filter(assessment=assessment).values_list("section_id", "level")
    )
    moderated = {
        section_id: (float(score), rationale)
        for section_id, score, rationale in Moderation.objects.latest_per_section(
            assessment
        ).values_list("section_id", "score", "rationale")
    }
    labels: dict[int, dict[int, str]] = defaultdict(dict)
    for version_id, value, label, translations in ScaleLevel.objects.filter(
        version_id__in=[row["version_id"] for row in current]
    ).values_list("version_id", "value", "label", "translations"):
        labels[version_id][value] = localise(label, translations, "label")
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (assessment_id, group), counted_group in groups.items():
        counts[assessment_id][group] = counted_group.count
    scored = _score(versions, counts, sections, totals, threshold, current_pk=assessment.pk)

    panels = []
    for row in current:
        version_id = row["version_id"]
        previous = row.get("previous")
        earlier = scored.get(previous["assessment_id"]) if previous else None
        previous_result = earlier.team.get(previous["version_id"]) if earlier else None
        team = scored[assessment.pk].team[version_id]
        other_scale = None
        if previous_result is not None and previous_result.scale != team.scale:
            # Scores on another scale (version 1's 1-5 against version 2's 0-5) would show
            # a change that is only the change of scale: not compared, and said so.
            other_scale, previous_result = previous["title"], None
        panels.append(
            _panel(
                row,
                team=team,
                self_view=scored[assessment.pk].self_view.get(version_id),
                previous=previous_result,
                previous_title=previous["title"] if previous_result else None,
                sections=[s for s in sections if s.version_id == version_id],
                targets=targets,
                level_labels=labels[version_id],
                moderated=moderated,
                audiences=scored[assessment.pk].audiences.get(version_id, []),
                stats=scored[assessment.pk].stats.get(version_id, {}),
                previous_stats=earlier.stats.get(previous["version_id"], {})
                if previous_result is not None
                else {},
                leadership_withheld=scored[assessment.pk].leadership_withheld,
                previous_other_scale=other_scale,
            )
        )
    return AssessmentResults(assessment, members, threshold, panels, groups=groups)


def _versions_with_previous(assessment: Assessment) -> dict[int, list[dict]]:
    """This assessment's framework versions, and for each the team's latest earlier
    submitted assessment with the same framework (any version): one query."""
    through = Assessment.framework_versions.through
    rows = (
        through.objects.filter(
            Q(assessment=assessment)
            | Q(
                assessment__team_id=assessment.team_id,
                assessment__status__in=Assessment.CLOSED_STATUSES,
                assessment__created_at__lt=assessment.created_at,
            )
        )
        .values(
            "assessment_id",
            version_id=F("frameworkversion_id"),
            framework_id=F("frameworkversion__framework_id"),
            slug=F("frameworkversion__framework__slug"),
            name=F("frameworkversion__name"),
            short_name=F("frameworkversion__short_name"),
            translations=F("frameworkversion__translations"),
            number=F("frameworkversion__number"),
            title=F("assessment__title"),
            submitted_at=F("assessment__submitted_at"),
            # What the stored sums are keyed on (``_store_key``), read with the rest.
            round=F("assessment__round"),
            status=F("assessment__status"),
        )
        .order_by("-assessment__submitted_at", "-assessment_id")
    )
    current: list[dict] = []
    earlier: list[dict] = []
    for row in rows:
        # Read past the model, so put in the reader's language here (frameworks.translation).
        translations = row.pop("translations")
        for name in ("name", "short_name"):
            row[name] = localise(row[name], translations, name)
        (current if row["assessment_id"] == assessment.pk else earlier).append(row)
    chosen: dict[int, list[dict]] = {assessment.pk: sorted(current, key=lambda r: r["slug"])}
    for row in chosen[assessment.pk]:
        previous = next((e for e in earlier if e["framework_id"] == row["framework_id"]), None)
        if previous is not None:
            row["previous"] = previous
            chosen.setdefault(previous["assessment_id"], []).append(previous)
    return chosen


# Groups of counted responses. Format 1: the team's figures, and the viewer's own view
# (SELF) apart. Format 2 pools every audience into the result: the team, the managers
# (the viewer's own answers and other managers' alike: these are the management's
# answers to the questions only managers are asked) and leadership, which counts only
# once as many leadership invitees as the anonymity threshold have completed.
TEAM, SELF, MANAGERS, LEADERSHIP = "team", "self", "manager", "leadership"
AUDIENCES = (TEAM, MANAGERS, LEADERSHIP)  # Question.Audience values, in display order


def _counted_responses(assessment_ids: list[int], *, viewer_id: int | None) -> QuerySet:
    """The responses whose answers count: team members' (``Response.objects.members``),
    leadership invitees' and managers' own answers, completed (or being revised: their
    answers as last completed count). Which group each counts in is ``_GROUP_SQL``'s
    rule. Query 2 counts them and the totals query runs this same queryset inside its
    SQL, so the rule of who counts is written once."""
    counted = (
        Response.objects.members()
        | Response.objects.invitees(LEADERSHIP)
        | Response.objects.filter(is_manager_view=True)
    )
    return counted.completed().filter(assessment_id__in=assessment_ids)


# Per respondent and section first (sums, counts, the respondent's own mean level),
# then per assessment, group and section: one row per section reaches Python, so
# the cost stays in the database however many people answered. Plain SQL because
# the ORM cannot aggregate over a grouped subquery; it runs on SQLite and PostgreSQL.
# Team figures count the submitted copy of each answer (as last completed), never
# the working copy someone may be revising. {responses} is ``_counted_responses``.
# The group a counted response counts in (its one parameter is the viewer's id):
# format 1's team and the viewer's own view (SELF) apart; format 2 pools the team, the
# managers (the viewer's own answers and other managers' alike) and leadership.
_GROUP_SQL = """CASE WHEN NOT r.is_manager_view THEN r.audience
            WHEN r.user_id = %s THEN 'self'
            ELSE 'manager' END"""
_TOTALS_SQL = """
SELECT r.assessment_id,
       {group} AS grp,
       t.section_id,
       COUNT(CASE WHEN t.rated > 0 THEN 1 END),
       COALESCE(SUM(t.rated), 0),
       COALESCE(SUM(t.level_sum), 0),
       COALESCE(SUM(t.not_applicable), 0),
       COALESCE(SUM(t.mean), 0),
       COALESCE(SUM(t.mean * t.mean), 0),
       COALESCE(SUM(t.dont_know), 0),
       {level_sums}
FROM (
    SELECT a.response_id AS response_id,
           a.section_id AS section_id,
           COUNT(a.submitted_level) AS rated,
           SUM(a.submitted_level) AS level_sum,
           SUM(CASE WHEN a.submitted_not_applicable THEN 1 ELSE 0 END) AS not_applicable,
           SUM(CASE WHEN a.submitted_dont_know THEN 1 ELSE 0 END) AS dont_know,
           {level_counts}
           CAST(SUM(a.submitted_level) AS DOUBLE PRECISION)
               / NULLIF(COUNT(a.submitted_level), 0) AS mean
    FROM assessment_answer a
    WHERE a.response_id IN ({responses})
    GROUP BY a.response_id, a.section_id
) t
JOIN assessment_response r ON r.id = t.response_id
GROUP BY 1, 2, t.section_id
"""
# How many rated answers chose each level (0-5: the union of both formats' scales), per
# respondent and section, then summed: formula 2's distribution ("40 % at level 4 or
# above"). Constant SQL text: the levels are the scale's, never input.
_LEVELS = range(scoring.SCALE_V2.min, scoring.SCALE_V2.max + 1)
_TOTALS_SQL = _TOTALS_SQL.replace(
    "{level_counts}",
    "\n           ".join(
        f"COUNT(CASE WHEN a.submitted_level = {n} THEN 1 END) AS level_{n}," for n in _LEVELS
    ),
).replace("{level_sums}", ",\n       ".join(f"COALESCE(SUM(t.level_{n}), 0)" for n in _LEVELS))
_TOTALS_SQL = _TOTALS_SQL.replace("{group}", _GROUP_SQL)

# Per assessment and group: how many counted responses, and two sums of their ids that
# together change whenever the set changes by one or two responses (the sum alone misses
# one leaving while another of the same id sum joins). Squares are of the id modulo a
# prime, so that they never overflow 64 bits; every id below it is its own residue.
# Padded with zeros ({padding}) to the totals' columns, so both run as one statement.
_ID_MODULUS = 1_000_003
_GROUPS_SQL = """
SELECT r.assessment_id,
       {group} AS grp,
       NULL,
       COUNT(*),
       SUM(r.id),
       SUM((r.id %% {modulus}) * (r.id %% {modulus})){padding}
FROM assessment_response r
WHERE r.id IN ({responses})
GROUP BY 1, 2
"""
_GROUPS_SQL = _GROUPS_SQL.replace("{group}", _GROUP_SQL).replace("{modulus}", str(_ID_MODULUS))
# The totals' columns after the first six: not applicable, the two sums of means,
# don't know, and one count per level.
_PADDING = ", 0" * (4 + len(_LEVELS))
# One statement, so that the sums and the groups they are keyed on are read at once.
_TOTALS_AND_GROUPS_SQL = (
    _TOTALS_SQL.rstrip() + "\nUNION ALL" + _GROUPS_SQL.replace("{padding}", _PADDING)
)


@dataclass(frozen=True)
class _Group:
    """The counted responses of one group of one assessment: how many, and two sums of
    their ids (``_GROUPS_SQL``)."""

    count: int
    id_sum: int = 0
    id_square_sum: int = 0


_NOBODY = _Group(0)

# Raise it when the totals query or the layout of its stored rows changes: the stored
# sums are keyed on it.
STORE_VERSION = 1


def group_counts(counted: QuerySet, *, viewer_id: int | None) -> dict[tuple[int, str], _Group]:
    """(assessment, group) -> the counted responses of that group (one query)."""
    responses, params = counted.values("pk").query.sql_with_params()
    sql = _GROUPS_SQL.replace("{padding}", "").format(responses=responses)
    with connection.cursor() as cursor:
        cursor.execute(sql, (viewer_id or 0, *params))
        return {
            (int(a), group): _Group(int(n), int(ids), int(squares))
            for a, group, _none, n, ids, squares in cursor.fetchall()
        }


# One row of the totals query, typed: (assessment, group, section, then the SectionTotals
# fields after ``respondents``, the level counts last). Stored as such, in JSON.
_Row = tuple


def _typed(row: tuple) -> _Row:
    """A row as the database returned it (PostgreSQL's sums are decimals) in plain ints and
    floats, the same whether computed now or read back from the store."""
    a, group, section, raters, rated, level_sum, na, mean_sum, square_sum, dont_know, *levels = row
    return (
        int(a),
        group,
        None if section is None else int(section),
        int(raters),
        int(rated),
        int(level_sum),
        int(na),
        float(mean_sum),
        float(square_sum),
        int(dont_know),
        *(int(n) for n in levels),
    )


def _as_totals(rows: list[_Row]) -> dict[tuple[int, str, int], scoring.SectionTotals]:
    """(assessment, group, section) -> its totals, from section rows."""
    totals = {}
    for row in rows:
        a, group, section, raters, rated, level_sum, na, mean_sum, square_sum, dont_know = row[:10]
        totals[(a, group, section)] = scoring.SectionTotals(
            respondents=0,  # filled in by the caller, which knows every completed response
            rated_respondents=raters,
            rated=rated,
            level_sum=level_sum,
            not_applicable=na,
            mean_sum=mean_sum,
            mean_square_sum=square_sum,
            dont_know=dont_know,
            level_counts=tuple(row[10:]),
        )
    return totals


def _total_rows(counted: QuerySet, *, viewer_id: int | None, groups: bool = False) -> list[_Row]:
    """The totals query's rows over the submitted answers of ``counted``
    (``_counted_responses``), and with ``groups`` its groups' rows too (section None),
    read in the same statement (one query)."""
    responses, params = counted.values("pk").query.sql_with_params()
    sql = _TOTALS_AND_GROUPS_SQL if groups else _TOTALS_SQL
    with connection.cursor() as cursor:
        cursor.execute(
            sql.format(responses=responses),
            (viewer_id or 0, *params) * (2 if groups else 1),
        )
        return [_typed(row) for row in cursor.fetchall()]


def _section_totals(
    counted: QuerySet, *, viewer_id: int | None
) -> dict[tuple[int, str, int], scoring.SectionTotals]:
    """(assessment, group, section) -> totals over the submitted answers of ``counted``
    (``_counted_responses``), in the groups of ``_GROUP_SQL`` (one query)."""
    return _as_totals(_total_rows(counted, viewer_id=viewer_id))


def _totals(
    assessment: Assessment,
    versions: dict[int, list[dict]],
    counted: QuerySet,
    groups: dict[tuple[int, str], _Group],
    *,
    viewer_id: int | None,
    threshold: int,
) -> tuple[dict[tuple[int, str, int], scoring.SectionTotals], dict[tuple[int, str], _Group]]:
    """The section totals of ``assessment_results`` and the groups they were counted in.

    A closed assessment's team and leadership sums come from the store when its key
    matches (the lookup, then the managers' own answers: two queries, neither reading
    another answer); otherwise from every answer, with the groups read in the same
    statement, and then stored (three queries). Results show only once an assessment is
    closed, so every visible result is stored; if the database has it open again (it
    was reopened since it was read), nothing is looked up or stored: one query.
    """
    key = _store_key(assessment, versions, groups, threshold)
    if key is not None:
        stored = stored_sums(assessment, StoredResults.Kind.SECTIONS, key)
        if stored is not None:
            managers = _total_rows(counted.filter(is_manager_view=True), viewer_id=viewer_id)
            return _as_totals([*(tuple(row) for row in stored), *managers]), groups
    rows = _total_rows(counted, viewer_id=viewer_id, groups=True)
    groups = {(a, group): _Group(*figures[:3]) for a, group, s, *figures in rows if s is None}
    anonymous = _storable(rows, groups, threshold)
    managers = [row for row in rows if row[2] is not None and row[1] in (SELF, MANAGERS)]
    if key is not None:
        # Keyed on the groups just read with the sums, not on those read before them.
        store_sums(
            assessment,
            StoredResults.Kind.SECTIONS,
            _store_key(assessment, versions, groups, threshold),
            anonymous,
        )
    return _as_totals([*anonymous, *managers]), groups


def _storable(
    rows: list[_Row], groups: dict[tuple[int, str], _Group], threshold: int
) -> list[_Row]:
    """The team's and leadership's section rows whose figures may show: an assessment's
    only once as many of its team completed as the threshold (an earlier one below it is
    never shown), leadership's only once as many of them completed. Nothing else of them
    is ever read (``_score``, ``_score_audiences``), so nothing else is stored."""

    def shown(a: int, group: str) -> bool:
        return audience_counts(group, groups.get((a, group), _NOBODY).count, threshold)

    return [
        row
        for row in rows
        if row[2] is not None
        and row[1] in (TEAM, LEADERSHIP)
        and shown(row[0], TEAM)
        and shown(row[0], row[1])
    ]


def stored_sums(assessment: Assessment, kind: str, key: str) -> Any:
    """The assessment's stored sums of ``kind`` if stored under ``key``, else None (one
    query)."""
    return (
        StoredResults.objects.filter(assessment_id=assessment.pk, kind=kind, key=key)
        .values_list("sums", flat=True)
        .first()
    )


def store_sums(assessment: Assessment, kind: str, key: str, sums: Any) -> None:
    """Store ``sums`` (``services.results_store``: one query)."""
    # Imported here: the services package imports the selectors it checks with.
    from assessment.services.results import results_store

    results_store(assessment=assessment, kind=kind, key=key, sums=sums)


def group_fingerprint(groups: dict[tuple[int, str], "_Group"], kinds: tuple[str, ...]) -> list:
    """Which responses count in each of ``kinds`` of groups, for a key: sorted (assessment,
    group, count, id sum, id square sum)."""
    return sorted(
        (a, group, found.count, found.id_sum, found.id_square_sum)
        for (a, group), found in groups.items()
        if group in kinds
    )


def _store_key(
    assessment: Assessment,
    versions: dict[int, list[dict]],
    groups: dict[tuple[int, str], _Group],
    threshold: int,
) -> str | None:
    """What the stored sums depend on, as a digest; None while the assessment is not
    closed (as the database has it now), when nothing is stored.

    Submitted answers change only when someone completes, which only an open assessment
    accepts, and reopening an assessment raises its round: so for each assessment whose
    sums are read (this one and the earlier ones it is compared with) its round and
    status, its framework versions, and which responses count in each anonymous group
    (who counts can change while closed: an invitee's address that becomes a manager's
    stops counting). The threshold decides which rows are stored (``_storable``)."""
    own = versions[assessment.pk]
    if not own or own[0]["status"] not in Assessment.CLOSED_STATUSES:
        return None
    parts = [
        STORE_VERSION,
        threshold,
        sorted(
            (a, rows[0]["round"], rows[0]["status"], sorted(row["version_id"] for row in rows))
            for a, rows in versions.items()
            if rows
        ),
        group_fingerprint(groups, (TEAM, LEADERSHIP)),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _score(
    versions: dict[int, list[dict]],
    all_counts: dict[int, dict[str, int]],
    sections: list[Section],
    totals: dict[tuple[int, str, int], scoring.SectionTotals],
    threshold: int,
    *,
    current_pk: int,
) -> dict[int, _Scored]:
    by_version: dict[int, list[Section]] = defaultdict(list)
    for section in sections:
        by_version[section.version_id].append(section)
    scored: dict[int, _Scored] = {}
    for assessment_id, rows in versions.items():
        counts = all_counts[assessment_id]
        if assessment_id != current_pk and counts[TEAM] < threshold:
            continue  # an earlier result below the anonymity threshold is never shown
        result = scored.setdefault(assessment_id, _Scored())
        for row in rows:
            version_sections = by_version[row["version_id"]]
            rule = row["slug"] in NO_LOSER_FRAMEWORKS
            if version_sections and version_sections[0].version.has_audiences:
                pooled, result.audiences[row["version_id"]], result.stats[row["version_id"]] = (
                    _score_audiences(version_sections, totals, counts, threshold, assessment_id)
                )
                result.team[row["version_id"]] = formula2.framework_result(
                    pooled,
                    result.stats[row["version_id"]],
                    no_loser_rule=rule,
                    floor=formula2.band_floor(settings.SCORING_FLOOR_LEVEL),
                )
                result.leadership_withheld = (
                    0
                    if audience_counts(LEADERSHIP, counts[LEADERSHIP], threshold)
                    else counts[LEADERSHIP]
                )
                continue
            for group, target in ((TEAM, result.team), (SELF, result.self_view)):
                if not counts[group]:
                    continue
                target[row["version_id"]] = scoring.score_framework(
                    scoring.FrameworkTotals(
                        # Team sections need as many raters as the threshold, or they
                        # would show a few individuals' answers.
                        min_raters=threshold if group == TEAM else 1,
                        sections=[
                            (s.key, s.name, s.question_count, float(s.weight))
                            for s in version_sections
                        ],
                        totals={
                            s.key: replace(
                                totals[(assessment_id, group, s.pk)], respondents=counts[group]
                            )
                            for s in version_sections
                            if (assessment_id, group, s.pk) in totals
                        },
                        respondents=counts[group],
                    ),
                    no_loser_rule=rule,
                )
    return scored


def _score_audiences(
    sections: list[Section],
    totals: dict[tuple[int, str, int], scoring.SectionTotals],
    counts: dict[str, int],
    threshold: int,
    assessment_id: int,
) -> tuple[list[scoring.SectionScore], list[AudienceRow], dict[str, "formula2.SectionStats"]]:
    """A format-2 version: each section scored from the answers of every audience that
    counts, pooled, and each audience's own figures beside it. Managers' answers always
    count (they are named); the team's and leadership's only once as many of them as the
    anonymity threshold completed (``audience_counts``). A section where fewer of a
    counted team or leadership than the threshold rated a question is not scored (its
    counts still show, and "mostly don't know" still flags it), so that no pooled score
    rests on a few anonymous people's levels beside answers others know.

    The answers possible in a section are summed per audience counted: the questions
    asked of it there, times its respondents."""
    scale = scoring.SCALE_V2
    pooled_sections = []
    rows = []
    stats: dict[str, formula2.SectionStats] = {}
    for section in sections:
        cells = []
        pooled: scoring.SectionTotals | None = None
        too_few = False  # an anonymous audience counted here, but too few of it rated
        for audience in AUDIENCES:
            asked = getattr(section, f"asked_{audience}")
            groups = (MANAGERS, SELF) if audience == MANAGERS else (audience,)
            respondents = sum(counts[g] for g in groups)
            anonymous = is_anonymous(audience)
            withheld = respondents > 0 and not audience_counts(audience, respondents, threshold)
            own = None
            if asked and respondents and not withheld:
                group_totals = [
                    totals[(assessment_id, g, section.pk)]
                    for g in groups
                    if (assessment_id, g, section.pk) in totals
                ]
                combined = _sum_totals(group_totals, respondents, asked * respondents)
                own = scoring.section_score(
                    key=section.key,
                    name=section.name,
                    questions=asked,
                    totals=combined,
                    weight=float(section.weight),
                    min_raters=threshold if anonymous else 1,
                    scale=scale,
                )
                pooled = combined if pooled is None else pooled + combined
                # Fewer of them rated this section than the threshold: the pooled score,
                # less the answers others know (a manager's own), would give away a few
                # people's levels. The section is not scored, as in format 1.
                too_few |= not audience_counts(audience, combined.rated_respondents, threshold)
            cells.append(AudienceCell(audience, bool(asked), respondents, own, withheld))
        rows.append(AudienceRow(section.key, section.name, cells))
        score = scoring.section_score(
            key=section.key,
            name=section.name,
            questions=section.question_count,
            totals=pooled or scoring.SectionTotals(0, 0, 0, 0, 0, 0.0, 0.0, possible=0),
            weight=float(section.weight),
            scale=scale,
        )
        if too_few:
            score = replace(score, score=None, level=None, spread=None)
        elif score.score is not None:
            # Formula 2 bands a score on its displayed value (formula2.band).
            score = replace(score, level=formula2.band(score.score, scale))
            stats[section.key] = formula2.stats_from_totals(pooled, scale)
        pooled_sections.append(score)
    return pooled_sections, rows, stats


def _sum_totals(
    parts: list[scoring.SectionTotals], respondents: int, possible: int
) -> scoring.SectionTotals:
    empty = scoring.SectionTotals(0, 0, 0, 0, 0, 0.0, 0.0, possible=0)
    combined = sum(parts, empty) if parts else empty
    return replace(combined, respondents=respondents, possible=possible)


def _panel(
    row: dict,
    *,
    team: scoring.FrameworkResult,
    self_view: scoring.FrameworkResult | None,
    previous: scoring.FrameworkResult | None,
    previous_title: str | None,
    sections: list[Section],
    targets: dict[int, int],
    level_labels: dict[int, str],
    moderated: dict[int, tuple[float, str]],
    audiences: list[AudienceRow] | None = None,
    leadership_withheld: int = 0,
    previous_other_scale: str | None = None,
    stats: dict[str, formula2.SectionStats] | None = None,
    previous_stats: dict[str, formula2.SectionStats] | None = None,
) -> FrameworkPanel:
    stats = stats or {}
    target_by_key = {s.key: targets[s.pk] for s in sections if s.pk in targets}
    gaps = scoring.perspective_gaps(team.sections, self_view.sections) if self_view else []
    trend = scoring.trend(team.sections, previous.sections) if previous else None
    self_by_key = {s.key: s.score for s in self_view.sections} if self_view else {}
    trend_by_key = {t.key: t for t in trend} if trend else {}
    section_ids = {s.key: s.pk for s in sections}
    formula_2 = team.formula_version == formula2.FORMULA_VERSION
    # Formula 2: once an assessor has moderated, the official figures follow the moderated
    # scores (formula2.moderate); the team's own stay in ``team``. Formula 1 never does.
    moderated_by_key = {
        key: moderated[pk][0] for key, pk in section_ids.items() if formula_2 and pk in moderated
    }
    official = official_stats = None
    if moderated_by_key:
        official_sections, official_stats = formula2.moderate(
            team.sections, stats, moderated_by_key, team.scale
        )
        official = formula2.framework_result(
            official_sections,
            official_stats,
            no_loser_rule=row["slug"] in NO_LOSER_FRAMEWORKS,
            floor=formula2.band_floor(settings.SCORING_FLOOR_LEVEL, team.scale),
            scale=team.scale,
        )
    rows = []
    for section in team.sections:
        moderation = moderated.get(section_ids[section.key])
        official_score = moderated_by_key.get(section.key, section.score)
        target = target_by_key.get(section.key)
        if target is None and official_score is not None:
            target = (formula2 if formula_2 else scoring).default_target(official_score, team.scale)
        point = trend_by_key.get(section.key)
        rows.append(
            SectionRow(
                key=section.key,
                name=section.name,
                team=section,
                self_score=self_by_key.get(section.key),
                target_level=target,
                previous=point.previous if point else None,
                change=point.change if point else None,
                level_label=level_labels.get(section.level, ""),
                target_label=level_labels.get(target, ""),
                stored_target=target_by_key.get(section.key),
                moderated=moderation[0] if moderation else None,
                rationale=moderation[1] if moderation else "",
                section_id=section_ids[section.key],
                stats=stats.get(section.key),
                change_margin=formula2.change_margin(
                    stats.get(section.key), (previous_stats or {}).get(section.key)
                )
                if formula_2 and point
                else None,
                official=official_score,
            )
        )
    if not formula_2:
        priorities = scoring.priorities(team, target_by_key)
    elif official is not None:
        priorities = formula2.as_priorities(
            official,
            official_stats,
            target_by_key,
            self_assessed={s.key: s.score for s in team.sections},
        )
    else:
        priorities = formula2.as_priorities(team, stats, target_by_key)
    panel = FrameworkPanel(
        slug=row["slug"],
        name=row["name"],
        short_name=row["short_name"],
        version=row["number"],
        team=team,
        self_view=self_view,
        gaps=gaps,
        priorities=priorities,
        trend=trend,
        previous_title=previous_title,
        rows=rows,
        sections=[(s.pk, s.key, s.name) for s in sections],
        level_labels=level_labels,
        audiences=audiences or [],
        leadership_withheld=leadership_withheld,
        previous_other_scale=previous_other_scale,
        official=official,
    )
    panel.chart = radar_for(panel)
    return panel


def radar_for(panel: FrameworkPanel, extra: "list[charts.Series] | None" = None) -> SafeString:
    """The panel's radar: team, self-view, target and previous, as available, and any
    ``extra`` series (the customers' own ratings, ``selectors.customers``); no query."""
    series = [
        charts.Series(_("Team"), [r.team.score for r in panel.rows], **charts.TEAM),
    ]
    if panel.self_view is not None:
        series.append(
            charts.Series(
                _("Your own view"), [r.self_score for r in panel.rows], **charts.SELF_VIEW
            )
        )
    series.append(
        charts.Series(
            _("Target"),
            [
                scoring.target_score(r.target_level, panel.team.scale)
                if r.target_level is not None
                else None
                for r in panel.rows
            ],
            **charts.TARGET,
        )
    )
    if any(r.moderated is not None for r in panel.rows):
        series.append(
            charts.Series(
                _("Assessor's moderated view"),
                [r.moderated if r.moderated is not None else r.team.score for r in panel.rows],
                **charts.MODERATED,
            )
        )
    if panel.trend is not None:
        series.append(
            charts.Series(
                _("Previous: %(title)s") % {"title": panel.previous_title},
                [r.previous for r in panel.rows],
                **charts.PREVIOUS,
            )
        )
    series.extend(extra or [])
    return charts.radar_chart(
        axes=[r.name for r in panel.rows],
        series=series,
        title=_("%(framework)s: balance across its sections") % {"framework": panel.name},
        description=chart_summary(panel.team),
        chart_id=f"radar-{panel.slug}",
        levels=panel.team.scale.levels,
    )


def chart_summary(result: scoring.FrameworkResult) -> str:
    """One sentence on the balance, for screen readers (no query)."""
    if result.overall is None:
        return _("There is not enough data to score this framework yet.")
    strongest = max(result.scored, key=lambda s: (s.score, s.key))
    return _(
        "Overall %(overall).0f of 100; balance %(balance).0f of 100. "
        "Weakest: %(weakest)s at %(low).0f; strongest: %(strongest)s at %(high).0f."
    ) % {
        "overall": result.overall,
        "balance": result.balance,
        "weakest": result.weakest.name,
        "low": result.weakest.score,
        "strongest": strongest.name,
        "high": strongest.score,
    }


@dataclass(frozen=True)
class SectionFigures:
    """Counts for one section: answers, "not applicable", "don't know" (format 2) and how
    many chose each of the version's levels."""

    section: Section
    answered: int
    not_applicable: int
    level_counts: list[tuple[int, int]]
    hidden: bool = False  # fewer than the threshold rated this section: counts withheld
    dont_know: int = 0  # format 2: "don't know", apart from "not applicable"
    asked: bool = True  # format 2: the section has questions for this audience


@dataclass(frozen=True)
class QuestionComments:
    question: Question
    comments: list[str]


@dataclass(frozen=True)
class LeadershipFigures:
    """Leadership invitees' figures in one format-2 framework that asks leadership: the
    sections that ask them, and their comments; empty until as many leadership invitees
    as the threshold have completed (``TeamResults.leadership_shown``)."""

    sections: list[SectionFigures]
    comments: list[QuestionComments]


@dataclass(frozen=True)
class FrameworkFigures:
    version: FrameworkVersion
    sections: list[SectionFigures]  # the team's (members')
    comments: list[QuestionComments]  # the team's
    # (level, label) in the version's order: 1-5 in format 1, 0-5 in format 2.
    levels: list[tuple[int, str]] = field(default_factory=list)
    # Format 2 with leadership questions: leadership's own figures (None otherwise).
    leadership: LeadershipFigures | None = None


@dataclass(frozen=True)
class TeamResults:
    """Team-level figures, empty unless enough members have completed their answers.
    Leadership invitees' figures stand apart, never in the team's counts."""

    threshold: int
    completed: int
    frameworks: list[FrameworkFigures]
    submitted: bool = True
    visible: bool = False  # Assessment.results_visible: closed, and enough members completed
    leadership_completed: int = 0  # leadership invitees who completed their answers

    @property
    def leadership_shown(self) -> bool:
        return audience_counts(LEADERSHIP, self.leadership_completed, self.threshold)

    @property
    def leadership_withheld(self) -> int:
        """Leadership invitees who completed, while fewer than the threshold: their answers
        are left out until it is reached."""
        return 0 if self.leadership_shown else self.leadership_completed


def team_results(assessment: Assessment, versions: list[FrameworkVersion]) -> TeamResults:
    """Per-section counts and comments, aggregated in SQL (five queries at most).

    The team's figures are its members' (``Response.objects.members``); managers' own
    answers are never part of them. In format-2 versions, leadership invitees' answers
    show as a block of their own, once as many of them as the anonymity threshold have
    completed (``Response.objects.invitees("leadership")``), and never mixed into the
    team's counts. Levels are each version's (``FrameworkVersion.level_range``).
    """
    threshold = settings.ANONYMITY_THRESHOLD
    members = Response.objects.members().completed().filter(assessment=assessment)
    leaders = Response.objects.invitees(LEADERSHIP).completed().filter(assessment=assessment)
    completed_by_audience = dict(  # query 1
        (members | leaders)
        .order_by()
        .values("audience")
        .annotate(n=Count("pk"))
        .values_list("audience", "n")
    )
    completed = completed_by_audience.get(TEAM, 0)
    leadership_completed = completed_by_audience.get(LEADERSHIP, 0)
    submitted = assessment.is_closed
    if not assessment.results_visible(completed):
        return TeamResults(
            threshold=threshold,
            completed=completed,
            frameworks=[],
            submitted=submitted,
            leadership_completed=leadership_completed,
        )
    shown = audience_counts(LEADERSHIP, leadership_completed, threshold)
    counted = members | leaders if shown else members

    # Answers carry their section (see Answer.section): no join to the questions here.
    answers = Answer.objects.filter(response__in=counted, section__version__in=versions)
    lowest = min((v.level_range.start for v in versions), default=SCALE_MIN)
    # The submitted copy: the answers as each person last completed them.
    level_counts = {
        f"level_{n}": Count("pk", filter=Q(submitted_level=n)) for n in range(lowest, SCALE_MAX + 1)
    }
    stats = {
        (row["section"], row["response__audience"]): row
        for row in answers.order_by()
        .values("section", "response__audience")
        .annotate(
            answered=Count(
                "pk",
                filter=Q(submitted_level__isnull=False)
                | Q(submitted_not_applicable=True)
                | Q(submitted_dont_know=True),
            ),
            raters=Count("response", distinct=True, filter=Q(submitted_level__isnull=False)),
            not_applicable=Count("pk", filter=Q(submitted_not_applicable=True)),
            dont_know=Count("pk", filter=Q(submitted_dont_know=True)),
            **level_counts,
        )  # query 2
    }
    sections = Section.objects.filter(version__in=versions).annotate(
        # Who is asked what is Question.objects.asked_of's rule (format 1: everyone all).
        **{
            f"asked_{audience}": Count(
                "questions", filter=Q(questions__in=Question.objects.asked_of(audience))
            )
            for audience in (TEAM, LEADERSHIP)
        }
    )
    by_pk = {v.pk: v for v in versions}
    labels: dict[int, dict[int, str]] = defaultdict(dict)
    for version_id, value, label, translations in ScaleLevel.objects.filter(  # query 3
        version__in=versions
    ).values_list("version_id", "value", "label", "translations"):
        labels[version_id][value] = localise(label, translations, "label")

    def figures(section: Section, audience: str) -> SectionFigures:
        row = stats.get((section.pk, audience), {})
        hidden = row.get("raters", 0) < threshold
        return SectionFigures(
            section=section,
            answered=row.get("answered", 0),
            not_applicable=row.get("not_applicable", 0),
            level_counts=[
                (n, 0 if hidden else row.get(f"level_{n}", 0))
                for n in by_pk[section.version_id].level_range
            ],
            hidden=hidden,
            dont_know=row.get("dont_know", 0),
            asked=bool(getattr(section, f"asked_{audience}")),
        )

    team_sections: dict[int, list[SectionFigures]] = defaultdict(list)
    leadership_sections: dict[int, list[SectionFigures]] = defaultdict(list)
    asks_leadership: set[int] = set()
    for section in sections.order_by("position"):  # query 4
        team_sections[section.version_id].append(figures(section, TEAM))
        if by_pk[section.version_id].has_audiences and section.asked_leadership:
            asks_leadership.add(section.version_id)
            leadership_sections[section.version_id].append(figures(section, LEADERSHIP))

    # Grouped by question and sorted by text, so nothing hints at who wrote what. A
    # leadership invitee's comment shows with leadership's figures, in format 2 only.
    comments = (
        answers.exclude(submitted_comment="")
        .select_related("question__section", "question__version")
        .annotate(audience=F("response__audience"))
        .order_by("question__section__position", "question__position", "submitted_comment")
    )
    team_comments: dict[int, list[QuestionComments]] = defaultdict(list)
    leadership_comments: dict[int, list[QuestionComments]] = defaultdict(list)
    for answer in comments:  # query 5
        if answer.audience == LEADERSHIP:
            if not answer.question.version.has_audiences:
                continue
            grouped = leadership_comments[answer.question.version_id]
        else:
            grouped = team_comments[answer.question.version_id]
        if not grouped or grouped[-1].question.pk != answer.question.pk:
            grouped.append(QuestionComments(question=answer.question, comments=[]))
        grouped[-1].comments.append(answer.submitted_comment)

    return TeamResults(
        threshold=threshold,
        completed=completed,
        visible=True,
        leadership_completed=leadership_completed,
        frameworks=[
            FrameworkFigures(
                version=version,
                sections=team_sections[version.pk],
                comments=team_comments[version.pk],
                levels=[(n, labels[version.pk].get(n, "")) for n in version.level_range],
                leadership=LeadershipFigures(
                    sections=leadership_sections[version.pk] if shown else [],
                    comments=leadership_comments[version.pk] if shown else [],
                )
                if version.pk in asks_leadership
                else None,
            )
            for version in versions
        ],
    )


def counted_responses(assessment: Assessment) -> QuerySet:
    """The assessment's responses whose answers count, each with its ``audience``: team
    members', leadership invitees' and managers' own (``_counted_responses``'s rule). Who
    answers which question is the question's audience (format 1: the team's); the
    anonymity threshold applies to team and leadership, as in ``assessment_results``.
    A queryset, not run here."""
    return _counted_responses([assessment.pk], viewer_id=None)


def is_anonymous(audience: str) -> bool:
    """Whether an audience's figures wait for the anonymity threshold: the team's and
    leadership's do; managers' own answers are not anonymous (``_score_audiences``)."""
    return audience != MANAGERS


def audience_counts(audience: str, people: int, threshold: int | None = None) -> bool:
    """Whether an audience's answers may enter a figure: managers' always (their answers
    are named); the team's and leadership's only from ``threshold`` people (those who
    completed, for the audience as a whole; those who rated it, for one section)."""
    if threshold is None:
        threshold = settings.ANONYMITY_THRESHOLD
    return not is_anonymous(audience) or people >= threshold


def team_visible(assessment: Assessment) -> bool:
    """Whether the assessment's team figures may show (``Assessment.results_visible``):
    one query counting the completed member responses, none while it is not closed."""
    if not assessment.is_closed:
        return False
    members = Response.objects.members().completed().filter(assessment=assessment).count()
    return assessment.results_visible(members)
