"""Reads of customer surveys: the public page, the manager's page and the customers'
results, which are aggregate SQL over the response rows (one query, however many)."""

from dataclasses import dataclass, replace

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from assessment import charts
from assessment.models import (
    Answer,
    Assessment,
    CustomerLink,
    CustomerPrediction,
    CustomerResponse,
    CustomerSurvey,
    Response,
    token_digest,
)
from assessment.scoring import SCALE_V2, formula2
from assessment.scoring import customers as scoring
from assessment.selectors import results as results_selectors
from frameworks.models import CustomerAttribute, Question


def survey_for_public(token: str) -> CustomerSurvey | None:
    """The survey behind a public link, with its organisation, team and questionnaire
    (two queries: the survey, then its attributes in order); None for an unknown token."""
    return (
        CustomerSurvey.objects.select_related("organisation", "team", "version", "assessment")
        .prefetch_related(
            Prefetch("version__attributes", queryset=CustomerAttribute.objects.order_by("position"))
        )
        .filter(public_token=token)
        .first()
    )


def response_count(survey: CustomerSurvey) -> int:
    return survey.responses.count()


def surveys_for_assessment(assessment: Assessment) -> CustomerSurvey | None:
    """The assessment's customer survey, if it has one (one query)."""
    return CustomerSurvey.objects.filter(assessment=assessment).first()


def team_surveys(team) -> QuerySet[CustomerSurvey]:
    return CustomerSurvey.objects.filter(team=team).order_by("-created_at")


@dataclass(frozen=True)
class CustomerResults:
    """A survey's results: how many answered, how many the figures count (a multiple of
    the threshold, see ``customer_results``), whether figures may show, and the grid."""

    responses: int
    threshold: int
    grid: scoring.Grid | None
    axis: scoring.AxisScore | None
    comments: int
    counted: int = 0
    cutoff: int | None = None  # the pk of the last response the figures count

    @property
    def visible(self) -> bool:
        return self.grid is not None


def _sums_query(
    survey: CustomerSurvey, positions: list[int], cutoff: int, batch: int
) -> dict[str, float | int | None]:
    """Per rating column, the count, sum and sum of squares of its first ratings in a
    whole number of batches (of ``batch``), among the responses up to ``cutoff``; two
    queries. Each column is cut on its own: a response that says "doesn't apply" to a
    question does not count for it, so a batch of whole responses can hold a single
    rating of one question, and that rating must wait for ``batch`` ones.

    First one aggregate over the responses; then, in one query, each column's newest
    ratings beyond its last whole batch (fewer than ``batch`` each), which are taken off
    again. Both read the survey's rows through its index, newest first for the second."""
    columns = [f"{prefix}{n}" for n in positions for prefix in ("i", "p")]
    rows = CustomerResponse.objects.filter(survey=survey, pk__lte=cutoff)
    aggregates: dict = {"responses": Count("pk"), "comments": Count("pk", filter=~Q(comment=""))}
    for column in columns:
        aggregates[f"{column}_n"] = Count(column)
        aggregates[f"{column}_sum"] = Sum(column)
        aggregates[f"{column}_sq"] = Sum(F(column) * F(column))
    row = rows.aggregate(**aggregates)
    extra = {c: row[f"{c}_n"] % batch for c in columns}
    for column, value in _newest_ratings(survey, cutoff, extra):
        row[f"{column}_n"] -= 1
        row[f"{column}_sum"] -= value
        row[f"{column}_sq"] -= value * value
    return row


def _newest_ratings(
    survey: CustomerSurvey, cutoff: int, extra: dict[str, int]
) -> list[tuple[str, int]]:
    """(column, rating) of the ``extra[column]`` newest ratings of each column, up to
    ``cutoff``: one query, a UNION of one short index walk per column (none when no
    column has any). Plain SQL: the ORM cannot put LIMIT inside a UNION's parts; the
    names are the model's own columns, never input."""
    table = CustomerResponse._meta.db_table
    parts, params = [], []
    for column, count in extra.items():
        if count:
            # The model's own column and table names, never input.
            select = f"SELECT '{column}' AS name, value FROM (SELECT {column} AS value FROM "  # noqa: S608
            parts.append(
                select + f"{table} WHERE survey_id = %s AND id <= %s AND {column} IS NOT NULL "
                f"ORDER BY id DESC LIMIT %s) AS newest_{column}"
            )
            params += [survey.pk, cutoff, count]
    if not parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return [(name, int(value)) for name, value in cursor.fetchall()]


def customer_results(survey: CustomerSurvey) -> CustomerResults:
    """The customers' figures: below ``CUSTOMER_THRESHOLD`` responses none at all, so none
    can reach a page by mistake. The figures count the first responses in a multiple of
    the threshold (36 responses with a threshold of 5: the first 35), so they change only
    when a whole batch of that many more has arrived: two views a response apart are the
    same, and the difference between two views never shows fewer customers' answers
    than the threshold. Four queries from the threshold (the count, the last response
    counted, the attributes, one aggregate over the responses), and a fifth when a
    question's ratings are not a whole number of batches; one below it."""
    threshold = settings.CUSTOMER_THRESHOLD
    responses = CustomerResponse.objects.filter(survey=survey).count()
    counted = responses - responses % threshold
    if counted < threshold:
        return CustomerResults(responses, threshold, None, None, 0)
    cutoff = (
        CustomerResponse.objects.filter(survey=survey)
        .order_by("pk")
        .values_list("pk", flat=True)[counted - 1]
    )
    attributes = list(survey.version.attributes.order_by("position"))
    row = _sums_query(survey, [a.position for a in attributes], cutoff, threshold)
    sums = [
        scoring.AttributeSums(
            slug=a.key,
            name=a.name,
            importance=_rating_sums(row, f"i{a.position}"),
            performance=_rating_sums(row, f"p{a.position}"),
        )
        for a in attributes
    ]
    grid = scoring.grid(sums, threshold=threshold)
    return CustomerResults(
        responses=responses,
        threshold=threshold,
        grid=grid,
        axis=scoring.customer_axis_score(grid),
        comments=row["comments"],
        counted=counted,
        cutoff=cutoff,
    )


COMMENTS_SHOWN = 200


def customer_comments(results: CustomerResults, survey: CustomerSurvey) -> list[str]:
    """The customers' comments among the responses the figures count, sorted by their
    text (never in the order they came, nor beside any rating); at most COMMENTS_SHOWN
    (one query; none below the threshold)."""
    if results.cutoff is None:
        return []
    return list(
        CustomerResponse.objects.filter(survey=survey, pk__lte=results.cutoff)
        .exclude(comment="")
        .order_by("comment")
        .values_list("comment", flat=True)[:COMMENTS_SHOWN]
    )


def _rating_sums(row: dict, column: str) -> scoring.RatingSums:
    return scoring.RatingSums(
        n=row[f"{column}_n"] or 0,
        total=float(row[f"{column}_sum"] or 0),
        squares=float(row[f"{column}_sq"] or 0),
    )


@dataclass(frozen=True)
class PredictionOffer:
    """What a team member's prediction page needs: the survey's questionnaire, their own
    earlier prediction (if any) and whether it may still change."""

    survey: CustomerSurvey
    prediction: CustomerPrediction | None
    open: bool


def prediction_offer(response: Response) -> PredictionOffer | None:
    """The prediction a respondent may give for their assessment's customer survey, or
    None when it has none (two queries: the survey with its version, the prediction)."""
    survey = (
        CustomerSurvey.objects.select_related("version")
        .filter(assessment_id=response.assessment_id)
        .first()
    )
    if survey is None:
        return None
    return PredictionOffer(
        survey=survey,
        prediction=CustomerPrediction.objects.filter(response=response).first(),
        open=CustomerPrediction.accepted_for(response.assessment),
    )


@dataclass(frozen=True)
class CustomerOverlay:
    """The business-defined and customer-defined view of each attribute side by side
    (``scoring.customers.overlay``), the largest gaps named, and why a column may be
    empty: the team's figures wait for the assessment's results to show."""

    rows: list[scoring.Overlay]
    gaps: list[scoring.Overlay]
    team_visible: bool
    predictors: int
    # Whether the assessment's frameworks ask the team about these attributes at all
    # (today: "Service definition and delivery"); without it the own-score column is empty.
    team_asked: bool = True


def _team_members(assessment: Assessment):
    """The responses the team's own columns count: team members' completed ones only
    (``Response.objects.members``), so the anonymity threshold counts team members alone,
    as for team figures; managers' named answers and predictions are not the team's."""
    return Response.objects.members().completed().filter(assessment=assessment)


def _customer_side_questions(assessment: Assessment):
    """The questions of the assessment's framework versions that ask about what customers
    experience (``Question.Side.CUSTOMER``): what the team's own column and the radars'
    customer series are matched on, by their ``attribute``."""
    return Question.objects.filter(
        version__in=assessment.framework_versions.all(), side=Question.Side.CUSTOMER
    )


def _team_self_stats(assessment: Assessment, attributes: list[str]) -> dict[str, object]:
    """The team's own score on the customer-side service-definition question of each
    attribute (one query): formula 2's statistics with each person's answer as their mean,
    from the completed responses that count, where at least the anonymity threshold rated it."""
    rows = (
        Answer.objects.filter(
            response__in=_team_members(assessment),
            question__in=_customer_side_questions(assessment).filter(attribute__in=attributes),
            submitted_level__isnull=False,
            submitted_not_applicable=False,
            submitted_dont_know=False,
        )
        .values("question__attribute")
        .annotate(
            n=Count("pk"),
            total=Sum("submitted_level"),
            squares=Sum(F("submitted_level") * F("submitted_level")),
            **{
                f"at{level}": Count("pk", filter=Q(submitted_level=level))
                for level in range(SCALE_V2.min, SCALE_V2.max + 1)
            },
        )
    )
    stats = {}
    for row in rows:
        if row["n"] < settings.ANONYMITY_THRESHOLD:
            continue
        stats[row["question__attribute"]] = formula2.stats_from_sums(
            n=row["n"],
            mean_sum=float(row["total"]),
            mean_square_sum=float(row["squares"]),
            level_counts={
                level: row[f"at{level}"] for level in range(SCALE_V2.min, SCALE_V2.max + 1)
            },
        )
    return stats


def _prediction_sums(assessment: Assessment, positions: list[int]) -> dict:
    """The team's predictions summed per attribute (one query), from completed responses
    that count, as the customers' own answers are."""
    aggregates: dict = {"people": Count("pk")}
    for n in positions:
        column = f"p{n}"
        aggregates[f"{column}_n"] = Count(column)
        aggregates[f"{column}_sum"] = Sum(column)
        aggregates[f"{column}_sq"] = Sum(F(column) * F(column))
    return CustomerPrediction.objects.filter(response__in=_team_members(assessment)).aggregate(
        **aggregates
    )


def customer_overlay(
    survey: CustomerSurvey, results: CustomerResults, *, team_visible: bool
) -> CustomerOverlay | None:
    """The overlay for a survey of an assessment, once the customers' figures show (one
    query for the attributes, three more when the team's figures show too). ``team_visible``: the
    assessment's team results show (``Assessment.results_visible``), so the team's own
    score and its prediction may be shown beside the customers'."""
    if not results.visible or survey.assessment_id is None:
        return None
    attributes = [a for a in survey.version.attributes.all() if a.service_attribute]
    if not attributes:  # a questionnaire with no quality of the service-definition model
        return None
    self_stats, sums, team_asked = {}, {"people": 0}, True
    if team_visible:
        assessment = survey.assessment
        matched = [a.service_attribute for a in attributes]
        self_stats = _team_self_stats(assessment, matched)
        sums = _prediction_sums(assessment, [a.position for a in attributes])
        team_asked = _customer_side_questions(assessment).filter(attribute__in=matched).exists()
    inputs = []
    for attribute in attributes:
        team = self_stats.get(attribute.service_attribute)
        predicted = None
        if team_visible:
            rating = _rating_sums(sums, f"p{attribute.position}")
            if rating.n >= settings.ANONYMITY_THRESHOLD:
                predicted = scoring.rating_stats(rating)
        point = results.grid.point(attribute.key)
        inputs.append(
            scoring.OverlayInput(
                slug=attribute.key,
                name=attribute.name,
                team=None if team is None else team.score,
                team_half=None if team is None else team.half,
                predicted=None if predicted is None else predicted.score,
                predicted_half=None if predicted is None else predicted.score_half,
                customers=None if point is None else point.performance,
            )
        )
    rows = scoring.overlay(inputs)
    return CustomerOverlay(
        rows=rows,
        gaps=scoring.largest_gaps(rows),
        team_visible=team_visible,
        predictors=sums["people"],
        team_asked=team_asked,
    )


@dataclass(frozen=True)
class CustomerVoice:
    """Everything "Your customers" shows for a survey: its counts, its figures (from the
    threshold), the overlay with the team's view, and the grid drawn as SVG."""

    survey: CustomerSurvey
    results: CustomerResults
    overlay: CustomerOverlay | None
    chart: SafeString | str

    @property
    def formula_version(self) -> str:
        return scoring.CUSTOMER_FORMULA_VERSION


def customer_voice(
    survey: CustomerSurvey, *, team_visible: bool, chart: bool = True
) -> CustomerVoice:
    """A survey's results for the manager's pages and the report: ``customer_results``,
    then ``customer_overlay``; the grid drawn as SVG unless ``chart`` is False."""
    results = customer_results(survey)
    return CustomerVoice(
        survey=survey,
        results=results,
        overlay=customer_overlay(survey, results, team_visible=team_visible),
        chart=charts.importance_performance_svg(results.grid) if results.visible and chart else "",
    )


def assessment_customer_voice(
    assessment: Assessment, *, team_visible: bool, chart: bool = True
) -> CustomerVoice | None:
    """The customers' results of an assessment's survey, or None without one."""
    survey = (
        CustomerSurvey.objects.select_related("version", "assessment")
        .filter(assessment=assessment)
        .first()
    )
    if survey is None:
        return None
    return customer_voice(survey, team_visible=team_visible, chart=chart)


# The Win4 axis the customers' overall score is drawn on (docs/customer-voice.md).
WIN4_CUSTOMERS_AXIS = ("win4", "customers")


def _section_attributes(assessment: Assessment) -> dict[tuple[str, str], set[str]]:
    """(framework slug, section key) -> the attributes its customer-side questions ask
    about, for the assessment's versions (one query)."""
    rows = _customer_side_questions(assessment).values_list(
        "version__framework__slug", "section__key", "attribute"
    )
    found: dict[tuple[str, str], set[str]] = {}
    for slug, key, attribute in rows:
        found.setdefault((slug, key), set()).add(attribute)
    return found


def with_customer_series(results, voice: CustomerVoice | None) -> None:
    """Draw the customers' own ratings as a series of the radars they speak to: their
    overall score on Win4's customers axis, and on each section whose customer-side
    questions match survey attributes, the mean of those attributes' performance scores
    (``scoring.customers.customer_axis_score`` of them). Nothing below the customers'
    threshold. One query when there is something to draw."""
    if voice is None or not voice.results.visible or not results.panels:
        return
    grid = voice.results.grid
    by_service = {
        a.service_attribute: a.key
        for a in voice.survey.version.attributes.all()
        if a.service_attribute
    }
    sections = _section_attributes(voice.survey.assessment or results.assessment)
    for panel in results.panels:
        values: list[float | None] = []
        points = []
        for row in panel.rows:
            if (panel.slug, row.key) == WIN4_CUSTOMERS_AXIS:
                axis = voice.results.axis
            else:
                keys = {
                    by_service[a]
                    for a in sections.get((panel.slug, row.key), ())
                    if a in by_service
                }
                placed = [p for p in grid.points if p.slug in keys]
                axis = (
                    scoring.customer_axis_score(replace(grid, points=tuple(placed)))
                    if placed
                    else None
                )
            values.append(None if axis is None else axis.score)
            if axis is not None:
                points.append((row.name, axis))
        if points:
            panel.customer_points = points
            panel.chart = results_selectors.radar_for(
                panel,
                extra=[charts.Series(_("Customers' own rating"), values, **charts.CUSTOMERS)],
            )


def link_for_token(token: str):
    """The personal link behind a token, with its survey (one query, two with the survey's
    attributes when it is shown); None for an unknown token."""
    return (
        CustomerLink.objects.select_related(
            "survey__organisation", "survey__team", "survey__version", "survey__assessment"
        )
        .filter(token_hash=token_digest(token))
        .exclude(token_hash="")
        .first()
    )


@dataclass(frozen=True)
class LinkCounts:
    """A survey's personal-link list: how many listed, sent and used, and the response rate."""

    listed: int
    sent: int
    used: int
    erased: int

    @property
    def unsent(self) -> int:
        return self.listed - self.sent - self.erased if self.listed else 0

    @property
    def rate(self) -> float | None:
        """Responses through personal links per link sent, in percent."""
        return None if not self.sent else 100 * self.used / self.sent


def link_counts(survey: CustomerSurvey) -> LinkCounts:
    row = CustomerLink.objects.filter(survey=survey).aggregate(
        listed=Count("pk"),
        sent=Count("pk", filter=Q(sent_at__isnull=False)),
        used=Count("pk", filter=Q(used=True)),
        erased=Count("pk", filter=Q(erased=True, sent_at__isnull=True)),
    )
    return LinkCounts(**row)
