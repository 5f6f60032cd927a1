"""Scores, balance and priorities: pure functions on plain values.

No ORM here: ``results.assessment_results`` sums answers in SQL (per
respondent and section, then per section) and calls these functions. Every
formula and threshold is stated in docs/scoring.md, and ``FORMULA_VERSION``
changes whenever one of them does, so a stored or exported figure always says
which rules produced it.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from django.utils.translation import gettext as _

FORMULA_VERSION = "1"

SCALE_MIN = 1
SCALE_MAX = 5
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


def level_to_score(level: float) -> float:
    """Map a mean level on the 1-5 scale to 0-100 (1 -> 0, 5 -> 100)."""
    return (level - SCALE_MIN) / (SCALE_MAX - SCALE_MIN) * 100


def score_to_level(score: float) -> int:
    """The maturity level whose band holds a 0-100 score (bands are 25 points wide,
    centred on each level: 0-12.5 is level 1, 12.5-37.5 level 2, ... 87.5-100 level 5)."""
    mean_level = SCALE_MIN + score / 100 * (SCALE_MAX - SCALE_MIN)
    return max(SCALE_MIN, min(SCALE_MAX, math.floor(mean_level + 0.5)))


def target_score(level: int) -> float:
    return level_to_score(level)


@dataclass(frozen=True)
class Tally:
    """One respondent's answers to one section, as summed in SQL."""

    level_sum: int
    rated: int  # answers with a level
    not_applicable: int = 0

    def __post_init__(self) -> None:
        if self.rated < 0 or self.not_applicable < 0:
            raise ValueError("counts cannot be negative")
        if not SCALE_MIN * self.rated <= self.level_sum <= SCALE_MAX * self.rated:
            raise ValueError("level_sum does not fit the number of rated answers")

    @classmethod
    def from_levels(cls, levels: Sequence[int | None]) -> "Tally":
        """From raw answers: a level 1-5, or None for "not applicable / don't know"."""
        rated = [level for level in levels if level is not None]
        return cls(level_sum=sum(rated), rated=len(rated), not_applicable=len(levels) - len(rated))


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

    @property
    def answered(self) -> int:
        return self.rated + self.not_applicable

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
) -> SectionScore:
    """0-100 score for one section from its totals.

    The score is the mean of every rated answer (pooled across respondents),
    rescaled to 0-100. "Not applicable" answers are left out, never counted as
    zero. Fewer rated answers than MIN_RATED_SHARE of the possible ones, or fewer
    respondents with a rated answer than ``min_raters``, leaves the section
    unscored. The spread is the population standard deviation of
    the respondents' own section scores.
    """
    possible = questions * totals.respondents
    rated = totals.rated
    if not rated or rated < MIN_RATED_SHARE * possible or totals.rated_respondents < min_raters:
        score = level = spread = None
    else:
        score = level_to_score(totals.level_sum / rated)
        level = score_to_level(score)
        n = totals.rated_respondents
        mean = totals.mean_sum / n
        variance = max(0.0, totals.mean_square_sum / n - mean * mean)  # rounding can dip below 0
        spread = math.sqrt(variance) * 100 / (SCALE_MAX - SCALE_MIN)
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
    )


@dataclass(frozen=True)
class Priority:
    key: str
    name: str
    score: float
    target_level: int
    gap: float  # points to the target
    weakest: bool


@dataclass(frozen=True)
class Verdict:
    sustainable: bool
    losers: tuple[str, ...]  # section names below the floor
    winners: tuple[str, ...]  # section names at or above the floor, strongest first
    balance_adequate: bool
    complete: bool = True  # False: a stakeholder has too little data to judge

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
    """'a', 'a and b', 'a, b and c'; names lower-cased to sit inside a sentence."""
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

    @property
    def scored(self) -> tuple[SectionScore, ...]:
        return tuple(s for s in self.sections if s.sufficient)


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
    sections: Sequence[SectionScore], *, no_loser_rule: bool = False
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
        overall_level=score_to_level(overall),
        balance=balance,
        weakest=weakest,
        alerts=alerts,
        verdict=verdict,
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


def default_target(score: float) -> int:
    """One level above the current one, at most the top of the scale."""
    return min(SCALE_MAX, score_to_level(score) + 1)


def priorities(result: FrameworkResult, targets: Mapping[str, int] | None = None) -> list[Priority]:
    """Sections below their target: the weakest axis first (lifting it improves balance
    most), then the rest by gap to target, largest first."""
    targets = targets or {}
    items = []
    for section in result.scored:
        target = targets.get(section.key) or default_target(section.score)
        gap = target_score(target) - section.score
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
        )
        for key, name, questions, weight in data.sections
    ]
    return framework_result(sections, no_loser_rule=no_loser_rule)
