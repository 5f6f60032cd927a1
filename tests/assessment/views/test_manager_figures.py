import re

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


@pytest.fixture
def assessment_v1(organisation):
    """Pinned to the archived format-1 editions (levels 1-5, every question for everyone)."""
    return make_assessment(make_team(organisation), status="submitted", version=1)


@pytest.mark.django_db
def test_at_the_threshold_the_page_shows_distribution_and_comments(manager_client, assessment_v1):
    assessment = assessment_v1
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


# --- frameworks v2 (issue 14): levels 0-5, "don't know", sections and leadership apart ----


def figures_html(response) -> str:
    return response.text.split('id="results-heading"')[1]


def row_cells(html: str, section: str) -> list[str]:
    """The text of each cell of a section's row (after its heading cell)."""
    row = html.split(f'<th scope="row">{section}</th>')[1].split("</tr>")[0]
    return re.findall(r"<td[^>]*>([^<]*)", row)


def dont_know(response, section_key: str, count: int) -> None:
    answers = response.answers.filter(section__key=section_key).order_by("question__position")
    Answer.objects.filter(pk__in=[a.pk for a in answers[:count]]).update(
        level=None, submitted_level=None, dont_know=True, submitted_dont_know=True
    )


@pytest.mark.django_db
def test_a_v2_page_counts_level_0_and_dont_know_and_names_sections_not_asked(
    manager_client, organisation, assessment
):
    members = [make_response(assessment, levels=[0, 4], status="completed") for _ in range(3)]
    dont_know(members[0], "customers", 2)
    make_manager_response(assessment, organisation.manager, levels=[5])

    html = figures_html(detail(manager_client, assessment))

    # Level 0 with its label from the scale, and "Don't know" as a column of its own.
    assert "Level 0" in html
    assert "Not in place" in html
    assert ">Don't know</th>" in html
    # Levels 0-5, then not applicable, don't know, answered (4 questions x 3 members).
    assert row_cells(html, "Customers") == ["5", "0", "0", "0", "5", "0", "0", "2", "12"]
    owners = html.split('<th scope="row">Shareholders and owners</th>')[1].split("</tr>")[0]
    assert "Not asked of the team" in owners
    # The manager's own 5s are not part of the team's figures.
    assert "Leadership's answers" in html


@pytest.mark.django_db
def test_a_v2_page_leaves_leadership_out_until_the_threshold_then_shows_it_apart(
    manager_client, assessment
):
    for _ in range(3):
        make_response(assessment, levels=[3], status="completed")
    leaders = [
        make_response(assessment, levels=[1], status="completed", audience="leadership")
        for _ in range(2)
    ]
    make_comment(leaders[0], "Only the owner would write this")

    html = figures_html(detail(manager_client, assessment))

    assert (
        "Leadership's answers show once at least 3 leadership invitees have completed "
        "them, so that no one can be singled out; 2 have so far."
    ) in html
    assert "Only the owner would write this" not in html
    assert "How leadership rated" not in html

    make_response(assessment, levels=[1], status="completed", audience="leadership")
    html = figures_html(detail(manager_client, assessment))

    leadership = html.split("Leadership's answers</h4>")[1]
    assert "How leadership rated the sections of Win4 sustainable service that ask" in leadership
    assert "Only the owner would write this" in leadership
    team_table = html.split("Leadership's answers</h4>")[0]
    assert "Only the owner would write this" not in team_table
    assert row_cells(leadership, "The company")[1] == "9"  # level 1: 3 questions x 3
    assert "Shareholders and owners" in leadership
    assert "Customers" not in leadership.split("</table>")[0]  # not asked of leadership


@pytest.mark.django_db
def test_a_v1_page_keeps_levels_1_to_5_and_no_dont_know_column(manager_client, assessment_v1):
    for _ in range(3):
        make_response(assessment_v1, levels=[1, 5], status="completed")

    html = figures_html(detail(manager_client, assessment_v1))

    assert "Level 1" in html
    assert "Level 0" not in html
    assert "Don't know" not in html
    assert "Leadership" not in html
    assert "Not asked" not in html
