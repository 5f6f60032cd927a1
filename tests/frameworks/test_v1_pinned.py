"""Frameworks v2 leave version 1 alone (issue 14, must show 1).

An install from before frameworks v2 has only version 1 of each framework and
assessments pinned to it. Loading the shipped files adds version 2 of all four and
version 3 of the two that gained rules in issue 15 ("created as a new version"), a
second load changes nothing, and the pinned assessment still opens, scores and
renders its report exactly as before.
"""

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from assessment import reports
from assessment.models import Answer, Assessment, Response
from assessment.selectors.results import assessment_results
from frameworks.models import FrameworkVersion
from tests.factories import (
    make_assessment,
    make_manager_response,
    make_organisation,
    make_response,
    make_team,
)

DATA = Path(settings.FRAMEWORKS_DATA_DIR)
V1 = sorted((DATA / "v1").glob("*.toml"))
SLUGS = ("holistic", "service-definition", "six-dimensions", "win4")
# Each member answers every question with these levels in turn (None: "not applicable
# / don't know", format 1's merged choice), so sections differ and some answers are N/A.
MEMBER_LEVELS = (
    [4, 3, 5],
    [3, 3, 4, None, 2],
    [2, 4, 3, 3, 5, 1, 4],
    [5, 4, 4, 2],
    [1, 2, 3, 4, 5, 2],
)


def load(*paths: Path) -> str:
    out = io.StringIO()
    call_command("load_frameworks", *[str(p) for p in paths], stdout=out)
    return out.getvalue()


def figures(assessment: Assessment, viewer_id: int) -> list[tuple]:
    """Every figure the results page, the review and the report show, as plain values."""
    results = assessment_results(assessment, viewer_id=viewer_id)
    rows = []
    for panel in results.panels:
        team = panel.team
        rows.append(
            (
                panel.slug,
                panel.version,
                team.formula_version,
                team.overall,
                team.overall_level,
                team.balance,
                team.weakest.key if team.weakest else None,
                tuple(s.key for s in team.alerts),
                team.verdict.summary if team.verdict else None,
                tuple((p.key, p.target_level, p.gap) for p in panel.priorities),
                tuple((g.key, g.gap) for g in panel.gaps),
                str(panel.chart),
            )
        )
        for row in panel.rows:
            s = row.team
            rows.append(
                (
                    row.key,
                    s.score,
                    s.level,
                    s.respondents,
                    s.rated,
                    s.not_applicable,
                    s.spread,
                    row.self_score,
                    row.target_level,
                    row.level_label,
                )
            )
    return rows


def report_text(assessment: Assessment, viewer_id: int) -> str:
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    with mock.patch("assessment.reports.timezone.now", return_value=at):
        html = reports.report_html(assessment, viewer_id=viewer_id)
    return re.sub(r"\s+", " ", html)


def test_an_assessment_pinned_to_v1_scores_and_reports_exactly_as_before_v2(no_frameworks, client):
    first = load(*V1)  # the install as it was before frameworks v2
    assert first.count("questions  created\n") == 4

    organisation = make_organisation()
    manager = organisation.manager
    team = make_team(organisation)
    assessment = make_assessment(team, slugs=SLUGS, status=Assessment.Status.SUBMITTED)
    assert {v.number for v in assessment.framework_versions.all()} == {1}
    for levels in MEMBER_LEVELS:
        make_response(assessment, levels=levels, status=Response.Status.COMPLETED)
    Answer.objects.filter(level__isnull=True).update(
        not_applicable=True, submitted_not_applicable=True
    )
    make_manager_response(assessment, manager, levels=[5, 4])
    before = figures(assessment, manager.pk)
    report_before = report_text(assessment, manager.pk)

    # Sanity: these are real, differing figures (not all empty), scored by formula 1.
    scored = [row for row in before if len(row) == 12]
    assert len(scored) == 4
    assert all(row[2] == "1" and row[3] is not None for row in scored)
    sections = [row for row in before if len(row) == 10]
    assert len({row[1] for row in sections}) > 2
    assert any(row[5] for row in sections)  # some "not applicable"

    installed = load()  # the shipped files: v1 and v2 (archived), then the current ones
    again = load()

    assert installed.count("questions  unchanged\n") == 4  # v1 untouched
    assert installed.count(" v2 ") == 4
    assert installed.count(" v3 ") == 2  # service-definition and six-dimensions, with rules
    assert installed.count("created as a new version") == 6
    assert again.count("unchanged") == 11  # and the customer survey
    assert "Nothing changed" in again
    assert FrameworkVersion.objects.filter(number=2, format=2).count() == 4
    assessment.refresh_from_db()
    assert {v.number for v in assessment.framework_versions.all()} == {1}

    assert figures(assessment, manager.pk) == before
    assert report_text(assessment, manager.pk) == report_before

    # And it still opens: the results page and a v1 questionnaire page.
    client.force_login(manager)
    page = client.get(reverse("assessment:results", kwargs={"pk": assessment.pk}))
    assert page.status_code == 200
    for row in scored:
        assert f"{row[3]:.0f}" in page.content.decode()
