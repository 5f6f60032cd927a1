"""Writes of the frameworks app: the sync step of loading framework files.

``sync_frameworks`` writes frameworks parsed by ``frameworks.loading`` in one
transaction, keyed on (slug, version): identical content is left alone, changed
content becomes version n+1, and a loaded version is never modified.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from django.db import transaction

from frameworks.loading import ParsedFramework
from frameworks.models import (
    Framework,
    FrameworkVersion,
    Question,
    ScaleLevel,
    Section,
)


class SyncStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class SyncResult:
    slug: str
    version: int
    sections: int
    questions: int
    status: SyncStatus

    def summary_line(self) -> str:
        return (
            f"{self.slug:<20} v{self.version:<3} {self.sections:>2} sections "
            f"{self.questions:>3} questions  {self.status}"
        )


@transaction.atomic
def sync_frameworks(*, parsed: Sequence[ParsedFramework]) -> list[SyncResult]:
    """Write parsed frameworks; all or nothing. Changed content becomes a new version."""
    return [_sync_one(framework) for framework in parsed]


def _sync_one(parsed: ParsedFramework) -> SyncResult:
    digest = parsed.content_hash()
    framework, _created = Framework.objects.get_or_create(slug=parsed.slug)
    # Lock the framework row so two loaders cannot both add "version n+1".
    framework = Framework.objects.select_for_update().get(pk=framework.pk)
    latest = framework.versions.order_by("-number").first()

    if latest is not None and latest.content_hash == digest:
        status, version = SyncStatus.UNCHANGED, latest
    else:
        version = _write_version(
            framework, parsed, digest, number=(latest.number + 1 if latest else 1)
        )
        status = SyncStatus.CREATED if latest is None else SyncStatus.UPDATED
    return SyncResult(
        slug=parsed.slug,
        version=version.number,
        sections=len(parsed.sections),
        questions=len(parsed.questions),
        status=status,
    )


def _write_version(
    framework: Framework, parsed: ParsedFramework, digest: str, *, number: int
) -> FrameworkVersion:
    version = FrameworkVersion.objects.create(
        framework=framework,
        number=number,
        name=parsed.name,
        short_name=parsed.short_name,
        source=parsed.source,
        summary=parsed.summary,
        description=parsed.description,
        content_hash=digest,
        source_file=Path(parsed.path).name,
    )
    ScaleLevel.objects.bulk_create(
        ScaleLevel(version=version, value=lv.value, label=lv.label, descriptor=lv.descriptor)
        for lv in parsed.scale
    )
    sections = Section.objects.bulk_create(
        Section(
            version=version,
            key=s.key,
            name=s.name,
            description=s.description,
            weight=s.weight,
            position=position,
        )
        for position, s in enumerate(parsed.sections, start=1)
    )
    by_key = {s.key: s for s in sections}
    questions: list[Question] = []
    for section in parsed.sections:
        for position, q in enumerate(parsed.questions_in(section.key), start=1):
            questions.append(
                Question(
                    version=version,
                    section=by_key[section.key],
                    code=q.code,
                    text=q.text,
                    help_text=q.help,
                    position=position,
                )
            )
    Question.objects.bulk_create(questions)
    return version
