"""Writes of the frameworks app: the sync step of loading framework files.

``sync_frameworks`` writes frameworks parsed by ``frameworks.loading`` in one
transaction, keyed on (slug, version): identical content is left alone, changed
content becomes version n+1, and a loaded version's content is never modified. Its
translations are not content (docs/translating.md): they are refreshed in place on every
load, so a corrected German text reaches the versions already in use.

One run may hold several editions of a slug, oldest first (``data/v1/six-dimensions.toml``,
``data/v2/six-dimensions.toml``, then ``data/six-dimensions.toml``). The last edition is
the current one and is compared with the newest loaded version, as always. An earlier
(archived) edition is unchanged when any loaded version has its content, so a fresh
database gets v1, v2 and v3 in order and an existing one gets only the versions it lacks.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from frameworks.loading import (
    ParsedConcept,
    ParsedCustomerSurvey,
    ParsedFramework,
    Translations,
    rule_id,
)
from frameworks.models import (
    Concept,
    CustomerAttribute,
    CustomerSurveyVersion,
    Framework,
    FrameworkRule,
    FrameworkVersion,
    Question,
    ScaleLevel,
    Section,
)


class SyncStatus(StrEnum):
    CREATED = "created"
    UPDATED = "created as a new version"  # of a framework already loaded
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


class ArchivedEditionError(ValueError):
    """An archived edition matches no loaded version and cannot go on top of newer ones."""


@transaction.atomic
def sync_frameworks(*, parsed: Sequence[ParsedFramework]) -> list[SyncResult]:
    """Write parsed frameworks; all or nothing. Changed content becomes a new version.

    Editions of one slug are written in the order given; all but the last are archived
    editions (see the module docstring).
    """
    _sync_concepts(parsed)
    last = {framework.slug: index for index, framework in enumerate(parsed)}
    earlier: dict[str, list[str]] = {}
    results = []
    for index, framework in enumerate(parsed):
        results.append(
            _sync_one(
                framework,
                archived=index != last[framework.slug],
                earlier_hashes=earlier.setdefault(framework.slug, []),
            )
        )
        earlier[framework.slug].append(framework.content_hash())
    return results


def _sync_concepts(parsed: Sequence[ParsedFramework]) -> None:
    """Create or refresh the concepts the format-2 frameworks tag (not versioned)."""
    definitions: dict[str, tuple[ParsedConcept, Translations]] = {}
    for framework in parsed:
        for concept in framework.concept_definitions:
            definitions[concept.key] = (concept, framework.translations)
    for concept, translations in definitions.values():
        Concept.objects.update_or_create(
            key=concept.key,
            defaults={
                "name": concept.name,
                "description": concept.description,
                "translations": _row_translations(translations, f"concepts.{concept.key}"),
            },
        )


def _row_translations(translations: Translations, entry_id: str) -> dict:
    """What one row keeps: ``{language: {field: text}}`` for the entry ``entry_id``."""
    return {
        language: texts[entry_id]
        for language, texts in sorted(translations.items())
        if entry_id in texts
    }


def _refresh(rows, translations: Translations, entry_id) -> int:
    """Set each row's translations from the file; save those that changed. Returns
    how many changed. ``entry_id`` gives a row's id in the translations block."""
    changed = []
    for row in rows:
        wanted = _row_translations(translations, entry_id(row))
        if row.translations != wanted:
            row.translations = wanted
            changed.append(row)
    if changed:
        type(changed[0]).objects.bulk_update(changed, ["translations"])
    return len(changed)


def _sync_version_translations(version: FrameworkVersion, translations: Translations) -> int:
    """Bring a version's translations up to date with its file. A change moves the
    version's ``loaded_at``: what is cached of it (the questionnaire's blocks, its
    content, reports in other languages) is keyed on it and made afresh."""
    changed = (
        _refresh([version], translations, lambda _v: "")
        + _refresh(version.levels.all(), translations, lambda lv: f"scale.{lv.value}")
        + _refresh(version.sections.all(), translations, lambda s: f"sections.{s.key}")
        + _refresh(version.questions.all(), translations, lambda q: f"questions.{q.code}")
        + _refresh(
            version.rules.select_related("section", "over"),
            translations,
            lambda r: (
                "rules."
                + rule_id(r.kind, r.section.key if r.section else "", r.over.key if r.over else "")
            ),
        )
    )
    if changed:
        FrameworkVersion.objects.filter(pk=version.pk).update(loaded_at=timezone.now())
    return changed


def _sync_one(
    parsed: ParsedFramework, *, archived: bool = False, earlier_hashes: Sequence[str] = ()
) -> SyncResult:
    digest = parsed.content_hash()
    framework, _created = Framework.objects.get_or_create(slug=parsed.slug)
    # Lock the framework row so two loaders cannot both add "version n+1".
    framework = Framework.objects.select_for_update().get(pk=framework.pk)
    latest = framework.versions.order_by("-number").first()
    matching = framework.versions.filter(content_hash=digest).order_by("-number").first()

    if latest is not None and latest.content_hash == digest:
        status, version = SyncStatus.UNCHANGED, latest
    elif archived and matching is not None:
        status, version = SyncStatus.UNCHANGED, matching
    elif archived and latest is not None and latest.content_hash not in earlier_hashes:
        # Appending it would put an old edition above the newer versions: the archived
        # file was edited, or files were given out of order.
        raise ArchivedEditionError(
            f"{parsed.path}: an earlier edition of {parsed.slug!r} matches no loaded "
            f"version, and v{latest.number} is newer; archived files must not change"
        )
    else:
        version = _write_version(
            framework, parsed, digest, number=(latest.number + 1 if latest else 1)
        )
        status = SyncStatus.CREATED if latest is None else SyncStatus.UPDATED
    _sync_version_translations(version, parsed.translations)
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
        format=parsed.format,
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
            source_idea=s.source_idea,
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
                    audience=q.audience,
                    reversed=q.reversed,
                    anchors=list(q.anchors),
                    criteria=q.criteria,
                    evidence=list(q.evidence),
                    attribute=q.attribute,
                    side=q.side,
                )
            )
    Question.objects.bulk_create(questions)
    FrameworkRule.objects.bulk_create(
        FrameworkRule(
            version=version,
            position=position,
            kind=rule.kind,
            section=by_key.get(rule.section),
            over=by_key.get(rule.over),
            tolerance=rule.tolerance,
            why=rule.why,
        )
        for position, rule in enumerate(parsed.rules, start=1)
    )
    tagged = {q.code: q.concepts for q in parsed.questions}
    tags = [(q, key) for q in questions for key in tagged[q.code]]
    if tags:
        concepts = {c.key: c for c in Concept.objects.filter(key__in={k for _q, k in tags})}
        Question.concepts.through.objects.bulk_create(
            Question.concepts.through(question=q, concept=concepts[key]) for q, key in tags
        )
    return version


@dataclass(frozen=True)
class SurveySyncResult:
    slug: str
    version: int
    attributes: int
    status: SyncStatus

    def summary_line(self) -> str:
        return f"{self.slug:<20} v{self.version:<3} {self.attributes:>2} attributes  {self.status}"


@transaction.atomic
def sync_customer_surveys(*, parsed: Sequence[ParsedCustomerSurvey]) -> list[SurveySyncResult]:
    """Write customer surveys; changed content becomes a new version, as for frameworks."""
    results = []
    for survey in parsed:
        digest = survey.content_hash()
        latest = (
            CustomerSurveyVersion.objects.select_for_update()
            .filter(slug=survey.slug)
            .order_by("-number")
            .first()
        )
        if latest is not None and latest.content_hash == digest:
            status, number, version = SyncStatus.UNCHANGED, latest.number, latest
        else:
            number = latest.number + 1 if latest else 1
            version = _write_survey_version(survey, digest, number=number)
            status = SyncStatus.CREATED if latest is None else SyncStatus.UPDATED
        _refresh([version], survey.translations, lambda _v: "")
        _refresh(version.attributes.all(), survey.translations, lambda a: f"attributes.{a.key}")
        results.append(
            SurveySyncResult(
                slug=survey.slug, version=number, attributes=len(survey.attributes), status=status
            )
        )
    return results


def _write_survey_version(
    survey: ParsedCustomerSurvey, digest: str, *, number: int
) -> CustomerSurveyVersion:
    version = CustomerSurveyVersion.objects.create(
        slug=survey.slug,
        number=number,
        name=survey.name,
        intro=survey.intro,
        importance_question=survey.importance_question,
        performance_question=survey.performance_question,
        importance_labels=list(survey.importance_labels),
        performance_labels=list(survey.performance_labels),
        not_applicable_label=survey.not_applicable_label,
        comment_question=survey.comment_question,
        content_hash=digest,
        source_file=Path(survey.path).name,
    )
    CustomerAttribute.objects.bulk_create(
        CustomerAttribute(
            version=version,
            position=position,
            key=attribute.key,
            name=attribute.name,
            statement=attribute.statement,
            service_attribute=attribute.service_attribute,
        )
        for position, attribute in enumerate(survey.attributes, start=1)
    )
    return version
