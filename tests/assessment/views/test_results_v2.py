"""The results page for frameworks v2 (issue 14): who rated what, "don't know" counted and
flagged, "not applicable" excluded and reported, each framework's own scoring rules; and a
version-1 assessment's page as before."""

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from assessment import selectors
from assessment.models import Answer
from tests.factories import (
    make_assessment,
    make_manager_response,
    make_response,
    make_team,
)


def results_page(client, assessment) -> str:
    response = client.get(reverse("assessment:results", args=[assessment.pk]))
    assert response.status_code == 200
    return response.text


def table(html: str, caption_id: str) -> str:
    return html.split(f'id="{caption_id}"')[1].split("</table>")[0]


def row_cells(html: str, section: str) -> list[str]:
    """The text of each cell of a section's row, tags stripped."""
    row = html.split(f'<th scope="row">{section}</th>')[1].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]


@pytest.fixture
def win4_v2(organisation):
    """Win4 v2, submitted: three members (levels 2 then 4), the manager's own answers (5),
    and two leadership invitees: fewer than the threshold of three."""
    assessment = make_assessment(make_team(organisation), status="submitted")
    for _ in range(3):
        make_response(assessment, levels=[2, 4], status="completed")
    make_manager_response(assessment, organisation.manager, levels=[5])
    for _ in range(2):
        make_response(assessment, levels=[1], status="completed", audience="leadership")
    return assessment


@pytest.mark.django_db
def test_the_page_shows_who_rated_what_per_section_and_audience(manager_client, win4_v2):
    html = results_page(manager_client, win4_v2)

    audiences = table(html, "audiences-win4")
    assert "Each section's score above pools the answers of every audience asked" in audiences
    assert [
        '<th scope="col" class="text-end">' + name + "</th>"
        for name in ("Team", "Managers", "Leadership")
    ] == re.findall(r'<th scope="col" class="text-end">[^<]+</th>', audiences)
    # Customers: asked of the team (2, 4, 2, 4 -> 60) and managers, not of leadership.
    assert row_cells(audiences, "Customers") == ["60 (n = 3)", "100 (n = 1)", "not asked"]
    # The company asks leadership too: two invitees are fewer than three, so withheld.
    assert row_cells(audiences, "The company")[2] == "withheld (fewer than 3)"
    assert row_cells(audiences, "Shareholders and owners")[0] == "not asked"
    assert (
        "2 leadership invitees have completed their answers: they are left out of every "
        "figure until at least 3 have, so that no one can be singled out."
    ) in html
    # No self-view comparison in v2: the manager answers managers' questions, pooled.
    assert "Complete your own answers to compare your view" not in html
    assert "managers answer the questions only they can" in html


@pytest.mark.django_db
def test_a_section_where_most_answered_dont_know_is_flagged_not_scored(manager_client, win4_v2):
    Answer.objects.filter(
        response__assessment=win4_v2, response__audience="team", section__key="customers"
    ).update(level=None, submitted_level=None, dont_know=True, submitted_dont_know=True)
    one = Answer.objects.filter(
        response__assessment=win4_v2, response__audience="team", section__key="employees"
    ).first()
    one.level = one.submitted_level = None
    one.not_applicable = one.submitted_not_applicable = True
    one.save()

    html = results_page(manager_client, win4_v2)

    scores = table(html, "scores-win4")
    assert '<th scope="col" class="text-end">Not applicable</th>' in scores
    assert '<th scope="col" class="text-end">Don\'t know</th>' in scores
    customers = row_cells(scores, "Customers")
    # 12 team "don't know" against the manager's 3 levels: not scored, and said so.
    assert customers[0] == "Most answers were 'don't know': not scored"
    assert customers[4:6] == ["0", "12"]  # not applicable, don't know
    assert row_cells(scores, "Employees and line managers")[4:6] == ["1", "0"]
    audiences = table(html, "audiences-win4")
    assert row_cells(audiences, "Customers")[0] == "Most answers were 'don't know': not scored"


@pytest.mark.django_db
def test_the_page_names_each_frameworks_scoring_rules_and_its_scale(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), status="submitted")
    v1 = make_assessment(make_team(organisation, "Other"), slugs=("holistic",), version=1)
    assessment.framework_versions.add(v1.framework_versions.get())
    for _ in range(3):
        make_response(assessment, levels=[3], status="completed")

    html = results_page(manager_client, assessment)

    assert "scoring rules version 1 (Holistic view), version 2 (Win4 sustainable service)" in html
    assert "from level 0 at the centre to level 5 at the edge" in html  # Win4 v2
    assert "from level 1 at the centre to level 5 at the edge" in html  # Holistic v1
    assert "Levels run from 0 (not in place) to 5." in html
    assert "Levels run from 1 to 5." in html


@pytest.mark.django_db
def test_a_version_1_page_has_no_audiences_dont_know_or_new_wording(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), status="submitted", version=1)
    for _ in range(3):
        make_response(assessment, levels=[2, None, 4], status="completed")
    make_manager_response(assessment, organisation.manager, levels=[5])

    html = results_page(manager_client, assessment)

    assert "scoring rules version 1 (" in html
    assert 'id="audiences-' not in html
    assert "Don't know" not in html
    assert "Team score" in html
    assert "Levels run from 1 to 5." in html
    assert "from level 1 at the centre to level 5 at the edge" in html


@pytest.mark.django_db
def test_the_review_workspace_shows_who_rated_what_too(win4_v2):
    """The review workspace shows each framework through the same panel summary."""
    found = selectors.results.assessment_results(win4_v2)
    html = render_to_string(
        "assessment/includes/panel_summary.html",
        {"panel": found.panels[0], "results": found, "show_moderation": True},
    )

    assert 'id="audiences-win4"' in html
    assert "withheld (fewer than 3)" in html


@pytest.mark.django_db
def test_each_v2_score_shows_its_95_percent_interval_and_a_divided_team(
    manager_client, organisation
):
    assessment = make_assessment(make_team(organisation), status="submitted")
    for levels in ([1], [1], [5], [5]):
        make_response(assessment, levels=levels, status="completed")

    html = results_page(manager_client, assessment)
    panel = selectors.results.assessment_results(assessment).panels[0]
    customers = next(r for r in panel.rows if r.key == "customers")

    interval = f"95 % interval {customers.stats.low:.0f}\u2013{customers.stats.high:.0f}"
    assert interval in html
    assert "Divided team" in html


@pytest.mark.django_db
def test_the_results_check_the_frameworks_rules_and_compare_concepts(manager_client, organisation):
    assessment = make_assessment(
        make_team(organisation), slugs=("service-definition", "win4"), status="submitted"
    )
    for levels in ([1, 4], [2, 4], [1, 3]):
        make_response(assessment, levels=levels, status="completed")

    html = results_page(manager_client, assessment)
    panel = next(
        p
        for p in selectors.rules.with_rule_checks(
            selectors.results.assessment_results(assessment)
        ).panels
        if p.slug == "service-definition"
    )

    assert "What the model asks of these scores" in html
    assert panel.rules
    for check in panel.rules:
        assert check.result.why in html
    assert "The same idea, measured by several frameworks" in html
    assert selectors.concepts.concept_agreement(assessment)
