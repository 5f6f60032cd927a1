"""Evidence: adding files, links and notes to an assessment, and deleting them (audited).

Files go to the ``evidence`` storage (``settings.STORAGES``). With the database storage
(the default) the file's row is written and deleted in the same transaction as the
evidence itself. With another store (S3), a file is deleted only once the deletion of its
evidence has committed, and a file whose evidence could not be saved is removed again.
"""

from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.models import Assessment, AuditEvent, Evidence, Invitation
from assessment.models.evidence import evidence_storage
from assessment.selectors import evidence as evidence_selectors
from assessment.services.audit import audit_record
from assessment.services.common import ServiceError, new_token
from assessment.services.review import FieldServiceError
from assessment.storage import DatabaseStorage
from frameworks.models import Question, Section

# The accepted types, as ``forms.evidence.inspect_file`` finds them from the content, and
# the ending a stored file gets for each.
PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg", CSV: "csv", XLSX: "xlsx", DOCX: "docx"}


@dataclass(frozen=True)
class EvidenceFile:
    """A file found to be what it says: the bytes to store, its type and a clean name."""

    content: bytes
    content_type: str
    original_name: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]

    @property
    def size(self) -> int:
        return len(self.content)


def _adder_name(user: AbstractBaseUser | None, invitation: Invitation | None) -> str:
    if invitation is not None:
        # Never the address: other invitees and the report read this name.
        return (invitation.name or str(_("A leadership invitee")))[:200]
    return (user.get_full_name() or user.get_username())[:200]


def _locked(assessment: Assessment) -> Assessment:
    return Assessment.objects.select_for_update().get(pk=assessment.pk)


@transaction.atomic
def evidence_add(
    *,
    assessment: Assessment,
    section: Section,
    question: Question | None,
    kind: str,
    title: str,
    file: EvidenceFile | None = None,
    url: str = "",
    note: str = "",
    by: AbstractBaseUser | None = None,
    invitation: Invitation | None = None,
) -> Evidence:
    """Add one piece of evidence, named after who added it: a signed-in manager (``by``)
    or a leadership invitee (``invitation``). Refused once the assessment is approved, and
    for a file that would take the assessment's files over ``EVIDENCE_MAX_TOTAL_BYTES``."""
    if (by is None) == (invitation is None):
        raise ValueError("evidence is added by a user or through an invitation, not both")
    locked = _locked(assessment)
    if not evidence_selectors.accepts_evidence(locked):
        raise ServiceError(
            _("This assessment is approved: its evidence is kept as it was, and none can be added.")
        )
    if question is not None and question.section_id != section.pk:
        raise FieldServiceError(
            _("This question is not in the section you chose."), field="question"
        )
    evidence = Evidence(
        assessment=locked,
        section=section,
        question=question,
        kind=kind,
        title=title,
        added_by=by,
        added_by_invitation=invitation,
        added_by_name=_adder_name(by, invitation),
    )
    if kind == Evidence.Kind.LINK:
        evidence.url = url
    elif kind == Evidence.Kind.NOTE:
        evidence.note = note
    elif kind == Evidence.Kind.FILE and file is not None:
        limit = settings.EVIDENCE_MAX_TOTAL_BYTES
        used = evidence_selectors.used_bytes(locked)
        if used + file.size > limit:
            raise FieldServiceError(
                _(
                    "This file would take the assessment's evidence over its limit of "
                    "%(limit)s (%(used)s used). Delete evidence you no longer need, or add "
                    "a smaller file."
                )
                % {"limit": filesizeformat(limit), "used": filesizeformat(used)},
                field="file",
            )
        evidence.original_name = file.original_name
        evidence.content_type = file.content_type
        evidence.size = file.size
        # The stored name is ours, never the user's: random, with the detected type's ending.
        evidence.file.name = evidence_storage().save(
            f"evidence/{timezone.now():%Y/%m}/{new_token()[:32]}.{file.extension}",
            ContentFile(file.content),
        )
    else:
        raise ServiceError(_("Choose a file, a link or a note."))
    try:
        evidence.save()
    except Exception:
        _forget_file(evidence.file.name)
        raise
    return evidence


def _forget_file(name: str) -> None:
    """Remove a stored file whose evidence was not saved (the database storage's row goes
    with the transaction by itself)."""
    storage = evidence_storage()
    if name and not isinstance(storage, DatabaseStorage):
        storage.delete(name)


@transaction.atomic
def evidence_delete(
    *,
    evidence: Evidence,
    by: AbstractBaseUser | None = None,
    invitation: Invitation | None = None,
) -> None:
    """Delete a piece of evidence and its file, and record who did in the audit trail:
    a manager (``by``), or the leadership invitee who added it (``invitation``). Refused
    once the assessment is approved: its evidence is kept with it."""
    locked = _locked(evidence.assessment)
    if not evidence_selectors.accepts_evidence(locked):
        raise ServiceError(
            _("This assessment is approved: its evidence is kept with it and cannot be deleted.")
        )
    if evidence_selectors.keeps_evidence(locked):
        raise ServiceError(
            _(
                "This assessment has been submitted: its evidence is kept as the assessor "
                "saw it. Add newer evidence beside it instead."
            )
        )
    if not evidence_selectors.may_delete(evidence, assessment=locked, invitation=invitation):
        raise ServiceError(_("You can delete only the evidence you added."))
    name = evidence.file.name
    deleted, _rows = Evidence.objects.filter(pk=evidence.pk).delete()
    if not deleted:  # deleted meanwhile (a second click): nothing more to record
        return
    recorded = {
        "evidence": evidence.title,
        "section": evidence.section.key,
        "added_by": evidence.added_by_name,
    }
    if invitation is not None:
        recorded["deleted_by"] = _adder_name(None, invitation)
    audit_record(
        assessment=locked, actor=by, action=AuditEvent.Action.EVIDENCE_DELETED, after=recorded
    )
    if name:
        storage = evidence_storage()
        if isinstance(storage, DatabaseStorage):
            storage.delete(name)  # a row of this same transaction
        else:
            transaction.on_commit(partial(storage.delete, name))
