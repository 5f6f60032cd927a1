"""A version-1 assessment scores and reports exactly as it did before issue 15 (must show 3).

Issue 15 scores format-2 framework versions by formula 2. An assessment pinned to the
format-1 versions keeps formula 1, and re-scored under the new code it must give identical
figures and identical cached report bytes. ``test_v1_pinned.py`` compares figures and report
within one code base; this module compares them with what the code on main gave.

The golden files in ``tests/frameworks/fixtures/`` were produced by main at commit 5424346
(before issue 15) from ``build_v1_scenario``, ``v1_figures`` and ``v1_report_html`` below,
in a copy of this module run in a checkout of that commit (unchanged but for the import of
``formula2``, which main lacks). Never regenerate them from newer code: a difference is
either a regression or a deliberate change to how version 1 scores or prints, which also
needs ``reports.FORMAT1_REPORT_TEMPLATE_VERSION`` raised.

Nothing is normalised. The scenario is deterministic (fixed names, levels, scores, texts and
decision date; ``timezone.now`` fixed while the report renders), and neither the figures nor
the report contain a database id or a generated user name: the manager's username carries
the organisation's id, but the report prints neither. Running the scenario twice with
different ids gave byte-identical output, on main and on the branch. The figures leave out
``str(panel.chart)`` (kilobytes of SVG per framework): the report HTML contains every chart.

The cached PDF embeds its generation date, so a report rendered again is never the same
bytes. Identical cached bytes therefore means a version-1 report keeps the cache key main's
code gave it (``key_before_issue_15``, main's recipe copied here), so the PDF stored before
the upgrade is the one served after it.
"""

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db.models import Max
from django.utils.translation import get_language

from assessment import reports, scoring, selectors, services
from assessment.models import Answer, Assessment, Consultancy, Decision, ReportCache, Response
from assessment.pdf_worker import Assets
from assessment.selectors.results import assessment_results
from assessment.services.reports import report_cache_store
from frameworks.models import Section
from tests.factories import (
    make_assessment,
    make_assessor,
    make_manager_response,
    make_organisation,
    make_response,
    make_team,
    make_user,
)
from tests.frameworks.test_v1_pinned import MEMBER_LEVELS, SLUGS

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN_FIGURES = FIXTURES / "v1_scenario_figures.json"
GOLDEN_REPORT = FIXTURES / "v1_scenario_report.html"

# test_v1_pinned's scenario: v1 of every framework, each member answering every question
# with MEMBER_LEVELS in turn (None: format 1's merged "not applicable / don't know").
MANAGER_LEVELS = [5, 4]
# The cycled levels score every section near 59. Sharper differences, so that the rules
# that judge them print too: the last section of each framework is rated no higher than
# level 2 by the members (an alert, a weakest link, Win4's loser), and in these sections
# the first three members answered "not applicable" throughout (too few rated answers to
# score them).
LOW_CAP = 2
UNSCORED = {("six-dimensions", "tools")}
# Targets by (framework slug, section index): the first section's far above the team's
# score, the second's below it.
TARGETS = {(slug, index): level for slug in SLUGS for index, level in ((0, 5), (1, 2))}
MODERATED = ("win4", 1, "72.5", "The ticket audit shows the team resolves more than it rates.")
AWARDED_LEVEL = 3
REVIEW_SUMMARY = "Consistent service, with the business side lagging behind customers."
SUBMITTED_AT = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
DECIDED_AT = datetime(2026, 11, 20, 16, 45, tzinfo=UTC)
GENERATED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def build_v1_scenario() -> tuple[Assessment, int]:
    """Version 1 of all four frameworks, five members and the manager answering, submitted,
    reviewed (targets, one section moderated) and approved with an awarded level:
    (assessment, the manager's id)."""
    organisation = make_organisation()
    manager = organisation.manager
    assessment = make_assessment(
        make_team(organisation), slugs=SLUGS, status=Assessment.Status.SUBMITTED, version=1
    )
    assert {(v.number, v.format) for v in assessment.framework_versions.all()} == {(1, 1)}
    # The sections of each framework, in questionnaire order.
    by_slug: dict[str, list[Section]] = {}
    for section in (
        Section.objects.filter(version__assessments=assessment)
        .select_related("version__framework")
        .order_by("version__framework__slug", "position")
    ):
        by_slug.setdefault(section.version.framework.slug, []).append(section)

    members = [
        make_response(assessment, levels=levels, status=Response.Status.COMPLETED)
        for levels in MEMBER_LEVELS
    ]
    answers = Answer.objects.filter(response__in=members)
    answers.filter(
        section__in=[sections[-1] for sections in by_slug.values()], level__gt=LOW_CAP
    ).update(level=LOW_CAP, submitted_level=LOW_CAP)
    answers.filter(
        response__in=members[:3],
        section__in=[s for slug, key in UNSCORED for s in by_slug[slug] if s.key == key],
    ).update(level=None, submitted_level=None)
    answers.filter(level__isnull=True).update(not_applicable=True, submitted_not_applicable=True)
    make_manager_response(assessment, manager, levels=MANAGER_LEVELS)
    Assessment.objects.filter(pk=assessment.pk).update(submitted_at=SUBMITTED_AT)

    services.targets_set(
        assessment=assessment,
        levels={by_slug[slug][index].pk: level for (slug, index), level in TARGETS.items()},
    )
    assessor = make_assessor("alex")
    services.assessor_assign(
        assessment=assessment, assessor=assessor, by=make_user("stella", is_staff=True)
    )
    slug, index, score, rationale = MODERATED
    services.moderation_record(
        assessment=assessment,
        section_id=by_slug[slug][index].pk,
        assessor=assessor,
        score=score,
        rationale=rationale,
    )
    services.decision_approve(
        assessment=assessment,
        assessor=assessor,
        level=AWARDED_LEVEL,
        summary=REVIEW_SUMMARY,
        snapshot=selectors.review.decision_snapshot(assessment),
    )
    Decision.objects.filter(assessment=assessment).update(created_at=DECIDED_AT)
    assessment.refresh_from_db()
    return assessment, manager.pk


def _plain(value: object) -> object:
    """A figure as JSON keeps it exactly: floats round-trip, a Decimal becomes its text."""
    if isinstance(value, Decimal):
        return f"Decimal {value}"
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value


def _section(score) -> dict:
    fields = (
        "key",
        "name",
        "score",
        "level",
        "respondents",
        "rated",
        "not_applicable",
        "possible",
        "spread",
        "weight",
        "dont_know",
        "mostly_dont_know",
        "answered",
        "coverage",
        "sufficient",
    )
    return {name: _plain(getattr(score, name)) for name in fields}


def _result(result) -> dict | None:
    if result is None:
        return None
    verdict = result.verdict
    return {
        "formula_version": result.formula_version,
        "scale": [result.scale.min, result.scale.max, result.scale.formula_version],
        "overall": result.overall,
        "overall_level": result.overall_level,
        "balance": result.balance,
        "weakest": result.weakest.key if result.weakest else None,
        "alerts": [[s.key, s.score] for s in result.alerts],
        "verdict": None
        if verdict is None
        else {
            "sustainable": verdict.sustainable,
            "losers": list(verdict.losers),
            "winners": list(verdict.winners),
            "balance_adequate": verdict.balance_adequate,
            "complete": verdict.complete,
            "summary": str(verdict.summary),
        },
        "sections": [_section(s) for s in result.sections],
    }


def v1_figures(assessment: Assessment, viewer_id: int) -> dict:
    """Every figure the results page, the review and the report show, as JSON values."""
    results = assessment_results(assessment, viewer_id=viewer_id)
    panels = []
    for panel in results.panels:
        panels.append(
            {
                "slug": panel.slug,
                "name": panel.name,
                "short_name": panel.short_name,
                "version": panel.version,
                "overall_label": panel.overall_label,
                "level_labels": [[level, label] for level, label in panel.level_labels.items()],
                "team": _result(panel.team),
                "self_view": _result(panel.self_view),
                "priorities": [
                    [p.key, p.name, p.score, p.target_level, p.gap, p.weakest]
                    for p in panel.priorities
                ],
                "gaps": [
                    [g.key, g.name, g.self_score, g.team_score, g.gap, g.flagged]
                    for g in panel.gaps
                ],
                "trend": None
                if panel.trend is None
                else [[t.key, t.current, t.previous] for t in panel.trend],
                "rows": [
                    {
                        "key": row.key,
                        "name": row.name,
                        "team": _section(row.team),
                        "self_score": row.self_score,
                        "target_level": row.target_level,
                        "previous": row.previous,
                        "change": row.change,
                        "level_label": row.level_label,
                        "target_label": row.target_label,
                        "moderated": _plain(row.moderated),
                        "rationale": row.rationale,
                    }
                    for row in panel.rows
                ],
            }
        )
    return {
        "completed_members": results.completed_members,
        "threshold": results.threshold,
        "visible": results.visible,
        "panels": panels,
    }


def v1_report_html(assessment: Assessment, viewer_id: int) -> str:
    """The report's HTML as the manager gets it, generated at GENERATED_AT."""
    with mock.patch("assessment.reports.timezone.now", return_value=GENERATED_AT):
        return reports.report_html(assessment, viewer_id=viewer_id)


# --- main's cache key (5424346:assessment/reports.py), copied with its constants -------


def _assets_stamp_before_issue_15(assets: Assets) -> str:
    digest = hashlib.sha256()
    for url in sorted(assets):
        digest.update(url.encode() + b"\0" + hashlib.sha256(assets[url][0]).digest())
    return digest.hexdigest()


def _branding_stamp_before_issue_15(consultancy: Consultancy | None) -> str | None:
    if consultancy is None:
        return None
    logo = hashlib.sha256(bytes(consultancy.logo or b"")).hexdigest()
    return f"{consultancy.pk}:{consultancy.name}:{consultancy.accent_colour}:{logo}"


def key_before_issue_15(
    assessment: Assessment,
    *,
    viewer_id: int | None,
    consultancy: Consultancy | None = None,
    assets: Assets | None = None,
) -> str:
    """The report cache key main gave before issue 15: ``cache_key`` of commit 5424346,
    with that commit's ``scoring.FORMULA_VERSION`` ("1") and ``REPORT_TEMPLATE_VERSION``
    ("6") written out."""
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
        "1",
        "6",
        _assets_stamp_before_issue_15(reports.static_assets() if assets is None else assets),
        settings.ANONYMITY_THRESHOLD,
        get_language(),
        _branding_stamp_before_issue_15(consultancy),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


# --- the tests ------------------------------------------------------------------------


@pytest.fixture
def v1_scenario(db) -> tuple[Assessment, int]:
    return build_v1_scenario()


@pytest.fixture
def v2_assessment(db) -> tuple[Assessment, int]:
    """The same four frameworks at their newest version (format 2), three members."""
    organisation = make_organisation("Harbour Ltd")
    assessment = make_assessment(
        make_team(organisation, "Help desk"), slugs=SLUGS, status=Assessment.Status.SUBMITTED
    )
    assert {v.format for v in assessment.framework_versions.all()} == {2}
    for _ in range(3):
        make_response(assessment, levels=[3, 4, 2], status=Response.Status.COMPLETED)
    return assessment, organisation.manager.pk


def to_places(value, places: int = 9):
    """``value`` with every float rounded to ``places`` decimals. The golden figures were
    recorded on SQLite; PostgreSQL adds the respondents' means in its own order, so a
    spread's last bits differ (by about 1e-13). Every figure a page, export or report
    shows is rounded far above that, and the report's HTML is compared byte for byte."""
    if isinstance(value, float):
        return round(value, places)
    if isinstance(value, dict):
        return {key: to_places(item, places) for key, item in value.items()}
    if isinstance(value, list):
        return [to_places(item, places) for item in value]
    return value


def test_a_v1_assessment_has_the_figures_main_gave_scored_by_formula_1(v1_scenario):
    assessment, manager_id = v1_scenario
    golden = json.loads(GOLDEN_FIGURES.read_text(encoding="utf-8"))

    figures = json.loads(json.dumps(v1_figures(assessment, manager_id)))

    assert to_places(figures) == to_places(golden["figures"])
    panels = figures["panels"]
    assert [p["slug"] for p in panels] == sorted(SLUGS)
    assert {p["team"]["formula_version"] for p in panels} == {"1"}
    assert {p["self_view"]["formula_version"] for p in panels} == {"1"}
    # A scenario worth comparing: scores, N/A answers, a verdict, gaps, priorities, a
    # moderated section and targets all print.
    assert all(p["team"]["overall"] is not None for p in panels)
    assert any(s["not_applicable"] for p in panels for s in p["team"]["sections"])
    assert any(p["team"]["verdict"] and p["team"]["verdict"]["losers"] for p in panels)
    assert all(p["priorities"] and p["gaps"] for p in panels)
    assert [r["moderated"] for p in panels for r in p["rows"] if r["moderated"]] == [72.5]
    assert any(p["team"]["alerts"] for p in panels)
    assert any(s["score"] is None for p in panels for s in p["team"]["sections"])


def test_a_v1_assessment_reports_the_html_main_gave(v1_scenario):
    assessment, manager_id = v1_scenario
    golden = GOLDEN_REPORT.read_text(encoding="utf-8")

    html = v1_report_html(assessment, manager_id)

    assert html.splitlines() == golden.splitlines()  # the first differing line, if any
    assert html == golden
    assert "with scoring rules version 1." in html
    assert 'id="review"' in html
    assert 'id="plan"' in html
    assert "awarded maturity level 3, 20 November 2026, by Alex." in html


def test_a_v1_report_keeps_the_cache_key_main_gave(v1_scenario):
    assessment, manager_id = v1_scenario

    assert reports.cache_key(assessment, viewer_id=manager_id) == key_before_issue_15(
        assessment, viewer_id=manager_id
    )
    assert reports.cache_key(assessment, viewer_id=None) == key_before_issue_15(
        assessment, viewer_id=None
    )


def test_the_cache_key_takes_as_many_queries_as_main_took(v1_scenario, django_assert_num_queries):
    assessment, manager_id = v1_scenario
    assets = reports.static_assets()

    # A fresh instance each time, so that neither reads its team or organisation cached.
    before, after = (Assessment.objects.get(pk=assessment.pk) for _ in range(2))

    # The stamp, the versions, the team and the organisation.
    with django_assert_num_queries(4):
        key_before_issue_15(before, viewer_id=manager_id, assets=assets)
    with django_assert_num_queries(4):
        reports.cache_key(after, viewer_id=manager_id, assets=assets)


def test_a_v1_report_cached_before_the_upgrade_is_served_byte_for_byte(v1_scenario):
    """The PDF main stored for this report (here: main's golden HTML, rendered) is what the
    new code serves, without rendering again."""
    assessment, manager_id = v1_scenario
    stored, _served, _refused = reports.html_to_pdf(GOLDEN_REPORT.read_text(encoding="utf-8"))
    report_cache_store(
        assessment=assessment,
        key=key_before_issue_15(assessment, viewer_id=manager_id),
        pdf=stored,
    )

    with mock.patch("assessment.reports.html_to_pdf") as render:
        report = reports.render_report(assessment, viewer_id=manager_id)

    render.assert_not_called()
    assert report.cached
    assert report.pdf == stored


def test_a_v1_report_rendered_and_stored_is_returned_again_byte_for_byte(v1_scenario):
    assessment, manager_id = v1_scenario

    first = reports.render_report(assessment, viewer_id=manager_id)
    second = reports.render_report(assessment, viewer_id=manager_id)

    assert not first.cached
    assert first.pdf.startswith(b"%PDF-")
    assert second.cached
    assert second.pdf == first.pdf
    stored = ReportCache.objects.filter(assessment=assessment).values_list("key", flat=True)
    assert list(stored) == [key_before_issue_15(assessment, viewer_id=manager_id)]


def test_a_format_2_report_cached_before_the_upgrade_is_rendered_afresh(v2_assessment):
    assessment, manager_id = v2_assessment
    old = key_before_issue_15(assessment, viewer_id=manager_id)
    report_cache_store(assessment=assessment, key=old, pdf=b"%PDF- printed by formula 1.1")

    assert reports.cache_key(assessment, viewer_id=manager_id) != old
    report = reports.render_report(assessment, viewer_id=manager_id)

    assert not report.cached
    assert report.pdf.startswith(b"%PDF-")
    assert report.pdf != b"%PDF- printed by formula 1.1"
    assert not ReportCache.objects.filter(key=old).exists()


def test_one_format_2_framework_is_enough_to_render_afresh(v1_scenario, v2_assessment):
    assessment, manager_id = v1_scenario
    assessment.framework_versions.add(
        v2_assessment[0].framework_versions.get(framework__slug="win4")
    )

    assert reports.cache_key(assessment, viewer_id=manager_id) != key_before_issue_15(
        assessment, viewer_id=manager_id
    )


def test_the_template_and_formula_versions_key_each_format_apart(
    v1_scenario, v2_assessment, monkeypatch
):
    """Raising the template version or formula 2's version re-renders format-2 reports and
    leaves version-1 reports cached; raising the frozen format-1 template version re-renders
    version-1 reports."""
    v1, v1_viewer = v1_scenario
    v2, v2_viewer = v2_assessment

    def keys() -> tuple[str, str]:
        return (
            reports.cache_key(v1, viewer_id=v1_viewer),
            reports.cache_key(v2, viewer_id=v2_viewer),
        )

    def changed(name: str, module: object = reports, value: object = "next") -> tuple[bool, bool]:
        """Which keys change, (version 1, format 2), when ``module.name`` is raised."""
        before = keys()
        with monkeypatch.context() as patched:
            patched.setattr(module, name, value)
            after = keys()
        assert keys() == before
        return after[0] != before[0], after[1] != before[1]

    assert changed("REPORT_TEMPLATE_VERSION") == (False, True)
    # Formula 2's version is its scale's (scoring.SCALE_V2, which formula2 reads).
    raised = scoring.Scale(scoring.SCALE_V2.min, scoring.SCALE_V2.max, "next")
    assert changed("SCALE_V2", scoring, raised) == (False, True)
    assert changed("FORMAT1_REPORT_TEMPLATE_VERSION") == (True, False)
    # Formula 2's verdict floor re-renders format-2 reports only.
    assert changed("SCORING_FLOOR_LEVEL", settings, 3) == (False, True)
