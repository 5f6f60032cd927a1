"""Consultants: organisations grant a consultancy access for a while; consultants see a
portfolio of their clients' latest results.

Writes (``grant_create``, ``grant_revoke``) follow the services contract. The reads
that feed the grants page and the portfolio sit below them, in their own section,
because they belong to this feature alone.
"""

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment import access, results, scoring
from assessment.models import Assessment, Consultancy, ConsultantGrant, Organisation, Team
from assessment.services.common import ServiceError
from frameworks.models import FrameworkVersion

GRANT_DAYS_MIN = 1
GRANT_DAYS_MAX = 366
GRANT_DAYS_DEFAULT = 90


# --- writes -------------------------------------------------------------------------


@transaction.atomic
def grant_create(
    *, organisation: Organisation, consultancy: Consultancy, by: AbstractBaseUser, days: int
) -> ConsultantGrant:
    """Let the consultancy see the organisation's assessments for ``days`` days (1 to 366).

    A grant that is still current for the same consultancy is extended (never
    shortened) instead of adding a second one, so the list stays one line per firm.
    """
    if not isinstance(days, int) or not GRANT_DAYS_MIN <= days <= GRANT_DAYS_MAX:
        raise ServiceError(
            _("Access can be granted for %(min)d to %(max)d days.")
            % {"min": GRANT_DAYS_MIN, "max": GRANT_DAYS_MAX}
        )
    now = timezone.now()
    expires_at = now + timedelta(days=days)
    current = (
        ConsultantGrant.objects.select_for_update()
        .filter(
            organisation=organisation,
            consultancy=consultancy,
            revoked_at__isnull=True,
            expires_at__gt=now,
        )
        .order_by("-expires_at")
        .first()
    )
    if current is not None:
        # Conditional: a revoke that landed in between wins, and we add a new grant.
        extended = ConsultantGrant.objects.filter(
            pk=current.pk, revoked_at__isnull=True, expires_at__gt=now
        ).update(expires_at=max(current.expires_at, expires_at))
        if extended:
            current.refresh_from_db(fields=["expires_at"])
            return current
    return ConsultantGrant.objects.create(
        organisation=organisation,
        consultancy=consultancy,
        granted_by=by,
        expires_at=expires_at,
    )


@transaction.atomic
def grant_revoke(*, grant: ConsultantGrant, by: AbstractBaseUser) -> ConsultantGrant:
    """End a current grant now; the consultancy loses access at once."""
    now = timezone.now()
    revoked = ConsultantGrant.objects.filter(
        pk=grant.pk, revoked_at__isnull=True, expires_at__gt=now
    ).update(revoked_at=now)
    if not revoked:
        raise ServiceError(_("This access has already ended."))
    grant.refresh_from_db(fields=["revoked_at"])
    return grant


# --- reads: the grants page -----------------------------------------------------------


@dataclass(frozen=True)
class GrantRow:
    grant: ConsultantGrant
    status: str  # "current", "expired" or "revoked"
    status_label: str

    @property
    def is_current(self) -> bool:
        return self.status == "current"


def organisation_grants(
    organisation: Organisation, *, now: datetime | None = None
) -> list[GrantRow]:
    """Every grant the organisation made, newest first, with its status (one query)."""
    now = now or timezone.now()
    rows = []
    for grant in ConsultantGrant.objects.filter(organisation=organisation).select_related(
        "consultancy"
    ):
        if grant.revoked_at is not None:
            status, label = "revoked", _("Revoked")
        elif grant.expires_at <= now:
            status, label = "expired", _("Expired")
        else:
            status, label = "current", _("Current")
        rows.append(GrantRow(grant=grant, status=status, status_label=label))
    return rows


# --- reads: the consultant's portfolio ---------------------------------------------------


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
    return scoring.framework_result(sections).overall


def consultant_portfolio(
    user: AbstractBaseUser, *, organisation_pk: int | None = None, framework_slug: str = ""
) -> Portfolio:
    """The latest closed assessment of every client team, as one heatmap per framework.

    Queries: 4 to find client organisations, frameworks, teams and their latest
    assessments, then ``results.assessment_results`` once per team with a closed
    assessment (7 queries when results show, 2 when they don't). The trend comes from
    that same call, so it costs nothing more: 4 + at most 7 per team.
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
        for panel in found.panels:
            if framework_slug and panel.slug != framework_slug:
                continue
            names.setdefault(panel.slug, panel.name)
            labels.setdefault(panel.slug, panel.level_labels)
            for row in panel.rows:
                columns[panel.slug].setdefault(row.key, row.name)
            before = previous_overall(panel)
            overall = panel.team.overall
            rows[panel.slug].append(
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


def _client_frameworks(organisations: list[Organisation]) -> list[tuple[str, str]]:
    """(slug, short name) of every framework in the clients' closed assessments; one query."""
    found: dict[str, str] = {}
    for slug, name in (
        FrameworkVersion.objects.filter(
            assessments__organisation__in=organisations,
            assessments__status__in=Assessment.CLOSED_STATUSES,
        )
        .order_by("framework__slug", "-number")
        .values_list("framework__slug", "short_name")
        .distinct()
    ):
        found.setdefault(slug, name)  # the newest version's name
    return list(found.items())
