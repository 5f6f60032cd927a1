"""Query pieces that several audiences' selectors share."""

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from frameworks.models import FrameworkVersion


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
