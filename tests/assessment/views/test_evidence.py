"""Evidence over HTTP (issue 18): managers and leadership invitees add files, links and
notes; the assessor lists and downloads; hostile files are refused beside the field with
nothing stored; every file is a download only; deletions are audited; every other
principal gets a 404. Real database, real forms, the database storage."""

import io
import zipfile

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook
from PIL import Image, PngImagePlugin

from assessment import services
from assessment.models import Assessment, Assignment, AuditEvent, Evidence, EvidenceBlob, Response
from assessment.services.evidence import EvidenceFile
from frameworks.models import Question, Section
from tests.factories import (
    make_assessment,
    make_assessor,
    make_invitation,
    make_organisation,
    make_team,
    make_user,
)

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- files, real and hostile --------------------------------------------------------------


def pdf_bytes() -> bytes:
    """A real one-page PDF (Pillow writes it)."""
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, "PDF")
    return out.getvalue()


def png_bytes(*, secret: str = "") -> bytes:
    out = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    if secret:
        info.add_text("Comment", secret)
    Image.new("RGB", (16, 12), "#336699").save(out, "PNG", pnginfo=info)
    return out.getvalue()


def jpeg_bytes(*, secret: str = "") -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (16, 12), "#993366")
    exif = Image.Exif()
    if secret:
        exif[0x010E] = secret  # ImageDescription
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def xlsx_bytes() -> bytes:
    workbook = Workbook()
    workbook.active.append(["Month", "Complaints"])
    workbook.active.append(["May", 3])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def docx_bytes() -> bytes:
    """A minimal valid Word document: its content types, relationships and body."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        package.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        package.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>Our complaints procedure</w:t></w:r></w:p></w:body>"
            "</w:document>",
        )
    return out.getvalue()


def zip_bomb() -> bytes:
    """50 MB of zeros in a few kilobytes, dressed as a spreadsheet."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))
    return out.getvalue()


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'


# --- the world -------------------------------------------------------------------------------


@pytest.fixture
def world(organisation):
    team = make_team(organisation)
    assessment = make_assessment(team, status="open")
    sections = list(
        Section.objects.filter(version__assessments=assessment).order_by("position")[:2]
    )
    assessor = make_assessor("assessor")
    Assignment.objects.create(assessment=assessment, assessor=assessor, assigned_by=assessor)
    return {
        "organisation": organisation,
        "manager": organisation.manager,
        "assessment": assessment,
        "section": sections[0],
        "other_section": sections[1],
        "assessor": assessor,
    }


def redeem(client: Client, token: str) -> int:
    """Use an invitation link as an invitee does; the response's pk."""
    client.get(reverse("assessment:invitation_open", args=[token]))
    started = client.post(reverse("assessment:invitation_landing"))
    assert started.status_code == 302, started
    return int(started["Location"].strip("/").split("/")[1])


@pytest.fixture
def leader(world, client_factory):
    """A leadership invitee's browser (after their link) and their response's pk."""
    make_invitation(world["assessment"], name="Lena Leader", token="lead-1", audience="leadership")
    client = client_factory()
    return client, redeem(client, "lead-1")


def evidence_url(world) -> str:
    return reverse("assessment:evidence", args=[world["assessment"].pk])


def upload(client, target, world, name, content, *, kind="file", **extra):
    data = {"section": world["section"].pk, "title": "Our procedure", "kind": kind, **extra}
    if kind == "file":
        data["file"] = _file(name, content)
    return client.post(target, data)


def _file(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def add_note(world, *, title="A note", by=None, invitation=None, section=None) -> Evidence:
    return services.evidence_add(
        assessment=world["assessment"],
        section=section or world["section"],
        question=None,
        kind="note",
        title=title,
        note="We log every complaint.",
        by=by if invitation is None else None,
        invitation=invitation,
    )


def add_file(world, content: bytes = b"a,b\r\n1,2\r\n", **kwargs) -> Evidence:
    return services.evidence_add(
        assessment=world["assessment"],
        section=world["section"],
        question=None,
        kind="file",
        title="Complaints log",
        file=EvidenceFile(content, "text/csv", "log.csv"),
        by=world["manager"],
        **kwargs,
    )


# --- the page ---------------------------------------------------------------------------------


def test_the_page_says_evidence_is_named_and_is_linked_from_the_assessment(manager_client, world):
    detail = manager_client.get(world["assessment"].get_absolute_url()).content.decode()
    assert evidence_url(world) in detail

    page = manager_client.get(evidence_url(world))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Evidence is named." in text
    assert "Unlike the team's answers" in text
    assert world["section"].name in text
    assert 'enctype="multipart/form-data"' in text
    assert "<script" not in text.split("<main", 1)[-1].split("</main>")[0]


@pytest.mark.parametrize(
    ("name", "content", "content_type", "extension"),
    [
        ("report.pdf", pdf_bytes(), "application/pdf", "pdf"),
        ("photo.png", png_bytes(), "image/png", "png"),
        ("photo.jpeg", jpeg_bytes(), "image/jpeg", "jpg"),
        ("log.csv", "Month,Complaints\r\nMay,3\r\nJuin,é\r\n".encode(), "text/csv", "csv"),
        ("figures.xlsx", xlsx_bytes(), XLSX, "xlsx"),
        ("procedure.docx", docx_bytes(), DOCX, "docx"),
    ],
)
def test_a_manager_attaches_each_accepted_type(
    manager_client, world, name, content, content_type, extension
):
    response = upload(manager_client, evidence_url(world), world, name, content)

    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert (evidence.kind, evidence.content_type, evidence.original_name) == (
        "file",
        content_type,
        name,
    )
    assert evidence.added_by == world["manager"]
    assert evidence.added_by_name == world["manager"].get_username() or evidence.added_by_name
    # The stored name is ours, with the detected type's ending; never the user's name.
    assert evidence.file.name.startswith("evidence/")
    assert evidence.file.name.endswith(f".{extension}")
    assert name.rsplit(".", 1)[0] not in evidence.file.name
    assert EvidenceBlob.objects.get().name == evidence.file.name
    page = manager_client.get(evidence_url(world)).content.decode()
    assert "Our procedure" in page
    assert "Added by" in page


def test_images_are_re_encoded_without_their_metadata(manager_client, world):
    upload(manager_client, evidence_url(world), world, "a.png", png_bytes(secret="SECRET-PNG"))
    upload(manager_client, evidence_url(world), world, "b.jpg", jpeg_bytes(secret="SECRET-JPG"))

    png, jpeg = (bytes(blob.content) for blob in EvidenceBlob.objects.order_by("pk"))
    assert b"SECRET-PNG" not in png
    assert b"SECRET-JPG" not in jpeg
    assert b"Exif" not in jpeg
    assert Image.open(io.BytesIO(png)).size == (16, 12)
    assert Image.open(io.BytesIO(jpeg)).format == "JPEG"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.pdf", HTML, "web page or image markup"),
        ("photo.png", SVG, "web page or image markup"),
        ("empty.pdf", b"", "The file is empty."),
        ("bomb.xlsx", zip_bomb(), "compressed bomb"),
        ("damaged.xlsx", b"PK\x03\x04" + b"\x00" * 40, "damaged"),
        ("fake.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image could not be read"),
        ("program.pdf", b"MZ\x90\x00" + b"\x00" * 200, "not accepted"),
        ("binary.csv", b"a,b\x00c\r\n", "not accepted"),
    ],
)
def test_hostile_files_are_refused_beside_the_field_and_nothing_is_stored(
    manager_client, world, name, content, message
):
    response = upload(manager_client, evidence_url(world), world, name, content)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in error for error in errors["file"]), errors
    assert message in response.content.decode().replace("&#x27;", "'")
    assert Evidence.objects.count() == 0
    assert EvidenceBlob.objects.count() == 0


def test_one_byte_over_the_limit_is_refused_and_the_limit_itself_accepted(
    manager_client, world, settings
):
    settings.EVIDENCE_MAX_BYTES = 1000
    at_limit = b"a,b\r\n" + b"x" * 995
    over = at_limit + b"y"

    refused = upload(manager_client, evidence_url(world), world, "over.csv", over)
    assert refused.status_code == 200
    assert "larger than" in refused.context["form"].errors["file"][0]
    assert (Evidence.objects.count(), EvidenceBlob.objects.count()) == (0, 0)

    accepted = upload(manager_client, evidence_url(world), world, "ok.csv", at_limit)
    assert accepted.status_code == 302
    assert Evidence.objects.get().size == 1000


def test_the_assessments_total_is_a_limit_too(manager_client, world, settings):
    settings.EVIDENCE_MAX_TOTAL_BYTES = 30
    add_file(world, b"a,b\r\n" + b"1" * 15)  # 20 bytes used

    response = upload(manager_client, evidence_url(world), world, "more.csv", b"a,b\r\n123456")

    assert response.status_code == 200
    assert "over its limit" in response.context["form"].errors["file"][0]
    assert (Evidence.objects.count(), EvidenceBlob.objects.count()) == (1, 1)


def test_links_must_be_http_or_https_and_are_shown_without_being_followed(manager_client, world):
    url = evidence_url(world)
    for hostile in ("javascript:alert(1)", "ftp://files.example.com/x", "data:text/html,x"):
        refused = upload(manager_client, url, world, "", b"", kind="link", url=hostile)
        assert refused.status_code == 200
        assert "url" in refused.context["form"].errors, hostile
    assert Evidence.objects.count() == 0

    added = upload(manager_client, url, world, "", b"", kind="link", url="https://example.com/p")
    assert added.status_code == 302
    page = manager_client.get(url).content.decode()
    assert 'href="https://example.com/p" rel="noopener noreferrer nofollow"' in page


def test_a_note_and_a_question_of_the_section(manager_client, world):
    question = Question.objects.filter(section=world["section"]).first()
    elsewhere = Question.objects.filter(section=world["other_section"]).first()
    url = evidence_url(world)

    refused = upload(
        manager_client, url, world, "", b"", kind="note", note="Logged.", question=elsewhere.pk
    )
    assert refused.status_code == 200
    assert "not in the section" in refused.context["form"].errors["question"][0]
    missing = upload(manager_client, url, world, "", b"", kind="note", note="")
    assert missing.context["form"].errors["note"] == ["Write the note."]

    added = upload(
        manager_client, url, world, "", b"", kind="note", note="Logged.", question=question.pk
    )
    assert added.status_code == 302
    evidence = Evidence.objects.get()
    assert (evidence.kind, evidence.note, evidence.question) == ("note", "Logged.", question)


# --- downloads ------------------------------------------------------------------------------


def _assert_download(response, content_type: str, content: bytes) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response.content == content


def test_downloads_are_attachments_for_the_manager_the_assessor_and_a_leader(
    manager_client, world, leader, client_factory
):
    content = pdf_bytes()
    upload(manager_client, evidence_url(world), world, "report.pdf", content)
    evidence = Evidence.objects.get()
    pk = world["assessment"].pk

    _assert_download(
        manager_client.get(reverse("assessment:evidence_download", args=[pk, evidence.pk])),
        "application/pdf",
        content,
    )
    assessor = client_factory()
    assessor.force_login(world["assessor"])
    listed = assessor.get(reverse("assessment:review_evidence", args=[pk]))
    assert listed.status_code == 200
    assert "Our procedure" in listed.content.decode()
    assert "Add evidence" not in listed.content.decode()
    _assert_download(
        assessor.get(reverse("assessment:review_evidence_download", args=[pk, evidence.pk])),
        "application/pdf",
        content,
    )
    client, response_pk = leader
    _assert_download(
        client.get(
            reverse("assessment:response_evidence_download", args=[response_pk, evidence.pk])
        ),
        "application/pdf",
        content,
    )


def test_a_link_or_note_has_no_download(manager_client, world):
    note = add_note(world, by=world["manager"])
    url = reverse("assessment:evidence_download", args=[world["assessment"].pk, note.pk])
    assert manager_client.get(url).status_code == 404


# --- leadership invitees -----------------------------------------------------------------------


def test_a_leadership_invitee_adds_evidence_named_after_them(leader, world):
    client, response_pk = leader
    review = client.get(reverse("assessment:review", args=[response_pk])).content.decode()
    url = reverse("assessment:response_evidence", args=[response_pk])
    assert url in review

    page = client.get(url)
    assert page.status_code == 200
    assert "Evidence is named." in page.content.decode()
    added = upload(client, url, world, "photo.png", png_bytes())
    assert added.status_code == 302

    evidence = Evidence.objects.get()
    assert evidence.added_by is None
    assert evidence.added_by_invitation.audience == "leadership"
    assert evidence.added_by_name == "Lena Leader"
    assert "Lena Leader" in client.get(url).content.decode()


def test_a_leader_deletes_only_their_own(leader, world):
    client, response_pk = leader
    response = Response.objects.get(pk=response_pk)
    own = add_note(world, title="Mine", invitation=response.invitation)
    managers = add_note(world, title="The manager's", by=world["manager"])
    page = client.get(reverse("assessment:response_evidence", args=[response_pk])).content.decode()
    assert reverse("assessment:response_evidence_delete", args=[response_pk, own.pk]) in page
    assert reverse("assessment:response_evidence_delete", args=[response_pk, managers.pk]) not in (
        page
    )

    client.post(reverse("assessment:response_evidence_delete", args=[response_pk, managers.pk]))
    assert Evidence.objects.filter(pk=managers.pk).exists()
    client.post(reverse("assessment:response_evidence_delete", args=[response_pk, own.pk]))
    assert not Evidence.objects.filter(pk=own.pk).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.EVIDENCE_DELETED)
    assert event.actor is None
    assert event.after["deleted_by"] == "Lena Leader"


# --- deletion ---------------------------------------------------------------------------------


def test_deleting_is_audited_and_removes_the_file(manager_client, world):
    upload(manager_client, evidence_url(world), world, "report.pdf", pdf_bytes())
    evidence = Evidence.objects.get()
    url = reverse("assessment:evidence_delete", args=[world["assessment"].pk, evidence.pk])

    response = manager_client.post(url)

    assert response.status_code == 302
    assert (Evidence.objects.count(), EvidenceBlob.objects.count()) == (0, 0)
    event = AuditEvent.objects.get(action=AuditEvent.Action.EVIDENCE_DELETED)
    assert event.actor == world["manager"]
    assert event.assessment == world["assessment"]
    assert event.after == {
        "evidence": "Our procedure",
        "section": world["section"].key,
        "added_by": evidence.added_by_name,
    }
    # The timeline names the section, as for a moderation.
    entry = AuditEvent.objects.filter(pk=event.pk).rendered()[0]
    assert ("Section", world["section"].name) in [(c.label, c.after) for c in entry.changes]
    assert ("Evidence", "Our procedure") in [(c.label, c.after) for c in entry.changes]


def test_an_approved_assessment_keeps_its_evidence(manager_client, world):
    evidence = add_note(world, by=world["manager"])
    world["assessment"].status = "approved"
    world["assessment"].save(update_fields=["status"])
    pk = world["assessment"].pk

    deleted = manager_client.post(
        reverse("assessment:evidence_delete", args=[pk, evidence.pk]), follow=True
    )
    assert "kept with it" in deleted.content.decode()
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EVIDENCE_DELETED).exists()

    page = manager_client.get(evidence_url(world)).content.decode()
    assert "Add evidence" not in page
    assert "is approved" in page
    added = upload(manager_client, evidence_url(world), world, "", b"", kind="note", note="x")
    assert added.status_code == 200
    assert Evidence.objects.count() == 1


# --- access ---------------------------------------------------------------------------------


def every_url(world, evidence: Evidence, response_pk: int) -> list[tuple[str, str]]:
    pk, e = world["assessment"].pk, evidence.pk
    return [
        ("get", reverse("assessment:evidence", args=[pk])),
        ("post", reverse("assessment:evidence", args=[pk])),
        ("get", reverse("assessment:evidence_download", args=[pk, e])),
        ("post", reverse("assessment:evidence_delete", args=[pk, e])),
        ("get", reverse("assessment:response_evidence", args=[response_pk])),
        ("post", reverse("assessment:response_evidence", args=[response_pk])),
        ("get", reverse("assessment:response_evidence_download", args=[response_pk, e])),
        ("post", reverse("assessment:response_evidence_delete", args=[response_pk, e])),
        ("get", reverse("assessment:review_evidence", args=[pk])),
        ("get", reverse("assessment:review_evidence_download", args=[pk, e])),
    ]


def test_every_other_principal_gets_a_404_on_every_evidence_url(world, leader, client_factory):
    evidence = add_file(world)
    _client, response_pk = leader
    other = make_organisation("Other Ltd", manager="other")
    make_invitation(world["assessment"], token="team-1", audience="team")
    strangers = {
        "other organisation's manager": other.manager,
        "assessor not assigned": make_assessor("stranger"),
        "signed-in nobody": make_user("nobody"),
    }
    clients = {}
    for label, user in strangers.items():
        clients[label] = client_factory()
        clients[label].force_login(user)
    team_member = client_factory()
    redeem(team_member, "team-1")
    clients["team-audience invitee"] = team_member
    clients["anonymous"] = client_factory()

    for label, client in clients.items():
        for method, url in every_url(world, evidence, response_pk):
            response = getattr(client, method)(url)
            if label in ("anonymous", "team-audience invitee") and response.status_code == 302:
                # No account: the signed-in pages ask to sign in first.
                assert response["Location"].startswith("/accounts/login/"), (label, url)
            else:
                assert response.status_code == 404, (label, method, url, response.status_code)
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EVIDENCE_DELETED).exists()


def test_the_list_page_takes_the_same_queries_for_1_and_10_items(
    manager_client, world, django_assert_num_queries
):
    add_note(world, by=world["manager"])
    manager_client.get(evidence_url(world))  # the session and caches settle
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert manager_client.get(evidence_url(world)).status_code == 200
    for n in range(9):
        add_note(world, title=f"Note {n}", by=world["manager"], section=world["other_section"])
    with django_assert_num_queries(len(one.captured_queries)):
        page = manager_client.get(evidence_url(world))
    assert page.content.decode().count("Added by") == 10


# --- found by reading the change (issue 18 review) --------------------------------------


def test_a_withdrawn_leadership_invitation_loses_the_evidence_pages(leader, world):
    client, response_pk = leader
    url = reverse("assessment:response_evidence", args=[response_pk])
    assert client.get(url).status_code == 200
    invitation = Response.objects.get(pk=response_pk).invitation

    services.invitation_revoke(invitation=invitation)

    assert client.get(url).status_code == 404
    refused = upload(client, url, world, "", b"", kind="note", note="Still here?")
    assert refused.status_code == 404
    assert not Evidence.objects.exists()


def test_an_invitee_without_a_name_is_never_shown_by_address(world, client_factory):
    make_invitation(
        world["assessment"],
        name="",
        email="quiet.leader@example.com",
        token="lead-2",
        audience="leadership",
    )
    client = client_factory()
    url = reverse("assessment:response_evidence", args=[redeem(client, "lead-2")])
    upload(client, url, world, "", b"", kind="note", note="Board minutes, March.")

    evidence = Evidence.objects.get()
    assert evidence.added_by_name == "A leadership invitee"
    assert "quiet.leader@example.com" not in client.get(url).content.decode()


def test_once_submitted_the_evidence_is_kept_and_a_second_delete_records_nothing(
    manager_client, world
):
    upload(manager_client, evidence_url(world), world, "", b"", kind="note", note="Minutes.")
    evidence = Evidence.objects.get()
    services.evidence_delete(evidence=evidence, by=world["manager"])
    services.evidence_delete(evidence=evidence, by=world["manager"])  # a second click
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EVIDENCE_DELETED).count() == 1

    upload(manager_client, evidence_url(world), world, "", b"", kind="note", note="Rota.")
    kept = Evidence.objects.get()
    Assessment.objects.filter(pk=world["assessment"].pk).update(
        status="in_review", submitted_at=timezone.now()
    )
    response = manager_client.post(
        reverse("assessment:evidence_delete", args=[world["assessment"].pk, kept.pk])
    )
    assert response.status_code in (200, 302, 400)
    assert Evidence.objects.filter(pk=kept.pk).exists()
    with pytest.raises(services.ServiceError, match="kept as the assessor saw it"):
        services.evidence_delete(evidence=kept, by=world["manager"])
