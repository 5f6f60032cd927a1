"""Reads for consultants: the portfolio of client results and the bulk export choices."""

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Length
from django.utils.translation import gettext as _

from assessment import access, scoring
from assessment.models import (
    Assessment,
    BulkExport,
    Consultancy,
    Organisation,
    Team,
)
from assessment.selectors import customers, results
from frameworks.models import FrameworkVersion
from frameworks.translation import localise


@dataclass(frozen=True)
class HeatCell:
    key: str
    score: float | None
    level: int | None
    label: str  # the level's label in this framework version


@dataclass
class HeatRow:
    team: Team
    assessment: Assessment
    cells: list[HeatCell]
    overall: float | None
    overall_level: int | None
    change: float | None  # overall score against the previous closed assessment
    previous_title: str | None
    # The largest gap between the team's view and its customers' (issue 17), beyond the
    # noise; None without a survey, below the thresholds, or with no gap to name.
    customer_gap: "customers.scoring.Overlay | None" = None
    has_customers: bool = False  # the customers' figures show for this assessment


@dataclass
class Heatmap:
    """Teams by sections of one framework."""

    slug: str
    name: str
    columns: list[tuple[str, str]]  # section key, name
    rows: list[HeatRow]
    level_labels: dict[int, str]


@dataclass
class Portfolio:
    organisations: list[Organisation]
    frameworks: list[tuple[str, str]]  # slug, name: every framework a client used
    heatmaps: list[Heatmap]
    hidden: list[results.AssessmentResults]  # latest assessments whose results don't show
    without_results: list[Team]  # client teams with no closed assessment (in the filter)
    organisation_pk: int | None = None
    framework_slug: str = ""


def previous_overall(panel: results.FrameworkPanel) -> float | None:
    """The previous assessment's overall score, from the panel's trend (no query).

    The earlier section scores are weighted as the current version weights them, which
    is the comparison the trend table draws section by section.
    """
    if panel.trend is None:
        return None
    before = {point.key: point.previous for point in panel.trend}
    sections = [replace(s, score=before.get(s.key)) for s in panel.team.sections]
    # The trend compares only results on the same scale (see ``assessment_results``).
    return scoring.framework_result(sections, scale=panel.team.scale).overall


def consultant_portfolio(
    user: AbstractBaseUser, *, organisation_pk: int | None = None, framework_slug: str = ""
) -> Portfolio:
    """The latest closed assessment of every client team, as one heatmap per framework.

    Queries: 4 to find client organisations, frameworks, teams and their latest
    assessments, then ``results.assessment_results`` once per team with a closed
    assessment (8 queries when results show and are stored, 9 the first time, 2 when
    they don't). The trend comes from that same call, so it costs nothing more. Where
    results show, the customer-gap column reads the assessment's customer survey: 1
    query without one, 2 below the customers' threshold, 9 from it. At most 4 + 18 per
    team.
    """
    organisations = list(access.client_organisations(user).order_by("name", "pk"))  # query 1
    frameworks = _client_frameworks(organisations)  # query 2
    chosen = [o for o in organisations if organisation_pk in (None, o.pk)]
    latest = Assessment.objects.filter(team=OuterRef("pk"), status__in=Assessment.CLOSED_STATUSES)
    if framework_slug:
        latest = latest.filter(framework_versions__framework__slug=framework_slug)
    latest = latest.order_by(F("submitted_at").desc(nulls_last=True), "-created_at", "-pk")
    teams = list(  # query 3
        Team.objects.filter(organisation__in=chosen)
        .select_related("organisation")
        .annotate(latest_id=Subquery(latest.values("pk")[:1]))
        .order_by("organisation__name", "organisation_id", "name")
    )
    assessments = Assessment.objects.select_related("team", "organisation").in_bulk(  # query 4
        [t.latest_id for t in teams if t.latest_id]
    )

    hidden: list[results.AssessmentResults] = []
    names: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = defaultdict(dict)
    labels: dict[str, dict[int, str]] = {}
    rows: dict[str, list[HeatRow]] = defaultdict(list)
    for team in teams:
        assessment = assessments.get(team.latest_id)
        if assessment is None:
            continue
        found = results.assessment_results(assessment)
        if not found.visible:
            hidden.append(found)
            continue
        voice = customers.assessment_customer_voice(assessment, team_visible=True, chart=False)
        has_customers = voice is not None and voice.results.visible
        gap = (
            voice.overlay.gaps[0]
            if has_customers and voice.overlay and voice.overlay.gaps
            else None
        )
        for panel in found.panels:
            if framework_slug and panel.slug != framework_slug:
                continue
            # One heatmap per framework and scale: a version-1 team's 50 is level 3, a
            # version-2 team's 60 is; side by side, their shades and scores would mislead.
            key = heatmap_key(panel)
            names.setdefault(key, _heatmap_name(panel))
            labels.setdefault(key, panel.level_labels)
            for row in panel.rows:
                columns[key].setdefault(row.key, row.name)
            before = previous_overall(panel)
            overall = panel.team.overall
            rows[key].append(
                HeatRow(
                    team=team,
                    assessment=assessment,
                    cells=[
                        HeatCell(r.key, r.team.score, r.team.level, r.level_label)
                        for r in panel.rows
                    ],
                    overall=overall,
                    overall_level=panel.team.overall_level,
                    change=None if overall is None or before is None else overall - before,
                    previous_title=panel.previous_title,
                    customer_gap=gap,
                    has_customers=has_customers,
                )
            )
    heatmaps = []
    for slug in sorted(rows):
        keys = list(columns[slug])
        for row in rows[slug]:
            # Versions may differ between teams: line the cells up by section key.
            by_key = {cell.key: cell for cell in row.cells}
            row.cells = [by_key.get(key, HeatCell(key, None, None, "")) for key in keys]
        heatmaps.append(
            Heatmap(
                slug=slug,
                name=names[slug],
                columns=list(columns[slug].items()),
                rows=rows[slug],
                level_labels=labels[slug],
            )
        )
    return Portfolio(
        organisations=organisations,
        frameworks=frameworks,
        heatmaps=heatmaps,
        hidden=hidden,
        without_results=[t for t in teams if not t.latest_id],
        organisation_pk=organisation_pk,
        framework_slug=framework_slug,
    )


def heatmap_key(panel: results.FrameworkPanel) -> str:
    """The framework's slug, with the formula version for teams on an older scale."""
    if panel.team.scale == scoring.SCALE_V1:
        return f"{panel.slug}-v1"
    return panel.slug


def _heatmap_name(panel: results.FrameworkPanel) -> str:
    if heatmap_key(panel) == panel.slug:
        return panel.name
    return _("%(name)s (version 1: levels 1 to 5)") % {"name": panel.name}


def _client_frameworks(organisations: list[Organisation]) -> list[tuple[str, str]]:
    """(slug, short name) of every framework in the clients' closed assessments; one query."""
    found: dict[str, str] = {}
    for slug, name, translations in (
        FrameworkVersion.objects.filter(
            assessments__organisation__in=organisations,
            assessments__status__in=Assessment.CLOSED_STATUSES,
        )
        .order_by("framework__slug", "-number")
        .values_list("framework__slug", "short_name", "translations")
        .distinct()
    ):
        found.setdefault(slug, localise(name, translations, "short_name"))  # the newest
    return list(found.items())


def bulk_export_failures(*, export: BulkExport, by: AbstractBaseUser) -> list[dict]:
    """The export's failed reports that may still be named to the user (one query, none
    without failures). A client that has withdrawn access, by revoking or letting its
    grant expire, takes the names of its reports with it, as it takes their file."""
    if not export.failures:
        return []
    shared = set(
        export.assessments.filter(
            organisation__in=access.organisations_shared_with(by, export.consultancy)
        ).values_list("pk", flat=True)
    )
    return [failure for failure in export.failures if failure.get("assessment_id") in shared]


def bulk_export_choices(*, consultancy: Consultancy, by: AbstractBaseUser) -> QuerySet:
    """Each client team's latest closed assessment, in one query, for the checklist."""
    latest = (
        Assessment.objects.filter(team=OuterRef("team"), status__in=Assessment.CLOSED_STATUSES)
        .order_by(F("submitted_at").desc(nulls_last=True), "-created_at", "-pk")
        .values("pk")[:1]
    )
    return (
        Assessment.objects.filter(
            organisation__in=access.organisations_shared_with(by, consultancy),
            pk=Subquery(latest),
        )
        .select_related("organisation", "team")
        .order_by("organisation__name", "team__name")
    )


def bulk_exportable(*, consultancy: Consultancy, by: AbstractBaseUser) -> QuerySet[Assessment]:
    """Every closed assessment the export may hold: the checklist offers the latest of each
    team, and an earlier one (from an older page, say) is as much the consultant's to export.
    A queryset, not run here: the bulk export form filters it by the chosen ids (1 query)."""
    return Assessment.objects.filter(
        organisation__in=access.organisations_shared_with(by, consultancy),
        status__in=Assessment.CLOSED_STATUSES,
    )


EXPORTS_LISTED = 50


def consultant_exports(*, consultancy: Consultancy, by: AbstractBaseUser) -> list[BulkExport]:
    """The consultancy's bulk exports, newest first (at most ``EXPORTS_LISTED``), without
    their archives, in one query. Each carries ``size`` (bytes of its ZIP, or None),
    ``downloadable`` (done, with a file, and every report in it still shared:
    ``access.export_withdrawn``, the download's rule) and ``kept_until`` (when
    ``prune_bulk_exports`` deletes a finished one)."""
    exports = list(
        BulkExport.objects.filter(consultancy=consultancy)
        .defer("archive")
        .annotate(size=Length("archive"), withdrawn=access.export_withdrawn(by, consultancy))
        .order_by("-created_at", "-pk")[:EXPORTS_LISTED]
    )
    keep = timedelta(days=settings.BULK_EXPORT_RETENTION_DAYS)
    for export in exports:
        export.downloadable = (
            export.status == BulkExport.Status.DONE and bool(export.size) and not export.withdrawn
        )
        export.kept_until = export.finished_at + keep if export.finished_at else None
    return exports


def consultancy_name_taken(name: str, *, other_than: Consultancy) -> bool:
    """Whether another consultancy has ``name`` (stored names compared without case, as the
    database's constraint does); one query. The service still catches a race."""
    return Consultancy.objects.filter(name__iexact=name).exclude(pk=other_than.pk).exists()
