"""Every kind of report under production settings (see conftest.py): the stylesheet is
served to the renderer and the PDF comes out styled (page layout, running footer, fonts)."""

import io
import logging
import re
import signal
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from PIL import Image

from assessment import reports, services
from assessment.models import BulkExport
from tests.factories import (
    make_assessment,
    make_consultant,
    make_grant,
    make_organisation,
    make_response,
    make_team,
)
from tests.pdf import pdf_fonts, pdf_info, pdf_pages

FIRM = "Northwind Advisory"


def make_reviewed(organisation_name: str = "Harbour Ltd", team_name: str = "Help desk"):
    """A submitted assessment with three completed team responses."""
    organisation = make_organisation(organisation_name, manager=f"manager-{team_name}")
    assessment = make_assessment(
        make_team(organisation, team_name), slugs=("win4", "holistic"), status="submitted"
    )
    for levels in ([5, 1, 4, 2], [5, 2, 4, 2], [4, 1, 3, 2]):
        make_response(assessment, levels=levels, status="completed")
    return assessment


def make_firm_consultant():
    """A consultant of a consultancy with its own name, accent colour and logo."""
    consultant = make_consultant("cora", name="Advisers Ltd")
    logo = io.BytesIO()
    Image.new("RGB", (40, 20), (11, 85, 99)).save(logo, format="PNG")
    services.branding_update(
        consultancy=consultant.consultancy,
        name=FIRM,
        accent_colour="#0b5563",
        logo=SimpleUploadedFile("logo.png", logo.getvalue(), content_type="image/png"),
    )
    return consultant


def renders(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the renderer reported for each report it rendered (served and refused URLs)."""
    return [record for record in caplog.records if hasattr(record, "served")]


def assert_styled(pdf: bytes, *, footer: str) -> None:
    """The report stylesheet was applied: a cover page, then a running footer with the
    brand and "page / pages" on every page, in the report's sans-serif fonts. Without it
    the PDF has no footer at all and is set in the browser-default serif."""
    pages = pdf_pages(pdf)
    assert len(pages) == int(pdf_info(pdf)["Pages"]) >= 5
    for number, text in enumerate(pages[1:], start=2):
        last_line = " ".join(text.strip().splitlines()[-1].split())
        assert footer in last_line, (number, last_line)
        # "2 / 7" in the stylesheet; pdftotext keeps or drops the thin spaces by the font.
        assert re.search(rf"\b{number} ?/ ?{len(pages)}$", last_line), (number, last_line)
    fonts = [name for name, _ in pdf_fonts(pdf)]
    assert any(name.startswith("DejaVu-Sans") for name in fonts), fonts
    assert not any("Serif" in name for name in fonts), fonts


@pytest.fixture
def restore_signal_handlers():
    """db_worker installs its own SIGINT/SIGTERM handlers; give pytest its own back."""
    names = ("SIGINT", "SIGTERM", "SIGQUIT")
    saved = {
        name: signal.getsignal(getattr(signal, name)) for name in names if hasattr(signal, name)
    }
    yield
    for name, handler in saved.items():
        signal.signal(getattr(signal, name), handler)


def download_through_the_worker(client, url: str):
    """A download as production serves it: the request queues the render and answers at
    once with the progress page; the real worker renders; the next request is the PDF."""
    queued = client.get(url, secure=True)
    assert queued.status_code == 202, queued.status_code
    assert "Your report is in the queue" in queued.text
    [task] = DBTaskResult.objects.filter(task_path="assessment.tasks.render_report_task")
    assert task.status == "READY"  # waiting for a worker: nothing rendered in the request

    call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())

    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    response = client.get(url, secure=True)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return response


# The worker commits and closes connections between tasks, as in production, so these
# tests need real transactions rather than one rolled back at the end.
@pytest.mark.django_db(transaction=True)
def test_the_managers_report_is_styled(client, caplog, restore_signal_handlers):
    caplog.set_level(logging.INFO, logger="assessment.reports")
    assessment = make_reviewed()
    client.force_login(assessment.organisation.manager)

    response = download_through_the_worker(
        client, reverse("assessment:report_pdf", kwargs={"pk": assessment.pk})
    )

    [render] = renders(caplog)
    assert render.served == [reports.STYLESHEET_URL]
    assert render.refused == []
    assert_styled(response.content, footer="Service Balance")
    assert pdf_info(response.content)["Author"] == "Service Balance"


@pytest.mark.django_db(transaction=True)
def test_the_consultants_branded_report_is_styled(client, caplog, restore_signal_handlers):
    caplog.set_level(logging.INFO, logger="assessment.reports")
    consultant = make_firm_consultant()
    assessment = make_reviewed()
    make_grant(assessment.organisation, consultant.consultancy)
    client.force_login(consultant)

    response = download_through_the_worker(
        client, reverse("assessment:client_report_pdf", kwargs={"pk": assessment.pk})
    )

    [render] = renders(caplog)
    assert set(render.served) == {reports.STYLESHEET_URL, reports.BRAND_CSS_URL, reports.LOGO_URL}
    assert render.refused == []
    assert_styled(response.content, footer=FIRM)
    info = pdf_info(response.content)
    assert (info["Author"], info["Creator"]) == (FIRM, FIRM)


@pytest.mark.django_db(transaction=True)
def test_the_bulk_zip_made_by_the_database_worker_is_styled_and_branded(
    client, caplog, restore_signal_handlers
):
    caplog.set_level(logging.INFO, logger="assessment.reports")
    consultant = make_firm_consultant()
    assessments = [make_reviewed("Harbour Ltd", "Help desk"), make_reviewed("Quay plc", "Returns")]
    for assessment in assessments:
        make_grant(assessment.organisation, consultant.consultancy)
    client.force_login(consultant)

    started = client.post(
        reverse("assessment:bulk_new"),
        {"assessments": [assessment.pk for assessment in assessments]},
        secure=True,
    )
    export = BulkExport.objects.get()
    queued = DBTaskResult.objects.get(task_path="assessment.tasks.make_bulk_export")
    assert started.status_code == 302
    assert (export.status, queued.status) == ("queued", "READY")  # waiting for a worker

    call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())

    export.refresh_from_db()
    queued.refresh_from_db()
    assert (queued.status, export.status, export.done, export.failures) == (
        "SUCCESSFUL",
        "done",
        2,
        [],
    )
    rendered = renders(caplog)
    assert len(rendered) == 2
    for render in rendered:
        assert set(render.served) == {
            reports.STYLESHEET_URL,
            reports.BRAND_CSS_URL,
            reports.LOGO_URL,
        }
        assert render.refused == []
    with zipfile.ZipFile(io.BytesIO(bytes(export.archive))) as archive:
        pdfs = [archive.read(name) for name in archive.namelist()]
    assert len(pdfs) == 2
    for pdf in pdfs:
        assert_styled(pdf, footer=FIRM)
        assert pdf_info(pdf)["Author"] == FIRM


@pytest.mark.django_db(transaction=True)
def test_a_submitted_assessments_report_is_rendered_ahead_by_the_worker(
    client, caplog, restore_signal_handlers
):
    caplog.set_level(logging.INFO, logger="assessment.reports")
    organisation = make_organisation("Harbour Ltd")
    assessment = make_assessment(make_team(organisation, "Help desk"), status="open")
    for levels in ([5, 1, 4, 2], [5, 2, 4, 2], [4, 1, 3, 2]):
        make_response(assessment, levels=levels, status="completed")

    services.assessment_submit(assessment=assessment, by=organisation.manager)
    [ahead] = DBTaskResult.objects.filter(task_path="assessment.tasks.render_reports_of")
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())
    ahead.refresh_from_db()
    client.force_login(organisation.manager)
    response = client.get(
        reverse("assessment:report_pdf", kwargs={"pk": assessment.pk}), secure=True
    )

    assert ahead.status == "SUCCESSFUL"
    assert len(renders(caplog)) == 1  # the manager's, by the worker
    assert response.status_code == 200  # the first download is the PDF
    assert_styled(response.content, footer="Service Balance")
