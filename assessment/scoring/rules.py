"""The rules a source model sets between its sections (a format-2 file's ``[[rules]]``),
checked against section scores. Pure functions on plain values, no ORM.

- ``leads``: ``section`` should score at least as high as ``over`` (service definition:
  what customers experience leads what the business defines).
- ``precedes``: ``section`` is the earlier stage and should score at least as high as the
  later stage ``over`` (service definition: delivery before excellence).
- ``one_at_a_time``: every section but at most one lies within ``tolerance`` points of
  the others (six dimensions may be built one at a time, but must be tied together).
  Advice, not a failure: ``RuleResult.advice`` is true.

A rule may be missed by ``tolerance`` points and still be met. Scores are compared as
displayed (whole points, ``formula2.displayed``), so the figures a reader sees always
agree with met or not met. A rule over a section without a score is unknown
(``met`` is None), never met or unmet by default. Rules change no score, verdict or
headline: they are shown beside them. The kinds and the shipped rules are described in
docs/frameworks.md ("Rules").
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from assessment.scoring.formula2 import displayed

LEADS = "leads"
PRECEDES = "precedes"
ONE_AT_A_TIME = "one_at_a_time"
PAIRWISE_KINDS = (LEADS, PRECEDES)
KINDS = (*PAIRWISE_KINDS, ONE_AT_A_TIME)
# Kinds whose unmet result is advice on the order of work rather than a rule broken.
ADVICE_KINDS = (ONE_AT_A_TIME,)


class RuleLike(Protocol):
    """What ``check_rules`` reads of a rule (``Rule``, a parsed file's rule, or a rule
    row's values): section keys, empty for ``one_at_a_time``."""

    kind: str
    section: str
    over: str
    tolerance: float | Decimal
    why: str


@dataclass(frozen=True)
class Rule:
    kind: str
    section: str = ""
    over: str = ""
    tolerance: float | Decimal = 0
    why: str = ""


@dataclass(frozen=True)
class RuleFigures:
    """The numbers behind a result, as displayed (whole points)."""

    tolerance: float
    score: int | None = None  # ``section``'s score (one_at_a_time: the section out of step)
    over_score: int | None = None  # ``over``'s score (pairwise kinds)
    shortfall: int | None = None  # pairwise: points ``section`` lies below ``over``, else 0
    spread: int | None = None  # one_at_a_time: highest minus lowest of all sections
    spread_of_rest: int | None = None  # one_at_a_time: the same without the one out of step


@dataclass(frozen=True)
class RuleResult:
    kind: str
    section: str  # one_at_a_time: the section out of step, "" when none is
    over: str
    met: bool | None  # None: a section the rule needs has no score
    figures: RuleFigures
    why: str
    advice: bool = False


def check_rules(
    rules: Sequence[RuleLike], section_scores: Mapping[str, float | None]
) -> list[RuleResult]:
    """One result per rule, in the rules' order. ``section_scores`` maps every section key
    of the framework to its 0-100 score, or None when the section is not scored; a
    whole-framework rule reads every section in it."""
    results = []
    for rule in rules:
        if rule.kind in PAIRWISE_KINDS:
            results.append(_check_pair(rule, section_scores))
        elif rule.kind == ONE_AT_A_TIME:
            results.append(_check_one_at_a_time(rule, section_scores))
        else:
            raise ValueError(f"unknown rule kind {rule.kind!r}; known: {', '.join(KINDS)}")
    return results


def _check_pair(rule: RuleLike, scores: Mapping[str, float | None]) -> RuleResult:
    tolerance = float(rule.tolerance)
    raw, raw_over = scores.get(rule.section), scores.get(rule.over)
    score = None if raw is None else displayed(raw)
    over_score = None if raw_over is None else displayed(raw_over)
    met: bool | None = None
    shortfall = None
    if score is not None and over_score is not None:
        shortfall = max(0, over_score - score)
        met = shortfall <= tolerance
    return RuleResult(
        kind=rule.kind,
        section=rule.section,
        over=rule.over,
        met=met,
        figures=RuleFigures(
            tolerance=tolerance, score=score, over_score=over_score, shortfall=shortfall
        ),
        why=rule.why,
        advice=rule.kind in ADVICE_KINDS,
    )


def _check_one_at_a_time(rule: RuleLike, scores: Mapping[str, float | None]) -> RuleResult:
    """Met when the sections, leaving out the one most out of step, span at most
    ``tolerance`` points. The one left out is the lowest unless leaving out the highest
    brings the rest closer together (the one lagging behind is the one to strengthen)."""
    tolerance = float(rule.tolerance)

    def result(met: bool | None, section: str = "", **figures: int | None) -> RuleResult:
        return RuleResult(
            kind=rule.kind,
            section=section,
            over="",
            met=met,
            figures=RuleFigures(tolerance=tolerance, **figures),
            why=rule.why,
            advice=True,
        )

    if not scores or any(score is None for score in scores.values()):
        return result(None)
    shown = {key: displayed(score) for key, score in scores.items() if score is not None}
    ordered = sorted(shown.values())
    spread = ordered[-1] - ordered[0]
    if spread <= tolerance:
        return result(True, spread=spread)
    without_lowest = ordered[-1] - ordered[1]
    without_highest = ordered[-2] - ordered[0]
    if without_lowest <= without_highest:
        out_of_step, rest_spread = min(shown, key=lambda k: shown[k]), without_lowest
    else:
        out_of_step, rest_spread = max(shown, key=lambda k: shown[k]), without_highest
    return result(
        rest_spread <= tolerance,
        out_of_step,
        score=shown[out_of_step],
        spread=spread,
        spread_of_rest=rest_spread,
    )
