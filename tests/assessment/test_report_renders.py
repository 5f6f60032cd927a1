"""Reports never hold a web worker (issue 16): the task worker renders them, a download
serves the cache or answers at once with a progress page, and the render forkserver
starts with the worker. The worker itself, for real, is in tests/production/."""

import os
import re
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.tasks import default_task_backend
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from assessment import pdf_worker, reports, services, tasks
from assessment.models import ReportCache
from assessment.services.reports import RENDER_ATTEMPTS
from tests.factories import (
    make_assessment,
    make_consultant,
    make_grant,
    make_in_review,
    make_organisation,
    make_response,
    make_team,
)

# A backend that keeps what is queued and runs nothing: the test runs it, or not.
QUEUE = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
HTMX = {"HX-Request": "true", "HX-Trigger": "report-progress"}


@pytest.fixture
def reviewed(db):
    organisation = make_organisation("Harbour Ltd")
    assessment = make_assessment(
        make_team(organisation, "Help desk"), slugs=("win4",), status="submitted"
    )
    for levels in ([5, 1, 4, 2], [5, 2, 4, 2], [4, 1, 3, 2]):
        make_response(assessment, levels=levels, status="completed")
    return assessment


@pytest.fixture
def queue():
    """Tasks are queued, not run; ``queued(name)`` lists those of one task."""
    with override_settings(TASKS=QUEUE):
        yield


def queued(name: str) -> list:
    return [r for r in default_task_backend.results if r.task.func.__name__ == name]


def run(results: list) -> None:
    """What the worker does with each queued task."""
    for result in results:
        result.task.call(*result.args, **result.kwargs)


def url(assessment) -> str:
    return reverse("assessment:report_pdf", kwargs={"pk": assessment.pk})


@contextmanager
def fake_render(pdf: bytes):
    """The renderer answers ``pdf`` at once (its output is tested in test_reports.py)."""
    with (
        mock.patch("assessment.reports.html_to_pdf", return_value=(pdf, [], [])) as render,
        mock.patch("assessment.reports.check_rendering"),
    ):
        yield render


@pytest.fixture
def no_render():
    """Fails the test if anything renders a PDF."""
    with mock.patch("assessment.reports.html_to_pdf", side_effect=AssertionError("rendered")):
        yield


# --- the download in the web request -------------------------------------------------


@pytest.mark.usefixtures("queue", "no_render")
def test_an_uncached_download_answers_with_the_progress_page_and_queues_one_render(
    client, reviewed, django_capture_on_commit_callbacks
):
    # Before issue 16 this request rendered the PDF itself (4.7 s in a web worker).
    client.force_login(reviewed.organisation.manager)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(url(reviewed))
    with django_capture_on_commit_callbacks(execute=True):
        again = client.get(url(reviewed))  # clicked twice
    with django_capture_on_commit_callbacks(execute=True):
        polled = client.get(url(reviewed), headers=HTMX)

    assert first.status_code == again.status_code == polled.status_code == 202
    assert first["Content-Type"].startswith("text/html")
    assert "Your report is in the queue" in first.text
    assert f'hx-get="{url(reviewed)}" hx-trigger="every 2s"' in first.text
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in first.text
    assert "<html" not in polled.text  # the fragment alone
    assert re.findall(r"<script(?![^>]*\bsrc=)", first.text) == []  # nothing inline (CSP)
    assert "no-cache" in first["Cache-Control"]
    assert "HX-Request" in first["Vary"]
    [render] = queued("render_report_task")
    manager = reviewed.organisation.manager
    assert render.args == [reviewed.pk, manager.pk, None, "en-gb"]
    assert render.task.priority == reports.DOWNLOAD_PRIORITY
    entry = ReportCache.objects.get()
    assert (entry.status, entry.viewer_id, entry.pdf) == ("queued", manager.pk, None)


@pytest.mark.usefixtures("queue")
def test_once_the_task_has_run_the_download_is_the_pdf_and_the_page_starts_it(
    client, reviewed, django_capture_on_commit_callbacks
):
    client.force_login(reviewed.organisation.manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(url(reviewed))

    run(queued("render_report_task"))
    polled = client.get(url(reviewed), headers=HTMX)
    started = client.get(
        url(reviewed), headers={"HX-Request": "true", "HX-Trigger": "report-download"}
    )
    with mock.patch("assessment.reports.html_to_pdf") as render:
        download = client.get(url(reviewed))

    assert polled.status_code == 200
    assert "Your report is ready" in polled.text
    assert "every 2s" not in polled.text  # polling stops
    assert 'id="report-download" hx-get=' in polled.text
    assert 'hx-swap-oob="innerHTML">Your report is ready.' in polled.text
    assert (started.status_code, started["HX-Redirect"]) == (204, url(reviewed))
    render.assert_not_called()
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download.content.startswith(b"%PDF")
    assert len(queued("render_report_task")) == 1


@pytest.mark.django_db
def test_a_cached_download_is_served_at_once_in_constant_queries(
    client, reviewed, no_render, django_assert_num_queries
):
    manager = reviewed.organisation.manager
    with fake_render(b"%PDF-cached"):
        reports.render_report(reviewed, viewer_id=manager.pk)
    client.force_login(manager)

    # Session and user, the assessment (access), the branding, the key's stamp and
    # framework formats, the cached row.
    with django_assert_num_queries(7):
        response = client.get(url(reviewed))

    assert response.status_code == 200
    assert response.content == b"%PDF-cached"


@pytest.mark.django_db
def test_another_organisations_manager_gets_a_404_and_nothing_is_queued(
    client, reviewed, queue, django_capture_on_commit_callbacks
):
    client.force_login(make_organisation("Rival plc").manager)

    with django_capture_on_commit_callbacks(execute=True):
        download = client.get(url(reviewed))
        polled = client.get(url(reviewed), headers=HTMX)

    assert (download.status_code, polled.status_code) == (404, 404)
    assert default_task_backend.results == []
    assert not ReportCache.objects.exists()


@pytest.mark.usefixtures("queue")
def test_a_failed_render_is_reported_and_queued_again_only_by_the_reader(
    client, reviewed, django_capture_on_commit_callbacks, caplog
):
    client.force_login(reviewed.organisation.manager)
    failing = mock.patch(
        "assessment.reports.html_to_pdf", side_effect=reports.RenderLimitExceeded("time")
    )
    pages = []
    for _attempt in range(RENDER_ATTEMPTS):
        with django_capture_on_commit_callbacks(execute=True):
            client.get(url(reviewed))  # the download, or "Try again"
        with failing:
            run(queued("render_report_task")[-1:])
        pages.append(client.get(url(reviewed), headers=HTMX))

    assert len(queued("render_report_task")) == RENDER_ATTEMPTS  # polling queued none
    for page in pages:
        assert page.status_code == 200
        assert "The report could not be made" in page.text
        assert "every 2s" not in page.text
    assert "Try again" in pages[0].text
    assert "Try again" not in pages[-1].text  # attempts used up: later, or ask for help
    assert "Please try again later" in pages[-1].text
    entry = ReportCache.objects.get()
    assert (entry.status, entry.attempts) == ("failed", RENDER_ATTEMPTS)
    assert "exceeded its bounds (time)" in caplog.text
    # A quarter of an hour later the reader may try again.
    ReportCache.objects.update(progress_at=timezone.now() - timedelta(minutes=16))
    with django_capture_on_commit_callbacks(execute=True):
        client.get(url(reviewed))
    assert len(queued("render_report_task")) == RENDER_ATTEMPTS + 1


@pytest.mark.usefixtures("queue")
def test_a_render_whose_worker_died_is_said_so_and_queued_again(
    client, reviewed, settings, django_capture_on_commit_callbacks
):
    client.force_login(reviewed.organisation.manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(url(reviewed))
    silent = settings.REPORT_TIMEOUT_SECONDS + ReportCache.STALL_GRACE_SECONDS + 1
    ReportCache.objects.update(
        status="running", progress_at=timezone.now() - timedelta(seconds=silent)
    )

    page = client.get(url(reviewed), headers=HTMX)
    with django_capture_on_commit_callbacks(execute=True):
        again = client.get(url(reviewed))

    assert "This is taking longer than it should" in page.text
    assert "every 2s" not in page.text
    assert again.status_code == 202
    assert "every 2s" in again.text
    assert len(queued("render_report_task")) == 2
    assert ReportCache.objects.get().status == "queued"


@pytest.mark.django_db
def test_a_render_is_claimed_once(reviewed):
    manager = reviewed.organisation.manager
    with (
        mock.patch("assessment.reports.html_to_pdf", return_value=(b"%PDF-1", [], [])) as render,
        mock.patch("assessment.reports.check_rendering"),
    ):
        first = reports.render_in_worker(reviewed, viewer_id=manager.pk, consultancy=None)
        second = reports.render_in_worker(reviewed, viewer_id=manager.pk, consultancy=None)

    assert (first, second) == (True, False)
    assert render.call_count == 1


# --- rendered ahead: on submit, on decide, on a branding change -------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("queue")
def test_submitting_queues_the_reports_once_committed(django_capture_on_commit_callbacks):
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="open")
    for _ in range(3):
        make_response(assessment, levels=[3, 4, 2, 5], status="completed")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.assessment_submit(assessment=assessment, by=organisation.manager)
        assert queued("render_reports_of") == []  # not before the commit
    for callback in callbacks:
        callback()

    [ahead] = queued("render_reports_of")
    assert ahead.args == [assessment.pk]


@pytest.mark.django_db
@pytest.mark.usefixtures("queue")
def test_a_decision_queues_the_reports(django_capture_on_commit_callbacks):
    assessment, assessor = make_in_review(version=1)

    with django_capture_on_commit_callbacks(execute=True):
        services.decision_return(
            assessment=assessment, assessor=assessor, required_changes="More.", snapshot={}
        )

    assert [r.args for r in queued("render_reports_of")] == [[assessment.pk]]


@pytest.mark.usefixtures("queue")
def test_a_branding_change_renders_the_consultancys_client_reports_again(
    reviewed, django_capture_on_commit_callbacks
):
    consultant = make_consultant("cora")
    make_grant(reviewed.organisation, consultant.consultancy)
    other = make_consultant("otto", name="Other Advisers")
    make_grant(reviewed.organisation, other.consultancy)

    with django_capture_on_commit_callbacks(execute=True):
        services.branding_update(
            consultancy=consultant.consultancy, name="Northwind", accent_colour="#0b5563"
        )
    [branded] = queued("render_branded_reports")
    run([branded])

    assert branded.args == [consultant.consultancy.pk]
    [ahead] = queued("render_reports_of")
    assert ahead.args == [reviewed.pk, consultant.consultancy.pk]
    run([ahead])
    # Only the consultancy's own people; the other firm's report is not theirs to redo.
    [render] = queued("render_report_task")
    assert render.args == [reviewed.pk, consultant.pk, consultant.consultancy.pk, "en-gb"]
    # Nobody waits for it yet: after bulk exports (0) and downloads.
    assert render.task.priority == reports.AHEAD_PRIORITY < 0 < reports.DOWNLOAD_PRIORITY
    with fake_render(b"%PDF-n"):
        run([render])
    assert list(ReportCache.objects.values_list("viewer_id", "consultancy_id", "status")) == [
        (consultant.pk, consultant.consultancy.pk, "ready")
    ]


@pytest.mark.django_db
def test_rendered_ahead_every_reader_downloads_from_the_cache(client, reviewed, no_render):
    consultant = make_consultant("cora")
    make_grant(reviewed.organisation, consultant.consultancy)
    make_consultant("ex", name="Former Advisers")  # no grant: no report of theirs
    with (
        mock.patch(
            "assessment.reports.html_to_pdf", return_value=(b"%PDF-ahead", [], [])
        ) as render,
        mock.patch("assessment.reports.check_rendering"),
    ):
        tasks.render_reports_of.call(reviewed.pk)
        tasks.render_reports_of.call(reviewed.pk)  # again: everything is there already

    assert render.call_count == 2  # the manager's and the consultant's
    client.force_login(reviewed.organisation.manager)
    assert client.get(url(reviewed)).content == b"%PDF-ahead"
    client.force_login(consultant)
    consultant_url = reverse("assessment:client_report_pdf", kwargs={"pk": reviewed.pk})
    assert client.get(consultant_url).content == b"%PDF-ahead"
    assert ReportCache.objects.count() == 2  # one reader's rendering never drops another's


@pytest.mark.django_db
def test_nothing_is_rendered_ahead_for_a_reopened_assessment(reviewed, no_render):
    reviewed.status = "open"
    reviewed.save(update_fields=["status"])

    tasks.render_reports_of.call(reviewed.pk)

    assert not ReportCache.objects.exists()


@pytest.mark.django_db
def test_the_immediate_backend_renders_nothing_ahead(no_render, django_capture_on_commit_callbacks):
    """Development runs each task inside the request that queues it: a submission would
    wait for every reader's render, so reports render on demand there."""
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="open")
    for _ in range(3):
        make_response(assessment, levels=[3, 4, 2, 5], status="completed")

    with django_capture_on_commit_callbacks(execute=True):
        services.assessment_submit(assessment=assessment, by=organisation.manager)

    assert not ReportCache.objects.exists()  # a render claims its row first


# --- the worker process ----------------------------------------------------------------


@pytest.mark.django_db
@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_the_task_worker_starts_the_render_forkserver_before_its_first_task():
    calls = []
    with (
        mock.patch.object(pdf_worker, "start", side_effect=lambda: calls.append("forkserver")),
        mock.patch.object(
            DatabaseWorkerCommand, "handle", side_effect=lambda *a, **k: calls.append("tasks")
        ),
    ):
        call_command("db_worker", "--batch", "--no-startup-delay")

    assert calls == ["forkserver", "tasks"]


def test_starting_the_forkserver_makes_it_run_with_weasyprint_loaded():
    from multiprocessing import forkserver

    pdf_worker.start()

    assert forkserver._forkserver._forkserver_alive_fd is not None
    assert "weasyprint" in forkserver._forkserver._preload_modules


def test_a_render_runs_at_a_lower_cpu_priority_than_the_web_workers():
    receiver, sender = pdf_worker.multiprocessing.Pipe(duplex=False)
    with (
        mock.patch.object(pdf_worker.os, "nice") as nice,
        mock.patch.object(pdf_worker.resource, "setrlimit"),
        mock.patch.object(pdf_worker, "render", return_value=(b"%PDF", [], [], [])),
    ):
        pdf_worker._child(sender, 1024, ("<p>x</p>", "", {}, "pdf/ua-1"))

    nice.assert_called_once_with(pdf_worker.RENDER_NICENESS)
    assert receiver.recv() == ("ok", (b"%PDF", [], [], []))


def test_a_web_worker_never_imports_weasyprint():
    """Importing WeasyPrint takes 1-2 s: the first download in each gunicorn worker paid it
    (4 s under load) though the web never renders. Only the render forkserver loads it."""
    import subprocess
    import sys

    code = (
        "import sys, django; django.setup(); "
        "import assessment.urls, assessment.views.exports, assessment.reports, assessment.tasks; "
        "print('weasyprint' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "assessment.settings"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )

    assert result.stdout.strip() == "False"
