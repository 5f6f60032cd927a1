"""Bulk export of PDF reports as a ZIP, made by a django.tasks background task."""

import io
import re
import signal
import zipfile
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django_tasks_db.models import DBTaskResult

from assessment import reports, services
from assessment.models import BulkExport, ConsultantGrant
from assessment.tasks import make_bulk_export
from tests.factories import (
    make_assessment,
    make_consultant,
    make_export,
    make_grant,
    make_organisation,
    make_response,
    make_team,
)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
TEAMS = [("Harbour Ltd", "Help desk"), ("Harbour Ltd", "Returns"), ("Quay plc", "Front desk")]


@pytest.fixture
def closed(consultant):
    """Three teams' closed assessments, three completed responses each, all shared."""
    organisations = {}
    assessments = []
    for organisation_name, team_name in TEAMS:
        if organisation_name not in organisations:
            organisation = make_organisation(organisation_name)
            make_grant(organisation, consultant.consultancy)
            organisations[organisation_name] = organisation
        team = make_team(organisations[organisation_name], team_name)
        assessment = make_assessment(team, status="submitted")
        for levels in ([5, 1, 4, 2], [4, 2, 4, 3], [3, 1, 3, 2]):
            make_response(assessment, levels=levels, status="completed")
        assessments.append(assessment)
    return assessments


def zip_members(export: BulkExport) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bytes(export.archive))) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


EXPECTED_NAMES = {
    "harbour-ltd-help-desk-help-desk-assessment.pdf",
    "harbour-ltd-returns-returns-assessment.pdf",
    "quay-plc-front-desk-front-desk-assessment.pdf",
}


@pytest.mark.django_db
def test_it_makes_a_zip_of_every_report_at_once_with_the_immediate_backend(
    consultant, closed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        export = services.bulk_export_start(
            consultancy=consultant.consultancy, by=consultant, assessments=closed
        )

    assert len(callbacks) == 1
    export.refresh_from_db()
    assert (export.status, export.done, export.total) == ("done", 3, 3)
    assert export.failures == []
    assert export.finished_at is not None
    assert export.created_at <= export.progress_at <= export.finished_at
    members = zip_members(export)
    assert set(members) == EXPECTED_NAMES
    assert all(pdf.startswith(b"%PDF-") for pdf in members.values())


@pytest.mark.django_db
def test_the_task_never_runs_an_export_twice(consultant, closed, monkeypatch):
    export = make_export(consultant, assessments=closed, status="done")
    monkeypatch.setattr(reports, "render_report", pytest.fail)

    make_bulk_export.call(export.pk)

    export.refresh_from_db()
    assert (export.status, export.done, export.archive) == ("done", 0, None)


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


# The worker commits and closes connections between tasks, as in production, so the
# test needs real transactions rather than one rolled back at the end.
@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DATABASE_TASKS)
def test_the_database_worker_runs_a_queued_export(consultant, closed, restore_signal_handlers):
    # In a transactional test the service's own commit runs the on_commit enqueue.
    export = services.bulk_export_start(
        consultancy=consultant.consultancy, by=consultant, assessments=closed
    )

    export.refresh_from_db()
    assert (export.status, export.done, export.total) == ("queued", 0, 3)
    queued = DBTaskResult.objects.get(task_path="assessment.tasks.make_bulk_export")
    assert queued.status == "READY"
    assert queued.args_kwargs == {"args": [export.pk], "kwargs": {}}

    call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())

    export.refresh_from_db()
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL"
    assert (export.status, export.done, export.total) == ("done", 3, 3)
    members = zip_members(export)
    assert set(members) == EXPECTED_NAMES
    assert all(pdf.startswith(b"%PDF-") for pdf in members.values())


@pytest.mark.django_db
def test_a_failed_report_is_named_and_the_others_are_still_exported(
    consultant, closed, monkeypatch, django_capture_on_commit_callbacks
):
    broken = closed[1]
    real_render = reports.render_report
    progress_seen = []

    def render(assessment, **kwargs):
        # What another process would see while this report renders.
        progress_seen.append(BulkExport.objects.values_list("status", "done").get())
        if assessment.pk == broken.pk:
            raise RuntimeError("WeasyPrint ran out of\npaper")
        return real_render(assessment, **kwargs)

    monkeypatch.setattr(reports, "render_report", render)
    with django_capture_on_commit_callbacks(execute=True):
        export = services.bulk_export_start(
            consultancy=consultant.consultancy, by=consultant, assessments=closed
        )

    export.refresh_from_db()
    assert progress_seen == [("running", 0), ("running", 1), ("running", 2)]
    assert (export.status, export.done) == ("done", 3)
    assert export.failures == [
        {
            "assessment": "Returns assessment",
            "assessment_id": broken.pk,
            "error": "The report could not be rendered; the details are in the server log.",
        }
    ]
    assert set(zip_members(export)) == EXPECTED_NAMES - {
        "harbour-ltd-returns-returns-assessment.pdf"
    }


@pytest.mark.django_db
def test_an_export_where_every_report_fails_is_marked_failed(
    consultant, closed, monkeypatch, django_capture_on_commit_callbacks, consultant_client
):
    def render(assessment, **kwargs):
        raise ValueError("no fonts")

    monkeypatch.setattr(reports, "render_report", render)
    with django_capture_on_commit_callbacks(execute=True):
        export = services.bulk_export_start(
            consultancy=consultant.consultancy, by=consultant, assessments=closed[:2]
        )

    export.refresh_from_db()
    assert (export.status, export.done, export.archive) == ("failed", 2, None)
    assert [f["assessment"] for f in export.failures] == [
        "Help desk assessment",
        "Returns assessment",
    ]
    download = reverse("assessment:bulk_download", args=[export.pk])
    assert consultant_client.get(download).status_code == 404


# --- starting an export ------------------------------------------------------------


@pytest.mark.django_db
def test_an_assessment_without_a_current_grant_cannot_be_included(consultant, closed):
    organisation = make_organisation("Lapsed Ltd", manager="lapsed")
    make_grant(organisation, consultant.consultancy, days=-1)
    lapsed = make_assessment(make_team(organisation, "Tills"), status="submitted")

    with pytest.raises(services.ServiceError, match="no longer shares them"):
        services.bulk_export_start(
            consultancy=consultant.consultancy, by=consultant, assessments=[*closed, lapsed]
        )

    assert not BulkExport.objects.exists()
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_an_open_assessment_cannot_be_included(consultant, closed):
    still_open = make_assessment(closed[0].team, status="open")

    with pytest.raises(services.ServiceError):
        services.bulk_export_start(
            consultancy=consultant.consultancy, by=consultant, assessments=[still_open]
        )

    assert not BulkExport.objects.exists()


@pytest.mark.django_db
def test_it_needs_at_least_one_and_at_most_the_limit(consultant, closed, monkeypatch):
    with pytest.raises(services.ServiceError, match="at least one"):
        services.bulk_export_start(
            consultancy=consultant.consultancy, by=consultant, assessments=[]
        )
    monkeypatch.setattr("assessment.services.bulk.BULK_EXPORT_MAX", 2)
    with pytest.raises(services.ServiceError, match="at most 2"):
        services.bulk_export_start(
            consultancy=consultant.consultancy, by=consultant, assessments=closed
        )
    assert not BulkExport.objects.exists()


@pytest.mark.django_db
def test_the_checklist_lists_each_client_teams_latest_closed_assessment(consultant_client, closed):
    make_assessment(closed[0].team, status="open")  # not closed: not listed
    other = make_organisation("Not a client", manager="stranger")
    make_assessment(make_team(other, "Hidden team"), status="submitted")

    response = consultant_client.get(reverse("assessment:bulk_new"))

    assert response.status_code == 200
    assert list(response.context["choices"]) == closed
    assert b"Hidden team" not in response.content
    assert response.content.count(b'type="checkbox" name="assessments"') == 3


@pytest.mark.django_db
def test_posting_the_checklist_starts_the_export_and_shows_its_page(
    consultant_client, closed, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(
        reports,
        "render_report",
        lambda a, **kw: reports.RenderedReport(
            pdf=b"%PDF-1.7 stub", filename="x.pdf", cached=False
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = consultant_client.post(
            reverse("assessment:bulk_new"), {"assessments": [closed[0].pk, closed[2].pk]}
        )

    export = BulkExport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("assessment:bulk_detail", args=[export.pk])
    page = consultant_client.get(response["Location"])
    assert b"2 of 2 reports" in page.content
    assert reverse("assessment:bulk_download", args=[export.pk]).encode() in page.content
    assert b"hx-trigger" not in page.content  # finished: no more polling


@pytest.mark.django_db
def test_posting_nothing_shows_the_checklist_again_with_the_reason(consultant_client, closed):
    response = consultant_client.post(reverse("assessment:bulk_new"), {})

    assert response.status_code == 400
    assert b"Choose at least one assessment." in response.content
    assert not BulkExport.objects.exists()


# --- the export page and download ---------------------------------------------------


@pytest.fixture
def running(consultant, closed):
    export = make_export(consultant, assessments=closed, status="running", done=1)
    help_desk = next(a for a in closed if a.title == "Help desk assessment")
    BulkExport.objects.filter(pk=export.pk).update(
        failures=[{"assessment": help_desk.title, "assessment_id": help_desk.pk, "error": "broken"}]
    )
    export.refresh_from_db()
    return export


@pytest.mark.django_db
def test_the_export_page_polls_while_running_and_works_without_javascript(
    consultant_client, running
):
    url = reverse("assessment:bulk_detail", args=[running.pk])

    response = consultant_client.get(url)

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" in content
    assert "1 of 3 reports" in content
    assert '<progress class="w-100" max="3" value="1">' in content
    assert f'hx-get="{url}?done=1&amp;status=running" hx-trigger="every 2s"' in content
    assert f'<a href="{url}">Refresh</a>' in content
    assert "Help desk assessment: broken" in content
    assert reverse("assessment:bulk_download", args=[running.pk]) not in content
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_an_export_whose_worker_went_away_says_so_and_stops_polling(
    consultant_client, running, settings
):
    url = reverse("assessment:bulk_detail", args=[running.pk])
    silent = settings.REPORT_TIMEOUT_SECONDS + BulkExport.STALL_GRACE_SECONDS
    BulkExport.objects.filter(pk=running.pk).update(
        progress_at=timezone.now() - timedelta(seconds=silent + 5)
    )

    content = consultant_client.get(url).content.decode()

    assert "Stopped" in content
    assert "This export stopped before it finished" in content
    assert f'href="{reverse("assessment:bulk_new")}">Start a new export' in content
    assert "hx-trigger" not in content
    assert "1 of 3 reports" in content


@pytest.mark.django_db
def test_a_slow_report_is_not_mistaken_for_a_stalled_export(running, settings):
    now = timezone.now()
    running.progress_at = now - timedelta(seconds=settings.REPORT_TIMEOUT_SECONDS + 60)

    assert not running.has_stalled(now)
    assert running.has_stalled(now + timedelta(seconds=BulkExport.STALL_GRACE_SECONDS))
    running.status = BulkExport.Status.DONE
    assert not running.has_stalled(now + timedelta(days=1))


@pytest.mark.django_db
def test_the_htmx_partial_returns_only_the_progress_fragment(
    consultant_client, running, django_assert_num_queries
):
    url = reverse("assessment:bulk_detail", args=[running.pk])
    BulkExport.objects.filter(pk=running.pk).update(done=2)

    # session, user, export (with its consultancy), which failed reports are still shared
    with django_assert_num_queries(4):
        response = consultant_client.get(url, headers={"HX-Request": "true"})

    content = response.content.decode().strip()
    assert content.startswith('<section id="export-progress"')
    assert "<html" not in content
    assert "2 of 3 reports" in content
    assert "HX-Request" in response["Vary"]


# --- the live region (issue 13) ---------------------------------------------------------


def live_region(html: str) -> list[str]:
    return re.findall(r"<[^>]*aria-live[^>]*>", html)


@pytest.mark.django_db
def test_the_live_region_stays_outside_what_polling_replaces(consultant_client, running):
    url = reverse("assessment:bulk_detail", args=[running.pk])

    page = consultant_client.get(url).content.decode()
    fragment = consultant_client.get(url, headers={"HX-Request": "true"}).content.decode()

    region = live_region(page)
    assert region == [
        '<p id="export-announcement" class="visually-hidden" role="status" aria-live="polite" '
        'aria-atomic="true">'
    ]
    polled = page[page.index('<section id="export-progress"') :]
    assert page.index("export-announcement") < page.index('<section id="export-progress"')
    assert not live_region(polled)
    assert not live_region(fragment)  # the poll never brings a new live region


@pytest.mark.django_db
def test_the_poll_announces_only_when_the_progress_changed(consultant_client, running):
    url = reverse("assessment:bulk_detail", args=[running.pk])
    htmx = {"HX-Request": "true"}

    same = consultant_client.get(f"{url}?done=1&status=running", headers=htmx).content.decode()
    BulkExport.objects.filter(pk=running.pk).update(done=2)
    moved = consultant_client.get(f"{url}?done=1&status=running", headers=htmx).content.decode()
    BulkExport.objects.filter(pk=running.pk).update(done=3, status="done")
    done = consultant_client.get(f"{url}?done=2&status=running", headers=htmx).content.decode()

    assert "hx-swap-oob" not in same
    oob = '<span id="export-announcement" hx-swap-oob="innerHTML">'
    assert f"{oob}2 of 3 reports made.</span>" in moved
    assert f'hx-get="{url}?done=2&amp;status=running"' in moved  # what it shows now
    assert f"{oob}The export is ready to download.</span>" in done
    assert "hx-trigger" not in done  # finished: polling stops


@pytest.mark.django_db
def test_a_malformed_seen_value_just_announces(consultant_client, running):
    url = reverse("assessment:bulk_detail", args=[running.pk])

    response = consultant_client.get(f"{url}?done=²&status=nope", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "1 of 3 reports made." in response.content.decode()


# --- past exports (issue 13) -----------------------------------------------------------------


@pytest.mark.django_db
def test_past_exports_are_listed_with_status_date_size_and_download(
    consultant_client, consultant, closed, settings, django_assert_num_queries
):
    settings.BULK_EXPORT_RETENTION_DAYS = 30
    finished = timezone.now() - timedelta(days=2)
    ready = make_export(
        consultant, assessments=closed, archive=b"x" * 2048, finished_at=finished, done=3
    )
    failed = make_export(consultant, assessments=closed[:1], status="failed", finished_at=finished)
    queued = make_export(consultant, assessments=closed[:2], status="queued")
    other = make_export(make_consultant("other", name="Rivals LLP"), assessments=closed)

    # session, user, consultancy, the exports (one, however many), and the navigation's
    # two (assessor profile, consultant membership)
    with django_assert_num_queries(6):
        page = consultant_client.get(reverse("assessment:bulk_list"))

    html = page.content.decode()
    assert page.status_code == 200
    for export in (ready, failed, queued):
        assert reverse("assessment:bulk_detail", args=[export.pk]) in html
    assert reverse("assessment:bulk_detail", args=[other.pk]) not in html
    assert reverse("assessment:bulk_download", args=[ready.pk]) in html
    assert reverse("assessment:bulk_download", args=[failed.pk]) not in html
    assert reverse("assessment:bulk_download", args=[queued.pk]) not in html
    assert "2.0\xa0KB" in html
    assert "Failed" in html
    assert "Not ready yet" in html
    kept = timezone.localtime(finished + timedelta(days=30))
    assert date_format(kept, "DATE_FORMAT") in html


@pytest.mark.django_db
def test_an_export_of_a_client_that_withdrew_access_has_no_download_link(
    consultant_client, consultant, closed
):
    ready = make_export(consultant, assessments=closed, archive=b"zip", finished_at=timezone.now())
    ConsultantGrant.objects.filter(organisation=closed[2].organisation).update(
        revoked_at=timezone.now()
    )

    html = consultant_client.get(reverse("assessment:bulk_list")).content.decode()

    assert reverse("assessment:bulk_download", args=[ready.pk]) not in html
    assert "a client withdrew access" in html
    assert (
        consultant_client.get(reverse("assessment:bulk_download", args=[ready.pk])).status_code
        == 404
    )


@pytest.mark.django_db
def test_the_exports_page_says_what_to_do_when_there_are_none(consultant_client):
    html = consultant_client.get(reverse("assessment:bulk_list")).content.decode()

    assert "No exports yet." in html
    assert f'href="{reverse("assessment:bulk_new")}"' in html


@pytest.mark.django_db
def test_a_client_that_withdraws_its_grant_takes_its_failed_report_names_with_it(
    consultant_client, running, closed
):
    """Issue 7 (tenant canary): the failure list named a withdrawn client's assessments."""
    harbour, quay = closed[0], closed[2]
    BulkExport.objects.filter(pk=running.pk).update(
        failures=[
            {"assessment": harbour.title, "assessment_id": harbour.pk, "error": "broken"},
            {"assessment": quay.title, "assessment_id": quay.pk, "error": "broken"},
            # Without the assessment it came from, a failure cannot be checked: never named.
            {"assessment": "Unknown origin", "error": "recorded without an id"},
        ]
    )
    url = reverse("assessment:bulk_detail", args=[running.pk])
    before = consultant_client.get(url).content.decode()
    assert f"{quay.title}: broken" in before
    assert "Unknown origin" not in before

    quay.organisation.consultant_grants.update(revoked_at="2000-01-01T00:00Z")

    content = consultant_client.get(url).content.decode()
    assert f"{harbour.title}: broken" in content
    assert quay.title not in content


@pytest.mark.django_db
def test_the_download_is_a_404_until_the_export_is_done(consultant_client, running):
    url = reverse("assessment:bulk_download", args=[running.pk])
    assert consultant_client.get(url).status_code == 404


@pytest.mark.django_db
def test_the_download_is_the_zip_as_an_attachment(consultant_client, running):
    BulkExport.objects.filter(pk=running.pk).update(status="done", done=3, archive=b"PK zip")

    response = consultant_client.get(reverse("assessment:bulk_download", args=[running.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="reports-{running.pk}.zip"'
    assert response.content == b"PK zip"


@pytest.mark.django_db
def test_the_download_is_a_404_once_a_client_withdraws_its_grant(consultant_client, running):
    BulkExport.objects.filter(pk=running.pk).update(status="done", done=3, archive=b"PK zip")
    running.assessments.first().organisation.consultant_grants.update(
        revoked_at="2000-01-01T00:00Z"
    )

    response = consultant_client.get(reverse("assessment:bulk_download", args=[running.pk]))

    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["bulk_detail", "bulk_download"])
def test_another_consultancy_gets_a_404(client, running, name):
    BulkExport.objects.filter(pk=running.pk).update(status="done", archive=b"PK zip")
    client.force_login(make_consultant("rival", name="Rival Partners"))

    assert client.get(reverse(f"assessment:{name}", args=[running.pk])).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["bulk_detail", "bulk_download"])
def test_a_user_who_is_not_a_consultant_gets_a_404(client, running, closed, name):
    BulkExport.objects.filter(pk=running.pk).update(status="done", archive=b"PK zip")
    client.force_login(closed[0].organisation.manager)

    assert client.get(reverse(f"assessment:{name}", args=[running.pk])).status_code == 404


@pytest.mark.django_db
def test_a_user_who_is_not_a_consultant_cannot_open_the_checklist(client, closed):
    client.force_login(closed[0].organisation.manager)

    assert client.get(reverse("assessment:bulk_new")).status_code == 404


# --- pruning old exports --------------------------------------------------------------


def aged_export(consultant, *, status: str, days: float, archive: bytes | None = b"PK" * 500):
    export = make_export(consultant, status=status, total=1)
    finished = timezone.now() - timedelta(days=days) if status in ("done", "failed") else None
    BulkExport.objects.filter(pk=export.pk).update(
        finished_at=finished,
        archive=archive,
        created_at=timezone.now() - timedelta(days=days),
    )
    return export


@pytest.mark.django_db
def test_pruning_deletes_only_finished_exports_past_the_retention(consultant, settings):
    settings.BULK_EXPORT_RETENTION_DAYS = 30
    aged_export(consultant, status="done", days=31)
    aged_export(consultant, status="failed", days=40, archive=None)
    recent = aged_export(consultant, status="done", days=29)
    stuck = aged_export(consultant, status="running", days=90)
    queued = aged_export(consultant, status="queued", days=90)
    out = io.StringIO()

    call_command("prune_bulk_exports", stdout=out)

    remaining = set(BulkExport.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, stuck.pk, queued.pk}
    assert out.getvalue().strip() == (
        "Deleted 2 bulk export(s) finished over 30 days ago (0.0 MB of ZIP files)."
    )


@pytest.mark.django_db
def test_a_dry_run_of_pruning_deletes_nothing_and_days_are_checked(consultant):
    aged_export(consultant, status="done", days=10, archive=b"x" * 2_500_000)
    out = io.StringIO()

    call_command("prune_bulk_exports", "--days", "7", "--dry-run", stdout=out)

    assert BulkExport.objects.count() == 1
    assert "Would delete 1 bulk export(s) finished over 7 days ago (2.5 MB" in out.getvalue()
    with pytest.raises(CommandError, match="at least 1"):
        call_command("prune_bulk_exports", "--days", "0")


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["²", "٣", "9" * 30, "-1", "1\x00", "x" * 5000])
def test_a_malformed_choice_is_refused_and_starts_nothing(consultant_client, closed, value):
    response = consultant_client.post(
        reverse("assessment:bulk_new"), {"assessments": [closed[0].pk, value]}
    )

    assert response.status_code == 400
    assert b"Select a valid choice" in response.content or b"Choose" in response.content
    assert not BulkExport.objects.exists()
    # The valid choice the user made stays ticked.
    assert f'value="{closed[0].pk}"\n' in response.text or f'value="{closed[0].pk}" ' in (
        response.text
    )


@pytest.mark.django_db
def test_a_consultant_reading_german_gets_a_zip_of_german_reports(
    consultant, closed, django_capture_on_commit_callbacks
):
    from django.utils import translation

    from tests.pdf import pdf_text

    with translation.override("de"), django_capture_on_commit_callbacks(execute=True):
        export = services.bulk_export_start(
            consultancy=consultant.consultancy, by=consultant, assessments=closed[:1]
        )

    export.refresh_from_db()
    assert export.language == "de"
    (pdf,) = zip_members(export).values()
    with translation.override("de"):
        heading = translation.gettext("Executive summary")
    assert heading != "Executive summary"
    assert heading in pdf_text(pdf)
