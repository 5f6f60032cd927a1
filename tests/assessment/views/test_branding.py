"""Consultancy branding: colour contrast, logo validation, and the branded PDF."""

import io
import re
import shutil
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from assessment import reports, services
from assessment.models import Consultancy
from assessment.models.consultants import contrast_with_white
from tests.factories import (
    make_assessment,
    make_consultancy,
    make_consultant,
    make_grant,
    make_organisation,
    make_response,
    make_team,
    make_user,
)


def image_bytes(fmt: str, size=(40, 20), colour=(29, 78, 95), **params) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt, **params)
    return out.getvalue()


SECRETS = [b"COMMENT-SECRET", b"EXIF-SECRET", b"TEXT-SECRET", b"ZTXT-SECRET", b"ITXT-SECRET"]


def logo_with_metadata(fmt: str) -> bytes:
    """A logo that carries everything a file can hide beside its pixels: a comment
    (JPEG COM), EXIF, an ICC profile and, in a PNG, tEXt, zTXt and iTXt chunks."""
    exif = Image.Exif()
    exif[0x010E] = "EXIF-SECRET"  # ImageDescription
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    if fmt == "JPEG":
        return image_bytes("JPEG", comment=b"COMMENT-SECRET", exif=exif.tobytes(), icc_profile=icc)
    text = PngInfo()
    text.add_text("Comment", "TEXT-SECRET")
    text.add_text("Author", "ZTXT-SECRET", zip=True)
    text.add_itxt("Description", "ITXT-SECRET")
    return image_bytes("PNG", pnginfo=text, exif=exif.tobytes(), icc_profile=icc)


@pytest.fixture
def consultant(client, db):
    user = make_consultant("cora", name="Clear View Consulting")
    client.force_login(user)
    client.firm = user.consultancy
    client.user = user
    return client


def post(client, **fields):
    data = {"name": "Clear View Consulting", "accent_colour": "#1d4e5f", **fields}
    return client.post(reverse("assessment:branding"), data)


@pytest.mark.django_db
def test_a_dark_accent_colour_is_saved(consultant):
    response = post(consultant, accent_colour="#8A1C4A")

    assert response.status_code == 302
    consultant.firm.refresh_from_db()
    assert consultant.firm.accent_colour == "#8a1c4a"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("colour", "message"),
    [("#ffff00", "contrast of 1.1:1"), ("teal", "six hex digits"), ("#12345", "six hex digits")],
)
def test_a_poor_or_malformed_colour_is_refused_and_changes_nothing(consultant, colour, message):
    response = post(consultant, accent_colour=colour, name="Renamed")

    assert response.status_code == 400
    assert message in response.text
    consultant.firm.refresh_from_db()
    assert (consultant.firm.name, consultant.firm.accent_colour) == (
        "Clear View Consulting",
        "#1d4e5f",
    )


@pytest.mark.django_db
def test_the_name_is_saved_with_its_spaces_tidied(consultant):
    response = post(consultant, name="  Clear   View \u00a0 Consulting  ")

    assert response.status_code == 302
    consultant.firm.refresh_from_db()
    assert consultant.firm.name == "Clear View Consulting"


@pytest.mark.django_db
@pytest.mark.parametrize("taken", ["Rival Partners", "rival partners", "  RIVAL   Partners "])
def test_another_firms_name_is_refused_beside_the_field(consultant, taken):
    make_consultancy("Rival Partners")

    response = post(consultant, name=taken, accent_colour="#8a1c4a")

    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [
        "Another consultancy already uses this name. Choose another."
    ]
    consultant.firm.refresh_from_db()
    assert (consultant.firm.name, consultant.firm.accent_colour) == (
        "Clear View Consulting",
        "#1d4e5f",
    )
    assert sorted(Consultancy.objects.values_list("name", flat=True)) == [
        "Clear View Consulting",
        "Rival Partners",
    ]


@pytest.mark.django_db
def test_a_firm_may_change_the_case_of_its_own_name(consultant):
    response = post(consultant, name="CLEAR VIEW consulting")

    assert response.status_code == 302
    consultant.firm.refresh_from_db()
    assert consultant.firm.name == "CLEAR VIEW consulting"


@pytest.mark.django_db
def test_the_service_refuses_a_taken_name_without_a_server_error(consultant):
    """The database's unique constraint is the rule, so a rename racing another to the
    same name is refused the same way."""
    make_consultancy("Rival Partners")

    with pytest.raises(services.ServiceError, match="Another consultancy already uses"):
        services.branding_update(
            consultancy=consultant.firm, name="rival  PARTNERS", accent_colour="#8a1c4a"
        )

    consultant.firm.refresh_from_db()
    assert consultant.firm.name == "Clear View Consulting"
    assert Consultancy.objects.filter(name__iexact="rival partners").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("fmt", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_png_and_jpeg_logos_are_re_encoded(consultant, fmt, content_type):
    original = image_bytes(fmt) + b"<script>trailing payload</script>"
    upload = SimpleUploadedFile("logo", original, content_type=content_type)

    response = post(consultant, logo=upload)

    assert response.status_code == 302
    consultant.firm.refresh_from_db()
    stored = bytes(consultant.firm.logo)
    assert consultant.firm.logo_content_type == content_type
    assert b"trailing payload" not in stored
    assert Image.open(io.BytesIO(stored)).size == (40, 20)
    served = consultant.get(reverse("assessment:branding_logo"))
    assert served["Content-Type"] == content_type


@pytest.mark.django_db
@pytest.mark.parametrize(("fmt", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_a_logo_keeps_only_its_pixels(consultant, fmt, content_type):
    original = logo_with_metadata(fmt)
    assert sum(secret in original for secret in SECRETS) >= 2
    assert "icc_profile" in Image.open(io.BytesIO(original)).info

    response = post(
        consultant, logo=SimpleUploadedFile("logo", original, content_type=content_type)
    )

    assert response.status_code == 302
    consultant.firm.refresh_from_db()
    stored = bytes(consultant.firm.logo)
    assert [secret for secret in SECRETS if secret in stored] == []
    with Image.open(io.BytesIO(stored)) as logo:
        logo.load()
        kept = logo.info.keys() & {"comment", "exif", "icc_profile", "Comment", "Author"}
        assert kept == set()
        assert dict(logo.getexif()) == {}
        assert logo.size == (40, 20)
        assert logo.getpixel((5, 5))[:3] == pytest.approx((29, 78, 95), abs=3)


@pytest.mark.django_db
def test_a_photo_logo_stands_the_way_its_exif_said_once_the_exif_is_gone(consultant):
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; show it rotated 90 degrees
    original = image_bytes("JPEG", exif=exif.tobytes())

    response = post(
        consultant, logo=SimpleUploadedFile("logo", original, content_type="image/jpeg")
    )

    assert response.status_code == 302
    consultant.firm.refresh_from_db()
    with Image.open(io.BytesIO(bytes(consultant.firm.logo))) as logo:
        assert logo.size == (20, 40)
        assert dict(logo.getexif()) == {}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG"),
        (b"GIF89a not really", "PNG or JPEG"),
        (image_bytes("GIF"), "PNG or JPEG"),
        (b"\x89PNG" + b"0" * (1024 * 1024 + 10), "at most 1 MB"),
    ],
)
def test_other_logos_are_refused_clearly(consultant, content, message):
    upload = SimpleUploadedFile("logo.svg", content, content_type="image/svg+xml")

    response = post(consultant, logo=upload)

    assert response.status_code == 400
    assert message in response.text
    consultant.firm.refresh_from_db()
    assert consultant.firm.logo is None


@pytest.mark.django_db
def test_branding_pages_are_404_for_non_consultants(client):
    client.force_login(make_user("nobody"))

    assert client.get(reverse("assessment:branding")).status_code == 404
    assert client.get(reverse("assessment:branding_logo")).status_code == 404


@pytest.mark.django_db
def test_a_consultants_report_carries_the_branding(consultant, tmp_path):
    services.branding_update(
        consultancy=consultant.firm,
        name="Clear View Consulting",
        accent_colour="#8a1c4a",
        logo=SimpleUploadedFile("logo.png", image_bytes("PNG"), content_type="image/png"),
    )
    organisation = make_organisation("Client Co")
    assessment = make_assessment(make_team(organisation), status="submitted")
    for _ in range(3):
        make_response(assessment, levels=[3, 4], status="completed")
    make_grant(organisation, consultant.firm, days=30)

    firm = reports.branding_for(assessment, consultant.user)
    report = reports.render_report(assessment, viewer_id=consultant.user.pk, consultancy=firm)
    path = tmp_path / "branded.pdf"
    path.write_bytes(report.pdf)
    text = subprocess.run(  # noqa: S603 - poppler on our own file
        [shutil.which("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    images = subprocess.run(  # noqa: S603
        [shutil.which("pdfimages"), "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout

    assert firm == consultant.firm
    assert "Clear View Consulting" in text
    assert reports.LOGO_URL in report.served
    assert reports.BRAND_CSS_URL in report.served
    assert report.refused == []
    assert len(images.strip().splitlines()) >= 3  # header, rule and the logo


@pytest.mark.django_db
def test_a_branded_report_carries_no_comment_from_the_uploaded_logo(consultant):
    services.branding_update(
        consultancy=consultant.firm,
        name="Clear View Consulting",
        accent_colour="#8a1c4a",
        logo=SimpleUploadedFile("logo.jpg", logo_with_metadata("JPEG"), content_type="image/jpeg"),
    )
    organisation = make_organisation("Client Co")
    assessment = make_assessment(make_team(organisation), status="submitted")
    for _ in range(3):
        make_response(assessment, levels=[3, 4], status="completed")
    make_grant(organisation, consultant.firm, days=30)

    report = reports.render_report(
        assessment, viewer_id=consultant.user.pk, consultancy=consultant.firm
    )

    assert reports.LOGO_URL in report.served  # the logo is in the PDF (a JPEG, as stored)
    assert [secret for secret in SECRETS if secret in report.pdf] == []


# --- issue 13: every error at once, help that matches, a colour preview ---------------------


def swatch(html: str) -> str:
    return re.search(r'<svg class="colour-swatch".*?</svg>', html, flags=re.S).group(0)


@pytest.mark.django_db
def test_every_error_shows_at_once_beside_its_field(consultant):
    make_consultancy("Rival Partners")
    upload = SimpleUploadedFile("logo.gif", image_bytes("GIF"), content_type="image/gif")

    response = post(consultant, name="rival partners", accent_colour="#ffcc00", logo=upload)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"name", "accent_colour", "logo"}
    html = response.text
    assert 'id="name-errors"' in html
    assert 'id="colour-errors"' in html
    assert 'id="logo-errors"' in html
    assert html.count('aria-invalid="true"') == 3
    consultant.firm.refresh_from_db()
    assert consultant.firm.accent_colour == "#1d4e5f"


@pytest.mark.django_db
def test_the_help_says_where_the_colour_and_name_go(consultant):
    html = consultant.get(reverse("assessment:branding")).text

    assert "white text" not in html  # the colour is for headings on white paper
    assert "headings" in html
    assert "running footer" in html


@pytest.mark.django_db
def test_the_preview_shows_the_current_colour_and_its_contrast(consultant):
    html = consultant.get(reverse("assessment:branding")).text

    preview = swatch(html)
    assert 'fill="#1d4e5f"' in preview
    assert f"contrast {contrast_with_white('#1d4e5f'):.1f}:1 with white" in html
    assert "Readable." in html
    assert "style=" not in preview


@pytest.mark.django_db
def test_the_preview_shows_a_refused_colour_with_the_reason(consultant):
    html = post(consultant, accent_colour="#FFCC00").text

    assert 'fill="#ffcc00"' in swatch(html)
    assert f"Preview of #ffcc00: contrast {contrast_with_white('#ffcc00'):.1f}:1" in html
    assert "Too light: choose a darker colour." in html


@pytest.mark.django_db
def test_a_malformed_colour_is_never_put_into_the_preview(consultant):
    html = post(consultant, accent_colour='#12"/><script>').text

    preview = swatch(html)
    assert "<script>" not in preview
    assert 'fill="#1d4e5f"' in preview  # the saved colour instead
