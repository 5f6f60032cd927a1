"""What a respondent's questionnaire is made of: the questions their audience is asked
(``Question.objects.asked_of``), and the choices each question offers."""

from collections import Counter

import pytest

from assessment import services
from assessment.models import token_digest
from assessment.selectors import respondent
from frameworks.models import Question, Section
from tests.factories import (
    make_assessment,
    make_invitation,
    make_manager_response,
    make_organisation,
    make_response,
    make_team,
)

AUDIENCES = ("team", "manager", "leadership")


@pytest.fixture
def world(db):
    """An open Win4 v2 assessment with a team member, a manager and a leadership invitee."""
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="open")
    return {
        "assessment": assessment,
        "team": make_response(assessment),
        "manager": make_manager_response(assessment, organisation.manager, status="in_progress"),
        "leadership": make_response(assessment, audience="leadership"),
    }


def asked(assessment, audience: str):
    return Question.objects.filter(version__assessments=assessment).asked_of(audience)


@pytest.mark.django_db
@pytest.mark.parametrize("audience", AUDIENCES)
def test_progress_lists_only_sections_with_questions_for_the_persons_audience(world, audience):
    response = world[audience]
    expected = Counter(asked(world["assessment"], audience).values_list("section__key", flat=True))

    progress = respondent.section_progress(response)

    assert {p.section.key: p.total for p in progress} == dict(expected)
    assert [p.section.position for p in progress] == sorted(p.section.position for p in progress)


@pytest.mark.django_db
def test_the_team_is_not_asked_about_the_owners_nor_leadership_about_customers(world):
    keys = {
        audience: [p.section.key for p in respondent.section_progress(world[audience])]
        for audience in AUDIENCES
    }

    assert "owners" not in keys["team"]
    assert keys["leadership"] == ["company", "owners"]
    assert keys["manager"] == ["customers", "employees", "company", "owners"]


@pytest.mark.django_db
@pytest.mark.parametrize("audience", AUDIENCES)
def test_a_page_shows_only_the_audiences_questions_and_none_for_a_section_without_any(
    world, audience
):
    response = world[audience]
    for section in Section.objects.filter(version__assessments=world["assessment"]):
        page = respondent.questionnaire_page(response, section.pk)
        mine = list(asked(world["assessment"], audience).filter(section=section))
        if not mine:
            assert page is None
            continue
        assert [row.question.pk for row in page.rows] == [
            q.pk for q in sorted(mine, key=lambda q: q.position)
        ]


@pytest.mark.django_db
def test_dont_know_counts_as_answered_and_each_aside_is_counted_apart(world):
    response = world["team"]
    first, second, third = asked(world["assessment"], "team").order_by(
        "section__position", "position"
    )[:3]
    services.answers_save(
        response=response,
        answers=[
            services.AnswerInput(first.pk, None, False, "", 0, dont_know=True),
            services.AnswerInput(second.pk, None, True, "", 0),
            services.AnswerInput(third.pk, 0, False, "", 0),
        ],
    )

    progress = respondent.section_progress(response)[0]
    lists = respondent.review_lists(response)
    unanswered, aside = lists.unanswered, lists.set_aside

    assert (progress.answered, progress.not_applicable, progress.dont_know) == (3, 1, 1)
    # The review page counts by the same rule as the questionnaire's progress.
    assert lists.progress == respondent.section_progress(response)
    assert {first, second, third}.isdisjoint(unanswered)
    assert len(unanswered) == asked(world["assessment"], "team").count() - 3
    assert (aside.dont_know, aside.not_applicable) == ([first], [second])


@pytest.mark.django_db
@pytest.mark.parametrize("audience", AUDIENCES)
def test_unanswered_questions_are_the_audiences_own(world, audience):
    unanswered = respondent.review_lists(world[audience]).unanswered

    assert {q.pk for q in unanswered} == set(
        asked(world["assessment"], audience).values_list("pk", flat=True)
    )
    assert {q.audience for q in unanswered} == {audience}


@pytest.mark.django_db
def test_a_question_of_another_audience_is_not_the_persons(world):
    manager_question = asked(world["assessment"], "manager").first()
    team_question = asked(world["assessment"], "team").first()

    assert respondent.question_for_response(world["team"], manager_question.pk) is None
    assert respondent.question_for_response(world["leadership"], team_question.pk) is None
    found = respondent.question_for_response(world["team"], team_question.pk)
    assert found == team_question
    assert found.version.has_audiences


@pytest.mark.django_db
@pytest.mark.parametrize("audience", ["team", "leadership"])
def test_a_links_start_page_counts_the_questions_of_the_invitations_audience(world, audience):
    make_invitation(world["assessment"], token="count-me", audience=audience)

    state = respondent.link_state(token_digest("count-me"))

    assert state.questions == asked(world["assessment"], audience).count()
    assert state.introduction.audience == audience


@pytest.mark.django_db
def test_a_format_2_question_offers_its_own_anchors_in_its_statements_direction(world):
    reversed_question = asked(world["assessment"], "team").filter(reversed=True).first()
    assert reversed_question is not None
    page = respondent.questionnaire_page(world["team"], reversed_question.section_id)
    row = next(r for r in page.rows if r.question.pk == reversed_question.pk)
    labels = {level.value: level.label for level in page.levels}

    assert [c.level for c in row.choices] == [5, 4, 3, 2, 1, 0]
    assert [c.description for c in row.choices] == reversed_question.anchors[::-1]
    assert [c.label for c in row.choices] == [labels[n] for n in range(5, -1, -1)]
    assert labels[0] == "Not in place"


@pytest.mark.django_db
def test_a_format_1_question_offers_the_versions_ladder_from_1_to_5():
    assessment = make_assessment(make_team(make_organisation()), status="open", version=1)
    response = make_response(assessment)

    page = respondent.questionnaire_page(response, None)

    assert not page.has_audiences
    assert [c.level for c in page.rows[0].choices] == [1, 2, 3, 4, 5]
    assert [c.description for c in page.rows[0].choices] == [lv.descriptor for lv in page.levels]
