"""PDF reports: an HTML template with print CSS, rendered by WeasyPrint.

Rendering is locked down:

- WeasyPrint runs in a child process bounded in time and memory
  (``pdf_worker.render_bounded``). Its fetcher serves only the assets handed to
  it (our report stylesheet, the consultancy's validated logo and colour), from a
  private origin that never reaches the network, and refuses every other URL
  (``file:``, ``http(s):``, other hosts, attachments), recording what it refused.
- Our own assets have fixed URLs on that origin, and their bytes are read by their
  logical static name (``css/report.css``), so the report never depends on how the
  static files storage names its files (hashed names in production). If one of them
  is refused or not fetched, the render fails with ``ReportAssetError``, logged: an
  unstyled report is never served or cached.
- All user text reaches the template as data and is escaped.
- The PDF is tagged (PDF/UA-1) with title, language and author metadata; a branded
  report names the consultancy as its author and in its running footer.

A rendered report is cached in the database, keyed on everything that can change
it (the stylesheet's content included), so any web node can serve it at once.

Rendering never happens in a web request (docs/reports.md): the task worker renders
each reader's report when an assessment is submitted or decided and when a
consultancy's branding changes (``assessment.tasks``), and a download whose report is
not in the cache queues its render and answers with a progress page
(``report_download``). The worker starts the render forkserver when it starts.
"""

import hashlib
import logging
import mimetypes
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db.models import Count, Max, OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language

from assessment import pdf_worker, scoring, selectors
from assessment.models import (
    Action,
    Assessment,
    Consultancy,
    CustomerPrediction,
    CustomerResponse,
    CustomerSurvey,
    Evidence,
    Judgement,
    ReportCache,
)
from assessment.pdf_worker import Assets, RenderLimitExceeded, render_bounded
from assessment.services import reports as report_services
from assessment.services.reports import Reader
from frameworks.models import FrameworkVersion
from frameworks.translation import active_language

logger = logging.getLogger(__name__)

# A private origin for the report's own assets: it resolves to no host, and only
# the report's fetcher knows how to answer it.
ASSET_ORIGIN = "https://assets.service-balance.invalid/"
STATIC_PREFIX = ASSET_ORIGIN + "static/"
PDF_VARIANT = "pdf/ua-1"
# Raise it when the report template changes: cached reports are keyed on it (and on the
# stylesheet's content, which needs no raise). Reports with a format-2 framework only;
# see FORMAT1_REPORT_TEMPLATE_VERSION for the others.
REPORT_TEMPLATE_VERSION = "9"
# Frozen: the template version of a report whose frameworks are all format 1. Their
# panels print byte for byte as before issue 15, and with this value (and formula 1) such
# a report keeps the cache key it had, so the PDF cached before the upgrade is the one
# served after it (tests/frameworks/test_v1_golden.py). A deliberate change to how
# format-1 reports print must raise it, which renders every such report afresh.
FORMAT1_REPORT_TEMPLATE_VERSION = "6"
# Task priorities: a reader's download waiting on its render goes first; bulk exports
# keep the default (0); renders ahead of any reader (after a submission, a decision, a
# branding change) come last, since nobody is waiting for them yet.
DOWNLOAD_PRIORITY = 10
AHEAD_PRIORITY = -10


# The static files a report may use, by logical name; anything else it asks for is refused.
REPORT_STATIC_FILES = ("css/report.css",)
# The URL the template asks for the stylesheet by: fixed, whatever the static storage
# calls the file (STATIC_URL and hashed names play no part).
STYLESHEET_URL = STATIC_PREFIX + "css/report.css"


class ReportAssetError(Exception):
    """One of the report's own assets could not be read, or the renderer refused or never
    fetched it: the PDF would come out unstyled, so there is none."""


def static_file(name: str) -> bytes:
    """A static file's bytes by its logical name (``css/report.css``): from the
    staticfiles finders (the source tree), or else from the static files storage
    (collectstatic's output, under the same name beside the hashed copy)."""
    path = finders.find(name)
    if isinstance(path, str):
        with open(path, "rb") as handle:
            return handle.read()
    if staticfiles_storage.exists(name):
        with staticfiles_storage.open(name) as handle:
            return handle.read()
    raise ReportAssetError(
        f"The report's static file {name!r} is neither found by the staticfiles finders "
        "nor in the static files storage."
    )


def static_assets() -> Assets:
    """Our own static files for the report, by the URL the report asks for them."""
    return {
        STATIC_PREFIX + name: (
            static_file(name),
            mimetypes.guess_type(name)[0] or "application/octet-stream",
        )
        for name in REPORT_STATIC_FILES
    }


def assets_stamp(assets: Assets) -> str:
    """A digest of the assets' URLs and bytes, for the cache key: a changed stylesheet
    makes every cached report stale."""
    digest = hashlib.sha256()
    for url in sorted(assets):
        digest.update(url.encode() + b"\0" + hashlib.sha256(assets[url][0]).digest())
    return digest.hexdigest()


@dataclass
class RenderedReport:
    pdf: bytes
    filename: str
    cached: bool
    served: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


BRAND_CSS_URL = ASSET_ORIGIN + "brand.css"
LOGO_URL = ASSET_ORIGIN + "logo"


def branding_assets(consultancy: Consultancy | None) -> Assets:
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
    # Rules are checked on the official scores (moderated where formula 2 says so).
    scored = selectors.rules.with_rule_checks(
        selectors.results.assessment_results(assessment, viewer_id=viewer_id)
    )
    versions = selectors.manager.assessment_versions(assessment)
    history = selectors.review.review_history(assessment)
    customers = selectors.customers.assessment_customer_voice(
        assessment, team_visible=scored.visible
    )
    selectors.customers.with_customer_series(scored, customers)
    verdicts = [p for p in scored.panels if p.team.verdict is not None]
    priorities = [(panel, item) for panel in scored.panels for item in panel.priorities[:3]]
    return {
        "assessment": assessment,
        "organisation": assessment.organisation,
        "team": assessment.team,
        "results": scored,
        "versions": versions,
        "figures": selectors.results.team_results(assessment, versions),
        "customers": customers,
        "verdicts": verdicts,
        # Format 2: who rated what, per framework (the results' audiences).
        "audience_panels": [panel for panel in scored.panels if panel.audiences],
        "concepts": selectors.concepts.concept_agreement(assessment) if scored.panels else [],
        "top_priorities": priorities,
        "decision": history["decisions"][0] if history["decisions"] else None,
        # Issue 18: evidence (names and dates), the assessor's judgements, and the
        # organisation's actions; empty (and unprinted) when there are none.
        "evidence_sections": selectors.review.evidence_and_judgements(assessment, versions, scored),
        "actions": selectors.actions.assessment_actions(assessment),
        # Format 2 only: the awarded level follows a rule, and the report says what it gave.
        "award_rule_applies": selectors.review.award_rule_applies(versions),
        "assignment": history["assignment"],
        "generated_at": timezone.now(),
        **formula_context(scored, versions),
        "language": get_language() or settings.LANGUAGE_CODE,
        "consultancy": consultancy,
        "stylesheet_url": STYLESHEET_URL,
        "brand_css_url": BRAND_CSS_URL if consultancy else None,
        "logo_url": LOGO_URL if consultancy and consultancy.logo else None,
    }


def formula_context(
    scored: selectors.results.AssessmentResults, versions: list[FrameworkVersion]
) -> dict:
    """The scoring rules versions the report's figures follow: each framework result's own
    (format 1: "1"; format 2: "2"), or, while no result shows, each framework version's.

    ``formula_version`` is the one version when every framework follows the same rules
    (the colophon reads as it always has); ``formula_versions`` pairs each version with
    the short names of the frameworks it scores, in version order."""
    if scored.panels:
        pairs = [(panel.team.formula_version, panel.short_name) for panel in scored.panels]
    else:
        pairs = [(scoring.scale_for(v.format).formula_version, v.short_name) for v in versions]
    grouped: dict[str, list[str]] = {}
    for version, name in pairs:
        grouped.setdefault(version, []).append(name)
    ordered = sorted(grouped.items())
    return {
        "formula_version": ordered[0][0] if ordered else scoring.FORMULA_VERSION,
        "formula_versions": ordered,
    }


def report_html(
    assessment: Assessment, *, viewer_id: int | None, consultancy: Consultancy | None = None
) -> str:
    return render_to_string(
        "reports/assessment_report.html",
        report_context(assessment, viewer_id=viewer_id, consultancy=consultancy),
    )


def html_to_pdf(html: str, extra: Assets | None = None) -> tuple[bytes, list[str], list[str]]:
    """WeasyPrint in a bounded child process, fetching only our assets.

    Returns the PDF and the URLs served and refused (``check_rendering`` judges them).
    Characters no font has a glyph for are logged as a warning. Raises
    ``RenderLimitExceeded`` past REPORT_TIMEOUT_SECONDS or REPORT_MEMORY_MB.
    """
    pdf, served, refused, missing_glyphs = render_bounded(
        html,
        ASSET_ORIGIN,
        {**static_assets(), **(extra or {})},
        PDF_VARIANT,
        seconds=settings.REPORT_TIMEOUT_SECONDS,
        memory_bytes=settings.REPORT_MEMORY_MB * 1024 * 1024,
    )
    if missing_glyphs:
        logger.warning(
            "Report printed empty boxes: no font has a glyph for %s (install the fonts "
            "of docs/deploy.md)",
            ", ".join(f"U+{ord(character):04X}" for character in missing_glyphs),
        )
    return pdf, served, refused


def check_rendering(
    assessment: Assessment, *, assets: Assets, served: list[str], refused: list[str]
) -> None:
    """Raise ReportAssetError (logged as an error) when the renderer refused a URL on our
    own asset origin or never fetched one of the assets it was given: the PDF would be
    missing its stylesheet or branding. Refused outside URLs are only logged."""
    own_refused = [url for url in refused if url.startswith(ASSET_ORIGIN)]
    not_fetched = [url for url in assets if url not in served]
    if own_refused or not_fetched:
        logger.error(
            "Report for assessment %s not produced: the renderer refused our own assets "
            "%r and never fetched %r (served %r). Does the report template ask for them "
            "by the URLs in assessment/reports.py?",
            assessment.pk,
            own_refused,
            not_fetched,
            served,
        )
        raise ReportAssetError(
            f"The report's own assets were refused ({own_refused}) or not fetched ({not_fetched})."
        )
    outside = [url for url in refused if not url.startswith(ASSET_ORIGIN)]
    if outside:
        logger.warning(
            "Report for assessment %s: the renderer refused %d URL(s) outside the "
            "report's assets: %r",
            assessment.pk,
            len(outside),
            outside,
        )


def cache_key(
    assessment: Assessment,
    *,
    viewer_id: int | None,
    consultancy: Consultancy | None = None,
    assets: Assets | None = None,
) -> str:
    """Everything that can change the report, in one small query (two with a customer
    survey).

    Answers are not part of it on purpose: team results show only once the
    assessment is submitted, and from then on answers cannot change until it is
    reopened, which is recorded in the audit trail (and so changes the key).
    ``assets`` are the report's own static assets (read again when not given): their
    content is part of the key, so a changed stylesheet renders every report afresh.
    """
    stamp = Assessment.objects.filter(pk=assessment.pk).aggregate(
        events=Max("audit_events__pk"),
        decisions=Max("decisions__pk"),
        moderations=Max("moderations__pk"),
        targets=Max("targets__updated_at"),
        responses=Max("responses__completed_at"),
        # One to one: joins no more rows. Read below, and only if there is a survey.
        customer_survey=Max("customer_survey__pk"),
        # Issue 18, as subqueries (one row each, multiplied by no join): the newest
        # evidence and judgement, and the actions' count and last change. Part of the
        # key only where there are any, so a report without them keeps its key.
        evidence=Max(_newest(Evidence, "pk")),
        judgements=Max(_newest(Judgement, "pk")),
        actions=Max(
            Subquery(
                Action.objects.filter(assessment=OuterRef("pk"))
                .values("assessment")
                .annotate(count=Count("pk"))
                .values("count")[:1]
            )
        ),
        actions_changed=Max(_newest(Action, "updated_at")),
    )
    issue_18 = {
        key: stamp.pop(key) for key in ("evidence", "judgements", "actions", "actions_changed")
    }
    # The customers' part only where there is a survey: a report without one (every
    # format-1 report) keeps the key, and the query count, it always had. Its own small
    # query, joined to nothing else (docs/customer-voice.md).
    has_survey = stamp.pop("customer_survey") is not None
    customer = has_survey and list(
        CustomerSurvey.objects.filter(assessment=assessment).values_list(
            "pk",
            "title",
            "opens_on",
            "closes_on",
            "max_responses",
            Subquery(
                CustomerResponse.objects.filter(survey=OuterRef("pk"))
                .order_by("-pk")
                .values("pk")[:1]
            ),
            Subquery(
                CustomerPrediction.objects.filter(response__assessment=OuterRef("assessment"))
                .order_by("-updated_at")
                .values("updated_at")[:1]
            ),
        )
    )
    versions = list(assessment.framework_versions.values_list("pk", "format", "loaded_at"))
    formats = {pk: file_format for pk, file_format, _loaded in versions}
    parts = [
        assessment.pk,
        assessment.status,
        assessment.title,
        assessment.team.name,
        assessment.organisation.name,
        viewer_id,
        sorted(formats),
        sorted(stamp.items()),
        *_rules_stamp(set(formats.values())),
        assets_stamp(static_assets() if assets is None else assets),
        settings.ANONYMITY_THRESHOLD,
        get_language(),
        _branding_stamp(consultancy),
    ]
    if customer:
        parts += [customer, settings.CUSTOMER_THRESHOLD]
    if any(value is not None for value in issue_18.values()):
        parts.append(sorted(issue_18.items()))
    if active_language() is not None:
        # Another language's framework text changes when its translations are corrected
        # (that moves the versions' loaded_at); English keys stay as they were.
        parts.append(sorted((pk, loaded) for pk, _format, loaded in versions))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _newest(model, field: str) -> Subquery:
    """The newest ``field`` of ``model``'s rows of the assessment, as a subquery."""
    return Subquery(
        model.objects.filter(assessment=OuterRef("pk")).order_by(f"-{field}").values(field)[:1]
    )


def _rules_stamp(formats: set[int]) -> tuple[str | list[str], str]:
    """The formula and template versions a report is keyed on.

    All format 1: formula 1 and the frozen FORMAT1_REPORT_TEMPLATE_VERSION, the very parts
    (and values) of the key before issue 15, so such a report keeps its key. Any format 2:
    the formula version of each format present, formula 2's verdict floor
    (``SCORING_FLOOR_LEVEL``) and REPORT_TEMPLATE_VERSION, so a change to any of them
    renders those reports afresh."""
    if formats <= {FrameworkVersion.Format.V1}:
        return scoring.FORMULA_VERSION, FORMAT1_REPORT_TEMPLATE_VERSION
    # Formula 2's verdicts also depend on the floor setting (SCORING_FLOOR_LEVEL).
    return (
        [
            *sorted({scoring.scale_for(f).formula_version for f in formats}),
            f"floor {settings.SCORING_FLOOR_LEVEL}",
        ],
        REPORT_TEMPLATE_VERSION,
    )


def _branding_stamp(consultancy: Consultancy | None) -> str | None:
    if consultancy is None:
        return None
    logo = hashlib.sha256(bytes(consultancy.logo or b"")).hexdigest()
    return f"{consultancy.pk}:{consultancy.name}:{consultancy.accent_colour}:{logo}"


def reader_for(viewer_id: int | None, consultancy: Consultancy | None) -> Reader:
    """Whose report this is, in the active language."""
    return Reader(
        viewer_id=viewer_id,
        consultancy_id=consultancy.pk if consultancy else None,
        language=get_language() or settings.LANGUAGE_CODE,
    )


def report_filename(assessment: Assessment) -> str:
    return f"{slugify(assessment.title) or 'assessment'}-report.pdf"


def render_report(
    assessment: Assessment,
    *,
    viewer_id: int | None = None,
    consultancy: Consultancy | None = None,
) -> RenderedReport:
    """The report as PDF bytes, from the cache when nothing has changed, rendered here
    otherwise (the task worker, the bulk export, the ``render_report`` command; never a
    web request).

    Raises ReportAssetError (after logging it) rather than produce, cache or return a
    report without its stylesheet or branding; RenderLimitExceeded past its bounds.
    """
    own = static_assets()
    key = cache_key(assessment, viewer_id=viewer_id, consultancy=consultancy, assets=own)
    filename = report_filename(assessment)
    cached = (
        ReportCache.objects.filter(key=key, status=ReportCache.Status.READY)
        .values_list("pdf", flat=True)
        .first()
    )
    if cached is not None:
        return RenderedReport(pdf=bytes(cached), filename=filename, cached=True)
    return _render_and_store(
        assessment, key=key, viewer_id=viewer_id, consultancy=consultancy, own=own
    )


def _render_and_store(
    assessment: Assessment,
    *,
    key: str,
    viewer_id: int | None,
    consultancy: Consultancy | None,
    own: Assets,
) -> RenderedReport:
    html = report_html(assessment, viewer_id=viewer_id, consultancy=consultancy)
    brand = branding_assets(consultancy)
    pdf, served, refused = html_to_pdf(html, brand)
    check_rendering(assessment, assets={**own, **brand}, served=served, refused=refused)
    logger.info(
        "Rendered the report of assessment %s (%s bytes)",
        assessment.pk,
        len(pdf),
        extra={"served": served, "refused": refused},
    )
    report_services.report_cache_store(
        assessment=assessment, key=key, pdf=pdf, reader=reader_for(viewer_id, consultancy)
    )
    return RenderedReport(
        pdf=pdf,
        filename=report_filename(assessment),
        cached=False,
        served=served,
        refused=refused,
    )


def render_in_worker(
    assessment: Assessment, *, viewer_id: int | None, consultancy: Consultancy | None
) -> bool:
    """The task worker's render of one reader's report, in the active language: claimed
    first (``report_render_claim``), so a report queued twice is rendered once; a failure
    is logged and recorded, and the reader's page says so. True when it rendered."""
    own = static_assets()
    key = cache_key(assessment, viewer_id=viewer_id, consultancy=consultancy, assets=own)
    reader = reader_for(viewer_id, consultancy)
    if not report_services.report_render_claim(assessment=assessment, key=key, reader=reader):
        return False
    try:
        _render_and_store(
            assessment, key=key, viewer_id=viewer_id, consultancy=consultancy, own=own
        )
    except RenderLimitExceeded as error:
        logger.error(
            "Report for assessment %s exceeded its bounds (%s)", assessment.pk, error.args[0]
        )
        report_services.report_render_failed(key=key)
        return False
    except ReportAssetError:  # logged where it was found, with the details
        report_services.report_render_failed(key=key)
        return False
    except BaseException:
        # A bug or the worker stopping: recorded, then raised for the task's own record.
        report_services.report_render_failed(key=key)
        raise
    return True


@dataclass
class Download:
    """What a download finds: the PDF, or the render's state (``ReportCache``) while
    there is none."""

    filename: str
    pdf: bytes | None = None
    entry: ReportCache | None = None


def report_download(
    assessment: Assessment, *, viewer: AbstractBaseUser, retry: bool = True
) -> Download:
    """The viewer's report from the cache, or the state of its render, queued here when
    none is queued (``retry``: also when its last render failed or stopped; the
    progress page's polling passes False). Renders nothing itself.

    With the immediate task backend (development, most tests) the queued task runs at
    once, inside this request, and the download comes straight back."""
    consultancy = branding_for(assessment, viewer)
    key = cache_key(assessment, viewer_id=viewer.pk, consultancy=consultancy)
    filename = report_filename(assessment)
    entry = ReportCache.objects.filter(key=key).first()
    if entry is not None and entry.status == ReportCache.Status.READY:
        return Download(filename=filename, pdf=bytes(entry.pdf))
    from assessment.tasks import render_report_task  # the task module imports this one

    reader = reader_for(viewer.pk, consultancy)
    entry = report_services.report_render_request(
        assessment=assessment,
        key=key,
        reader=reader,
        enqueue=partial(
            render_report_task.using(priority=DOWNLOAD_PRIORITY).enqueue,
            assessment.pk,
            viewer.pk,
            reader.consultancy_id,
            reader.language,
        ),
        retry=retry,
    )
    if entry.status != ReportCache.Status.READY:
        entry.refresh_from_db()  # the immediate backend has rendered it by now
    if entry.status == ReportCache.Status.READY:
        return Download(filename=filename, pdf=bytes(entry.pdf))
    return Download(filename=filename, entry=entry)


def __getattr__(name: str) -> object:
    if name == "MemoryFetcher":  # built on first use, with WeasyPrint (pdf_worker)
        return pdf_worker.memory_fetcher_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "RenderLimitExceeded",
    "ReportAssetError",
    "render_in_worker",
    "render_report",
    "report_download",
]
