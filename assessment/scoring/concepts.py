"""Cross-framework concepts (issue 15): one framework's figure for a shared concept, with
its uncertainty, and whether several frameworks' figures agree. Pure, no ORM.

``assessment.selectors.concepts`` sums the answers in SQL (per respondent, concept and
framework version, then per concept and version) and calls these functions with the sums,
so nothing here walks the answers one by one.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from assessment.scoring import SCALE_V2, Scale, level_to_score
from assessment.scoring.formula2 import displayed, t_quantile


@dataclass(frozen=True)
class ConceptScore:
    """One framework's figure for one concept: the mean level of the rated answers to the
    questions tagged with it, on 0-100, and a 95 % interval over the raters' own means."""

    raters: int
    mean_level: float
    score: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def concept_score(
    *,
    raters: int,
    rated: int,
    level_sum: int,
    mean_sum: float,
    mean_square_sum: float,
    scale: Scale = SCALE_V2,
) -> ConceptScore:
    """The figure from sums: ``rated`` answers with levels summing to ``level_sum``, given
    by ``raters`` people whose own means (over the concept's questions they rated) sum to
    ``mean_sum`` and their squares to ``mean_square_sum``.

    As ``formula2.section_stats``: the score is the mean of every rated answer; the
    interval is the t-interval of the raters' means (each person one observation: one
    person's answers are not independent), centred on the score, rescaled to 0-100 and
    clipped to it; one rater gives the whole range. The sample variance is
    ``(sum(m^2) - sum(m)^2 / n) / (n - 1)``, floored at 0 against rounding.
    """
    if raters < 1 or rated < 1:
        raise ValueError("a concept's figure needs at least one rated answer")
    mean_level = level_sum / rated
    score = level_to_score(mean_level, scale)
    if raters == 1:
        return ConceptScore(raters, mean_level, score, 0.0, 100.0)
    variance = max(0.0, (mean_square_sum - mean_sum * mean_sum / raters) / (raters - 1))
    half = t_quantile(raters - 1) * math.sqrt(variance / raters) * 100 / (scale.max - scale.min)
    return ConceptScore(raters, mean_level, score, max(0.0, score - half), min(100.0, score + half))


def consistent(scores: Iterable[ConceptScore]) -> bool:
    """False when two frameworks' intervals do not overlap, as displayed (whole points):
    intervals on a line all overlap pairwise exactly when the highest lower bound is at or
    below the lowest upper bound. Fewer than two figures cannot disagree."""
    scores = list(scores)
    if len(scores) < 2:
        return True
    return displayed(max(s.low for s in scores)) <= displayed(min(s.high for s in scores))
