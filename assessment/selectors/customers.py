"""Reads of customer surveys: the public page, the manager's page and the customers'
results, which are aggregate SQL over the response rows (one query, however many)."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum

from assessment.models import Assessment, CustomerResponse, CustomerSurvey
from assessment.scoring import customers as scoring
from frameworks.models import CustomerAttribute


def survey_for_public(token: str) -> CustomerSurvey | None:
    """The survey behind a public link, with its organisation, team and questionnaire
    (two queries: the survey, then its attributes in order); None for an unknown token."""
    return (
        CustomerSurvey.objects.select_related("organisation", "team", "version")
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
    """A survey's results: how many answered, whether figures may show, and the grid."""

    responses: int
    threshold: int
    grid: scoring.Grid | None
    axis: scoring.AxisScore | None
    comments: int

    @property
    def visible(self) -> bool:
        return self.grid is not None


def _sums_query(survey: CustomerSurvey, positions: list[int]) -> dict[str, float | int | None]:
    aggregates: dict = {"responses": Count("pk"), "comments": Count("pk", filter=~Q(comment=""))}
    for n in positions:
        for prefix in ("i", "p"):
            column = f"{prefix}{n}"
            aggregates[f"{column}_n"] = Count(column)
            aggregates[f"{column}_sum"] = Sum(column)
            aggregates[f"{column}_sq"] = Sum(F(column) * F(column))
    return CustomerResponse.objects.filter(survey=survey).aggregate(**aggregates)


def customer_results(survey: CustomerSurvey) -> CustomerResults:
    """The customers' figures (two queries: the attributes, then one aggregate over every
    response). Below ``CUSTOMER_THRESHOLD`` responses no figure is computed at all, so
    none can reach a page by mistake."""
    attributes = list(survey.version.attributes.order_by("position"))
    row = _sums_query(survey, [a.position for a in attributes])
    threshold = settings.CUSTOMER_THRESHOLD
    responses = row["responses"]
    if responses < threshold:
        return CustomerResults(responses, threshold, None, None, 0)
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
    )


def _rating_sums(row: dict, column: str) -> scoring.RatingSums:
    return scoring.RatingSums(
        n=row[f"{column}_n"] or 0,
        total=float(row[f"{column}_sum"] or 0),
        squares=float(row[f"{column}_sq"] or 0),
    )
