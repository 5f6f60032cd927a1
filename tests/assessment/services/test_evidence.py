"""Evidence's rules below the views (issue 18): what a file is judged to be, what the
services refuse, what the selectors cost, and that the PDF renderer never fetches a file."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from assessment import reports, selectors, services
from assessment.forms.evidence import clean_file_name, inspect_file
from assessment.models import Evidence, EvidenceBlob
from assessment.services.evidence import EvidenceFile
from assessment.services.review import FieldServiceError
from frameworks.models import Question, Section
from tests.factories import make_assessment, make_invitation, make_team


def _upload(content: bytes, name: str = "file.bin") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


# --- judging a file by its content (no database) ------------------------------------------


def test_an_image_claiming_a_huge_canvas_is_refused_before_it_is_decoded():
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 million pixels, a few kB
    assert len(out.getvalue()) < 100_000

    with pytest.raises(ValidationError) as refused:
        inspect_file(_upload(out.getvalue(), "bomb.png"))
    assert refused.value.code == "image_pixels"


def test_office_files_with_macros_or_without_their_parts_are_refused():
    def package(*names: str) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for name in names:
                archive.writestr(name, "<x/>")
        return out.getvalue()

    macros = package("[Content_Types].xml", "xl/workbook.xml", "xl/vbaProject.bin")
    no_types = package("xl/workbook.xml")
    neither = package("[Content_Types].xml", "ppt/presentation.xml")
    for content, code in ((macros, "macros"), (no_types, "type"), (neither, "type")):
        with pytest.raises(ValidationError) as refused:
            inspect_file(_upload(content, "book.xlsx"))
        assert refused.value.code == code


def test_a_csv_is_utf8_text_without_markup():
    accepted = inspect_file(_upload("\ufeffName,Note\r\nAnn,“fine”\r\n".encode(), "a.txt"))
    assert (accepted.content_type, accepted.extension) == ("text/csv", "csv")
    for content in (
        b"Name,Note\r\nAnn,<script>alert(1)</script>\r\n",
        "Name\r\nLatin-1 caf\xe9\r\n".encode("latin-1"),
        b'Name,Note\r\n"unterminated' + b"x" * 200_000,
    ):
        with pytest.raises(ValidationError):
            inspect_file(_upload(content, "a.csv"))


def test_the_users_file_name_is_kept_clean():
    assert clean_file_name("C:\\Users\\ann\\report.pdf") == "report.pdf"
    assert clean_file_name("../../etc/passwd") == "passwd"
    assert clean_file_name("inv\u202eoice\x00.pdf") == "invoice.pdf"


# --- services and selectors -----------------------------------------------------------------


@pytest.fixture
def assessment(organisation):
    return make_assessment(make_team(organisation), status="open")


def _section(assessment, n: int = 0) -> Section:
    return Section.objects.filter(version__assessments=assessment).order_by("position")[n]


def _note(assessment, by, *, title: str = "Note", n: int = 0) -> Evidence:
    return services.evidence_add(
        assessment=assessment,
        section=_section(assessment, n),
        question=None,
        kind="note",
        title=title,
        note="Seen.",
        by=by,
    )


@pytest.mark.django_db
def test_approved_assessments_take_no_evidence_and_keep_theirs(assessment, organisation):
    kept = _note(assessment, organisation.manager)
    assessment.status = "approved"
    assessment.save(update_fields=["status"])

    with pytest.raises(services.ServiceError):
        _note(assessment, organisation.manager)
    with pytest.raises(services.ServiceError):
        services.evidence_delete(evidence=kept, by=organisation.manager)
    assert Evidence.objects.count() == 1


@pytest.mark.django_db
def test_a_question_of_another_section_is_refused_beside_the_question(assessment, organisation):
    elsewhere = Question.objects.filter(section=_section(assessment, 1)).first()
    with pytest.raises(FieldServiceError) as refused:
        services.evidence_add(
            assessment=assessment,
            section=_section(assessment),
            question=elsewhere,
            kind="note",
            title="Note",
            note="x",
            by=organisation.manager,
        )
    assert refused.value.field == "question"


@pytest.mark.django_db
def test_a_leadership_invitee_is_named_and_deletes_only_their_own(assessment, organisation):
    invitation = make_invitation(assessment, name="Lena Leader", audience="leadership")
    other = make_invitation(assessment, name="Otto Other", audience="leadership")
    theirs = services.evidence_add(
        assessment=assessment,
        section=_section(assessment),
        question=None,
        kind="link",
        title="Minutes",
        url="https://example.com/minutes",
        invitation=invitation,
    )
    assert (theirs.added_by_name, theirs.added_by) == ("Lena Leader", None)
    with pytest.raises(services.ServiceError):
        services.evidence_delete(evidence=theirs, invitation=other)
    services.evidence_delete(evidence=theirs, invitation=invitation)
    assert not Evidence.objects.exists()


@pytest.mark.django_db
def test_a_file_over_the_assessments_total_stores_nothing(assessment, organisation, settings):
    settings.EVIDENCE_MAX_TOTAL_BYTES = 10
    with pytest.raises(FieldServiceError) as refused:
        services.evidence_add(
            assessment=assessment,
            section=_section(assessment),
            question=None,
            kind="file",
            title="Big",
            file=EvidenceFile(b"a,b\r\n" * 3, "text/csv", "big.csv"),
            by=organisation.manager,
        )
    assert refused.value.field == "file"
    assert (Evidence.objects.count(), EvidenceBlob.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_the_selectors_take_one_query_however_much_evidence(assessment, organisation):
    for n in range(6):
        _note(assessment, organisation.manager, title=f"Note {n}", n=n % 2)

    with CaptureQueriesContext(connection) as queries:
        listed = selectors.evidence.assessment_evidence(assessment)
        read = [
            (e.section.name, e.question, e.added_by, e.added_by_invitation, e.added_by_name)
            for e in listed
        ]
    assert len(queries) == 1
    assert len(read) == 6
    with CaptureQueriesContext(connection) as queries:
        grouped = selectors.evidence.evidence_by_section(assessment)
    assert len(queries) == 1
    assert list(grouped) == [_section(assessment, 0).pk, _section(assessment, 1).pk]
    assert sum(len(items) for items in grouped.values()) == 6


@pytest.mark.django_db
def test_the_pdf_renderer_never_fetches_evidence(assessment, organisation):
    evidence = services.evidence_add(
        assessment=assessment,
        section=_section(assessment),
        question=None,
        kind="file",
        title="Log",
        file=EvidenceFile(b"a,b\r\n", "text/csv", "log.csv"),
        by=organisation.manager,
    )
    path = f"/assessments/{assessment.pk}/evidence/{evidence.pk}/file/"
    html = (
        f'<html><body><img src="{path}"><img src="http://127.0.0.1{path}">'
        f'<link rel="attachment" href="{path}"><p>Evidence</p></body></html>'
    )
    _pdf, served, refused = reports.html_to_pdf(html)
    assert not any("evidence" in url for url in served)
    assert any("evidence" in url for url in refused)
