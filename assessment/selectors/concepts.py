"""Cross-framework concepts: per shared concept, each framework's figure and whether they agree.

Frameworks v2 tag questions with concepts (``frameworks.models.Concept``) that several
frameworks measure, so an assessment of two or more of them can triangulate: "Cost of
service" as Win4 asks it and as Six Dimensions asks it should tell the same story. Where
their 95 % intervals do not overlap, the frameworks disagree, and the page says so.

A constant number of queries, however many people answered: the counted responses per
audience, the concepts each format-2 version tags, the sections withheld for anonymity,
and one grouped aggregate (sums and sums of squares per response, concept and version,
done in SQL as ``results._TOTALS_SQL`` does). A closed assessment's withheld sections and
sums are stored (``StoredResults``, as the results' are), so a later view reads no answer.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from assessment.models import Answer, Assessment, Response, StoredResults
from assessment.scoring import concepts as scoring
from assessment.selectors.results import (
    LEADERSHIP,
    MANAGERS,
    SELF,
    STORE_VERSION,
    TEAM,
    AssessmentResults,
    audience_counts,
    counted_responses,
    group_counts,
    group_fingerprint,
    is_anonymous,
    store_sums,
    stored_sums,
)
from frameworks.models import FrameworkVersion, Question
from frameworks.translation import localise


@dataclass(frozen=True)
class ConceptMeasure:
    """One framework's figure for a concept; ``score`` is None when no answer that counts
    rated its tagged questions, or when ``withheld``."""

    slug: str
    name: str
    short_name: str
    score: scoring.ConceptScore | None
    # Fewer of the team (or of leadership) than the anonymity threshold rated the tagged
    # questions: the figure would give a few people's levels away, so it is not shown.
    withheld: bool = False


@dataclass(frozen=True)
class ConceptRow:
    """A concept measured by at least two of the assessment's format-2 versions."""

    key: str
    name: str
    description: str
    measures: list[ConceptMeasure]  # by framework slug
    consistent: bool  # False: two frameworks' intervals do not overlap

    @property
    def compared(self) -> int:
        """How many frameworks have a figure (fewer than two: nothing to compare)."""
        return sum(1 for m in self.measures if m.score is not None)


# Per respondent, concept and version first (the respondent's own mean over the tagged
# questions they rated), then per concept, version and audience: one row per concept,
# version and audience reaches Python. An answer counts where its question asks the
# response's audience; "don't know" and "not applicable" carry no level and are left out.
# The submitted copy of each answer counts (as last completed). {responses} is
# ``results.counted_responses``. A section the results leave unscored because fewer of a
# counted team or leadership than the threshold rated it (``results._score_audiences``)
# is left out here too ({withheld_sections}: ``_WITHHELD_SECTIONS_SQL`` finds them), and
# the figures that would have drawn on it are withheld, or a concept's figure, less the
# others' answers, would give those few people's levels away. Plain SQL because the ORM cannot
# aggregate over a grouped subquery; it runs on SQLite and PostgreSQL.
_CONCEPTS_SQL = """
SELECT t.concept_id, t.version_id, t.audience,
       COUNT(*),
       SUM(t.rated),
       SUM(t.level_sum),
       SUM(t.mean),
       SUM(t.mean * t.mean)
FROM (
    SELECT a.response_id AS response_id,
           qc.concept_id AS concept_id,
           q.version_id AS version_id,
           r.audience AS audience,
           COUNT(a.submitted_level) AS rated,
           SUM(a.submitted_level) AS level_sum,
           CAST(SUM(a.submitted_level) AS DOUBLE PRECISION) / COUNT(a.submitted_level) AS mean
    FROM {answer} a
    JOIN {response} r ON r.id = a.response_id
    JOIN {question} q ON q.id = a.question_id
    JOIN {tags} qc ON qc.question_id = a.question_id
    WHERE a.response_id IN ({responses})
      AND a.submitted_level IS NOT NULL
      AND q.audience = r.audience
      {withheld_sections}
    GROUP BY a.response_id, qc.concept_id, q.version_id, r.audience
) t
GROUP BY t.concept_id, t.version_id, t.audience
"""
# The sections that fewer than the threshold of a counted anonymous audience rated, as
# ``results._score_audiences`` leaves them unscored ({audiences}: the counted anonymous
# audiences, as placeholders; the threshold is the last parameter).
_WITHHELD_SECTIONS_SQL = """
SELECT DISTINCT a.section_id
FROM {answer} a
JOIN {response} r ON r.id = a.response_id
JOIN {question} q ON q.id = a.question_id
WHERE a.response_id IN ({responses})
  AND a.submitted_level IS NOT NULL
  AND q.audience = r.audience
  AND r.audience IN ({audiences})
GROUP BY a.section_id, r.audience
HAVING COUNT(DISTINCT a.response_id) < %s
"""


@dataclass(frozen=True)
class _Sums:
    raters: int
    rated: int
    level_sum: int
    mean_sum: float
    mean_square_sum: float

    def __add__(self, other: "_Sums") -> "_Sums":
        return _Sums(
            self.raters + other.raters,
            self.rated + other.rated,
            self.level_sum + other.level_sum,
            self.mean_sum + other.mean_sum,
            self.mean_square_sum + other.mean_square_sum,
        )


def concept_agreement(
    assessment: Assessment, *, counted: AssessmentResults | None = None
) -> list[ConceptRow]:
    """Every concept that two or more of the assessment's format-2 versions tag, with each
    framework's figure (``scoring.concepts.concept_score``) and whether they agree
    (``scoring.concepts.consistent``); empty while results are not visible
    (``Assessment.results_visible``) and for format-1 versions, which tag no concepts.

    Who counts is ``results.counted_responses``; managers' answers always, the team's and
    leadership's once as many of them as the anonymity threshold completed
    (``results.audience_counts``), and a framework's figure for a concept is withheld when
    fewer of a counted team or leadership than the threshold rated its tagged questions.
    Four queries when stored (or when no concept is shared), eight the first time,
    however many people answered; one fewer given the assessment's results (``counted``),
    whose count of who counted it uses.
    """
    threshold = settings.ANONYMITY_THRESHOLD
    responses = counted_responses(assessment)
    if counted is not None and counted.assessment.pk == assessment.pk:
        groups = _without_viewer(counted.groups, assessment.pk)
    else:
        groups = group_counts(responses, viewer_id=None)  # query 1: managers all in MANAGERS
    completed: dict[str, int] = defaultdict(int)
    for (_a, audience), counted in groups.items():
        completed[audience] += counted.count
    if not assessment.results_visible(completed[TEAM]):
        return []

    tags = (  # query 2
        Question.concepts.through.objects.filter(
            question__version__assessments=assessment,
            question__version__format=FrameworkVersion.Format.V2,
        )
        .values_list(
            "concept_id",
            "concept__key",
            "concept__name",
            "concept__description",
            "question__version_id",
            "question__version__framework__slug",
            "question__version__name",
            "question__version__short_name",
            "question__section_id",
            "concept__translations",
            "question__version__translations",
        )
        .distinct()
    )
    concepts: dict[int, tuple[str, str, str]] = {}
    versions: dict[int, tuple[str, str, str]] = {}
    measured_by: dict[int, set[int]] = defaultdict(set)
    drawn_from: dict[tuple[int, int], set[int]] = defaultdict(set)  # (concept, version)
    for row in tags:
        concept_id, key, name, description, version_id, slug, v_name, short, section = row[:9]
        # Read past the models, so put in the reader's language here.
        concept_tr, version_tr = row[9:]
        concepts[concept_id] = (
            key,
            localise(name, concept_tr, "name"),
            localise(description, concept_tr, "description"),
        )
        versions[version_id] = (
            slug,
            localise(v_name, version_tr, "name"),
            localise(short, version_tr, "short_name"),
        )
        measured_by[concept_id].add(version_id)
        drawn_from[(concept_id, version_id)].add(section)
    shared = {c: v for c, v in measured_by.items() if len(v) >= 2}
    if not shared:
        return []

    anonymous = sorted(  # counted audiences whose few raters a figure must not expose
        audience
        for audience, n in completed.items()
        if is_anonymous(audience) and audience_counts(audience, n, threshold)
    )
    withheld, fetched = _stored_or_summed(
        assessment, responses, groups, sorted(shared), anonymous, threshold
    )  # queries 3 and 4 when stored; 3 to 8 when not
    sums: dict[tuple[int, int], dict[str, _Sums]] = defaultdict(dict)
    for concept_id, version_id, audience, *figures in fetched:
        if audience_counts(audience, completed[audience], threshold):
            sums[(concept_id, version_id)][audience] = _Sums(*figures)
    rows = []
    for concept_id in sorted(shared, key=lambda c: concepts[c][0]):
        measures = [
            ConceptMeasure(*versions[v], None, withheld=True)
            if drawn_from[(concept_id, v)] & withheld
            else _measure(versions[v], sums.get((concept_id, v), {}), completed, threshold)
            for v in sorted(shared[concept_id], key=lambda v: versions[v][0])
        ]
        key, name, description = concepts[concept_id]
        rows.append(
            ConceptRow(
                key=key,
                name=name,
                description=description,
                measures=measures,
                consistent=scoring.consistent(m.score for m in measures if m.score is not None),
            )
        )
    return rows


def _tables(responses) -> tuple[dict[str, str], tuple]:
    subquery, params = responses.values("pk").query.sql_with_params()
    return {
        "answer": Answer._meta.db_table,
        "response": Response._meta.db_table,
        "question": Question._meta.db_table,
        "responses": subquery,
    }, params


def _withheld_sections(responses, anonymous: list[str], threshold: int) -> set[int]:
    """The sections fewer than ``threshold`` of an ``anonymous`` audience rated (no query
    when no anonymous audience counts)."""
    if not anonymous:
        return set()
    tables, params = _tables(responses)
    sql = _WITHHELD_SECTIONS_SQL.format(**tables, audiences=", ".join(["%s"] * len(anonymous)))
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, *anonymous, threshold))
        return {section_id for (section_id,) in cursor.fetchall()}


def _without_viewer(groups: dict, assessment_id: int) -> dict:
    """The assessment's groups as a reader with no self-view counts them: the viewer's own
    response (SELF) is one of the managers'."""
    merged: dict = {}
    for (a, group), found in groups.items():
        if a != assessment_id:
            continue
        key = (a, MANAGERS if group == SELF else group)
        if key in merged:
            earlier = merged[key]
            found = type(found)(
                earlier.count + found.count,
                earlier.id_sum + found.id_sum,
                earlier.id_square_sum + found.id_square_sum,
            )
        merged[key] = found
    return merged


def _stored_or_summed(
    assessment: Assessment,
    responses,
    groups: dict,
    shared: list[int],
    anonymous: list[str],
    threshold: int,
) -> tuple[set[int], list[tuple]]:
    """The withheld sections and the concept sums of the audiences that count: stored
    under a key of what can change them (the lookup: two queries, with the assessment's
    round and status), else computed from every answer (two queries) and stored when
    nobody started or stopped counting meanwhile (two more).

    Submitted answers change only when someone completes, which only an open assessment
    accepts, and reopening raises its round; so the key is the round and status, the
    versions' shared concepts, the threshold, and which responses count in each group
    (``results.group_fingerprint``)."""
    state = Assessment.objects.filter(pk=assessment.pk).values_list("round", "status").first()
    key = None
    if state is not None and state[1] in Assessment.CLOSED_STATUSES:
        parts = [
            STORE_VERSION,
            threshold,
            state,
            shared,
            anonymous,
            group_fingerprint(groups, (TEAM, LEADERSHIP, MANAGERS)),
        ]
        key = hashlib.sha256(repr(parts).encode()).hexdigest()
        stored = stored_sums(assessment, StoredResults.Kind.CONCEPTS, key)
        if stored is not None:
            return set(stored["withheld"]), [tuple(row) for row in stored["sums"]]
    withheld = _withheld_sections(responses, anonymous, threshold)
    # Only the audiences that count: a withheld audience's sums are never read, nor stored.
    completed: dict[str, int] = defaultdict(int)
    for (_a, audience), counted in groups.items():
        completed[audience] += counted.count
    fetched = [
        row
        for row in _concept_sums(responses, withheld)
        if audience_counts(row[2], completed[row[2]], threshold)
    ]
    # The groups read again: a change while the sums were read would store them under a
    # key they do not match.
    if key is not None and group_counts(responses, viewer_id=None) == groups:
        store_sums(
            assessment,
            StoredResults.Kind.CONCEPTS,
            key,
            {"withheld": sorted(withheld), "sums": fetched},
        )
    return withheld, fetched


def _concept_sums(responses, withheld: set[int]) -> list[tuple]:
    """(concept, version, audience, raters, rated, level sum, mean sum, mean square sum)
    over the counted responses' rated answers, leaving out the ``withheld`` sections."""
    tables, params = _tables(responses)
    excluded = ""
    if withheld:
        excluded = "AND a.section_id NOT IN ({})".format(", ".join(["%s"] * len(withheld)))
    sql = _CONCEPTS_SQL.format(
        **tables, tags=Question.concepts.through._meta.db_table, withheld_sections=excluded
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, *sorted(withheld)))
        fetched = cursor.fetchall()
    return [
        (
            concept_id,
            version_id,
            audience,
            int(raters),
            int(rated),
            int(level_sum),
            float(mean_sum),
            float(square_sum),
        )
        for concept_id, version_id, audience, raters, rated, level_sum, mean_sum, square_sum in (
            fetched
        )
    ]


def _measure(
    version: tuple[str, str, str],
    by_audience: dict[str, _Sums],
    completed: dict[str, int],
    threshold: int,
) -> ConceptMeasure:
    """One framework's figure from the audiences that count (``audience_counts``)."""
    slug, name, short_name = version
    counted = [
        s
        for audience, s in by_audience.items()
        if audience_counts(audience, completed[audience], threshold)
    ]
    withheld = any(
        is_anonymous(audience) and not audience_counts(audience, s.raters, threshold)
        for audience, s in by_audience.items()
        if audience_counts(audience, completed[audience], threshold)
    )
    if withheld or not counted:
        return ConceptMeasure(slug, name, short_name, None, withheld=withheld)
    total = sum(counted[1:], counted[0])
    return ConceptMeasure(
        slug,
        name,
        short_name,
        scoring.concept_score(
            raters=total.raters,
            rated=total.rated,
            level_sum=total.level_sum,
            mean_sum=total.mean_sum,
            mean_square_sum=total.mean_square_sum,
        ),
    )
