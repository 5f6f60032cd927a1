"""The evidence form: a section (and optionally one of its questions), a title, and a
file, a link or a note.

A file is judged by its content, never by its name or the type the browser claims:
``inspect_file`` reads its first bytes (``filetype``) and then checks the whole of it
for what it says it is. Images are decoded and written again, so what is stored holds
the picture and nothing else (no metadata, no trailing payload).
"""

import csv
import io
import unicodedata
import warnings
import zipfile
from pathlib import PurePosixPath
from typing import Any

import filetype
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from assessment.forms import base
from assessment.models import Assessment, Evidence
from assessment.services.evidence import CSV, DOCX, JPEG, PDF, PNG, XLSX, EvidenceFile
from frameworks.models import Question, Section

# An image larger than this many pixels is refused before it is decoded: a small file
# can claim a huge canvas (a decompression bomb) and take the server's memory.
MAX_IMAGE_PIXELS = 50_000_000
# An office document is a ZIP file: judged from its central directory, never extracted.
MAX_ZIP_MEMBERS = 5_000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_ZIP_RATIO = 100  # uncompressed size : compressed size, for any member
# Markup a browser would run or draw: never accepted as a CSV file.
MARKUP = (b"<!doctype", b"<html", b"<svg", b"<script", b"<?xml", b"<body", b"<iframe")

NOT_ACCEPTED = _(
    "This type of file is not accepted. Upload a PDF, PNG, JPEG, CSV, XLSX or DOCX file."
)


def clean_file_name(name: str) -> str:
    """The user's file name as shown on the page: its last part only, without control or
    format characters (a right-to-left override could disguise it), at most 200 long."""
    last = PurePosixPath((name or "").replace("\\", "/")).name
    kept = "".join(c for c in last if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    return kept.strip()[:200]


def _refuse(message: Any, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _image(data: bytes, content_type: str) -> bytes:
    """The picture decoded and encoded again, without metadata; refused when it is not
    a whole image of the type its first bytes say, or when it is too large to decode."""
    expected = "PNG" if content_type == PNG else "JPEG"
    problem = _refuse(_("The image could not be read. Save it again as PNG or JPEG."), "image")
    too_large = _refuse(
        _("The image is too large (more than 50 million pixels). Make it smaller."),
        "image_pixels",
    )
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own limit: here that is a refusal too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[expected])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise too_large from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise problem from None
    try:
        with image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise too_large
            image.load()
            picture = ImageOps.exif_transpose(image) if expected == "JPEG" else image.copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise problem from None
    keep = ("L", "RGB", "CMYK") if expected == "JPEG" else ("1", "L", "LA", "RGB", "RGBA")
    out = io.BytesIO()
    try:
        if picture.mode not in keep:  # a palette's transparency lives in the metadata
            picture = picture.convert("RGB" if expected == "JPEG" else "RGBA")
        picture.info = {}  # metadata (EXIF, text chunks, ICC profile) is not written again
        if expected == "JPEG":
            picture.save(out, "JPEG", quality=90, optimize=True)
        else:
            picture.save(out, "PNG", optimize=True)
    except (OSError, ValueError):
        raise problem from None
    return out.getvalue()


def _office(data: bytes) -> str:
    """XLSX or DOCX, from the parts inside; refused when it is not a whole ZIP file, holds
    macros, or would unpack to far more than it is (a ZIP bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _refuse(
            _("The file is damaged: it is not a whole XLSX or DOCX file."), "zip"
        ) from None
    unpacked = sum(member.file_size for member in members)
    too_packed = any(
        member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1)
        and member.file_size > 1024 * 1024
        for member in members
    )
    if len(members) > MAX_ZIP_MEMBERS or unpacked > MAX_UNPACKED_BYTES or too_packed:
        raise _refuse(
            _(
                "The file would unpack to far more than its size (a compressed bomb), "
                "so it is not accepted."
            ),
            "zip_bomb",
        )
    names = {member.filename for member in members}
    if "[Content_Types].xml" not in names:
        raise _refuse(NOT_ACCEPTED, "type")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise _refuse(_("Files with macros are not accepted. Save it without macros."), "macros")
    if any(name.startswith("xl/") for name in names):
        return XLSX
    if any(name.startswith("word/") for name in names):
        return DOCX
    raise _refuse(NOT_ACCEPTED, "type")


def _csv(data: bytes) -> None:
    """Refused unless UTF-8 text, without NUL bytes or markup, that the csv module reads."""
    if b"\x00" in data:
        raise _refuse(NOT_ACCEPTED, "type")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(NOT_ACCEPTED, "type") from None
    head = data[:4096].lower()
    if text.lstrip().startswith("<") or any(tag in head for tag in MARKUP):
        raise _refuse(
            _(
                "This file holds web page or image markup (HTML, SVG or XML), "
                "which is not accepted."
            ),
            "markup",
        )
    try:
        rows = sum(1 for _row in csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise _refuse(_("The file is not valid CSV: check its quotation marks."), "csv") from None
    if not rows:
        raise _refuse(NOT_ACCEPTED, "type")


def inspect_file(upload: UploadedFile) -> EvidenceFile:
    """The upload as an ``EvidenceFile``, judged by its content; ``ValidationError`` with a
    message for the file field when it is empty, too large or not an accepted type."""
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size == 0:
        raise _refuse(_("The file is empty."), "empty")
    if upload.size > limit:
        raise _refuse(
            _("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)}, "too_big"
        )
    upload.seek(0)
    data = upload.read(limit + 1)
    if not data:
        raise _refuse(_("The file is empty."), "empty")
    if len(data) > limit:
        raise _refuse(
            _("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)}, "too_big"
        )
    guessed = filetype.guess_mime(data[:8192])
    if data.startswith(b"%PDF-"):
        content_type = PDF
    elif guessed in (PNG, JPEG):
        content_type = guessed
        data = _image(data, guessed)
    elif data.startswith(b"PK\x03\x04"):
        content_type = _office(data)
    elif guessed is None:
        _csv(data)
        content_type = CSV
    else:
        raise _refuse(NOT_ACCEPTED, "type")
    return EvidenceFile(data, content_type, clean_file_name(upload.name))


class EvidenceForm(base.Form):
    """Evidence for one section of ``assessment`` (and optionally one of its questions)."""

    section = base.ChoiceByIdField(label=_("Section"), queryset=Section.objects.none())
    question = base.QuestionChoiceField(
        label=_("Question (optional)"),
        queryset=Question.objects.none(),
        required=False,
        empty_label=_("The whole section"),
        help_text=_("Choose a question of the section above, or leave the whole section."),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(
        label=_("What you add"),
        choices=Evidence.Kind.choices,
        initial=Evidence.Kind.FILE,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label=_("File"),
        required=False,
        error_messages={"empty": _("The file is empty.")},
        help_text=_("PDF, PNG, JPEG, CSV, XLSX or DOCX. Photos are saved without their metadata."),
    )
    url = forms.URLField(
        label=_("Link"),
        required=False,
        max_length=500,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("An address starting with https:// or http://."),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, assessment: Assessment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        versions = assessment.framework_versions.all()
        self.fields["section"].queryset = (
            Section.objects.filter(version__in=versions)
            .select_related("version")
            .order_by("version__framework__slug", "position")
        )
        self.fields["question"].queryset = (
            Question.objects.filter(version__in=versions)
            .select_related("version", "section")
            .order_by("version__framework__slug", "section__position", "position")
        )
        help_limit = filesizeformat(settings.EVIDENCE_MAX_BYTES)
        self.fields["file"].help_text = _(
            "PDF, PNG, JPEG, CSV, XLSX or DOCX, up to %(limit)s. "
            "Photos are saved without their metadata."
        ) % {"limit": help_limit}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        section, question = cleaned.get("section"), cleaned.get("question")
        if section is not None and question is not None and question.section_id != section.pk:
            self.add_error("question", _("This question is not in the section you chose."))
        kind = cleaned.get("kind")
        cleaned["evidence_file"] = None
        if kind == Evidence.Kind.FILE:
            upload = cleaned.get("file")
            if not upload:
                if "file" not in self.errors:
                    self.add_error("file", _("Choose a file to upload."))
            else:
                try:
                    cleaned["evidence_file"] = inspect_file(upload)
                except ValidationError as error:
                    self.add_error("file", error)
        elif kind == Evidence.Kind.LINK and not cleaned.get("url") and "url" not in self.errors:
            self.add_error("url", _("Enter the link."))
        elif kind == Evidence.Kind.NOTE and not cleaned.get("note") and "note" not in self.errors:
            self.add_error("note", _("Write the note."))
        return cleaned

    def evidence(self) -> dict[str, Any]:
        """The service's arguments: what the kind chosen needs, and nothing else."""
        data = self.cleaned_data
        kind = data["kind"]
        return {
            "section": data["section"],
            "question": data.get("question"),
            "kind": kind,
            "title": data["title"],
            "file": data["evidence_file"] if kind == Evidence.Kind.FILE else None,
            "url": data["url"] if kind == Evidence.Kind.LINK else "",
            "note": data["note"] if kind == Evidence.Kind.NOTE else "",
        }
