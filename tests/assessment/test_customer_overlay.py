"""The team's prediction and the overlay of the business-defined and customer-defined
views (issue 17): figures traced to the answers, shown only when anonymity allows."""

import datetime
import statistics

import pytest
from django.utils import timezone

from assessment import selectors, services
from assessment.models import Assessment, CustomerPrediction
from assessment.scoring import customers as scoring
from assessment.scoring import formula2
from frameworks.models import Question
from tests.factories import (
    make_assessment,
    make_manager_response,
    make_organisation,
    make_response,
    make_team,
)

pytestmark = pytest.mark.django_db

# What three team members, then five customers, say of "on time".
TEAM_LEVELS = [1, 2, 3]  # their answers to the customer side of on-time (levels 0-5)
PREDICTIONS = [4, 4, 5]  # what each predicted customers would say of it (1-5)
CUSTOMERS = [(5, 2), (4, 2), (5, 3), (4, 1), (5, 2)]  # (importance, performance)


@pytest.fixture
def world(settings):
    settings.ANONYMITY_THRESHOLD = 3
    settings.CUSTOMER_THRESHOLD = 5
    organisation = make_organisation()
    team = make_team(organisation)
    assessment = make_assessment(team, slugs=("service-definition",), status="open")
    today = timezone.localdate()
    survey = services.customer_survey_create(
        team=team,
        assessment=assessment,
        user=organisation.manager,
        title="Customers",
        opens_on=today,
        closes_on=today + datetime.timedelta(days=3),
        max_responses=100,
    )
    on_time = Question.objects.get(
        version__assessments=assessment, attribute="on-time", side="customer"
    )
    responses = []
    for level, predicted in zip(TEAM_LEVELS, PREDICTIONS, strict=True):
        response = make_response(assessment, levels=[2], status="completed")
        response.answers.filter(question=on_time).update(level=level, submitted_level=level)
        services.customer_prediction_save(response=response, ratings={1: predicted, 2: None})
        responses.append(response)
    for importance, performance in CUSTOMERS:
        services.customer_response_submit(
            survey_id=survey.pk,
            answers=services.CustomerAnswers(ratings={1: (importance, performance)}),
            address=None,
        )
    return assessment, survey, responses


def _close(assessment: Assessment) -> None:
    Assessment.objects.filter(pk=assessment.pk).update(status="submitted")
    assessment.refresh_from_db()


def test_overlay_traces_to_the_answers(world):
    assessment, _survey, _ = world
    _close(assessment)
    voice = selectors.customers.assessment_customer_voice(assessment, team_visible=True)
    row = next(r for r in voice.overlay.rows if r.slug == "on-time")

    team = formula2.stats_from_sums(
        n=3,
        mean_sum=sum(TEAM_LEVELS),
        mean_square_sum=sum(x * x for x in TEAM_LEVELS),
        level_counts={level: TEAM_LEVELS.count(level) for level in range(6)},
    )
    assert row.team == pytest.approx(team.score)  # levels 1, 2, 3: 40 points
    assert row.team == pytest.approx(40)
    assert row.team_half == pytest.approx(team.half)
    assert row.predicted == pytest.approx(scoring.rating_to_score(statistics.mean(PREDICTIONS)))
    performance = [p for _, p in CUSTOMERS]
    assert row.customers == pytest.approx(scoring.rating_to_score(statistics.mean(performance)))
    assert row.customers == pytest.approx(25)
    # The team expected 83 points and customers gave 25: far beyond the noise, and named.
    assert row.misjudged == pytest.approx(row.predicted - row.customers)
    assert row.misjudged_beyond_noise
    assert voice.overlay.gaps[0].slug == "on-time"
    # Attributes nobody rated show no figure, never a zero.
    other = next(r for r in voice.overlay.rows if r.slug == "right-first-time")
    assert other.customers is None
    assert other.predicted is None


def test_team_figures_wait_for_the_assessment_to_close(world):
    assessment, _, _ = world
    voice = selectors.customers.assessment_customer_voice(
        assessment, team_visible=selectors.results.team_visible(assessment)
    )
    assert voice.results.visible  # customers' figures show from their own threshold
    row = next(r for r in voice.overlay.rows if r.slug == "on-time")
    assert row.customers is not None
    assert row.team is None
    assert row.predicted is None
    assert not voice.overlay.team_visible


def test_predictions_below_the_anonymity_threshold_show_nothing(world, settings):
    assessment, _, _ = world
    _close(assessment)
    settings.ANONYMITY_THRESHOLD = 4  # three people predicted
    voice = selectors.customers.assessment_customer_voice(assessment, team_visible=True)
    row = next(r for r in voice.overlay.rows if r.slug == "on-time")
    assert row.predicted is None
    assert row.team is None


def test_customer_figures_wait_for_their_threshold(world, settings):
    assessment, _, _ = world
    settings.CUSTOMER_THRESHOLD = 6
    voice = selectors.customers.assessment_customer_voice(assessment, team_visible=True)
    assert not voice.results.visible
    assert voice.overlay is None
    assert voice.chart == ""


def test_predictions_close_with_the_first_round(world):
    assessment, _, responses = world
    Assessment.objects.filter(pk=assessment.pk).update(round=2)
    responses[0].assessment.refresh_from_db()
    with pytest.raises(services.ServiceError):
        services.customer_prediction_save(response=responses[0], ratings={1: 1})
    assert CustomerPrediction.objects.get(response=responses[0]).p1 == PREDICTIONS[0]


def test_the_prediction_page(client, world):
    assessment, survey, _ = world
    manager = assessment.created_by
    response = make_manager_response(assessment, manager, status="in_progress")
    client.force_login(manager)
    url = f"/responses/{response.pk}/customers/"
    page = client.get(url)
    assert page.status_code == 200
    for attribute in survey.version.attributes.all():
        assert attribute.statement in page.content.decode()
    bad = client.post(url, {"p1": "9"})
    assert bad.status_code == 400
    assert not CustomerPrediction.objects.filter(response=response).exists()
    good = client.post(url, {"p1": "3", "p2": "na"})
    assert good.status_code == 302
    saved = CustomerPrediction.objects.get(response=response)
    assert (saved.p1, saved.p2, saved.p3) == (3, None, None)
    review = client.get(f"/responses/{response.pk}/review/").content.decode()
    assert "Change my prediction" in review


def test_no_prediction_page_without_a_survey(client, db):
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="open")
    response = make_manager_response(assessment, organisation.manager, status="in_progress")
    client.force_login(organisation.manager)
    assert client.get(f"/responses/{response.pk}/customers/").status_code == 404


def test_results_page_shows_your_customers(client, world):
    assessment, _, _ = world
    _close(assessment)
    client.force_login(assessment.created_by)
    page = client.get(f"/assessments/{assessment.pk}/results/").content.decode()
    assert "Your customers" in page
    assert "ipa-chart" in page
    assert "How the team&#x27;s view compares" in page or "How the team's view compares" in page


def test_the_pdf_has_a_chapter_of_what_customers_say(world):
    """Must show 5: the chapter with the grid and the overlay; every attribute named."""
    from assessment import reports
    from tests.pdf import poppler

    assessment, survey, _ = world
    _close(assessment)
    report = reports.render_report(assessment)
    # In reading order (not -layout), so a name wrapped inside its cell reads whole.
    text = " ".join(poppler("pdftotext", report.pdf).split())
    assert "What your customers say" in text
    assert "The team's view and its customers'" in text
    for attribute in survey.version.attributes.all():
        assert attribute.name in text, attribute.name
    assert "Concentrate here" in text or "Fewer than" in text


def test_a_new_customer_answer_renders_the_report_afresh(world):
    from assessment import reports

    assessment, survey, _ = world
    _close(assessment)
    before = reports.cache_key(assessment, viewer_id=None)
    services.customer_response_submit(
        survey_id=survey.pk,
        answers=services.CustomerAnswers(ratings={1: (3, 3)}),
        address=None,
    )
    assert reports.cache_key(assessment, viewer_id=None) != before


def test_customers_are_a_series_of_the_service_definition_radar(world):
    assessment, _, _ = world
    _close(assessment)
    found = selectors.results.assessment_results(assessment)
    voice = selectors.customers.assessment_customer_voice(assessment, team_visible=True)
    selectors.customers.with_customer_series(found, voice)
    panel = found.panels[0]
    assert panel.slug == "service-definition"
    # Only "on time" is placed; it sits in "Experienced by customers".
    assert [name for name, _ in panel.customer_points] == ["Experienced by customers"]
    axis = panel.customer_points[0][1]
    assert axis.score == pytest.approx(25)
    assert "Customers&#x27; own rating" in panel.chart or "Customers' own rating" in panel.chart


def test_customers_score_on_the_win4_customers_axis(world, settings):
    assessment, survey, _ = world
    win4 = make_assessment(assessment.team, slugs=("win4",), status="open")
    survey.assessment = win4
    survey.save(update_fields=["assessment"])
    for _ in range(3):
        make_response(win4, levels=[2], status="completed")
    _close(win4)
    found = selectors.results.assessment_results(win4)
    voice = selectors.customers.assessment_customer_voice(win4, team_visible=True)
    selectors.customers.with_customer_series(found, voice)
    (panel,) = found.panels
    assert [name for name, _ in panel.customer_points] == ["Customers"]
    assert panel.customer_points[0][1].score == pytest.approx(voice.results.axis.score)


def test_the_customer_figures_export(client, world):
    import csv
    import io

    assessment, survey, _ = world
    survey.title = '=HYPERLINK("http://evil.example")'
    survey.save(update_fields=["title"])
    _close(assessment)
    client.force_login(assessment.created_by)
    response = client.get(f"/assessments/{assessment.pk}/customers.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, lines = rows[0], rows[1:]
    assert len(lines) == survey.version.attributes.count()
    on_time = dict(zip(header, lines[0], strict=True))
    assert on_time["Attribute"] == "On time"
    assert on_time["Survey"].startswith("'=")  # a formula is neutralised
    assert float(on_time["Performance (mean, 1-5)"]) == pytest.approx(2.0)
    assert float(on_time["Team's own score (0-100)"]) == pytest.approx(40)
    assert on_time["Beyond the noise (prediction)"] == "True"
    assert client.get(f"/assessments/{assessment.pk}/customers.xlsx").status_code == 200


def test_no_customer_export_below_the_threshold(client, world, settings):
    assessment, _, _ = world
    settings.CUSTOMER_THRESHOLD = 50
    client.force_login(assessment.created_by)
    response = client.get(f"/assessments/{assessment.pk}/customers.csv")
    assert response.status_code == 302


def test_figures_move_only_a_whole_batch_at_a_time(world, settings):
    """No one customer's answers can be read from the change between two views: the
    figures count responses in multiples of the threshold."""
    _assessment, survey, _ = world
    before = selectors.customers.customer_results(survey)
    assert (before.responses, before.counted) == (5, 5)
    for _ in range(4):
        services.customer_response_submit(
            survey_id=survey.pk,
            answers=services.CustomerAnswers(ratings={1: (1, 5)}, comment="Quick"),
            address=None,
        )
        after = selectors.customers.customer_results(survey)
        assert after.counted == 5
        assert after.grid == before.grid
        assert selectors.customers.customer_comments(after, survey) == []
    services.customer_response_submit(
        survey_id=survey.pk,
        answers=services.CustomerAnswers(ratings={1: (1, 5)}, comment="Also quick"),
        address=None,
    )
    moved = selectors.customers.customer_results(survey)
    assert (moved.responses, moved.counted) == (10, 10)
    assert moved.grid != before.grid
    assert selectors.customers.customer_comments(moved, survey) == ["Also quick"] + ["Quick"] * 4


def test_customer_results_cost_the_same_for_any_number(world, django_assert_num_queries):
    _assessment, survey, _ = world
    with django_assert_num_queries(4):
        selectors.customers.customer_results(survey)
    for _ in range(20):
        services.customer_response_submit(
            survey_id=survey.pk,
            answers=services.CustomerAnswers(ratings={2: (3, 3)}),
            address=None,
        )
    with django_assert_num_queries(4):
        selectors.customers.customer_results(survey)


def test_an_assessment_without_service_definition_says_why_no_own_score(world):
    assessment, survey, _ = world
    win4 = make_assessment(assessment.team, slugs=("win4",), status="open")
    survey.assessment = win4
    survey.save(update_fields=["assessment"])
    for _ in range(3):
        make_response(win4, levels=[2], status="completed")
    _close(win4)
    voice = selectors.customers.assessment_customer_voice(win4, team_visible=True)
    assert not voice.overlay.team_asked
    assert all(row.team is None for row in voice.overlay.rows)
    world_voice = selectors.customers.assessment_customer_voice(assessment, team_visible=True)
    assert world_voice is None  # the survey moved to the Win4 assessment


def test_a_question_rated_by_one_customer_of_a_batch_waits_for_more(world):
    """Each rating column moves by whole batches too: a batch of five responses in which
    only one customer rated a question does not move that question's figures."""
    _assessment, survey, _ = world
    before = selectors.customers.customer_results(survey).grid.point("on-time")
    lone = [services.CustomerAnswers(ratings={1: (1, 1)})] + [
        services.CustomerAnswers(ratings={1: (None, None), 2: (3, 3)}) for _ in range(4)
    ]
    for answers in lone:
        services.customer_response_submit(survey_id=survey.pk, answers=answers, address=None)
    after = selectors.customers.customer_results(survey)
    assert after.counted == 10
    assert after.grid.point("on-time") == before
    for _ in range(4):
        services.customer_response_submit(
            survey_id=survey.pk,
            answers=services.CustomerAnswers(ratings={1: (2, 2)}),
            address=None,
        )
    services.customer_response_submit(
        survey_id=survey.pk,
        answers=services.CustomerAnswers(ratings={1: (None, None)}),
        address=None,
    )
    moved = selectors.customers.customer_results(survey).grid.point("on-time")
    assert moved.performance.n == 10  # the lone rating and four more: a whole batch
