"""Read queries for framework content."""

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery

from frameworks.models import Concept, FrameworkVersion, Question, Section


def current_versions() -> QuerySet[FrameworkVersion]:
    """The newest version of every framework, with section and question counts (one query)."""
    newest = (
        FrameworkVersion.objects.filter(framework=OuterRef("framework"))
        .order_by("-number")
        .values("pk")[:1]
    )
    return (
        FrameworkVersion.objects.filter(pk__in=Subquery(newest))
        .select_related("framework")
        .annotate(
            section_count=Count("sections", distinct=True),
            question_count=Count("questions", distinct=True),
        )
        .order_by("framework__slug")
    )


def version_with_content(*, slug: str, number: int | None = None) -> FrameworkVersion:
    """One version (the newest unless ``number`` is given) with its scale, sections,
    questions and the concepts each question measures: what anyone may read of it.

    Five queries: the version, its levels, sections, questions and their concepts. Raises
    FrameworkVersion.DoesNotExist when there is no such version. The assessor's criteria
    and evidence prompts are for the review workspace only and are not loaded here (a
    page that tried to show them would cost a query per question, and say so in its
    query count).
    """
    versions = FrameworkVersion.objects.filter(framework__slug=slug).select_related("framework")
    versions = versions.prefetch_related(
        "levels",
        Prefetch(
            "sections",
            queryset=Section.objects.order_by("position").prefetch_related(
                Prefetch(
                    "questions",
                    queryset=Question.objects.order_by("position")
                    .defer("criteria", "evidence")
                    .prefetch_related(
                        Prefetch("concepts", queryset=Concept.objects.order_by("name"))
                    ),
                )
            ),
        ),
    )
    if number is not None:
        return versions.get(number=number)
    version = versions.order_by("-number").first()
    if version is None:
        raise FrameworkVersion.DoesNotExist(slug)
    return version
