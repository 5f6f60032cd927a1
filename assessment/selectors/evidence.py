"""Evidence of an assessment: the list its pages show, by section, and who may change it.

The assessor's review workspace and the PDF report read ``assessment_evidence`` and
``evidence_by_section``: names, dates and titles only, never a file's content.
"""

from dataclasses import dataclass

from django.db.models import QuerySet, Sum

from assessment.models import Assessment, Evidence, Invitation
from frameworks.models import Section


def _evidence(assessment: Assessment) -> QuerySet[Evidence]:
    return (
        Evidence.objects.filter(assessment=assessment)
        .select_related("section", "question", "added_by", "added_by_invitation")
        .order_by("section__version__framework__slug", "section__position", "created_at", "pk")
    )


def assessment_evidence(assessment: Assessment) -> list[Evidence]:
    """Every piece of evidence of the assessment, by section then age, with its section,
    question and adder loaded. One query, however many there are."""
    return list(_evidence(assessment))


def evidence_by_section(assessment: Assessment) -> dict[int, list[Evidence]]:
    """``assessment_evidence`` keyed by section id (sections without evidence are left
    out), in section order. One query."""
    grouped: dict[int, list[Evidence]] = {}
    for evidence in _evidence(assessment):
        grouped.setdefault(evidence.section_id, []).append(evidence)
    return grouped


def accepts_evidence(assessment: Assessment) -> bool:
    """Whether evidence may be added to or deleted from the assessment: until it is
    approved. An approved assessment keeps its evidence as it was decided on."""
    return assessment.status != Assessment.Status.APPROVED


def keeps_evidence(assessment: Assessment) -> bool:
    """Whether the assessment's evidence is kept as it is: from its first submission on
    (the assessor judges on it; after a return, newer evidence goes beside it)."""
    return assessment.submitted_at is not None or not accepts_evidence(assessment)


def may_delete(
    evidence: Evidence, *, assessment: Assessment, invitation: Invitation | None = None
) -> bool:
    """Whether evidence may be deleted: by a manager (``invitation`` None), or by the
    leadership invitee who added it, until the assessment is first submitted."""
    if keeps_evidence(assessment):
        return False
    return invitation is None or evidence.added_by_invitation_id == invitation.pk


@dataclass(frozen=True)
class SectionEvidence:
    section: Section
    items: list[tuple[Evidence, bool]]  # each with whether this visitor may delete it


@dataclass(frozen=True)
class EvidencePage:
    sections: list[SectionEvidence]
    count: int
    used_bytes: int
    accepts: bool


def evidence_page(
    assessment: Assessment, *, invitation: Invitation | None = None, deletable: bool = True
) -> EvidencePage:
    """Every section of the assessment with its evidence, for the evidence page: two
    queries (the sections, the evidence). ``deletable`` False: nobody deletes here (the
    assessor's list)."""
    sections = (
        Section.objects.filter(version__assessments=assessment)
        .select_related("version")
        .order_by("version__framework__slug", "position")
    )
    grouped = evidence_by_section(assessment)
    found = [e for items in grouped.values() for e in items]
    return EvidencePage(
        sections=[
            SectionEvidence(
                section,
                [
                    (e, deletable and may_delete(e, assessment=assessment, invitation=invitation))
                    for e in grouped.get(section.pk, [])
                ],
            )
            for section in sections
        ],
        count=len(found),
        used_bytes=sum(e.size for e in found),
        accepts=accepts_evidence(assessment),
    )


def used_bytes(assessment: Assessment) -> int:
    """How many bytes the assessment's evidence files hold. One query."""
    total = Evidence.objects.filter(assessment=assessment).aggregate(total=Sum("size"))["total"]
    return total or 0
