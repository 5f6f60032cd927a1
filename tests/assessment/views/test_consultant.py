"""Consultant access: grants made and revoked by managers, the portfolio, and downloads."""

import csv
import io
import re

import pytest
from django.db import connection
from django.template.defaultfilters import floatformat
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from assessment import selectors, services
from assessment.models import ConsultantGrant
from assessment.selectors.consultant import previous_overall
from frameworks.models import Question
from tests.factories import (
    make_assessment,
    make_consultant,
    make_grant,
    make_organisation,
    make_response,
    make_team,
)

PORTFOLIO = reverse("assessment:portfolio")
GRANTS = reverse("assessment:consultant_grants")


def complete(assessment, count: int = 3, levels=(3, 4, 2, 5)) -> None:
    for _ in range(count):
        make_response(assessment, levels=levels, status="completed")


def downloads(assessment) -> list[str]:
    """The PDF report, then scores and answers (by question) as Excel and CSV."""
    return [
        reverse(f"assessment:client_{name}", kwargs={"pk": assessment.pk})
        for name in (
            "report_pdf",
            "scores_xlsx",
            "scores_csv",
            "answers_xlsx",
            "answers_csv",
        )
    ]


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


@pytest.fixture
def organisation(db):
    return make_organisation("Client Co")


@pytest.fixture
def submitted(organisation):
    """A submitted Win4 assessment with three completed member responses."""
    assessment = make_assessment(make_team(organisation, "Help desk"), status="submitted")
    complete(assessment)
    return assessment


# --- access -------------------------------------------------------------------------------


def test_without_a_grant_the_portfolio_omits_the_client_and_downloads_are_404(
    consultant_client, submitted
):
    page = consultant_client.get(PORTFOLIO)
    assert page.status_code == 200
    assert "Client Co" not in page.content.decode()
    assert "Help desk" not in page.content.decode()
    for url in downloads(submitted):
        assert consultant_client.get(url).status_code == 404


@pytest.mark.parametrize(("days", "revoked"), [(90, True), (-1, False)], ids=["revoked", "expired"])
def test_a_revoked_or_expired_grant_gives_no_access(
    consultant_client, consultant, organisation, submitted, days, revoked
):
    make_grant(organisation, consultant.consultancy, days=days, revoked=revoked)
    assert "Help desk" not in consultant_client.get(PORTFOLIO).content.decode()
    for url in downloads(submitted):
        assert consultant_client.get(url).status_code == 404


def test_another_consultancys_grant_gives_no_access(consultant_client, organisation, submitted):
    other = make_consultant("rival", name="Rival Partners")
    make_grant(organisation, other.consultancy)
    for url in downloads(submitted):
        assert consultant_client.get(url).status_code == 404


def test_a_non_consultant_gets_404_on_the_portfolio(client, organisation):
    client.force_login(organisation.manager)
    assert client.get(PORTFOLIO).status_code == 404


def test_the_clients_link_shows_only_for_consultants(client, consultant, organisation):
    client.force_login(consultant)
    assert PORTFOLIO in client.get(PORTFOLIO).content.decode()
    client.force_login(organisation.manager)
    assert PORTFOLIO not in client.get(reverse("assessment:dashboard")).content.decode()


# --- with a current grant -------------------------------------------------------------------


def test_with_a_current_grant_the_heatmap_shows_the_team_and_its_scores(
    consultant_client, consultant, organisation, submitted
):
    make_grant(organisation, consultant.consultancy)
    page = consultant_client.get(PORTFOLIO)
    html = page.content.decode()
    assert page.status_code == 200
    assert "css/portfolio.css" in html
    assert "Help desk" in html
    panel = selectors.results.assessment_results(submitted).panels[0]
    for row in panel.rows:
        assert row.name in html
        if row.team.score is not None:
            number = floatformat(row.team.score, 0)
            cell = rf'class="text-end heat heat-{row.team.level}"[^>]*>{number}<'
            assert re.search(cell, html)
    for label in panel.level_labels.values():
        assert label in html  # the legend names every level
    for url in downloads(submitted):
        assert url in html


def test_with_a_current_grant_the_downloads_work(
    consultant_client, consultant, organisation, submitted, django_capture_on_commit_callbacks
):
    make_grant(organisation, consultant.consultancy)
    report, scores = downloads(submitted)[:2]
    # Not rendered yet: the download queues the render once committed and shows its
    # progress (the test task backend runs it then), and the next request gets the PDF.
    with django_capture_on_commit_callbacks(execute=True):
        assert consultant_client.get(report).status_code == 202
    pdf = consultant_client.get(report)
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    sheet = consultant_client.get(scores)
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert rows[1][:2] == ("Client Co", "Help desk")


def test_scores_are_refused_while_results_are_hidden(consultant_client, consultant, organisation):
    assessment = make_assessment(make_team(organisation), status="submitted")
    complete(assessment, count=1)
    make_grant(organisation, consultant.consultancy)
    response = consultant_client.get(downloads(assessment)[1])
    assert response.status_code == 302
    assert response.url == PORTFOLIO
    assert any("not available" in m for m in messages_of(response))
    assert "Results not shown yet" in consultant_client.get(PORTFOLIO).content.decode()


def test_open_assessments_stay_out_of_the_portfolio(consultant_client, consultant, organisation):
    assessment = make_assessment(make_team(organisation, "Still open"), status="open")
    complete(assessment)
    make_grant(organisation, consultant.consultancy)
    html = consultant_client.get(PORTFOLIO).content.decode()
    assert "Teams without a submitted assessment" in html
    assert downloads(assessment)[0] not in html


def test_the_trend_compares_with_the_previous_closed_assessment(
    consultant_client, consultant, organisation
):
    team = make_team(organisation, "Growing team")
    earlier = make_assessment(team, status="approved")
    complete(earlier, levels=(2, 2, 3, 2))
    later = make_assessment(team, status="submitted")
    complete(later, levels=(4, 4, 5, 4))
    # Leadership answers the owners' section, so every section is scored and each Win4
    # result has an overall (formula 2 shows none while a section has no score).
    for assessment, level in ((earlier, 2), (later, 4)):
        for _ in range(3):
            make_response(assessment, levels=[level], status="completed", audience="leadership")
    make_grant(organisation, consultant.consultancy)

    panel = selectors.results.assessment_results(later).panels[0]
    change = panel.team.overall - previous_overall(panel)
    assert change > 0
    html = consultant_client.get(PORTFOLIO).content.decode()
    assert f"+{floatformat(change, 0)}" in html
    assert downloads(later)[0] in html
    assert downloads(earlier)[0] not in html  # only the latest assessment is listed


def test_the_filters_narrow_by_organisation_and_framework(
    consultant_client, consultant, organisation, submitted
):
    other = make_organisation("Second Client", manager="boss")
    other_assessment = make_assessment(
        make_team(other, "Back office"), slugs=("six-dimensions",), status="submitted"
    )
    complete(other_assessment)
    make_grant(organisation, consultant.consultancy)
    make_grant(other, consultant.consultancy)

    everything = consultant_client.get(PORTFOLIO).content.decode()
    assert downloads(submitted)[0] in everything
    assert downloads(other_assessment)[0] in everything

    by_org = consultant_client.get(PORTFOLIO, {"organisation": other.pk}).content.decode()
    assert "Back office" in by_org
    assert "Help desk" not in by_org

    by_framework = consultant_client.get(PORTFOLIO, {"framework": "win4"}).content.decode()
    assert downloads(submitted)[0] in by_framework
    assert downloads(other_assessment)[0] not in by_framework
    assert "without a submitted assessment of this framework" in by_framework

    nonsense = consultant_client.get(PORTFOLIO, {"organisation": "x", "framework": "<b>"})
    assert nonsense.status_code == 200


def test_the_organisation_filter_cannot_reach_an_organisation_without_a_grant(
    consultant_client, consultant, organisation, submitted
):
    other = make_organisation("Not A Client", manager="boss")
    complete(make_assessment(make_team(other, "Secret team"), status="submitted"))
    make_grant(organisation, consultant.consultancy)
    html = consultant_client.get(PORTFOLIO, {"organisation": other.pk}).content.decode()
    assert "Secret team" not in html


# --- managers grant and revoke --------------------------------------------------------------


def test_a_manager_grants_and_revokes_access_through_the_views(
    client, client_factory, consultant, organisation, submitted
):
    client.force_login(organisation.manager)
    assert client.get(GRANTS).status_code == 200
    response = client.post(GRANTS, {"consultancy": consultant.consultancy.pk, "days": 30})
    assert response.status_code == 302
    grant = ConsultantGrant.objects.get(organisation=organisation)
    assert grant.is_current()
    assert grant.granted_by == organisation.manager

    consultant_browser = client_factory()
    consultant_browser.force_login(consultant)
    assert consultant_browser.get(downloads(submitted)[1]).status_code == 200
    page = client.get(GRANTS).content.decode()
    assert consultant.consultancy.name in page
    assert "Current" in page

    revoke = reverse("assessment:consultant_grant_revoke", kwargs={"pk": grant.pk})
    assert client.post(revoke).status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert "Revoked" in client.get(GRANTS).content.decode()
    assert consultant_browser.get(downloads(submitted)[1]).status_code == 404


def test_a_manager_of_another_organisation_gets_404_on_revoke(client, consultant, organisation):
    grant = make_grant(organisation, consultant.consultancy)
    stranger = make_organisation("Elsewhere", manager="stranger")
    client.force_login(stranger.manager)
    revoke = reverse("assessment:consultant_grant_revoke", kwargs={"pk": grant.pk})
    assert client.post(revoke).status_code == 404
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_the_grants_page_is_404_for_non_managers(consultant_client):
    assert consultant_client.get(GRANTS).status_code == 404


def test_revoke_needs_post(client, consultant, organisation):
    grant = make_grant(organisation, consultant.consultancy)
    client.force_login(organisation.manager)
    revoke = reverse("assessment:consultant_grant_revoke", kwargs={"pk": grant.pk})
    assert client.get(revoke).status_code == 405


@pytest.mark.parametrize("days", [0, 367, -5])
def test_the_form_refuses_days_out_of_range(client, consultant, organisation, days):
    client.force_login(organisation.manager)
    response = client.post(GRANTS, {"consultancy": consultant.consultancy.pk, "days": days})
    assert response.status_code == 200
    assert response.context["form"].errors["days"]
    assert not ConsultantGrant.objects.exists()


@pytest.mark.parametrize("days", [0, 367])
def test_the_service_refuses_days_out_of_range(consultant, organisation, days):
    with pytest.raises(services.ServiceError):
        services.grant_create(
            organisation=organisation,
            consultancy=consultant.consultancy,
            by=organisation.manager,
            days=days,
        )
    assert not ConsultantGrant.objects.exists()


@pytest.mark.parametrize("days", [1, 366])
def test_the_service_accepts_the_bounds(consultant, organisation, days):
    grant = services.grant_create(
        organisation=organisation,
        consultancy=consultant.consultancy,
        by=organisation.manager,
        days=days,
    )
    assert grant.is_current()


def test_granting_again_extends_the_current_grant(consultant, organisation):
    first = services.grant_create(
        organisation=organisation,
        consultancy=consultant.consultancy,
        by=organisation.manager,
        days=10,
    )
    second = services.grant_create(
        organisation=organisation,
        consultancy=consultant.consultancy,
        by=organisation.manager,
        days=100,
    )
    assert second.pk == first.pk
    assert second.expires_at > first.expires_at
    # A shorter grant never cuts access short.
    third = services.grant_create(
        organisation=organisation,
        consultancy=consultant.consultancy,
        by=organisation.manager,
        days=1,
    )
    assert third.pk == first.pk
    assert third.expires_at == second.expires_at
    assert ConsultantGrant.objects.count() == 1


def test_granting_after_a_revoke_makes_a_new_grant(consultant, organisation):
    old = make_grant(organisation, consultant.consultancy, revoked=True)
    new = services.grant_create(
        organisation=organisation,
        consultancy=consultant.consultancy,
        by=organisation.manager,
        days=30,
    )
    assert new.pk != old.pk
    assert new.is_current()


def test_revoking_twice_is_refused(consultant, organisation):
    grant = make_grant(organisation, consultant.consultancy)
    services.grant_revoke(grant=grant, by=organisation.manager)
    with pytest.raises(services.ServiceError):
        services.grant_revoke(grant=grant, by=organisation.manager)


def test_the_portfolio_queries_do_not_grow_with_respondents(
    consultant_client, consultant, organisation, submitted, django_assert_num_queries
):
    make_grant(organisation, consultant.consultancy)
    with CaptureQueriesContext(connection) as before:
        consultant_client.get(PORTFOLIO)
    complete(submitted, count=4)
    with django_assert_num_queries(len(before.captured_queries)):
        consultant_client.get(PORTFOLIO)


def test_the_portfolio_costs_four_queries_and_ten_per_visible_team_then_nine(
    consultant, organisation, submitted, django_assert_num_queries
):
    make_grant(organisation, consultant.consultancy)
    # The team's results computed and stored (9), and whether it has a customer survey (1).
    with django_assert_num_queries(4 + 9 + 1):
        found = selectors.consultant.consultant_portfolio(consultant)
    with django_assert_num_queries(4 + 8 + 1):  # and read from the store
        again = selectors.consultant.consultant_portfolio(consultant)
    assert [row.team.name for row in found.heatmaps[0].rows] == ["Help desk"]
    assert again.heatmaps == found.heatmaps


def test_the_portfolio_names_the_largest_customer_gap(
    consultant_client, consultant, organisation, submitted, settings, django_assert_num_queries
):
    """Issue 17: the customer-gap column, at a constant cost per team (9 more queries)."""
    import datetime

    from django.utils import timezone

    from assessment import services

    make_grant(organisation, consultant.consultancy)
    settings.CUSTOMER_THRESHOLD = 5
    today = timezone.localdate()
    survey = services.customer_survey_create(
        team=submitted.team,
        assessment=submitted,
        user=organisation.manager,
        title="Customers",
        opens_on=today,
        closes_on=today + datetime.timedelta(days=1),
        max_responses=50,
    )
    page = consultant_client.get(PORTFOLIO).text
    assert "no customer figures" in page  # below the customers' threshold
    for _ in range(5):
        services.customer_response_submit(
            survey_id=survey.pk,
            answers=services.CustomerAnswers(ratings={1: (5, 1), 2: (4, 5)}),
            address=None,
        )
    with django_assert_num_queries(4 + 8 + 9):
        selectors.consultant.consultant_portfolio(consultant)
    page = consultant_client.get(PORTFOLIO).text
    # Win4 has no service-definition questions to compare with: no gap, but figures exist.
    assert "none beyond the noise" in page


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["²", "٣", "9" * 30, "-1", "x\x00", "no-such-framework"])
def test_a_malformed_filter_shows_every_client_with_the_reason(
    consultant_client, consultant, organisation, submitted, value
):
    make_grant(organisation, consultant.consultancy)

    page = consultant_client.get(PORTFOLIO, {"organisation": value, "framework": value})

    assert page.status_code == 200
    assert "Please correct the 2 errors below." in page.text
    assert "Select a valid choice" in page.text or "Null characters" in page.text
    assert "Help desk" in page.text  # the filters that are not valid are left out


# --- issue 13: every table as CSV and Excel, review status, past exports ------------------


def test_consultants_get_scores_and_answers_by_question_as_csv_and_excel(
    consultant_client, consultant, organisation, submitted
):
    make_grant(organisation, consultant.consultancy)
    Team = submitted.team.__class__
    Team.objects.filter(pk=submitted.team_id).update(name="=HYPERLINK(1)")
    _pdf, scores_xlsx, scores_csv, answers_xlsx, answers_csv = downloads(submitted)

    scores = consultant_client.get(scores_csv)
    answers = consultant_client.get(answers_csv)
    answers_book = consultant_client.get(answers_xlsx)

    assert scores.status_code == answers.status_code == answers_book.status_code == 200
    assert scores["Content-Type"] == answers["Content-Type"] == "text/csv; charset=utf-8"
    assert scores["Content-Disposition"].endswith('-scores.csv"')
    scores_rows = list(csv.reader(io.StringIO(scores.content.decode("utf-8-sig"))))
    assert scores_rows[1][:2] == ["Client Co", "'=HYPERLINK(1)"]  # neutralised
    rows = list(csv.reader(io.StringIO(answers.content.decode("utf-8-sig"))))
    # Counted per question, as managers get them: never a respondent's row.
    assert "Respondent" not in rows[0]
    # Win4 version 2: levels 0-5, and each question's audience as a code.
    assert rows[0][4] == "Audience"
    assert rows[0][6:12] == [f"Level {n}" for n in range(0, 6)]
    team_questions = Question.objects.filter(version__assessments=submitted, audience="team")
    # One row per question the three members were asked (no manager or leadership yet).
    assert sorted(row[3] for row in rows[1:]) == sorted(q.code for q in team_questions)
    assert {row[4] for row in rows[1:]} == {"team"}
    assert {row[-2] for row in rows[1:]} == {"3"}  # out of three respondents
    book = list(load_workbook(io.BytesIO(answers_book.content)).active.iter_rows(values_only=True))
    assert book[0] == tuple(rows[0])
    assert consultant_client.get(scores_xlsx).status_code == 200


def test_the_heatmap_shows_each_assessments_review_status_in_words(
    consultant_client, consultant, organisation, submitted
):
    make_grant(organisation, consultant.consultancy)
    other = make_assessment(make_team(organisation, "Returns"), status="approved")
    complete(other)

    html = consultant_client.get(PORTFOLIO).content.decode()

    assert "Review status" in html
    assert re.search(r'class="badge text-bg-info">Submitted<', html)
    assert re.search(r'class="badge text-bg-success">Approved<', html)


def test_the_portfolio_links_every_download_and_the_past_exports(
    consultant_client, consultant, organisation, submitted
):
    make_grant(organisation, consultant.consultancy)

    html = consultant_client.get(PORTFOLIO).content.decode()

    for url in downloads(submitted):
        assert f'href="{url}"' in html
    assert f'href="{reverse("assessment:bulk_list")}"' in html


def test_teams_on_version_1_get_a_heatmap_of_their_own(consultant, organisation, submitted):
    """A version-1 team's 50 is level 3, a version-2 team's 60 is: never side by side."""
    older = make_assessment(make_team(organisation, "Back office"), status="submitted", version=1)
    complete(older)
    make_grant(organisation, consultant.consultancy)

    found = selectors.consultant.consultant_portfolio(consultant)

    by_slug = {h.slug: h for h in found.heatmaps}
    assert set(by_slug) == {"win4", "win4-v1"}
    assert [r.team.name for r in by_slug["win4"].rows] == ["Help desk"]
    assert [r.team.name for r in by_slug["win4-v1"].rows] == ["Back office"]
    assert "version 1" in by_slug["win4-v1"].name
    assert min(by_slug["win4"].level_labels) == 0
    assert min(by_slug["win4-v1"].level_labels) == 1
