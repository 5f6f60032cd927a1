"""The PDF report, rendered for real by WeasyPrint and read back with poppler."""

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from assessment import reports, selectors
from assessment.models import Answer, ReportCache, SectionTarget
from frameworks.models import Section
from tests.factories import (
    make_assessment,
    make_consultancy,
    make_organisation,
    make_response,
    make_team,
)

HOSTILE = [
    '<img src="file:///etc/passwd">',
    '<link rel=attachment href="file:///etc/passwd">',
    '<a rel="attachment" href="http://127.0.0.1:9/canary">canary</a>',
    "<style>@import url(http://127.0.0.1:9/import.css);</style>",
    '<svg><image href="http://127.0.0.1:9/svg.png"/></svg>',
]


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(  # noqa: S603 - poppler on our own file
        [shutil.which("pdftotext"), "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def poppler(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(  # noqa: S603 - poppler on our own file
        [shutil.which(tool), *args, str(path)], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def reviewed(db):
    organisation = make_organisation("Harbour Ltd")
    team = make_team(organisation, "Help desk")
    assessment = make_assessment(team, slugs=("win4", "holistic"), status="submitted")
    for levels in ([5, 1, 4, 2], [5, 2, 4, 2], [4, 1, 3, 2]):
        make_response(assessment, levels=levels, status="completed")
    return assessment


@pytest.mark.django_db
def test_the_pdf_contains_sections_team_and_verdict(reviewed, tmp_path):
    report = reports.render_report(reviewed)
    text = pdf_text(report.pdf, tmp_path)

    flat = " ".join(text.split())
    assert "Help desk" in flat
    for section in Section.objects.filter(version__assessments=reviewed):
        assert " ".join(section.name.split()) in flat, section.name
    verdict = selectors.results.assessment_results(reviewed).panels[1].team.verdict
    assert verdict.summary in flat
    assert "Contents" in flat
    assert "Action plan" in flat


@pytest.mark.django_db
def test_the_pdf_is_tagged_with_title_language_and_author(reviewed, tmp_path):
    info = poppler("pdfinfo", reports.render_report(reviewed).pdf, tmp_path)

    assert "Tagged:          yes" in info
    assert "Title:           Harbour" not in info  # the title names the assessment
    assert "Help desk" in info
    assert "Author:          Service Balance" in info


@pytest.mark.django_db
def test_hostile_answers_render_as_text_and_fetch_nothing(reviewed, tmp_path):
    answers = list(Answer.objects.filter(response__assessment=reviewed)[: len(HOSTILE)])
    for answer, payload in zip(answers, HOSTILE, strict=True):
        answer.comment = payload
        answer.save(update_fields=["comment"])
    reviewed.title = '<img src="http://127.0.0.1:9/title.png"> Winter'
    reviewed.save(update_fields=["title"])

    report = reports.render_report(reviewed)
    attachments = poppler("pdfdetach", report.pdf, tmp_path, "-list")
    text = " ".join(pdf_text(report.pdf, tmp_path).split())

    assert report.refused == []  # nothing outside the allow-list was even attempted
    assert all(url.startswith(reports.STATIC_PREFIX) for url in report.served)
    assert attachments.startswith("0 embedded files")
    assert "file:///etc/passwd" in text  # shown as text, never fetched


def test_the_fetcher_refuses_everything_but_the_assets_it_was_given():
    fetcher = reports.MemoryFetcher(reports.static_assets())
    refused = [
        "file:///etc/passwd",
        "http://127.0.0.1:8000/",
        "https://example.com/x.png",
        reports.STATIC_PREFIX + "../../settings.py",
        reports.STATIC_PREFIX + "css/app.css",
        "https://assets.service-balance.invalid.evil.example/static/css/report.css",
    ]
    for url in refused:
        with pytest.raises(ValueError, match="may not fetch"):
            fetcher.fetch(url)

    response = fetcher.fetch(reports.STATIC_PREFIX + "css/report.css")

    assert fetcher.refused == refused
    assert response.content_type == "text/css"
    assert b"@page" in response.read()


@pytest.mark.django_db
def test_a_render_past_its_time_bound_is_stopped(reviewed, settings):
    settings.REPORT_TIMEOUT_SECONDS = 0.05

    with pytest.raises(reports.RenderLimitExceeded, match="time"):
        reports.render_report(reviewed)

    assert not ReportCache.objects.exists()


@pytest.mark.django_db
def test_a_render_past_its_memory_bound_is_stopped(reviewed, settings):
    settings.REPORT_MEMORY_MB = 64  # far less than WeasyPrint needs

    with pytest.raises(reports.RenderLimitExceeded):
        reports.render_report(reviewed)


@pytest.mark.django_db
def test_a_second_export_comes_from_the_cache_until_something_changes(reviewed):
    first = reports.render_report(reviewed)
    second = reports.render_report(reviewed)
    section = Section.objects.filter(version__assessments=reviewed).first()
    SectionTarget.objects.create(assessment=reviewed, section=section, level=5)
    third = reports.render_report(reviewed)

    assert (first.cached, second.cached, third.cached) == (False, True, False)
    assert second.pdf == first.pdf
    assert ReportCache.objects.count() == 1  # the stale entry was replaced


@pytest.mark.django_db
def test_the_manager_downloads_the_report_and_others_get_404(client, reviewed):
    url = reverse("assessment:report_pdf", kwargs={"pk": reviewed.pk})
    client.force_login(reviewed.organisation.manager)
    response = client.get(url)
    client.force_login(make_organisation("Rival plc").manager)
    rival = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "attachment;" in response["Content-Disposition"]
    assert rival.status_code == 404


@pytest.mark.django_db
def test_render_report_writes_a_file(reviewed, tmp_path):
    out = io.StringIO()
    target = tmp_path / "out.pdf"

    call_command("render_report", str(reviewed.pk), "-o", str(target), stdout=out)

    assert target.read_bytes().startswith(b"%PDF")
    assert "rendered" in out.getvalue()


@pytest.mark.django_db
def test_render_report_brands_the_report_as_a_consultancy(reviewed, tmp_path):
    firm = make_consultancy("Northwind Advisory", accent_colour="#0b5563")
    target = tmp_path / "branded.pdf"

    call_command(
        "render_report", str(reviewed.pk), "--consultancy", str(firm.pk), "-o", str(target)
    )

    assert "Northwind Advisory" in pdf_text(target.read_bytes(), tmp_path)


@pytest.mark.django_db
def test_render_report_names_a_missing_consultancy(reviewed, tmp_path):
    with pytest.raises(CommandError, match="no consultancy 999"):
        call_command(
            "render_report", str(reviewed.pk), "--consultancy", "999", "-o", str(tmp_path / "x")
        )


@pytest.mark.django_db
def test_a_report_past_its_bounds_is_a_clear_503_not_a_crash(client, reviewed, settings):
    settings.REPORT_TIMEOUT_SECONDS = 0.05
    client.force_login(reviewed.organisation.manager)

    response = client.get(reverse("assessment:report_pdf", kwargs={"pk": reviewed.pk}))

    assert response.status_code == 503
    assert "time and memory limits" in response.text
