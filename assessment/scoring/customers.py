"""The customers' own voice (issue 17): what customers say about each service attribute,
set against what the business says about itself. Pure functions on plain values, no ORM.

Customers rate each attribute twice, on 1-5 with "doesn't apply": how important it is to
them and how well the service performed it. The results query sums those ratings per
attribute (n, sum, sum of squares; "doesn't apply" is stored as NULL, which SQL's COUNT
and SUM skip), and this module turns the sums into

- each attribute's mean with its 95 % interval (``rating_stats``);
- the importance-performance grid of Martilla and James (``grid``);
- the overlay of the team's own score, the team's prediction and the customers' figure,
  with the gaps that lie beyond the noise (``overlay``, ``largest_gaps``);
- the customers' own series on the Win4 customers axis (``customer_axis_score``).

Every rule and threshold is stated, with its reason, in docs/customer-voice.md, and
``CUSTOMER_FORMULA_VERSION`` changes whenever one of them does. Figures are kept
unrounded; pages round them only to show them (``formula2.displayed`` for 0-100).
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from assessment.scoring.formula2 import t_quantile

CUSTOMER_FORMULA_VERSION = "1"

RATING_MIN = 1
RATING_MAX = 5
# Points on 0-100 per step of the 1-5 rating scale.
POINTS_PER_STEP = 100 / (RATING_MAX - RATING_MIN)

# The default of the ``CUSTOMER_THRESHOLD`` setting: no customer figure for an attribute
# rests on fewer answers than this (anonymity and stability, as for staff figures).
DEFAULT_THRESHOLD = 5

# A grid needs at least this many placed attributes for its cross-hairs (their means) to
# be a centre that means anything: the mean of one point is the point itself.
MIN_PLACED_FOR_CENTRE = 2

# Ratings are whole numbers: a customer's view is known no better than its rounding to
# the nearest step, whose variance is 1/12 (Sheppard). The interval's variance is never
# taken below it, so a few identical answers never claim a point-exact mean.
ROUNDING_VARIANCE = 1 / 12


def rating_to_score(mean_rating: float) -> float:
    """A mean rating on 1-5 as a score on 0-100, linearly: 1 is 0, 3 is 50, 5 is 100."""
    return (mean_rating - RATING_MIN) * POINTS_PER_STEP


# --- one attribute's ratings ----------------------------------------------------------------


@dataclass(frozen=True)
class RatingSums:
    """What the results query sums for one question of one attribute: how many customers
    gave a rating (``n``; "doesn't apply" is not a rating), their sum and the sum of their
    squares."""

    n: int
    total: float
    squares: float

    @classmethod
    def from_ratings(cls, ratings: Iterable[int | None]) -> "RatingSums":
        """The sums of a list of answers, leaving out "doesn't apply" (None), exactly as
        SQL's COUNT and SUM leave out NULL."""
        rated = [r for r in ratings if r is not None]
        return cls(n=len(rated), total=sum(rated), squares=sum(r * r for r in rated))


@dataclass(frozen=True)
class RatingStats:
    """One question's ratings on 1-5: the mean, the sample standard deviation, and the
    95 % interval of the mean (``low``-``high``, clipped to 1-5). ``half`` is the
    interval's half-width before clipping; ``sd`` and ``half`` are None with one rating,
    whose interval is the whole scale."""

    n: int
    mean: float
    sd: float | None
    half: float | None
    low: float
    high: float

    @property
    def score(self) -> float:
        """The mean on 0-100 (``rating_to_score``)."""
        return rating_to_score(self.mean)

    @property
    def score_half(self) -> float | None:
        """The half-width on 0-100, before clipping (25 points per step of the scale)."""
        return None if self.half is None else self.half * POINTS_PER_STEP

    @property
    def score_low(self) -> float:
        return rating_to_score(self.low)

    @property
    def score_high(self) -> float:
        return rating_to_score(self.high)


def rating_stats(s: RatingSums) -> RatingStats:
    """The statistics of one question's ratings from their sums.

    Mean ``total / n``; sample variance ``(squares - total^2 / n) / (n - 1)``; 95 %
    half-width ``t(n - 1) x sqrt(max(variance, 1/12) / n)``, with ``t`` Student's 97.5 %
    quantile (``formula2.t_quantile``) and 1/12 the variance of rounding to a whole step
    (``ROUNDING_VARIANCE``); interval ``mean +- half`` clipped to 1-5. With one rating
    there is no spread to measure: ``sd`` and ``half`` are None and the interval is the
    whole scale, 1-5 (one customer says nothing about how others would answer). No
    ratings at all raise ValueError: there is no mean to state.
    """
    if s.n < 1:
        raise ValueError("rating statistics need at least one rating")
    # Sums may arrive as int or Decimal from the database; figures are plain floats.
    total, squares = float(s.total), float(s.squares)
    mean = total / s.n
    if s.n == 1:
        return RatingStats(
            n=1, mean=mean, sd=None, half=None, low=float(RATING_MIN), high=float(RATING_MAX)
        )
    # Rounding can take the difference a hair below zero for identical ratings.
    variance = max(0.0, (squares - total * total / s.n) / (s.n - 1))
    half = t_quantile(s.n - 1) * math.sqrt(max(variance, ROUNDING_VARIANCE) / s.n)
    return RatingStats(
        n=s.n,
        mean=mean,
        sd=math.sqrt(variance),
        half=half,
        low=max(float(RATING_MIN), mean - half),
        high=min(float(RATING_MAX), mean + half),
    )


def _exact_mean(s: RatingSums) -> Fraction:
    """The mean as an exact fraction (ratings are whole numbers, so their sum is too):
    what the grid compares with its cross-hairs, so that a point on a line is on it and
    not a rounding error either side of it."""
    return Fraction(s.total) / s.n


# --- the importance-performance grid ------------------------------------------------------


class Quadrant(StrEnum):
    """The four quadrants of the grid, by key (templates give each its label)."""

    CONCENTRATE = "concentrate"  # important, performed below the centre: "Concentrate here"
    KEEP_UP = "keep-up"  # important and performed well: "Keep it up"
    OVER_INVESTMENT = "over-investment"  # less important, performed well
    LOW_PRIORITY = "low-priority"  # less important, performed below the centre


QUADRANTS = (
    Quadrant.CONCENTRATE,
    Quadrant.KEEP_UP,
    Quadrant.OVER_INVESTMENT,
    Quadrant.LOW_PRIORITY,
)


def quadrant(
    importance: float | Fraction,
    performance: float | Fraction,
    *,
    importance_line: float | Fraction,
    performance_line: float | Fraction,
) -> Quadrant:
    """The quadrant of a point. A value on a line counts as high: a point exactly at the
    centre of importance is important, one exactly at the centre of performance is
    performed well."""
    important = importance >= importance_line
    performed = performance >= performance_line
    if important:
        return Quadrant.KEEP_UP if performed else Quadrant.CONCENTRATE
    return Quadrant.OVER_INVESTMENT if performed else Quadrant.LOW_PRIORITY


@dataclass(frozen=True)
class AttributeSums:
    """One attribute's two questions, summed: importance and performance."""

    slug: str
    name: str
    importance: RatingSums
    performance: RatingSums


@dataclass(frozen=True)
class GridPoint:
    """A placed attribute: its importance and performance statistics (means, intervals,
    n), its quadrant, and whether the quadrant is settled (all four corners of its
    interval box lie in it). ``quadrant`` is None, and ``settled`` False, on a grid
    without a centre."""

    slug: str
    name: str
    importance: RatingStats
    performance: RatingStats
    quadrant: Quadrant | None
    settled: bool


@dataclass(frozen=True)
class Unplaced:
    """An attribute with too few answers to be placed: no figure of it is shown, only
    that it has too few answers."""

    slug: str
    name: str
    importance_n: int
    performance_n: int


@dataclass(frozen=True)
class Grid:
    """The importance-performance grid: the cross-hairs (None without a centre), the
    placed attributes in the order given, and those with too few answers."""

    threshold: int
    importance_line: float | None
    performance_line: float | None
    points: tuple[GridPoint, ...]
    unplaced: tuple[Unplaced, ...]

    @property
    def has_centre(self) -> bool:
        """Whether the grid has cross-hairs, so its points have quadrants."""
        return self.importance_line is not None

    @property
    def by_quadrant(self) -> tuple[tuple[Quadrant, tuple[GridPoint, ...]], ...]:
        """Each quadrant (``QUADRANTS`` order) with its points; empty without a centre."""
        if not self.has_centre:
            return ()
        return tuple((q, tuple(p for p in self.points if p.quadrant == q)) for q in QUADRANTS)

    def point(self, slug: str) -> GridPoint | None:
        """The placed attribute ``slug``, or None if it is not placed."""
        return next((p for p in self.points if p.slug == slug), None)


def grid(attributes: Sequence[AttributeSums], *, threshold: int = DEFAULT_THRESHOLD) -> Grid:
    """Martilla and James's (1977) importance-performance grid, with data-centred
    cross-hairs.

    An attribute is placed only when both its importance and its performance have at
    least ``threshold`` ratings; the others are listed as unplaced, with no figure. The
    cross-hairs are the unweighted means, over the placed attributes, of their mean
    importance and of their mean performance (each attribute counts once, however many
    customers rated it). A point on a line counts as high (``quadrant``); the comparison
    is exact, on the means as fractions. A quadrant is settled when the four corners of
    the point's interval box (importance low/high x performance low/high) all lie in it,
    so more answers are unlikely to move it; otherwise it is unsettled. With fewer than
    ``MIN_PLACED_FOR_CENTRE`` placed attributes there are no cross-hairs: the points keep
    their figures but have no quadrant.
    """
    if threshold < 1:
        raise ValueError("the threshold is at least one rating")
    placed = [a for a in attributes if a.importance.n >= threshold and a.performance.n >= threshold]
    unplaced = tuple(
        Unplaced(a.slug, a.name, a.importance.n, a.performance.n)
        for a in attributes
        if a.importance.n < threshold or a.performance.n < threshold
    )
    if len(placed) < MIN_PLACED_FOR_CENTRE:
        points = tuple(
            GridPoint(
                a.slug, a.name, rating_stats(a.importance), rating_stats(a.performance), None, False
            )
            for a in placed
        )
        return Grid(threshold, None, None, points, unplaced)
    importance_line = sum((_exact_mean(a.importance) for a in placed), Fraction(0)) / len(placed)
    performance_line = sum((_exact_mean(a.performance) for a in placed), Fraction(0)) / len(placed)
    lines = {"importance_line": importance_line, "performance_line": performance_line}
    points = []
    for a in placed:
        imp, perf = rating_stats(a.importance), rating_stats(a.performance)
        corners = {
            quadrant(i, p, **lines) for i in (imp.low, imp.high) for p in (perf.low, perf.high)
        }
        here = quadrant(_exact_mean(a.importance), _exact_mean(a.performance), **lines)
        points.append(GridPoint(a.slug, a.name, imp, perf, here, corners == {here}))
    return Grid(threshold, float(importance_line), float(performance_line), tuple(points), unplaced)


# --- the business's view against the customers' -------------------------------------------


class GapKind(StrEnum):
    """The two gaps of the overlay."""

    SELF = "self"  # the team's own score against the customers'
    PREDICTION = "prediction"  # the team's prediction against the customers'


@dataclass(frozen=True)
class OverlayInput:
    """One attribute's three figures on 0-100, each with its 95 % half-width before
    clipping. ``team``: the team's own score on the matching service-definition
    questions (formula 2: ``SectionStats.score`` and ``.half``); ``predicted``: the
    team's prediction of what customers would say; ``customers``: the customers'
    performance statistics where the attribute is placed on the grid, else None.

    A half-width of None means the figure's uncertainty is not known (one rater), and no
    gap with it is named; a figure that is one agreed judgement, with no sampling error,
    is given with half-width 0."""

    slug: str
    name: str
    team: float | None = None
    team_half: float | None = None
    predicted: float | None = None
    predicted_half: float | None = None
    customers: RatingStats | None = None


@dataclass(frozen=True)
class Overlay:
    """One attribute's three figures on 0-100 and the two gaps to the customers' figure,
    signed, in points: ``self_gap = team - customers`` (above 0: the team rates itself
    higher than customers do) and ``misjudged = predicted - customers`` (above 0: the
    team expected customers to rate it higher than they did). Each gap has its 95 %
    margin and is beyond the noise only when larger than it; None where a figure is
    missing (the margin also where a half-width is unknown)."""

    slug: str
    name: str
    team: float | None
    team_half: float | None
    predicted: float | None
    predicted_half: float | None
    customers: float | None
    customers_half: float | None
    customers_n: int | None
    self_gap: float | None
    self_gap_margin: float | None
    self_gap_beyond_noise: bool
    misjudged: float | None
    misjudged_margin: float | None
    misjudged_beyond_noise: bool

    @property
    def largest_gap_kind(self) -> GapKind | None:
        """The larger of the gaps beyond the noise (the self gap when they are the same
        size: the business's own view against the customers' is the gap the overlay is
        about); None when neither is beyond the noise."""
        named = [
            (abs(gap), order, kind)
            for gap, beyond, order, kind in (
                (self.self_gap, self.self_gap_beyond_noise, 0, GapKind.SELF),
                (self.misjudged, self.misjudged_beyond_noise, 1, GapKind.PREDICTION),
            )
            if beyond and gap is not None
        ]
        return min(named, key=lambda g: (-g[0], g[1]))[2] if named else None

    @property
    def largest_gap(self) -> float | None:
        """The signed value of ``largest_gap_kind``'s gap, or None."""
        kind = self.largest_gap_kind
        if kind is None:
            return None
        return self.self_gap if kind == GapKind.SELF else self.misjudged


def gap_margin(first_half: float | None, second_half: float | None) -> float | None:
    """The 95 % margin of the difference of two figures: their half-widths combined as for
    a difference of independent means, sqrt(h1^2 + h2^2) (as ``formula2.change_margin``).
    None when either half-width is unknown."""
    if first_half is None or second_half is None:
        return None
    return math.hypot(first_half, second_half)


def _gap(
    value: float | None, half: float | None, customers: float | None, customers_half: float | None
) -> tuple[float | None, float | None, bool]:
    """A gap ``value - customers``, its margin, and whether it lies beyond the noise:
    strictly larger than the margin, so a gap inside the noise is never named."""
    if value is None or customers is None:
        return None, None, False
    gap = value - customers
    margin = gap_margin(half, customers_half)
    return gap, margin, margin is not None and abs(gap) > margin


def overlay(rows: Sequence[OverlayInput]) -> list[Overlay]:
    """The overlay of the business-defined and the customer-defined view of each
    attribute, in the order given: the team's own score, its prediction and the
    customers' performance score, with the self gap and the prediction gap and whether
    each lies beyond the noise (``Overlay``)."""
    result = []
    for row in rows:
        c = row.customers
        customers = None if c is None else c.score
        customers_half = None if c is None else c.score_half
        self_gap = _gap(row.team, row.team_half, customers, customers_half)
        misjudged = _gap(row.predicted, row.predicted_half, customers, customers_half)
        result.append(
            Overlay(
                slug=row.slug,
                name=row.name,
                team=row.team,
                team_half=row.team_half,
                predicted=row.predicted,
                predicted_half=row.predicted_half,
                customers=customers,
                customers_half=customers_half,
                customers_n=None if c is None else c.n,
                self_gap=self_gap[0],
                self_gap_margin=self_gap[1],
                self_gap_beyond_noise=self_gap[2],
                misjudged=misjudged[0],
                misjudged_margin=misjudged[1],
                misjudged_beyond_noise=misjudged[2],
            )
        )
    return result


def largest_gaps(overlays: Sequence[Overlay], limit: int = 3) -> list[Overlay]:
    """The attributes where the business and its customers differ most: those with at
    least one gap beyond the noise (self or prediction), each listed once, ordered by
    the size of its larger such gap (``Overlay.largest_gap``), largest first, ties by
    slug; at most ``limit``. A gap inside the noise never puts an attribute here."""
    named = [o for o in overlays if o.largest_gap is not None]
    named.sort(key=lambda o: (-abs(o.largest_gap), o.slug))
    return named[:limit]


# --- the Win4 customers axis --------------------------------------------------------------


@dataclass(frozen=True)
class AxisScore:
    """The customers' own score on the Win4 customers axis (0-100) with its 95 % interval:
    ``half`` before clipping, ``low``-``high`` clipped to 0-100 (the whole range when
    ``half`` is None); ``attributes``: how many attributes it rests on."""

    score: float
    half: float | None
    low: float
    high: float
    attributes: int


def customer_axis_score(g: Grid) -> AxisScore | None:
    """The customers' overall performance score: the unweighted mean of the placed
    attributes' performance scores (each attribute counts once). None when no attribute
    is placed.

    Its half-width is the mean of the attributes' half-widths (on 0-100). The same
    customers rate every attribute, and a customer pleased with one tends to rate the
    others higher too, so the attributes' errors are not independent. The standard
    deviation of a sum is never more than the sum of the standard deviations, whatever
    the correlation, so the mean of the half-widths never understates the mean's own;
    assuming independence (sqrt of the sum of squares, over k) could, by up to sqrt(k)
    times. None (the whole range) when an attribute's half-width is unknown.
    """
    if not g.points:
        return None
    k = len(g.points)
    score = math.fsum(p.performance.score for p in g.points) / k
    halves = [p.performance.score_half for p in g.points]
    if any(h is None for h in halves):
        return AxisScore(score, None, 0.0, 100.0, k)
    half = math.fsum(halves) / k
    return AxisScore(score, half, max(0.0, score - half), min(100.0, score + half), k)
