"""The PDF report: the full export against bare WeasyPrint on the same HTML, and the
cached export; then the download request as the web serves it (issue 16): uncached it
queues the render and answers with the progress page, cached it serves the PDF, each as
a share of the full render measured in the same run."""

import statistics
import time

from tests.bench.common import median_ms

# The download's bound (issue 16: a web worker is held at most 500 ms) against the 4.7 s
# the first report took in a web worker: a tenth of a render.
DOWNLOAD_SHARE_TARGET = 0.1


def bench_report(assessment) -> None:
    """Full report export against bare WeasyPrint on the same HTML, and the cached export;
    the download request, uncached and cached, against the full render."""
    from django.conf import settings
    from weasyprint import HTML

    from assessment import reports
    from assessment.models import ReportCache

    runs = 5

    def full() -> None:
        ReportCache.objects.all().delete()
        reports.render_report(assessment)

    # The same HTML, its stylesheet read straight from static/ by WeasyPrint's own fetcher.
    html = reports.report_html(assessment, viewer_id=None).replace(
        reports.STYLESHEET_URL, (settings.BASE_DIR / "static/css/report.css").as_uri()
    )

    def bare() -> None:
        HTML(string=html).write_pdf(pdf_variant=reports.PDF_VARIANT)

    full_ms, full_low, full_high = median_ms(full, runs)
    bare_ms, bare_low, bare_high = median_ms(bare, runs)
    reports.render_report(assessment)
    cached_ms, _low, _high = median_ms(lambda: reports.render_report(assessment))
    print(
        f"report: full export {full_ms:.0f} ms (min {full_low:.0f}, max {full_high:.0f}); "
        f"bare WeasyPrint on the same HTML {bare_ms:.0f} ms (min {bare_low:.0f}, "
        f"max {bare_high:.0f}); ratio {full_ms / bare_ms:.2f} (target <= 1.3); "
        f"cached export {cached_ms:.1f} ms (target <= 50 ms); median of {runs} runs"
    )
    bench_download(assessment, full_ms=full_ms)


def bench_download(assessment, *, full_ms: float) -> None:
    """The manager's download request through the view (access check, cache key, cache
    look-up, progress page or PDF), with the database task backend production uses:
    uncached (the render is queued, nothing rendered), then cached."""
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory, override_settings
    from django.urls import reverse
    from django_htmx.middleware import HtmxDetails
    from django_tasks_db.models import DBTaskResult

    from assessment import reports
    from assessment.models import Assessment, ReportCache
    from assessment.views import exports

    # As the view reads it (the seeded object may hold a status set before it was closed,
    # which is part of the cache key).
    assessment = Assessment.objects.select_related("team", "organisation").get(pk=assessment.pk)
    manager = get_user_model().objects.get(
        memberships__organisation=assessment.organisation_id, memberships__role="manager"
    )
    path = reverse("assessment:report_pdf", kwargs={"pk": assessment.pk})
    factory = RequestFactory()

    def download(expected: int) -> None:
        request = factory.get(path)
        request.user = manager
        request.htmx = HtmxDetails(request)
        response = exports.report_pdf(request, assessment.pk, audience="manager")
        if response.status_code != expected:
            raise SystemExit(f"The report download answered {response.status_code}.")

    def uncached() -> float:
        ReportCache.objects.all().delete()
        DBTaskResult.objects.all().delete()
        start = time.perf_counter()
        download(202)
        return (time.perf_counter() - start) * 1000

    runs = 9
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        timings = [uncached() for _ in range(runs)]
        DBTaskResult.objects.all().delete()
    queued_ms, queued_low, queued_high = statistics.median(timings), min(timings), max(timings)
    reports.render_report(assessment, viewer_id=manager.pk)
    served_ms, served_low, served_high = median_ms(lambda: download(200), runs)
    queued_share, served_share = queued_ms / full_ms, served_ms / full_ms
    verdict = "met" if max(queued_share, served_share) <= DOWNLOAD_SHARE_TARGET else "NOT met"
    print(
        f"report download: uncached (queues the render, answers with the progress page) "
        f"{queued_ms:.1f} ms (min {queued_low:.1f}, max {queued_high:.1f}) = "
        f"{queued_share:.3f} of the full render; cached (the PDF) {served_ms:.1f} ms "
        f"(min {served_low:.1f}, max {served_high:.1f}) = {served_share:.3f}; full render "
        f"{full_ms:.0f} ms in this run; target <= {DOWNLOAD_SHARE_TARGET} each ({verdict}); "
        f"median of {runs} requests through the view"
    )
