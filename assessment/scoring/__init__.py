"""Scores, balance and priorities: pure functions on plain values.

No ORM here: ``results.assessment_results`` sums answers in SQL (per
respondent and section, then per section) and calls these functions. Every
formula and threshold is stated in docs/scoring.md, and ``FORMULA_VERSION``
changes whenever one of them does, so a stored or exported figure always says
which rules produced it.
"""

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from django.utils.translation import gettext as _

from frameworks.translation import active_language

FORMULA_VERSION = "1"

SCALE_MIN = 1
SCALE_MAX = 5


@dataclass(frozen=True)
class Scale:
    """A framework version's rating scale and the formula version that scores it."""

    min: int
    max: int
    formula_version: str

    @property
    def levels(self) -> range:
        return range(self.min, self.max + 1)


# Format-1 frameworks: levels 1-5, formula version 1 (unchanged since it was published).
SCALE_V1 = Scale(SCALE_MIN, SCALE_MAX, FORMULA_VERSION)
# Format-2 frameworks (frameworks v2): level 0 "not in place" added, "don't know" apart
# from "not applicable", audiences pooled, scored by formula version 2
# (``assessment.scoring.formula2``; docs/scoring.md). Version 1.1, formula 1's rules on
# this scale, was interim while frameworks v2 waited for scoring v2, and is retired.
SCALE_V2 = Scale(0, SCALE_MAX, "2")


def scale_for(framework_format: int) -> Scale:
    return SCALE_V2 if framework_format == 2 else SCALE_V1


# A section is scored only when at least this share of its possible answers
# (questions x respondents) carry a level; below it the section says so.
MIN_RATED_SHARE = 0.5
# A section more than this many points below the framework's overall score is flagged.
ALERT_GAP = 15.0
# A manager's self-view this many points away from the team's view is flagged.
PERSPECTIVE_GAP = 15.0
# The "no loser" rule (Win4): every stakeholder at or above the floor, and balance adequate.
NO_LOSER_FLOOR = 40.0
NO_LOSER_MIN_BALANCE = 70.0


def pstdev(values: Iterable[float]) -> float:
    """Population standard deviation in plain floats (the statistics module's exact
    arithmetic is far slower, and scores need no more than float precision)."""
    data = list(values)
    if not data:
        raise ValueError("pstdev needs at least one value")
    mean = math.fsum(data) / len(data)
    return math.sqrt(math.fsum((x - mean) ** 2 for x in data) / len(data))


def level_to_score(level: float, scale: Scale = SCALE_V1) -> float:
    """Map a mean level to 0-100: the scale's lowest level is 0, its highest 100
    (1-5 in format 1; 0-5 in format 2, where each level is 20 points)."""
    return (level - scale.min) / (scale.max - scale.min) * 100


def score_to_level(score: float, scale: Scale = SCALE_V1) -> int:
    """The maturity level whose band holds a 0-100 score, bands centred on each level
    (format 1: 25 points wide, 0-12.5 is level 1, 12.5-37.5 level 2, ... 87.5-100 level 5;
    format 2: 20 points wide, 0-10 is level 0, 10-30 level 1, ... 90-100 level 5)."""
    mean_level = scale.min + score / 100 * (scale.max - scale.min)
    return max(scale.min, min(scale.max, math.floor(mean_level + 0.5)))


def target_score(level: int, scale: Scale = SCALE_V1) -> float:
    return level_to_score(level, scale)


@dataclass(frozen=True)
class Tally:
    """One respondent's answers to one section, as summed in SQL."""

    level_sum: int
    rated: int  # answers with a level
    not_applicable: int = 0
    dont_know: int = 0  # format 2 only: "don't know", apart from "not applicable"
    scale: Scale = SCALE_V1

    def __post_init__(self) -> None:
        if self.rated < 0 or self.not_applicable < 0 or self.dont_know < 0:
            raise ValueError("counts cannot be negative")
        if not self.scale.min * self.rated <= self.level_sum <= self.scale.max * self.rated:
            raise ValueError("level_sum does not fit the number of rated answers")

    @classmethod
    def from_levels(cls, levels: Sequence[int | None], scale: Scale = SCALE_V1) -> "Tally":
        """From raw answers: a level, or None for "not applicable" (format 1: "not
        applicable / don't know")."""
        rated = [level for level in levels if level is not None]
        return cls(
            level_sum=sum(rated),
            rated=len(rated),
            not_applicable=len(levels) - len(rated),
            scale=scale,
        )


@dataclass(frozen=True)
class SectionTotals:
    """A section's answers summed over respondents: what one SQL query returns.

    ``respondents`` counts every completed response included (answered here or not);
    ``mean_sum`` and ``mean_square_sum`` add up each rated respondent's own mean
    level and its square, from which the spread between respondents follows.
    """

    respondents: int
    rated_respondents: int
    rated: int
    level_sum: int
    not_applicable: int
    mean_sum: float
    mean_square_sum: float
    dont_know: int = 0
    # Format 2 pools audiences: each answers its own questions, so the answers possible
    # are summed per audience (questions asked of it x its respondents) by the caller.
    possible: int | None = None
    # Rated answers per level 0-5 (formula 2's distribution; formula 1 does not read it).
    level_counts: tuple[int, ...] = ()

    @classmethod
    def from_tallies(cls, tallies: Sequence[Tally]) -> "SectionTotals":
        means = [t.level_sum / t.rated for t in tallies if t.rated]
        return cls(
            respondents=len(tallies),
            rated_respondents=len(means),
            rated=sum(t.rated for t in tallies),
            level_sum=sum(t.level_sum for t in tallies),
            not_applicable=sum(t.not_applicable for t in tallies),
            mean_sum=math.fsum(means),
            mean_square_sum=math.fsum(m * m for m in means),
            dont_know=sum(t.dont_know for t in tallies),
        )

    def __add__(self, other: "SectionTotals") -> "SectionTotals":
        """Two audiences' totals for one section, pooled."""
        return SectionTotals(
            respondents=self.respondents + other.respondents,
            rated_respondents=self.rated_respondents + other.rated_respondents,
            rated=self.rated + other.rated,
            level_sum=self.level_sum + other.level_sum,
            not_applicable=self.not_applicable + other.not_applicable,
            mean_sum=self.mean_sum + other.mean_sum,
            mean_square_sum=self.mean_square_sum + other.mean_square_sum,
            dont_know=self.dont_know + other.dont_know,
            possible=(self.possible or 0) + (other.possible or 0),
            level_counts=tuple(
                a + b
                for a, b in itertools.zip_longest(
                    self.level_counts, other.level_counts, fillvalue=0
                )
            ),
        )


@dataclass(frozen=True)
class SectionScore:
    key: str
    name: str
    score: float | None  # None: too little data to score
    level: int | None
    respondents: int  # respondents with at least one rated answer here
    rated: int
    not_applicable: int
    possible: int  # questions x respondents counted
    spread: float | None  # SD of the respondents' section scores, 0-100 points
    weight: float = 1.0
    dont_know: int = 0
    # Format 2: more than half of the answers given here were "don't know", so the
    # section is not scored and says why (never silently scored from the few who knew).
    mostly_dont_know: bool = False

    @property
    def answered(self) -> int:
        return self.rated + self.not_applicable + self.dont_know

    @property
    def coverage(self) -> float:
        """Share of possible answers given (a level or "not applicable"), 0-100."""
        return 100 * self.answered / self.possible if self.possible else 0.0

    @property
    def sufficient(self) -> bool:
        return self.score is not None


def section_score(
    *,
    key: str,
    name: str,
    questions: int,
    totals: SectionTotals,
    weight: float = 1.0,
    min_raters: int = 1,
    scale: Scale = SCALE_V1,
) -> SectionScore:
    """0-100 score for one section from its totals.

    The score is the mean of every rated answer (pooled across respondents),
    rescaled to 0-100. "Not applicable" answers are left out, never counted as
    zero. Fewer rated answers than MIN_RATED_SHARE of the possible ones, or fewer
    respondents with a rated answer than ``min_raters``, leaves the section
    unscored. The spread is the population standard deviation of
    the respondents' own section scores.
    """
    possible = totals.possible if totals.possible is not None else questions * totals.respondents
    rated = totals.rated
    given = rated + totals.not_applicable + totals.dont_know
    mostly_dont_know = totals.dont_know > 0 and 2 * totals.dont_know > given
    if (
        not rated
        or rated < MIN_RATED_SHARE * possible
        or totals.rated_respondents < min_raters
        or mostly_dont_know
    ):
        score = level = spread = None
    else:
        score = level_to_score(totals.level_sum / rated, scale)
        level = score_to_level(score, scale)
        n = totals.rated_respondents
        mean = totals.mean_sum / n
        variance = max(0.0, totals.mean_square_sum / n - mean * mean)  # rounding can dip below 0
        spread = math.sqrt(variance) * 100 / (scale.max - scale.min)
    return SectionScore(
        key=key,
        name=name,
        score=score,
        level=level,
        respondents=totals.rated_respondents,
        rated=rated,
        not_applicable=totals.not_applicable,
        possible=possible,
        spread=spread,
        weight=weight,
        dont_know=totals.dont_know,
        mostly_dont_know=mostly_dont_know,
    )


@dataclass(frozen=True)
class Priority:
    key: str
    name: str
    score: float
    target_level: int
    gap: float  # points to the target
    weakest: bool
    # Formula 2, moderated: the team's own score beside the official (moderated) one.
    self_assessed: float | None = None


@dataclass(frozen=True)
class Verdict:
    sustainable: bool
    losers: tuple[str, ...]  # section names below the floor
    winners: tuple[str, ...]  # section names at or above the floor, strongest first
    balance_adequate: bool
    complete: bool = True  # False: a stakeholder has too little data to judge

    @property
    def code(self) -> str:
        """The verdict as a stable machine code, for exports and decision snapshots:
        ``sustainable``, ``not_sustainable`` or ``no_verdict`` (not complete)."""
        if not self.complete:
            return "no_verdict"
        return "sustainable" if self.sustainable else "not_sustainable"

    @property
    def summary(self) -> str:
        """Plain-language verdict, e.g. "customers win at the expense of the company"."""
        if not self.complete:
            return _("not every stakeholder has enough answers to judge whether all of them win")
        if self.losers and self.winners:
            return _("%(winners)s win at the expense of %(losers)s") % {
                "winners": _join(self.winners),
                "losers": _join(self.losers),
            }
        if self.losers:
            return _("nobody reaches the floor: %(losers)s all fall below it") % {
                "losers": _join(self.losers)
            }
        if not self.balance_adequate:
            return _("no stakeholder is below the floor, but the balance between them is weak")
        return _("every stakeholder wins")


def _join(names: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'; in English, names lower-cased to sit inside a
    sentence (German, like other languages, keeps a noun's capital)."""
    if active_language() is None:  # the source language, English
        names = [n[0].lower() + n[1:] if n[:2] != n[:2].upper() else n for n in names]
    if len(names) == 1:
        return names[0]
    return _("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


@dataclass(frozen=True)
class FrameworkResult:
    sections: tuple[SectionScore, ...]
    overall: float | None
    overall_level: int | None
    balance: float | None
    weakest: SectionScore | None
    alerts: tuple[SectionScore, ...]
    verdict: Verdict | None = None
    formula_version: str = FORMULA_VERSION
    scale: Scale = SCALE_V1

    @property
    def scored(self) -> tuple[SectionScore, ...]:
        return tuple(s for s in self.sections if s.sufficient)

    @property
    def unscored_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sections if not s.sufficient)


def balance_index(scores: Sequence[float]) -> float:
    """100 when every section scores the same, falling as they spread apart.

    100 x (1 - SD / 50), with SD the population standard deviation of the
    section scores. 50 is the largest SD scores on 0-100 can have, so the index
    runs from 0 to 100, and it ignores the order of the axes.
    """
    if len(scores) < 2:
        return 100.0
    return max(0.0, 100.0 * (1 - pstdev(scores) / 50))


def framework_result(
    sections: Sequence[SectionScore], *, no_loser_rule: bool = False, scale: Scale = SCALE_V1
) -> FrameworkResult:
    """Overall score, balance, weakest link, alerts and (for Win4) the no-loser verdict."""
    scored = [s for s in sections if s.sufficient]
    if not scored:
        return FrameworkResult(
            sections=tuple(sections),
            overall=None,
            overall_level=None,
            balance=None,
            weakest=None,
            alerts=(),
            formula_version=scale.formula_version,
            scale=scale,
        )
    total_weight = sum(s.weight for s in scored)
    overall = sum(s.score * s.weight for s in scored) / total_weight
    balance = balance_index([s.score for s in scored])
    # Ties go to the alphabetically first key, so the order of the axes never matters.
    weakest = min(scored, key=lambda s: (s.score, s.key))
    alerts = tuple(
        sorted((s for s in scored if s.score < overall - ALERT_GAP), key=lambda s: (s.score, s.key))
    )
    verdict = None
    if no_loser_rule:
        verdict = no_loser_verdict(scored, balance, overall)
        if len(scored) < len(sections):
            # Nobody can be declared a winner while a stakeholder cannot be scored.
            verdict = replace(verdict, sustainable=False, complete=False)
    return FrameworkResult(
        sections=tuple(sections),
        overall=overall,
        overall_level=score_to_level(overall, scale),
        balance=balance,
        weakest=weakest,
        alerts=alerts,
        verdict=verdict,
        formula_version=scale.formula_version,
        scale=scale,
    )


def no_loser_verdict(scored: Sequence[SectionScore], balance: float, overall: float) -> Verdict:
    """Sustainable only if no stakeholder is below NO_LOSER_FLOOR and balance is adequate.

    Losers are the stakeholders below the floor, lowest first; winners those above
    the framework's overall score, highest first.
    """
    ranked = sorted(scored, key=lambda s: (s.score, s.key))
    losers = tuple(s.name for s in ranked if s.score < NO_LOSER_FLOOR)
    winners = tuple(
        s.name for s in reversed(ranked) if s.score >= NO_LOSER_FLOOR and s.score > overall
    )
    adequate = balance >= NO_LOSER_MIN_BALANCE
    return Verdict(
        sustainable=not losers and adequate,
        losers=losers,
        winners=winners,
        balance_adequate=adequate,
    )


@dataclass(frozen=True)
class PerspectiveGap:
    key: str
    name: str
    self_score: float
    team_score: float

    @property
    def gap(self) -> float:
        """Self-view minus team view: positive when the manager rates higher."""
        return self.self_score - self.team_score

    @property
    def flagged(self) -> bool:
        return abs(self.gap) >= PERSPECTIVE_GAP


def perspective_gaps(
    team: Sequence[SectionScore], self_view: Sequence[SectionScore]
) -> list[PerspectiveGap]:
    """Per section, the manager's self-rating against the team's, where both are scored."""
    mine = {s.key: s for s in self_view if s.sufficient}
    return [
        PerspectiveGap(key=s.key, name=s.name, self_score=mine[s.key].score, team_score=s.score)
        for s in team
        if s.sufficient and s.key in mine
    ]


def default_target(score: float, scale: Scale = SCALE_V1) -> int:
    """One level above the current one, at most the top of the scale."""
    return min(scale.max, score_to_level(score, scale) + 1)


def priorities(result: FrameworkResult, targets: Mapping[str, int] | None = None) -> list[Priority]:
    """Sections below their target: the weakest axis first (lifting it improves balance
    most), then the rest by gap to target, largest first."""
    targets = targets or {}
    items = []
    for section in result.scored:
        target = targets.get(section.key)
        if target is None:
            target = default_target(section.score, result.scale)
        gap = target_score(target, result.scale) - section.score
        if gap > 0:
            items.append(
                Priority(
                    key=section.key,
                    name=section.name,
                    score=section.score,
                    target_level=target,
                    gap=gap,
                    weakest=result.weakest is not None and section.key == result.weakest.key,
                )
            )
    return sorted(items, key=lambda p: (not p.weakest, -p.gap, p.key))


@dataclass(frozen=True)
class TrendPoint:
    key: str
    name: str
    current: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous


def trend(current: Sequence[SectionScore], previous: Sequence[SectionScore]) -> list[TrendPoint]:
    """Section by section against an earlier result, matched by section key across versions."""
    before = {s.key: s.score for s in previous}
    return [
        TrendPoint(key=s.key, name=s.name, current=s.score, previous=before.get(s.key))
        for s in current
    ]


@dataclass(frozen=True)
class FrameworkTotals:
    """Everything scoring needs for one framework of one assessment (plain values)."""

    sections: Sequence[tuple[str, str, int, float]]  # key, name, questions, weight
    totals: Mapping[str, SectionTotals] = field(default_factory=dict)  # by section key
    respondents: int = 0  # completed responses included, for sections nobody answered
    min_raters: int = 1  # fewer respondents with a rated answer leave a section unscored
    scale: Scale = SCALE_V1


def score_framework(data: FrameworkTotals, *, no_loser_rule: bool = False) -> FrameworkResult:
    """Score every section of a framework from its totals."""
    nobody = SectionTotals(data.respondents, 0, 0, 0, 0, 0.0, 0.0)
    sections = [
        section_score(
            key=key,
            name=name,
            questions=questions,
            totals=data.totals.get(key, nobody),
            weight=weight,
            min_raters=data.min_raters,
            scale=data.scale,
        )
        for key, name, questions, weight in data.sections
    ]
    return framework_result(sections, no_loser_rule=no_loser_rule, scale=data.scale)
