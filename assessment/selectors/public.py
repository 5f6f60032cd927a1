"""Reads for the public pages: the glossary's rating scale."""

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from assessment import scoring
from frameworks.models import FrameworkVersion, ScaleLevel


@dataclass(frozen=True)
class LevelMeaning:
    """What a level looks like, and the frameworks that say so (format-2 frameworks share
    one ladder, so they share one meaning; format-1 frameworks each had their own)."""

    framework: str  # the frameworks' names, joined
    descriptor: str


def _meanings(levels: list[ScaleLevel]) -> tuple[LevelMeaning, ...]:
    """One meaning per distinct descriptor, naming every framework that gives it."""
    names: dict[str, list[str]] = {}
    for level in levels:
        names.setdefault(level.descriptor, []).append(level.version.name)
    return tuple(
        LevelMeaning(framework=", ".join(frameworks), descriptor=descriptor)
        for descriptor, frameworks in names.items()
    )


@dataclass(frozen=True)
class ScaleStep:
    """One level of the rating scale, as the current frameworks name and describe it."""

    value: int
    labels: tuple[str, ...]  # the distinct names the frameworks give it, most common first
    score: float  # the 0-100 score of a section where everyone chose this level
    band_from: float  # section scores in this range fall in this level
    band_to: float
    meanings: tuple[LevelMeaning, ...]


# Before any framework is loaded, the glossary shows the ladder new frameworks are
# written in (format 2: levels 0-5).
CURRENT_FORMAT = FrameworkVersion.Format.V2


def scale_steps() -> list[ScaleStep]:
    """The levels of the current scale (the newest version of every framework: 0-5 once
    the format-2 editions are loaded), each with the names and descriptions those
    versions give it, and the band of section scores that falls in it. One query."""
    newest = (
        FrameworkVersion.objects.filter(framework=OuterRef("version__framework"))
        .order_by("-number")
        .values("pk")[:1]
    )
    levels = list(
        ScaleLevel.objects.filter(version=Subquery(newest))
        .select_related("version__framework")
        .order_by("value", "version__framework__slug")
    )
    # The newest editions' own format decides the ladder (and so each level's score):
    # the latest format among them, so a level 0 that one of them has is never dropped.
    newest_format = max((level.version.format for level in levels), default=CURRENT_FORMAT)
    scale = scoring.scale_for(newest_format)
    by_value: dict[int, list[ScaleLevel]] = {}
    for level in levels:
        by_value.setdefault(level.value, []).append(level)
    half_band = scoring.level_to_score(scale.min + 1, scale) / 2
    steps = []
    for value in range(scale.min, scale.max + 1):
        found = by_value.get(value, [])
        counts: dict[str, int] = {}
        for level in found:
            counts[level.label] = counts.get(level.label, 0) + 1
        score = scoring.level_to_score(value, scale)
        steps.append(
            ScaleStep(
                value=value,
                labels=tuple(sorted(counts, key=lambda label: -counts[label])),
                score=score,
                band_from=max(0.0, score - half_band),
                band_to=min(100.0, score + half_band),
                meanings=_meanings(found),
            )
        )
    return steps
