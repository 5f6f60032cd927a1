"""PDF reports: an HTML template with print CSS, rendered by WeasyPrint.

Rendering is locked down:

- ``SafeFetcher`` serves only the app's own static files, from a private origin
  that never reaches the network. It refuses every other URL (``file:``,
  ``http(s):``, other hosts, attachments) and records what it refused.
- All user text reaches the template as data and is escaped.
- The PDF is tagged (PDF/UA-1) with title, language and author metadata.

A rendered report is cached in the database, keyed on everything that can change
it, so any web node can serve a second export at once.
"""

import hashlib
import mimetypes
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.staticfiles import finders
from django.db.models import Max
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from assessment import results, scoring, selectors
from assessment.models import Assessment, Consultancy, ReportCache

# A private origin for the report's own assets: it resolves to no host, and only
# SafeFetcher knows how to answer it.
ASSET_ORIGIN = "https://assets.service-balance.invalid/"
STATIC_PREFIX = ASSET_ORIGIN + "static/"
PDF_VARIANT = "pdf/ua-1"
REPORT_TEMPLATE_VERSION = "1"


class SafeFetcher(URLFetcher):
    """Serves the app's static files by path; refuses everything else, and says what."""

    def __init__(self, extra: dict[str, tuple[bytes, str]] | None = None) -> None:
        super().__init__(allowed_protocols={"https"}, allow_redirects=False, timeout=1)
        # In-memory assets by exact URL: the validated logo and the brand stylesheet.
        self.extra = extra or {}
        self.served: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if url in self.extra:
            self.served.append(url)
            body, content_type = self.extra[url]
            return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})
        path = self._static_path(url)
        if path is None:
            self.refused.append(url)
            raise ValueError(f"The report may not fetch {url!r}")
        self.served.append(url)
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        with open(path, "rb") as handle:
            body = handle.read()
        return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})

    @staticmethod
    def _static_path(url: str) -> str | None:
        if not url.startswith(STATIC_PREFIX):
            return None
        relative = url.removeprefix(STATIC_PREFIX).split("?", 1)[0].split("#", 1)[0]
        parts = PurePosixPath(relative).parts
        if not parts or ".." in parts or relative.startswith("/"):
            return None
        found = finders.find(relative)
        return found if isinstance(found, str) else None


@dataclass
class RenderedReport:
    pdf: bytes
    filename: str
    cached: bool
    served: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


BRAND_CSS_URL = ASSET_ORIGIN + "brand.css"
LOGO_URL = ASSET_ORIGIN + "logo"


def branding_assets(consultancy: Consultancy | None) -> dict[str, tuple[bytes, str]]:
    """The consultancy's stylesheet (its validated accent colour) and logo, by URL."""
    if consultancy is None:
        return {}
    css = (
        f".cover .brand, h1, h2, h3, h4 {{ color: {consultancy.accent_colour}; }}\n"
        f"h2 {{ border-bottom-color: {consultancy.accent_colour}; }}\n"
        f"table.figures thead th {{ border-bottom-color: {consultancy.accent_colour}; }}\n"
    )
    assets = {BRAND_CSS_URL: (css.encode(), "text/css")}
    if consultancy.logo:
        assets[LOGO_URL] = (bytes(consultancy.logo), consultancy.logo_content_type)
    return assets


def branding_for(assessment: Assessment, viewer: AbstractBaseUser | None) -> Consultancy | None:
    """The consultancy whose branding a viewer's report carries: one of theirs that holds a
    current grant for the assessment's organisation."""
    if viewer is None or not viewer.is_authenticated:
        return None
    return (
        Consultancy.objects.filter(
            members__user=viewer,
            grants__organisation_id=assessment.organisation_id,
            grants__revoked_at__isnull=True,
            grants__expires_at__gt=timezone.now(),
        )
        .order_by("pk")
        .first()
    )


def report_context(
    assessment: Assessment, *, viewer_id: int | None, consultancy: Consultancy | None = None
) -> dict:
    """Everything the report template shows, gathered in a constant number of queries."""
    scored = results.assessment_results(assessment, viewer_id=viewer_id)
    versions = selectors.assessment_versions(assessment)
    history = selectors.review_history(assessment)
    verdicts = [p for p in scored.panels if p.team.verdict is not None]
    priorities = [(panel, item) for panel in scored.panels for item in panel.priorities[:3]]
    return {
        "assessment": assessment,
        "organisation": assessment.organisation,
        "team": assessment.team,
        "results": scored,
        "versions": versions,
        "figures": selectors.team_results(assessment, versions),
        "verdicts": verdicts,
        "top_priorities": priorities,
        "decision": history["decisions"][0] if history["decisions"] else None,
        "assignment": history["assignment"],
        "generated_at": timezone.now(),
        "formula_version": scoring.FORMULA_VERSION,
        "language": get_language() or settings.LANGUAGE_CODE,
        "consultancy": consultancy,
        "brand_css_url": BRAND_CSS_URL if consultancy else None,
        "logo_url": LOGO_URL if consultancy and consultancy.logo else None,
    }


def report_html(
    assessment: Assessment, *, viewer_id: int | None, consultancy: Consultancy | None = None
) -> str:
    return render_to_string(
        "reports/assessment_report.html",
        report_context(assessment, viewer_id=viewer_id, consultancy=consultancy),
    )


def html_to_pdf(html: str, fetcher: SafeFetcher | None = None) -> bytes:
    """WeasyPrint with the safe fetcher, a tagged PDF/UA variant and no attachments."""
    return HTML(string=html, base_url=ASSET_ORIGIN, url_fetcher=fetcher or SafeFetcher()).write_pdf(
        pdf_variant=PDF_VARIANT, attachments=[], uncompressed_pdf=False
    )


def cache_key(
    assessment: Assessment, *, viewer_id: int | None, consultancy: Consultancy | None = None
) -> str:
    """Everything that can change the report, in one small query.

    Answers are not part of it on purpose: team results show only once the
    assessment is submitted, and from then on answers cannot change until it is
    reopened, which is recorded in the audit trail (and so changes the key).
    """
    stamp = Assessment.objects.filter(pk=assessment.pk).aggregate(
        events=Max("audit_events__pk"),
        decisions=Max("decisions__pk"),
        moderations=Max("moderations__pk"),
        targets=Max("targets__updated_at"),
        responses=Max("responses__completed_at"),
    )
    versions = sorted(assessment.framework_versions.values_list("pk", flat=True))
    parts = [
        assessment.pk,
        assessment.status,
        assessment.title,
        assessment.team.name,
        assessment.organisation.name,
        viewer_id,
        versions,
        sorted(stamp.items()),
        scoring.FORMULA_VERSION,
        REPORT_TEMPLATE_VERSION,
        settings.ANONYMITY_THRESHOLD,
        get_language(),
        _branding_stamp(consultancy),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _branding_stamp(consultancy: Consultancy | None) -> str | None:
    if consultancy is None:
        return None
    logo = hashlib.sha256(bytes(consultancy.logo or b"")).hexdigest()
    return f"{consultancy.pk}:{consultancy.name}:{consultancy.accent_colour}:{logo}"


def render_report(
    assessment: Assessment,
    *,
    viewer_id: int | None = None,
    consultancy: Consultancy | None = None,
) -> RenderedReport:
    """The report as PDF bytes, from the cache when nothing has changed."""
    key = cache_key(assessment, viewer_id=viewer_id, consultancy=consultancy)
    filename = f"{slugify(assessment.title) or 'assessment'}-report.pdf"
    cached = ReportCache.objects.filter(key=key).values_list("pdf", flat=True).first()
    if cached is not None:
        return RenderedReport(pdf=bytes(cached), filename=filename, cached=True)
    fetcher = SafeFetcher(extra=branding_assets(consultancy))
    html = report_html(assessment, viewer_id=viewer_id, consultancy=consultancy)
    pdf = html_to_pdf(html, fetcher)
    ReportCache.objects.filter(assessment=assessment).delete()  # older versions
    ReportCache.objects.get_or_create(key=key, defaults={"assessment": assessment, "pdf": pdf})
    return RenderedReport(
        pdf=pdf,
        filename=filename,
        cached=False,
        served=fetcher.served,
        refused=fetcher.refused,
    )


def report_response(assessment: Assessment, *, viewer: AbstractBaseUser) -> HttpResponse:
    """The report as a download."""
    report = render_report(
        assessment, viewer_id=viewer.pk, consultancy=branding_for(assessment, viewer)
    )
    response = HttpResponse(report.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.filename}"'
    return response
