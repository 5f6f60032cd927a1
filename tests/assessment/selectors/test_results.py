"""The results page and the selector behind it: real database, real charts.

These tests pin version 1 of the frameworks (levels 1-5, formula version 1), which
stays in use for every assessment created before frameworks v2; format-2 results
(level 0, audiences, "don't know") are tested in test_results_v2.py.
"""

import re
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessment import charts
from assessment.models import Answer, Response, SectionTarget
from assessment.selectors import results
from frameworks.models import Question, Section
from tests import factories
from tests.factories import (
    make_invitation,
    make_manager_response,
    make_membership,
    make_organisation,
    make_response,
    make_team,
    make_user,
)

make_assessment = partial(factories.make_assessment, version=1)


def respond(assessment, count: int, levels_by_section: dict[str, int] | None = None):
    """``count`` completed member responses; levels chosen per section key (default 3)."""
    levels_by_section = levels_by_section or {}
    questions = list(
        Question.objects.filter(version__assessments=assessment).select_related("section")
    )
    responses = [make_response(assessment, status="completed") for _ in range(count)]
    Answer.objects.bulk_create(
        Answer(
            response=r,
            question=q,
            section_id=q.section_id,
            level=levels_by_section.get(q.section.key, 3),
            submitted_level=levels_by_section.get(q.section.key, 3),  # as completed
        )
        for r in responses
        for q in questions
    )
    return responses


def results_url(assessment) -> str:
    return reverse("assessment:results", kwargs={"pk": assessment.pk})


@pytest.mark.django_db
def test_below_the_threshold_the_results_say_why_and_show_nothing(manager_client):
    assessment = make_assessment(make_team(manager_client.organisation), status="submitted")
    respond(assessment, 2, {"customers": 1})

    page = manager_client.get(results_url(assessment))

    assert page.status_code == 200
    # Closed with two: nothing more can arrive, so the page says they will never show.
    text = " ".join(page.text.split())
    assert "fewer than the 3 needed to show team results" in text
    assert "its team results will never be shown" in text
    assert "<svg" not in page.text


@pytest.mark.django_db
def test_an_unbalanced_win4_team_gets_a_verdict_chart_table_and_priorities(manager_client):
    assessment = make_assessment(make_team(manager_client.organisation), status="submitted")
    respond(assessment, 3, {"customers": 5, "employees": 1, "company": 4, "owners": 3})

    page = manager_client.get(results_url(assessment))

    assert page.status_code == 200
    assert "Not sustainable:" in page.text
    assert "Customers and the company win at the expense of employees and line managers" in (
        page.text
    )
    assert page.text.count("<svg") == 1
    assert '<title id="radar-win4-title">' in page.text
    assert "Balance index" in page.text
    assert "weakest link" in page.text
    table = page.text.split("results-table", 1)[1]
    for name in ["Customers", "Employees and line managers", "The company"]:
        assert name in table


@pytest.mark.django_db
def test_the_results_page_query_count_is_the_same_for_3_and_300_respondents(manager_client):
    counts = []
    for people in (3, 300):
        team = make_team(manager_client.organisation, f"Team of {people}")
        assessment = make_assessment(team, slugs=("win4", "holistic"), status="submitted")
        respond(assessment, people, {"customers": 4})
        with CaptureQueriesContext(connection) as queries:
            page = manager_client.get(results_url(assessment))
        assert page.status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1], counts


@pytest.mark.django_db
def test_scoring_the_same_answers_again_gives_the_same_figures():
    assessment = make_assessment(make_team(make_organisation()), status="submitted")
    respond(assessment, 4, {"customers": 4, "owners": 2})

    first = results.assessment_results(assessment)
    second = results.assessment_results(assessment)

    assert [p.team for p in first.panels] == [p.team for p in second.panels]


@pytest.mark.django_db
def test_the_manager_self_view_is_scored_apart_and_compared(manager_client):
    organisation = manager_client.organisation
    assessment = make_assessment(make_team(organisation), status="submitted")
    respond(assessment, 3, {"customers": 2})
    make_manager_response(assessment, organisation.manager, levels=[5])

    panel = results.assessment_results(assessment, viewer_id=organisation.manager.pk).panels[0]
    page = manager_client.get(results_url(assessment))

    customers = next(g for g in panel.gaps if g.key == "customers")
    assert (customers.team_score, customers.self_score, customers.flagged) == (25, 100, True)
    assert panel.rows[0].team.respondents == 3  # the manager is not part of the team figures
    assert "worth a conversation" in page.text
    assert "Your own view" in page.text


@pytest.mark.django_db
def test_the_trend_compares_with_the_previous_submitted_assessment(manager_client):
    team = make_team(manager_client.organisation)
    before = make_assessment(team, status="submitted")
    before.submitted_at = timezone.now()
    before.save(update_fields=["submitted_at"])
    respond(before, 3, {"customers": 2})
    now = make_assessment(team, status="submitted")
    respond(now, 3, {"customers": 4})

    panel = results.assessment_results(now).panels[0]
    page = manager_client.get(results_url(now))

    customers = next(r for r in panel.rows if r.key == "customers")
    assert (customers.previous, customers.team.score, customers.change) == (25, 75, 50)
    assert "+50" in page.text
    assert before.title in page.text


@pytest.mark.django_db
def test_an_earlier_assessment_below_the_threshold_is_not_used_for_the_trend():
    team = make_team(make_organisation())
    before = make_assessment(team, status="submitted")
    respond(before, 2)
    now = make_assessment(team, status="submitted")
    respond(now, 3)

    assert results.assessment_results(now).panels[0].trend is None


@pytest.mark.django_db
def test_targets_change_the_priorities(manager_client):
    assessment = make_assessment(make_team(manager_client.organisation), status="submitted")
    respond(assessment, 3, {"customers": 3, "employees": 3, "company": 3, "owners": 3})
    owners = Section.objects.get(version__assessments=assessment, key="owners")

    saved = manager_client.post(
        reverse("assessment:targets", kwargs={"pk": assessment.pk}), {f"target-{owners.pk}": "5"}
    )
    panel = results.assessment_results(assessment).panels[0]

    assert saved.status_code == 302
    assert SectionTarget.objects.get(section=owners).level == 5
    assert panel.priorities[0].key in {"company", "customers", "employees", "owners"}
    owner_priority = next(p for p in panel.priorities if p.key == "owners")
    assert (owner_priority.target_level, owner_priority.gap) == (5, 50)


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["9", "x", "0", "²", "3" * 40])
def test_a_bad_target_is_refused_with_a_message_and_changes_nothing(manager_client, value):
    assessment = make_assessment(make_team(manager_client.organisation), status="submitted")
    section = Section.objects.filter(version__assessments=assessment).first()

    response = manager_client.post(
        reverse("assessment:targets", kwargs={"pk": assessment.pk}),
        {f"target-{section.pk}": value},
        follow=True,
    )

    assert "target level from 1 to 5" in response.text
    assert not SectionTarget.objects.exists()


@pytest.mark.django_db
def test_a_section_of_another_framework_cannot_get_a_target(manager_client):
    assessment = make_assessment(make_team(manager_client.organisation), status="submitted")
    foreign = Section.objects.exclude(version__assessments=assessment).first()

    response = manager_client.post(
        reverse("assessment:targets", kwargs={"pk": assessment.pk}),
        {f"target-{foreign.pk}": "4"},
        follow=True,
    )

    assert "not part of this assessment" in response.text
    assert not SectionTarget.objects.exists()


# --- charts -------------------------------------------------------------------------


def test_the_radar_escapes_text_and_describes_itself():
    svg = charts.radar_chart(
        axes=["<script>alert(1)</script>", "B & C", "D"],
        series=[charts.Series("Team <b>", [50, 60, None], **charts.TEAM)],
        title='Title "quoted"',
        description="Balance 90 of 100.",
        chart_id="t",
    )

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "B &amp; C" in svg
    assert "Team &lt;b&gt;" in svg
    assert '<title id="t-title">Title &quot;quoted&quot;</title>' in svg
    assert '<desc id="t-desc">Balance 90 of 100.</desc>' in svg
    assert 'role="img"' in svg
    assert "style=" not in svg


def test_every_series_differs_in_colour_and_line_style():
    styles = [charts.TEAM, charts.SELF_VIEW, charts.TARGET, charts.PREVIOUS, charts.MODERATED]

    assert len({s["colour"] for s in styles}) == len(styles)
    assert len({s["dash"] for s in styles}) == len(styles)


def test_a_missing_value_breaks_the_outline_instead_of_drawing_zero():
    svg = charts.radar_chart(
        axes=["A", "B", "C", "D"],
        series=[charts.Series("Team", [50, None, 50, 50], **charts.TEAM)],
        title="t",
        description="d",
        chart_id="m",
    )

    outline = re.findall(r'<line x1="(?!24")[^>]*stroke="#1d4e5f"', svg)  # not the legend
    assert len(outline) == 2  # C-D and D-A; no segment touches the missing B
    assert not re.search(r'<polygon [^>]*stroke="#1d4e5f"', svg)


@pytest.mark.django_db
def test_results_of_an_open_assessment_wait_for_submission(manager_client):
    assessment = make_assessment(make_team(manager_client.organisation), status="open")
    respond(assessment, 5)

    page = manager_client.get(results_url(assessment))
    detail = manager_client.get(reverse("assessment:detail", kwargs={"pk": assessment.pk}))

    assert "Results appear when the assessment is submitted" in page.text
    assert "<svg" not in page.text
    assert "Team results appear once you submit the assessment" in detail.text


@pytest.mark.django_db
def test_a_section_rated_by_fewer_people_than_the_threshold_is_withheld(manager_client):
    assessment = make_assessment(make_team(manager_client.organisation), status="submitted")
    people = respond(assessment, 3, {"owners": 4})
    # Two of the three said "not applicable" to every owners question: one person's view.
    Answer.objects.filter(response__in=people[:2], section__key="owners").update(
        submitted_level=None, submitted_not_applicable=True
    )

    panel = results.assessment_results(assessment).panels[0]
    detail = manager_client.get(reverse("assessment:detail", kwargs={"pk": assessment.pk}))

    owners = next(r for r in panel.rows if r.key == "owners")
    assert owners.team.score is None
    assert owners.team.spread is None
    assert "Withheld: fewer than 3 people rated this section." in detail.text


@pytest.mark.django_db
def test_a_malformed_target_field_name_is_refused(manager_client):
    assessment = make_assessment(make_team(manager_client.organisation), status="submitted")

    response = manager_client.post(
        reverse("assessment:targets", kwargs={"pk": assessment.pk}),
        {"target-²": "3", "target-" + "9" * 40: "3"},
        follow=True,
    )

    assert response.status_code == 200
    assert "target level from 1 to 5" in response.text


@pytest.mark.django_db
def test_a_manager_never_sees_another_managers_self_view(manager_client):
    organisation = manager_client.organisation
    colleague = make_user("colleague")
    make_membership(organisation, colleague)
    assessment = make_assessment(make_team(organisation), status="submitted")
    respond(assessment, 3)
    make_manager_response(assessment, colleague, levels=[1])

    mine = results.assessment_results(assessment, viewer_id=organisation.manager.pk)
    page = manager_client.get(results_url(assessment))

    assert mine.panels[0].self_view is None
    assert "Your own view" not in page.text


@pytest.mark.django_db
def test_visible_results_offer_the_report_and_exports(manager_client):
    assessment = make_assessment(make_team(manager_client.organisation), status="submitted")
    respond(assessment, 3)

    page = manager_client.get(results_url(assessment))

    for name in ["report_pdf", "scores_xlsx", "scores_csv", "answers_xlsx", "answers_csv"]:
        assert reverse(f"assessment:{name}", kwargs={"pk": assessment.pk}) in page.text


# --- review rounds and who counts ------------------------------------------------------


@pytest.mark.django_db
def test_figures_count_the_answers_as_last_completed_not_a_revision_in_progress():
    assessment = make_assessment(make_team(make_organisation()), status="submitted")
    people = respond(assessment, 3, {"customers": 2})
    before = results.assessment_results(assessment).panels[0]
    # One member is changing their answers in a later round (the working copy only).
    Response.objects.filter(pk=people[0].pk).update(status=Response.Status.REVISING)
    Answer.objects.filter(response=people[0]).update(level=5)

    after = results.assessment_results(assessment).panels[0]
    figures = results.team_results(assessment, list(assessment.framework_versions.all()))

    assert after.team == before.team
    assert after.rows[0].team.respondents == 3
    customers = figures.frameworks[0].sections[0]
    assert dict(customers.level_counts)[2] == customers.answered  # nobody's 5 shows


@pytest.mark.django_db
def test_an_invitation_to_a_managers_own_address_is_not_team_data(manager_client):
    """Whatever the case of the address: the manager's own answers are the self-view."""
    organisation = manager_client.organisation
    colleague = make_user("colleague", email="Colleague@Example.com")
    make_membership(organisation, colleague)
    assessment = make_assessment(make_team(organisation), status="submitted")
    respond(assessment, 3, {"customers": 2})
    for email in (organisation.manager.email.upper(), "colleague@example.COM"):
        invitation = make_invitation(assessment, email=email)
        make_response(assessment, invitation=invitation, levels=[5], status="completed")

    found = results.assessment_results(assessment, viewer_id=organisation.manager.pk)
    figures = results.team_results(assessment, list(assessment.framework_versions.all()))

    assert found.completed_members == 3
    customers = found.panels[0].rows[0].team
    assert (customers.respondents, customers.score) == (3, 25)  # the 5s are not in the sums
    assert found.panels[0].self_view is None  # nor are they the viewer's own self-view
    assert figures.completed == 3
    assert 5 not in {n for n, count in figures.frameworks[0].sections[0].level_counts if count}


@pytest.mark.django_db
def test_a_manager_of_another_organisation_on_the_roster_is_a_team_member():
    organisation = make_organisation()
    outsider = make_organisation("Elsewhere Ltd", manager="outsider")
    assessment = make_assessment(make_team(organisation), status="submitted")
    respond(assessment, 2)
    invitation = make_invitation(assessment, email=outsider.manager.email)
    make_response(assessment, invitation=invitation, levels=[3], status="completed")

    assert results.assessment_results(assessment).completed_members == 3
