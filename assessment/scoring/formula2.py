"""Formula version 2 (issue 15): section statistics with their uncertainty, verdicts by
floors only, balance comparable across frameworks, priorities by score, withheld means
withheld, and the awarded-level rule. Pure functions on plain values, no ORM.

Scores are on 0-100 and levels on the format-2 scale 0-5 (``SCALE_V2``). Every rule and
threshold here is stated, with its reason, in docs/scoring.md ("Formula version 2").
Used for format-2 versions by ``selectors.results``; format 1 keeps formula 1.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from assessment.scoring import (
    ALERT_GAP,
    SCALE_V2,
    FrameworkResult,
    Priority,
    Scale,
    SectionScore,
    SectionTotals,
    Verdict,
    level_to_score,
    score_to_level,
)

FORMULA_VERSION = SCALE_V2.formula_version  # "2": the scale and its formula agree

# Two-sided 95 % quantiles of Student's t by degrees of freedom (1-30); beyond 30 the
# normal quantile 1.96 is within 0.05 of t. From the standard table (no SciPy needed).
T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
Z_975 = 1.96

# Agreement: rwg(j) against a uniform null over the scale's options (``agreement``), and the
# same comparison for the people's own section averages (``means_agreement``). Below
# AGREEMENT_WEAK on the averages the team is "divided": people see the section so
# differently that one average hides them (LeBreton & Senter 2008 read 0.51-0.70 as
# moderate and 0.50 or less as weak or no agreement). Not judged below DIVIDED_MIN_RATERS:
# with two raters it rests on one difference.
AGREEMENT_WEAK = 0.5
DIVIDED_MIN_RATERS = 3

# The default floor of the Win4 verdict: the lower edge of "meets expectations
# consistently" (level 2), a band boundary, so a score's label and verdict always agree.
DEFAULT_FLOOR_LEVEL = 2


def t_quantile(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("a t quantile needs at least one degree of freedom")
    return T_975[df - 1] if df <= len(T_975) else Z_975


def displayed(score: float) -> int:
    """A score as every page shows it: whole points, halves away from zero. Labels,
    verdicts and priorities are decided on this value, so what a reader sees never
    contradicts what it is called (39.6 shows as 40, and 40 is what is judged)."""
    return math.floor(score + 0.5)


def band(score: float, scale: Scale = SCALE_V2) -> int:
    """The band (level of the scale) a score falls in, decided on its displayed value, as
    verdicts and rules are: a score shown as 30 is in the band that starts at 30."""
    return score_to_level(displayed(score), scale)


def default_target(score: float, scale: Scale = SCALE_V2) -> int:
    """A section's target when the manager set none: one band above its own, at most the
    top of the scale."""
    return min(scale.max, band(score, scale) + 1)


def band_floor(level: int, scale: Scale = SCALE_V2) -> int:
    """The lowest displayed score of a level's band (format 2: level 2 starts at 30)."""
    return math.ceil(level_to_score(level - 0.5, scale)) if level > scale.min else 0


@dataclass(frozen=True)
class SectionStats:
    """One section's score with its uncertainty, from the respondents' own section means
    (in levels): the score is their pooled mean, the interval a 95 % t-interval of the
    mean of respondent means, the agreement rwg of those means against a uniform null."""

    n: int
    score: float
    low: float
    high: float
    agreement: float | None  # rwg(j); None with fewer than two respondents
    average_level: float
    share_at_or_above: float  # share of rated answers at the level above the average's floor
    level_above: int  # that level
    # The interval's half-width before clipping to 0-100 (100 with one respondent): what a
    # change's margin combines (``change_margin``), as clipping would understate it.
    half: float = 0.0
    # 1 - s^2 / sigma^2 on the respondents' own section averages (clipped to 0-1): how far
    # apart the people are, not the questions. None with fewer than two respondents.
    means_agreement: float | None = None

    @property
    def divided(self) -> bool:
        """People's own section averages too far apart for one average to describe them.
        Decided on the averages, not on rwg(j): people who agree with each other on
        questions of different levels are not divided (rwg(j) on pooled answers would
        count the questions' differences as disagreement)."""
        return (
            self.means_agreement is not None
            and self.n >= DIVIDED_MIN_RATERS
            and self.means_agreement < AGREEMENT_WEAK
        )

    @property
    def share_percent(self) -> int:
        """``share_at_or_above`` in whole percent, as pages print it."""
        return math.floor(100 * self.share_at_or_above + 0.5)

    @property
    def half_width(self) -> float:
        """The interval's half-width before clipping to 0-100."""
        return self.half


def section_stats(
    respondent_means: Sequence[float],
    level_counts: Mapping[int, int],
    scale: Scale = SCALE_V2,
) -> SectionStats:
    """Statistics of one section. ``respondent_means``: each rater's mean level in the
    section; ``level_counts``: how many rated answers chose each level (pooled).

    The score is the mean of all rated answers (as in formula 1); the interval is the
    t-interval of the respondents' means (each respondent one observation: answers of one
    person are not independent), rescaled to 0-100 and clipped to it; one respondent
    gives the whole range. The agreement is ``agreement``'s rwg(j).
    """
    return stats_from_sums(
        n=len(respondent_means),
        mean_sum=math.fsum(respondent_means),
        mean_square_sum=math.fsum(m * m for m in respondent_means),
        level_counts=level_counts,
        scale=scale,
    )


def stats_from_totals(totals: SectionTotals, scale: Scale = SCALE_V2) -> SectionStats:
    """``section_stats`` from what the results query sums per section (no per-answer
    Python: the respondents' means arrive as their sum and sum of squares)."""
    return stats_from_sums(
        n=totals.rated_respondents,
        mean_sum=totals.mean_sum,
        mean_square_sum=totals.mean_square_sum,
        level_counts=dict(enumerate(totals.level_counts, start=SCALE_V2.min)),
        scale=scale,
    )


def stats_from_sums(
    *,
    n: int,
    mean_sum: float,
    mean_square_sum: float,
    level_counts: Mapping[int, int],
    scale: Scale = SCALE_V2,
) -> SectionStats:
    """The statistics of ``section_stats`` from n, the sum of the respondents' means and
    the sum of their squares: the sample variance is (sum m^2 - (sum m)^2 / n) / (n - 1)."""
    rated = sum(level_counts.values())
    if n == 0 or rated == 0:
        raise ValueError("section statistics need at least one rated answer")
    mean_level = sum(level * count for level, count in level_counts.items()) / rated
    score = level_to_score(mean_level, scale)
    if n == 1:
        low, high, agreement, half, means_agreement = 0.0, 100.0, None, 100.0, None
    else:
        # Rounding can take the difference a hair below zero for identical means.
        variance = max(0.0, (mean_square_sum - mean_sum * mean_sum / n) / (n - 1))
        means_agreement = max(0.0, min(1.0, 1 - variance / uniform_variance(scale)))
        # Answers are whole levels, so a person's average of J answers is known no better
        # than their rounding: variance 1 / (12 J) (Sheppard). The interval never claims
        # certainty from a few identical answers.
        variance = max(variance, 1 / (12 * rated / n))
        half = t_quantile(n - 1) * math.sqrt(variance / n) * 100 / (scale.max - scale.min)
        low, high = max(0.0, score - half), min(100.0, score + half)
        agreement = rwg_j(level_counts, mean_level, items=rated / n, scale=scale)
    # The level above the average as pages print it (one decimal): 3.95 reads "4.0", so
    # its distribution counts the answers at 5, not at 4.
    level_above = min(scale.max, math.floor(round(mean_level, 1)) + 1)
    share = sum(c for level, c in level_counts.items() if level >= level_above) / rated
    return SectionStats(
        n=n,
        score=score,
        low=low,
        high=high,
        agreement=agreement,
        average_level=mean_level,
        share_at_or_above=share,
        level_above=level_above,
        half=half,
        means_agreement=means_agreement,
    )


def rwg_j(
    level_counts: Mapping[int, int], mean_level: float, *, items: float, scale: Scale = SCALE_V2
) -> float:
    """James, Demaree and Wolf's (1984) multi-item agreement index against a uniform null:

        rwg(j) = J (1 - s^2 / sigma^2) / (J (1 - s^2 / sigma^2) + s^2 / sigma^2)

    with J the items each rater answered (here the mean number of rated answers per rater),
    sigma^2 = (A^2 - 1) / 12 the variance of a choice made at random among the scale's A
    options, and s^2 the observed variance of the answers. rwg(j) needs the mean of the
    items' variances across raters; the results query sums answers per rater and section,
    not per question, so s^2 here is the variance of all the section's rated answers
    pooled (from ``level_counts``). That is the items' mean variance plus the variance
    between the items' means, never less: the index can only understate agreement, so a
    team is never called in agreement when it is not. 0 when s^2 >= sigma^2 (answers at
    least as far apart as random ones), 1 when every answer is the same."""
    rated = sum(level_counts.values())
    if rated < 2:
        return 1.0
    squares = sum(c * (level - mean_level) ** 2 for level, c in level_counts.items())
    ratio = squares / (rated - 1) / uniform_variance(scale)
    if ratio >= 1:
        return 0.0
    return items * (1 - ratio) / (items * (1 - ratio) + ratio)


def uniform_variance(scale: Scale = SCALE_V2) -> float:
    """The variance of a choice made at random among the scale's options: (A^2 - 1) / 12."""
    options = scale.max - scale.min + 1
    return (options * options - 1) / 12


def balance(scores: Sequence[float]) -> float:
    """100 when every section scores the same; 100 - d when one section lies d points
    from all the others, however many sections the framework has.

    100 x (1 - SD / SD1), with SD the population standard deviation of the section
    scores and SD1 = 100 x sqrt(k - 1) / k the SD of k sections of which one is 100 points
    from the rest. Formula 1 divided by 50 for every k, so one section 40 points low gave
    65.4 with four sections and 70.2 with six: not comparable side by side.
    """
    k = len(scores)
    if k < 2:
        return 100.0
    mean = sum(scores) / k
    sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / k)
    return max(0.0, 100.0 * (1 - sd / (100 * math.sqrt(k - 1) / k)))


@dataclass(frozen=True)
class Verdict2:
    """The Win4 verdict by floors only: every stakeholder at or above the floor wins."""

    sustainable: bool
    complete: bool  # False: a stakeholder is withheld, so nobody can be declared sustainable
    floor: int
    losers: tuple[str, ...]  # below the floor, lowest first


def verdict(scores: Mapping[str, float | None], *, floor: int) -> Verdict2:
    """Sustainable when every stakeholder's displayed score is at or above ``floor``
    (a band boundary). Monotonic by construction: raising a score can only take a
    stakeholder from below the floor to above it. Balance is advice beside it, never
    part of it (the source asks that every party wins, not that they win equally)."""
    complete = all(score is not None for score in scores.values())
    losers = tuple(
        key
        for key, score in sorted(
            ((k, s) for k, s in scores.items() if s is not None),
            key=lambda item: (item[1], item[0]),
        )
        if displayed(score) < floor
    )
    return Verdict2(
        sustainable=complete and not losers, complete=complete, floor=floor, losers=losers
    )


@dataclass(frozen=True)
class Headline:
    """A framework's overall figures, or the reason there are none."""

    overall: float | None
    balance: float | None
    withheld: tuple[str, ...]  # sections without a score: the headline waits for them


def headline(scores: Mapping[str, float | None], weights: Mapping[str, float]) -> Headline:
    """Overall (weighted mean) and balance only when every section is scored: a withheld
    section is not dropped from them (three sections at 80 and a fourth withheld would
    otherwise read "overall 80, balance 100")."""
    withheld = tuple(sorted(key for key, score in scores.items() if score is None))
    if withheld or not scores:
        return Headline(None, None, withheld)
    total = sum(weights.get(k, 1.0) for k in scores)
    overall = sum(s * weights.get(k, 1.0) for k, s in scores.items()) / total
    return Headline(overall, balance(list(scores.values())), withheld)


@dataclass(frozen=True)
class Priority2:
    key: str
    score: float
    low: float
    target_level: int
    gap: float


def priorities(
    stats: Mapping[str, SectionStats],
    targets: Mapping[str, int],
    scale: Scale = SCALE_V2,
) -> list[Priority2]:
    """Sections below their target, weakest first: by score, then the lower bound of the
    interval (the less certain of two equal scores first), then the larger gap to target,
    then the key. Sorting by score means no section above the framework's mean comes
    before one below it (formula 1 put a section at 13 before those at 1 and 2, because
    the weakest came first and the rest by gap). Not by the lower bound alone: a section
    at 70 rated by two people would then come before one at 40 rated by twelve."""
    items = []
    for key, s in stats.items():
        target = targets.get(key)
        if target is None:
            target = default_target(s.score, scale)
        gap = level_to_score(target, scale) - s.score
        if gap > 0:
            items.append(Priority2(key, s.score, s.low, target, gap))
    return sorted(items, key=lambda p: (p.score, p.low, -p.gap, p.key))


def awarded_level(section_levels: Mapping[str, int], scale: Scale = SCALE_V2) -> int:
    """The level an assessor awards from their per-section judgements (each section's
    level as moderated, or the team's where not): the highest level L that every section
    reaches, or that all but one reach while that one is no more than one level below.
    One weak section cannot pull the award down by more than a level; two can."""
    if not section_levels:
        raise ValueError("an award needs at least one section")
    levels = sorted(section_levels.values())
    for level in range(scale.max, scale.min - 1, -1):
        below = [lv for lv in levels if lv < level]
        if not below or (len(below) == 1 and below[0] >= level - 1 and len(levels) > 1):
            return level
    return scale.min


def framework_result(
    sections: Sequence[SectionScore],
    stats: Mapping[str, SectionStats],
    *,
    no_loser_rule: bool = False,
    floor: int | None = None,
    scale: Scale = SCALE_V2,
) -> FrameworkResult:
    """A framework's result under formula 2, in the shape every page reads.

    No overall, balance, weakest section or verdict while a section is withheld
    (``headline``). Balance is ``balance`` (comparable across section counts). An alert
    needs the section to lie ``ALERT_GAP`` or more below the overall score and its whole
    interval below the overall, so noise alone raises none. The Win4 verdict is decided
    by floors only (``verdict``); balance is advice beside it.
    """
    scores = {s.key: s.score for s in sections}
    top = headline(scores, {s.key: s.weight for s in sections})
    scored = [s for s in sections if s.sufficient]
    base = FrameworkResult(
        sections=tuple(sections),
        overall=top.overall,
        overall_level=None if top.overall is None else band(top.overall, scale),
        balance=top.balance,
        weakest=None,
        alerts=(),
        formula_version=FORMULA_VERSION,
        scale=scale,
    )
    if floor is None:
        floor = band_floor(DEFAULT_FLOOR_LEVEL, scale)
    if top.overall is None:
        if no_loser_rule:
            judged = verdict(scores, floor=floor)
            base = replace(base, verdict=_as_verdict(judged, sections, top.overall))
        return base
    overall = top.overall
    alerts = tuple(
        sorted(
            (
                s
                for s in scored
                if displayed(overall) - displayed(s.score) >= ALERT_GAP
                and (s.key not in stats or stats[s.key].high < overall)
            ),
            key=lambda s: (s.score, s.key),
        )
    )
    result = replace(base, weakest=min(scored, key=lambda s: (s.score, s.key)), alerts=alerts)
    if no_loser_rule:
        judged = verdict(scores, floor=floor)
        result = replace(result, verdict=_as_verdict(judged, sections, overall))
    return result


def _as_verdict(judged: Verdict2, sections: Sequence[SectionScore], overall: float | None):
    names = {s.key: s.name for s in sections}
    winners = tuple(
        s.name
        for s in sorted((s for s in sections if s.sufficient), key=lambda s: (-s.score, s.key))
        if s.key not in judged.losers and (overall is None or s.score > overall)
    )
    return Verdict(
        sustainable=judged.sustainable,
        losers=tuple(names[key] for key in judged.losers),
        winners=winners,
        balance_adequate=True,  # advice only in formula 2
        complete=judged.complete,
    )


def as_priorities(
    result: FrameworkResult,
    stats: Mapping[str, SectionStats],
    targets: Mapping[str, int],
    *,
    self_assessed: Mapping[str, float | None] | None = None,
) -> list[Priority]:
    """``priorities`` in the shape the pages read (the weakest flagged). With
    ``self_assessed`` (the team's own scores, when ``result`` is moderated), each
    priority carries the team's score beside the official one."""
    names = {s.key: s.name for s in result.sections}
    weakest = result.weakest.key if result.weakest else None
    return [
        Priority(
            key=p.key,
            name=names[p.key],
            score=p.score,
            target_level=p.target_level,
            gap=p.gap,
            weakest=p.key == weakest,
            self_assessed=self_assessed.get(p.key) if self_assessed is not None else None,
        )
        for p in priorities(stats, targets, result.scale)
    ]


def moderate(
    sections: Sequence[SectionScore],
    stats: Mapping[str, SectionStats],
    moderated: Mapping[str, float],
    scale: Scale = SCALE_V2,
) -> tuple[list[SectionScore], dict[str, SectionStats]]:
    """The official sections once an assessor has moderated: a moderated section takes the
    assessor's score, the others keep the team's. ``framework_result`` and ``priorities``
    on what this returns give the official figures; the team's stay beside them.

    A moderated score is a judgement on evidence, not a sample of raters, so it carries
    no sampling interval: its interval is the score itself, and an alert or a priority
    on it is decided on the score alone. A section the team could not score (withheld,
    or mostly "don't know") is scored once the assessor moderates it."""
    official = []
    official_stats = dict(stats)
    for section in sections:
        if section.key not in moderated:
            official.append(section)
            continue
        score = moderated[section.key]
        official.append(replace(section, score=score, level=band(score, scale)))
        official_stats[section.key] = judged(score, scale)
    return official, official_stats


def judged(score: float, scale: Scale = SCALE_V2) -> SectionStats:
    """An assessor's moderated score as statistics: one judgement, no interval, no
    agreement, and no distribution of answers (the share is of the score's own level)."""
    level = scale.min + score / 100 * (scale.max - scale.min)
    return SectionStats(
        n=1,
        score=score,
        low=score,
        high=score,
        agreement=None,
        average_level=level,
        share_at_or_above=0.0,
        level_above=min(scale.max, math.floor(level) + 1),
    )


def change_margin(current: SectionStats | None, previous: SectionStats | None) -> float | None:
    """The 95 % margin of a section's change between two assessments, in points: the two
    intervals' half-widths combined as for a difference of independent means,
    sqrt(h1^2 + h2^2). A change is shown as real only when it is larger than this; None
    when either side has no interval (one rater, or not scored)."""
    if current is None or previous is None or current.n < 2 or previous.n < 2:
        return None
    return math.hypot(current.half_width, previous.half_width)


# Criterion-based review (issue 18): the level one criterion's judgement lets its
# section keep. "met" keeps the section's level; "partly met" supports one level less;
# "not met" and "not evidenced" support at most level 1 ("barely meets expectations"):
# a practice the criterion describes and nobody has shown cannot count as routine.
CRITERION_CAP = 1
VERDICT_STEPS = {"met": 0, "partly": 1}


def supported_level(verdict: str, level: int, scale: Scale = SCALE_V2) -> int:
    """The section level one criterion judged ``verdict`` supports, from ``level``. A
    milder verdict never supports less than a harsher one: "partly met" costs a level but
    never falls below what "not met" would leave."""
    unshown = min(level, max(scale.min, CRITERION_CAP))
    if verdict in VERDICT_STEPS:
        return max(scale.min, unshown, level - VERDICT_STEPS[verdict])
    if verdict in ("not_met", "not_evidenced"):
        return unshown
    raise ValueError(f"unknown verdict {verdict!r}")


def evidenced_level(level: int, verdicts: Sequence[str], scale: Scale = SCALE_V2) -> int:
    """A section's level as its criteria's judgements support it: the lowest level any
    of them supports (``supported_level``), never above ``level`` (the band of its
    moderated or team score). A section whose criteria were all met keeps ``level``."""
    return min([level, *(supported_level(verdict, level, scale) for verdict in verdicts)])
