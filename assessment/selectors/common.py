"""Query pieces that several audiences' selectors share."""

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from assessment.models import Assessment, Reopening
from frameworks.models import FrameworkVersion, Section


def count_per_assessment(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT over ``queryset`` for each outer assessment (no row multiplication)."""
    counted = (
        queryset.filter(assessment=OuterRef("pk"))
        .order_by()
        .values("assessment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def versions_prefetch() -> Prefetch:
    """Framework versions with their framework, by slug: one query for a whole list."""
    return Prefetch(
        "framework_versions",
        queryset=FrameworkVersion.objects.select_related("framework").order_by("framework__slug"),
    )


def current_reopening(assessment: Assessment) -> Reopening | None:
    """The reopening that started the assessment's current round, with its sections (and
    their frameworks) in questionnaire order; None in the first round. Two queries, none in
    the first round. The manager's pages, the reopening e-mail and the questionnaire's note
    all read it here."""
    if assessment.round <= 1:
        return None
    return (
        Reopening.objects.filter(assessment_id=assessment.pk, round=assessment.round)
        .prefetch_related(
            Prefetch(
                "sections",
                queryset=Section.objects.select_related("version__framework").order_by(
                    "version__framework__slug", "position"
                ),
            )
        )
        .first()
    )
