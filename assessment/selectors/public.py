"""Reads for the public pages: the glossary's rating scale."""

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from assessment import scoring
from frameworks.models import FrameworkVersion, ScaleLevel


@dataclass(frozen=True)
class LevelMeaning:
    """What one framework says a level looks like."""

    framework: str
    descriptor: str


@dataclass(frozen=True)
class ScaleStep:
    """One level of the rating scale, as the current frameworks name and describe it."""

    value: int
    labels: tuple[str, ...]  # the distinct names the frameworks give it, most common first
    score: float  # the 0-100 score of a section where everyone chose this level
    band_from: float  # section scores in this range fall in this level
    band_to: float
    meanings: tuple[LevelMeaning, ...]


def scale_steps() -> list[ScaleStep]:
    """The five levels, each with the names and descriptions of the newest version of
    every framework, and the band of section scores that falls in it. One query."""
    newest = (
        FrameworkVersion.objects.filter(framework=OuterRef("version__framework"))
        .order_by("-number")
        .values("pk")[:1]
    )
    levels = (
        ScaleLevel.objects.filter(version=Subquery(newest))
        .select_related("version__framework")
        .order_by("value", "version__framework__slug")
    )
    by_value: dict[int, list[ScaleLevel]] = {}
    for level in levels:
        by_value.setdefault(level.value, []).append(level)
    half_band = scoring.level_to_score(scoring.SCALE_MIN + 1) / 2
    steps = []
    for value in range(scoring.SCALE_MIN, scoring.SCALE_MAX + 1):
        found = by_value.get(value, [])
        counts: dict[str, int] = {}
        for level in found:
            counts[level.label] = counts.get(level.label, 0) + 1
        score = scoring.level_to_score(value)
        steps.append(
            ScaleStep(
                value=value,
                labels=tuple(sorted(counts, key=lambda label: -counts[label])),
                score=score,
                band_from=max(0.0, score - half_band),
                band_to=min(100.0, score + half_band),
                meanings=tuple(
                    LevelMeaning(framework=level.version.name, descriptor=level.descriptor)
                    for level in found
                ),
            )
        )
    return steps
