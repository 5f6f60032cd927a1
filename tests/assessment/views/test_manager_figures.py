import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessment.models import Answer
from tests.factories import (
    make_assessment,
    make_comment,
    make_manager_response,
    make_response,
    make_team,
)


@pytest.fixture
def assessment(organisation):
    return make_assessment(make_team(organisation), status="submitted")


def detail(client, assessment):
    return client.get(reverse("assessment:detail", args=[assessment.pk]))


@pytest.mark.django_db
def test_below_the_threshold_the_page_says_why_and_shows_no_figures(manager_client, assessment):
    member = make_response(assessment, levels=[5], status="completed")
    make_comment(member, "Only Lin would write this")
    make_response(assessment, levels=[1], status="in_progress")

    response = detail(manager_client, assessment)

    assert (
        "Team results appear once at least 3 team members have completed their answers; "
        "1 has so far." in response.text
    )
    assert "Only Lin would write this" not in response.text
    assert "Level 1" not in response.text
    assert not response.context["results"].frameworks


@pytest.mark.django_db
def test_the_managers_own_answers_do_not_count_towards_the_threshold(
    manager_client, organisation, assessment
):
    make_response(assessment, levels=[3], status="completed")
    make_response(assessment, levels=[3], status="completed")
    own = make_manager_response(assessment, organisation.manager, levels=[1])
    make_comment(own, "My own view")

    response = detail(manager_client, assessment)

    assert "2 have so far." in response.text
    assert "My own view" not in response.text


@pytest.mark.django_db
def test_at_the_threshold_the_page_shows_distribution_and_comments(manager_client, assessment):
    first = make_response(assessment, levels=[1], status="completed")
    second = make_response(assessment, levels=[4], status="completed")
    third = make_response(assessment, levels=[4], status="completed")
    make_comment(first, "Zebra crossing comment")
    make_comment(second, "Apple comment")
    make_comment(third, "Later question comment", position=1)
    # One "not applicable" in the first section.
    answer = third.answers.order_by("question__section__position", "question__position").first()
    answer.level = answer.submitted_level = None
    answer.not_applicable = answer.submitted_not_applicable = True  # as completed
    answer.save()

    response = detail(manager_client, assessment)

    results = response.context["results"]
    assert results.visible
    (framework,) = results.frameworks
    customers = framework.sections[0]
    assert customers.section.name == "Customers"
    assert customers.answered == 18  # 3 responses x 6 questions
    assert customers.not_applicable == 1
    assert dict(customers.level_counts) == {1: 6, 2: 0, 3: 0, 4: 11, 5: 0}
    assert len(framework.sections) == 4
    first_question, second_question = framework.comments
    assert first_question.comments == ["Apple comment", "Zebra crossing comment"]
    assert second_question.comments == ["Later question comment"]
    text = response.text
    assert "Team results appear once" not in text
    assert text.index("Apple comment") < text.index("Zebra crossing comment")
    assert text.index("Zebra crossing comment") < text.index("Later question comment")


@pytest.mark.django_db
def test_team_figures_exclude_the_managers_own_and_unfinished_answers(
    manager_client, organisation, assessment
):
    for _ in range(3):
        make_response(assessment, levels=[3], status="completed")
    unfinished = make_response(assessment, levels=[1])
    make_comment(unfinished, "Half-written thought")
    own = make_manager_response(assessment, organisation.manager, levels=[5])
    make_comment(own, "Manager's private view")

    response = detail(manager_client, assessment)

    (framework,) = response.context["results"].frameworks
    for figures in framework.sections:
        counts = dict(figures.level_counts)
        assert counts[1] == 0
        assert counts[5] == 0
        assert counts[3] == figures.answered
    assert "Half-written thought" not in response.text
    assert "Manager's private view" not in response.text


@pytest.mark.django_db
def test_comments_never_name_the_respondent(manager_client, assessment):
    for n in range(3):
        invitation_response = make_response(assessment, levels=[2], status="completed")
        invitation = invitation_response.invitation
        invitation.name = f"Distinct Person {n}"
        invitation.save()
        make_comment(invitation_response, f"Remark number {n}")

    response = detail(manager_client, assessment)
    results_html = response.text.split('id="results-heading"')[1]

    assert "Remark number 0" in results_html
    assert "Distinct Person" not in results_html


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_dashboard_uses_a_constant_number_of_queries(manager_client, organisation):
    team = make_team(organisation, members=2)
    make_assessment(team, status="open", invitees=2)
    url = reverse("assessment:dashboard")
    one = count_queries(manager_client, url)

    for n in range(4):
        other = make_team(organisation, f"Team {n}", members=3)
        many = make_assessment(other, slugs=("win4", "holistic"), status="open", invitees=3)
        make_response(many, status="completed")
        make_manager_response(many, organisation.manager, status="in_progress")

    assert count_queries(manager_client, url) == one


@pytest.mark.django_db
def test_the_assessment_page_uses_a_constant_number_of_queries(manager_client, organisation):
    small = make_assessment(make_team(organisation, "Small"), status="open", invitees=1)
    for _ in range(3):
        make_comment(make_response(small, levels=[2], status="completed"), "Fine")
    large = make_assessment(
        make_team(organisation, "Large"), slugs=("win4", "holistic"), status="open", invitees=5
    )
    for _ in range(6):
        response = make_response(large, levels=[1, 3, 5], status="completed")
        make_comment(response, "Busy")
        make_comment(response, "Busier", position=3)
    make_response(large, levels=[2])
    revoked = large.invitations.first()
    revoked.revoked_at = timezone.now()
    revoked.save()
    make_manager_response(large, organisation.manager, levels=[4])

    assert Answer.objects.filter(response__assessment=large).exists()
    small_count = count_queries(manager_client, reverse("assessment:detail", args=[small.pk]))
    large_count = count_queries(manager_client, reverse("assessment:detail", args=[large.pk]))
    assert large_count == small_count
