"""Read queries for framework content."""

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery

from frameworks.loading import SERVICE_DEFINITION_SLUG
from frameworks.models import (
    Concept,
    CustomerAttribute,
    CustomerSurveyVersion,
    FrameworkVersion,
    Question,
    ScaleLevel,
    Section,
)


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


@dataclass(frozen=True)
class AskedContent:
    """One framework version's questionnaire as one audience is asked it: the scale, the
    sections with at least one of their questions (by position), and those questions per
    section (by position), each with its ``version`` attached (no query per row)."""

    version: FrameworkVersion
    levels: tuple[ScaleLevel, ...]
    sections: tuple[Section, ...]
    questions: Mapping[int, tuple[Question, ...]]  # section pk -> its questions asked


# A version is immutable once loaded (the loader makes a new version for any change, and
# the admin refuses edits), so what a version asks of an audience is read once per process
# and kept. The key carries ``loaded_at`` as well as the pk, and any write to framework
# content empties the store (``forget_asked_content``, connected in FrameworksConfig), so a
# reused pk (SQLite reuses the ids of rolled-back rows, as tests do) never meets old content.
_ASKED: dict[tuple[int, object, str], AskedContent] = {}
_ASKED_MAX = 512  # versions x audiences; far more than an install holds
_ASKED_LOCK = threading.Lock()


def asked_content(version: FrameworkVersion, audience: str) -> AskedContent:
    """What ``version`` asks of ``audience`` (``Question.objects.asked_of``): three queries
    the first time in a process (levels, sections, questions), none after."""
    key = (version.pk, version.loaded_at, audience)
    content = _ASKED.get(key)
    if content is not None:
        return content
    levels = tuple(ScaleLevel.objects.filter(version=version).order_by("value"))
    questions = list(
        Question.objects.filter(version=version)
        .asked_of(audience)
        .defer("criteria", "evidence")
        .order_by("section__position", "position")
    )
    by_section: dict[int, list[Question]] = {}
    for question in questions:
        question.version = version
        by_section.setdefault(question.section_id, []).append(question)
    sections = tuple(
        Section.objects.filter(version=version, pk__in=by_section).order_by("position")
    )
    for section in sections:
        section.version = version
        for question in by_section[section.pk]:
            question.section = section
    content = AskedContent(
        version=version,
        levels=levels,
        sections=sections,
        questions=MappingProxyType({pk: tuple(qs) for pk, qs in by_section.items()}),
    )
    with _ASKED_LOCK:
        if len(_ASKED) >= _ASKED_MAX:
            _ASKED.clear()
        _ASKED[key] = content
    return content


def forget_asked_content(**_kwargs: object) -> None:
    """Empty the store of ``asked_content`` (a signal receiver: framework content written)."""
    with _ASKED_LOCK:
        _ASKED.clear()


def loaded_service_attributes() -> set[str]:
    """The customer-side attributes of the newest loaded service-definition version, which
    a customer survey loaded on its own may match (one query; empty before it is loaded)."""
    newest = (
        FrameworkVersion.objects.filter(framework__slug=SERVICE_DEFINITION_SLUG)
        .order_by("-number")
        .values("pk")[:1]
    )
    return set(
        Question.objects.filter(version__in=Subquery(newest), side=Question.Side.CUSTOMER)
        .values_list("attribute", flat=True)
        .distinct()
    )


def current_customer_survey() -> CustomerSurveyVersion | None:
    """The newest customer survey version with its attributes (two queries), or None."""
    return (
        CustomerSurveyVersion.objects.prefetch_related(
            Prefetch("attributes", queryset=CustomerAttribute.objects.order_by("position"))
        )
        .order_by("-number", "-pk")
        .first()
    )


def customer_survey_version(pk: int) -> CustomerSurveyVersion:
    """One customer survey version with its attributes in order (two queries)."""
    return CustomerSurveyVersion.objects.prefetch_related(
        Prefetch("attributes", queryset=CustomerAttribute.objects.order_by("position"))
    ).get(pk=pk)
