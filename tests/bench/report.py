"""The PDF report: the full export against bare WeasyPrint on the same HTML, and the
cached export."""

from tests.bench.common import median_ms


def bench_report(assessment) -> None:
    """Full report export against bare WeasyPrint on the same HTML, and the cached export."""
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
