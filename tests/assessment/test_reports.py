"""The PDF report, rendered for real by WeasyPrint and read back with poppler."""

import io
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
    make_manager_response,
    make_organisation,
    make_response,
    make_team,
)
from tests.pdf import pdf_fonts, pdf_info, pdf_pages, pdf_text, poppler

HOSTILE = [
    '<img src="file:///etc/passwd">',
    '<link rel=attachment href="file:///etc/passwd">',
    '<a rel="attachment" href="http://127.0.0.1:9/canary">canary</a>',
    "<style>@import url(http://127.0.0.1:9/import.css);</style>",
    '<svg><image href="http://127.0.0.1:9/svg.png"/></svg>',
]


@pytest.fixture
def reviewed(db):
    organisation = make_organisation("Harbour Ltd")
    team = make_team(organisation, "Help desk")
    assessment = make_assessment(team, slugs=("win4", "holistic"), status="submitted")
    for levels in ([5, 1, 4, 2], [5, 2, 4, 2], [4, 1, 3, 2]):
        make_response(assessment, levels=levels, status="completed")
    return assessment


@pytest.mark.django_db
def test_the_pdf_contains_sections_team_and_verdict(reviewed):
    report = reports.render_report(reviewed)
    text = pdf_text(report.pdf)

    flat = " ".join(text.split())
    assert "Help desk" in flat
    for section in Section.objects.filter(version__assessments=reviewed):
        assert " ".join(section.name.split()) in flat, section.name
    verdict = selectors.results.assessment_results(reviewed).panels[1].team.verdict
    assert verdict.summary in flat
    assert "Contents" in flat
    assert "Action plan" in flat


@pytest.mark.django_db
def test_the_pdf_is_tagged_with_title_language_and_author(reviewed):
    info = poppler("pdfinfo", reports.render_report(reviewed).pdf)

    assert "Tagged:          yes" in info
    assert "Title:           Harbour" not in info  # the title names the assessment
    assert "Help desk" in info
    assert "Author:          Service Balance" in info


@pytest.mark.django_db
def test_hostile_answers_render_as_text_and_fetch_nothing(reviewed):
    answers = list(Answer.objects.filter(response__assessment=reviewed)[: len(HOSTILE)])
    for answer, payload in zip(answers, HOSTILE, strict=True):
        # The report shows the submitted copy (what team figures count).
        answer.comment = answer.submitted_comment = payload
        answer.save(update_fields=["comment", "submitted_comment"])
    reviewed.title = '<img src="http://127.0.0.1:9/title.png"> Winter'
    reviewed.save(update_fields=["title"])

    report = reports.render_report(reviewed)
    attachments = poppler("pdfdetach", report.pdf, "-list")
    text = " ".join(pdf_text(report.pdf).split())

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
def test_the_manager_downloads_the_report_and_others_get_404(
    client, reviewed, django_capture_on_commit_callbacks
):
    url = reverse("assessment:report_pdf", kwargs={"pk": reviewed.pk})
    client.force_login(reviewed.organisation.manager)
    with django_capture_on_commit_callbacks(execute=True):  # the task runs once committed
        queued = client.get(url)
    response = client.get(url)
    client.force_login(make_organisation("Rival plc").manager)
    rival = client.get(url)

    assert queued.status_code == 202  # the progress page (tests/assessment/test_report_renders.py)
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

    assert "Northwind Advisory" in pdf_text(target.read_bytes())


@pytest.mark.django_db
def test_render_report_names_a_missing_consultancy(reviewed, tmp_path):
    with pytest.raises(CommandError, match="no consultancy 999"):
        call_command(
            "render_report", str(reviewed.pk), "--consultancy", "999", "-o", str(tmp_path / "x")
        )


def download_then_poll(client, assessment, capture):
    """The download (its render task runs once committed), then the page's next poll."""
    url = reverse("assessment:report_pdf", kwargs={"pk": assessment.pk})
    with capture(execute=True):
        client.get(url)
    return client.get(url, headers={"HX-Request": "true", "HX-Trigger": "report-progress"})


@pytest.mark.django_db
def test_a_report_past_its_bounds_is_said_so_on_its_page_not_a_crash(
    client, reviewed, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_TIMEOUT_SECONDS = 0.05
    client.force_login(reviewed.organisation.manager)

    response = download_then_poll(client, reviewed, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert "The report could not be made" in response.text
    assert ReportCache.objects.get().status == "failed"


@pytest.mark.django_db
def test_digits_print_in_the_text_font_not_the_emoji_font(reviewed):
    # Pango takes digits (keycap bases) from an emoji font named in font-family
    # (WeasyPrint #1848, #2291): "87" printed as "8 7", spaced out in colour glyphs. A report
    # without emoji must not need the emoji font at all.
    report = reports.render_report(reviewed)

    names = " ".join(name for name, _ in pdf_fonts(report.pdf))
    assert "DejaVu-Sans" in names
    assert "Emoji" not in names


# Chinese, Japanese, Arabic (right to left, joined letters) and an emoji in one name.
WORLD_TEAM = "客服中心 日本語チーム فريق الدعم 🎧"


@pytest.mark.django_db
def test_names_in_chinese_japanese_arabic_and_emoji_print_with_real_glyphs(reviewed, caplog):
    reviewed.team.name = WORLD_TEAM
    reviewed.team.save(update_fields=["name"])

    report = reports.render_report(reviewed)
    fonts = pdf_fonts(report.pdf)
    names = " ".join(name for name, _ in fonts)
    text = " ".join(pdf_text(report.pdf).split())

    assert "Noto-Sans-CJK" in names  # Chinese and Japanese
    assert "Noto-Color-Emoji" in names
    # WeasyPrint gives a font with missing glyphs its own encoding, mapping them to .notdef
    # (the empty box); every font here is plain Identity-H.
    assert {encoding for _, encoding in fonts} == {"Identity-H"}, fonts
    # The renderer reports every character no font had a glyph for; there was none.
    assert "no font has a glyph" not in caplog.text
    for word in WORLD_TEAM.split():
        assert word in text, word


@pytest.mark.django_db
def test_a_character_no_font_has_is_logged(reviewed, caplog):
    reviewed.team.name = "Help desk \u0378"  # unassigned: no font draws it
    reviewed.team.save(update_fields=["name"])

    reports.render_report(reviewed)

    assert "no font has a glyph for U+0378" in caplog.text


# --- our own assets: by logical name, never refused, part of the cache key -------------

HASHED_STYLESHEET = reports.STATIC_PREFIX + "css/report.0123456789ab.css"


@pytest.mark.django_db
def test_a_refused_stylesheet_fails_the_render_is_logged_and_cached_nowhere(
    reviewed, monkeypatch, caplog
):
    # The template as it was: the stylesheet by the static storage's hashed name.
    real_html = reports.report_html
    monkeypatch.setattr(
        reports,
        "report_html",
        lambda *args, **kwargs: real_html(*args, **kwargs).replace(
            reports.STYLESHEET_URL, HASHED_STYLESHEET
        ),
    )

    with pytest.raises(reports.ReportAssetError):
        reports.render_report(reviewed)

    [error] = [record for record in caplog.records if record.levelname == "ERROR"]
    assert HASHED_STYLESHEET in error.getMessage()
    assert reports.STYLESHEET_URL in error.getMessage()  # given, never fetched
    assert not ReportCache.objects.exists()


@pytest.mark.django_db
def test_the_download_says_it_failed_when_the_stylesheet_is_refused(
    client, reviewed, monkeypatch, django_capture_on_commit_callbacks
):
    real_html = reports.report_html
    monkeypatch.setattr(
        reports,
        "report_html",
        lambda *args, **kwargs: real_html(*args, **kwargs).replace(
            reports.STYLESHEET_URL, HASHED_STYLESHEET
        ),
    )
    client.force_login(reviewed.organisation.manager)

    response = download_then_poll(client, reviewed, django_capture_on_commit_callbacks)

    assert "The report could not be made" in response.text
    # No unstyled PDF is kept: the row records the failure only.
    assert list(ReportCache.objects.values_list("status", "pdf")) == [("failed", None)]


@pytest.mark.django_db
def test_an_outside_url_refused_is_logged_and_the_report_still_made(reviewed, monkeypatch, caplog):
    real_html = reports.report_html
    monkeypatch.setattr(
        reports,
        "report_html",
        lambda *args, **kwargs: real_html(*args, **kwargs).replace(
            "</head>", '<link rel="stylesheet" href="https://cdn.example.com/x.css"></head>'
        ),
    )

    report = reports.render_report(reviewed)

    assert report.refused == ["https://cdn.example.com/x.css"]
    assert reports.STYLESHEET_URL in report.served
    assert "refused 1 URL(s) outside the report's assets" in caplog.text
    assert ReportCache.objects.count() == 1


def test_a_static_file_missing_everywhere_is_an_error(monkeypatch):
    monkeypatch.setattr(reports, "REPORT_STATIC_FILES", ("css/report.css", "css/nowhere.css"))

    with pytest.raises(reports.ReportAssetError, match=r"css/nowhere\.css"):
        reports.static_assets()


def test_a_static_file_is_read_from_the_storage_when_no_finder_has_it(settings, tmp_path):
    # A node that keeps only collectstatic's output (no source tree).
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "report.css").write_bytes(b"/* collected */")
    settings.STATICFILES_DIRS = []
    settings.STATIC_ROOT = tmp_path

    assert reports.static_assets() == {reports.STYLESHEET_URL: (b"/* collected */", "text/css")}


@pytest.mark.django_db
def test_a_changed_stylesheet_renders_every_report_afresh(reviewed, settings, tmp_path):
    first = reports.render_report(reviewed)
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "report.css").write_bytes(
        Path(settings.BASE_DIR, "static", "css", "report.css").read_bytes()
        + b"\nh1 { color: #000; }\n"
    )
    settings.STATICFILES_DIRS = [tmp_path]

    second = reports.render_report(reviewed)

    assert (first.cached, second.cached) == (False, False)
    assert ReportCache.objects.count() == 1  # the stale rendering was dropped


# --- branding ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_branded_report_names_the_consultancy_in_its_footer_and_metadata(reviewed):
    firm = make_consultancy("Northwind Advisory", accent_colour="#0b5563")

    pdf = reports.render_report(reviewed, consultancy=firm).pdf
    info = pdf_info(pdf)
    footers = [" ".join(page.strip().splitlines()[-1].split()) for page in pdf_pages(pdf)[1:]]

    assert (info["Author"], info["Creator"]) == ("Northwind Advisory", "Northwind Advisory")
    assert footers
    assert all(footer.startswith("Northwind Advisory ") for footer in footers)
    assert not any("Service Balance" in footer for footer in footers)


@pytest.mark.django_db
def test_an_unbranded_report_says_service_balance_in_its_footer(reviewed):
    pdf = reports.render_report(reviewed).pdf
    footers = [" ".join(page.strip().splitlines()[-1].split()) for page in pdf_pages(pdf)[1:]]

    assert footers
    assert all(footer.startswith("Service Balance ") for footer in footers)
    assert pdf_info(pdf)["Creator"] == "Service Balance"


# --- frameworks v2 (issue 14): who rated what, don't know, levels 0-5, rules versions ----


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def reviewed_v2(db):
    """Win4 v2: three members, the manager's own answers, and two leadership invitees
    (fewer than the threshold); every member answered "don't know" in Employees."""
    organisation = make_organisation("Harbour Ltd")
    assessment = make_assessment(make_team(organisation, "Help desk"), status="submitted")
    for levels in ([0, 4], [1, 4], [0, 3]):
        make_response(assessment, levels=levels, status="completed")
    make_manager_response(assessment, organisation.manager, levels=[5])
    for _ in range(2):
        make_response(assessment, levels=[2], status="completed", audience="leadership")
    Answer.objects.filter(
        response__assessment=assessment, response__audience="team", section__key="employees"
    ).update(level=None, submitted_level=None, dont_know=True, submitted_dont_know=True)
    return assessment


@pytest.mark.django_db
def test_a_v2_report_says_who_rated_what_and_flags_dont_know(reviewed_v2):
    text = flat(poppler("pdftotext", reports.render_report(reviewed_v2).pdf))

    assert "Who rated what" in text
    assert "Win4 sustainable service: each audience's own score (0" in text
    assert "withheld (fewer than 3)" in text  # leadership, two of three
    assert "not asked" in text
    assert (
        "2 leadership invitees have completed their answers: they are left out of every "
        "figure until at least 3 have"
    ) in text
    assert "Most answers were 'don't know': not scored" in text
    assert "Levels run from 0 (not in place) to 5." in text
    assert "Levels: 0 Not in place; 1 Barely meets expectations;" in text
    assert "scoring rules version 2." in text


@pytest.mark.django_db
def test_a_v2_reports_appendix_shows_leadership_apart_from_the_threshold(reviewed_v2):
    before = reports.report_html(reviewed_v2, viewer_id=None)
    make_response(reviewed_v2, levels=[2], status="completed", audience="leadership")
    after = reports.report_html(reviewed_v2, viewer_id=None)

    assert "leadership invitees have completed them, so that no one can be singled out" in before
    appendix = after.split('id="appendix"')[1]
    leadership = appendix.split("Leadership's answers")[1]
    assert "leadership's answers at each level, in the sections that ask them" in leadership
    assert '<th scope="col">Level 0</th>' in appendix
    assert "not asked of the team" in appendix.split("Leadership's answers")[0]


@pytest.mark.django_db
def test_a_report_names_each_frameworks_scoring_rules(db):
    organisation = make_organisation("Harbour Ltd")
    assessment = make_assessment(make_team(organisation), status="submitted")
    holistic_v1 = make_assessment(make_team(organisation, "Other"), slugs=("holistic",), version=1)
    assessment.framework_versions.add(holistic_v1.framework_versions.get())
    for _ in range(3):
        make_response(assessment, levels=[3], status="completed")

    html = flat(reports.report_html(assessment, viewer_id=None))

    assert (
        "with scoring rules version 1 (Holistic view), version 2 (Win4 sustainable service)."
    ) in html


@pytest.mark.django_db
def test_a_v1_report_reads_as_before(reviewed):
    """An assessment pinned to version 1: no audiences, no "don't know" apart, scoring
    rules version 1 and levels 1-5, as before frameworks v2."""
    v1 = make_assessment(reviewed.team, slugs=("win4", "holistic"), status="submitted", version=1)
    for levels in ([5, 1, 4, 2], [5, 2, 4, 2], [4, 1, 3, 2]):
        make_response(v1, levels=levels, status="completed")

    html = flat(reports.report_html(v1, viewer_id=None))

    assert "with scoring rules version 1." in html
    assert "Who rated what" not in html
    assert "Don't know" not in html
    assert "Levels run from 1 to 5." in html
    assert '<th scope="col">Level 0</th>' not in html
