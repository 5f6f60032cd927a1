"""Evidence a team attaches to a section or question: files, links and notes, each named.

Unlike answers, evidence says who added it and when: it is shown to the assessor as
material, never mixed with the anonymous answers. Files live in the ``evidence`` storage
(``settings.STORAGES``): by default ``EvidenceBlob`` rows in the database, so web nodes
keep no state and a database backup holds the evidence; an S3-compatible store by
configuration (``docs/deploy.md``).
"""

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils.translation import gettext_lazy as _

from assessment.models.assessments import Assessment, Invitation


def evidence_storage():
    """The storage evidence files are kept in (``STORAGES["evidence"]``), resolved when
    used so tests and deployments can configure it."""
    return storages["evidence"]


class EvidenceBlob(models.Model):
    """One stored file of the database storage backend (``assessment.storage``)."""

    name = models.CharField(_("name"), max_length=255, unique=True)
    content = models.BinaryField(_("content"))
    size = models.PositiveIntegerField(_("size"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")

    def __str__(self) -> str:
        return self.name


class Evidence(models.Model):
    """A file, a link or a note attached to a section (and optionally one question)."""

    class Kind(models.TextChoices):
        FILE = "file", _("File")
        LINK = "link", _("Link")
        NOTE = "note", _("Note")

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("assessment")
    )
    section = models.ForeignKey(
        "frameworks.Section", on_delete=models.PROTECT, related_name="+", verbose_name=_("section")
    )
    question = models.ForeignKey(
        "frameworks.Question",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("question"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    # A file: its storage name, the type its content was found to be, and its size.
    file = models.FileField(
        _("file"), storage=evidence_storage, upload_to="evidence/%Y/%m/", blank=True
    )
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    content_type = models.CharField(_("file type"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("size in bytes"), default=0)
    url = models.URLField(_("link"), max_length=500, blank=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    # Who added it: a signed-in user, or a leadership invitee through their link; the
    # name is kept as shown at the time, so the record reads the same later.
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    added_by_invitation = models.ForeignKey(
        Invitation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added through invitation"),
    )
    added_by_name = models.CharField(_("added by (name)"), max_length=200)
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["section__position", "created_at", "pk"]
        indexes = [models.Index(fields=["assessment", "section"], name="evidence_section_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="file", url="") & ~models.Q(file="")
                    | models.Q(kind="link", file="") & ~models.Q(url="")
                    | models.Q(kind="note", file="", url="") & ~models.Q(note="")
                ),
                name="evidence_kind_has_content",
            ),
            models.CheckConstraint(
                condition=~models.Q(added_by__isnull=False, added_by_invitation__isnull=False),
                name="evidence_one_adder",
            ),
        ]

    def __str__(self) -> str:
        return self.title
