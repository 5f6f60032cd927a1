"""Saving answers in frameworks v2: level 0, "don't know" apart from "not applicable",
each version's own scale, and only the questions the person is asked."""

import pytest

from assessment import services
from assessment.models import Answer, Response
from frameworks.models import Question
from tests.factories import (
    make_assessment,
    make_manager_response,
    make_organisation,
    make_response,
    make_team,
)


def asked(response) -> list[Question]:
    return list(
        Question.objects.filter(version__assessments=response.assessment_id)
        .asked_of(response.audience)
        .order_by("section__position", "position")
    )


def answer(question, *, level=None, na=False, dk=False, revision=0, comment=""):
    return services.AnswerInput(
        question_id=question.pk,
        level=level,
        not_applicable=na,
        dont_know=dk,
        comment=comment,
        base_revision=revision,
    )


def stored(response, question) -> tuple:
    a = Answer.objects.get(response=response, question=question)
    return (a.level, a.not_applicable, a.dont_know)


@pytest.fixture
def member(db) -> Response:
    """A team member of an open assessment of Win4 v2 (format 2)."""
    return make_response(make_assessment(make_team(make_organisation()), status="open"))


@pytest.mark.django_db
def test_dont_know_is_stored_apart_and_each_choice_clears_the_others(member):
    question = asked(member)[0]

    services.answers_save(response=member, answers=[answer(question, level=3)])
    assert stored(member, question) == (3, False, False)
    services.answers_save(response=member, answers=[answer(question, dk=True, revision=1)])
    assert stored(member, question) == (None, False, True)
    services.answers_save(response=member, answers=[answer(question, na=True, revision=2)])
    assert stored(member, question) == (None, True, False)
    services.answers_save(response=member, answers=[answer(question, level=0, revision=3)])
    assert stored(member, question) == (0, False, False)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "given",
    [
        {"level": 6},
        {"level": -1},
        {"level": 2, "dk": True},
        {"level": 2, "na": True},
        {"na": True, "dk": True},
    ],
)
def test_an_answer_its_version_does_not_offer_is_refused_and_nothing_is_written(member, given):
    first, second = asked(member)[:2]

    with pytest.raises(services.ServiceError):
        services.answers_save(
            response=member, answers=[answer(first, level=4), answer(second, **given)]
        )

    assert not Answer.objects.filter(response=member).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("given", "message"), [({"level": 0}, "1 to 5"), ({"dk": True}, "not applicable / don.t know")]
)
def test_a_format_1_question_takes_neither_level_0_nor_dont_know(given, message):
    assessment = make_assessment(make_team(make_organisation()), status="open", version=1)
    response = make_response(assessment)

    with pytest.raises(services.ServiceError, match=message):
        services.answers_save(response=response, answers=[answer(asked(response)[0], **given)])

    assert not Answer.objects.filter(response=response).exists()


@pytest.mark.django_db
def test_a_question_of_another_audience_is_refused_like_an_unknown_one(member):
    managers = Question.objects.filter(version__assessments=member.assessment_id).filter(
        audience="manager"
    )
    mine = asked(member)[0]

    with pytest.raises(services.ServiceError, match="not part of your questionnaire"):
        services.answers_save(
            response=member, answers=[answer(mine, level=2), answer(managers.first(), level=2)]
        )

    assert not Answer.objects.filter(response=member).exists()


@pytest.mark.django_db
def test_a_manager_answers_the_managers_questions_only():
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="open")
    response = make_manager_response(assessment, organisation.manager, status="in_progress")
    team_question = Question.objects.filter(
        version__assessments=assessment, audience="team"
    ).first()

    services.answers_save(response=response, answers=[answer(asked(response)[0], dk=True)])
    with pytest.raises(services.ServiceError, match="not part of your questionnaire"):
        services.answers_save(response=response, answers=[answer(team_question, level=1)])

    assert {q.audience for q in asked(response)} == {"manager"}
    assert Answer.objects.filter(response=response).count() == 1


@pytest.mark.django_db
def test_completing_copies_dont_know_into_the_submitted_copy(member):
    first, second, third = asked(member)[:3]
    services.answers_save(
        response=member,
        answers=[answer(first, dk=True), answer(second, na=True), answer(third, level=0)],
    )

    services.response_complete(response=member)

    submitted = {
        a.question_id: (a.submitted_level, a.submitted_not_applicable, a.submitted_dont_know)
        for a in Answer.objects.filter(response=member)
    }
    assert submitted == {
        first.pk: (None, False, True),
        second.pk: (None, True, False),
        third.pk: (0, False, False),
    }


@pytest.mark.django_db
def test_a_stale_save_saying_dont_know_where_not_applicable_was_saved_is_a_conflict(member):
    question = asked(member)[0]
    services.answers_save(response=member, answers=[answer(question, na=True)])  # revision 1

    same = services.answers_save(response=member, answers=[answer(question, na=True)])
    other = services.answers_save(response=member, answers=[answer(question, dk=True)])

    assert [s.revision for s in same.saved] == [1]  # the tab's own save: no conflict
    assert [c.question_id for c in other.conflicts] == [question.pk]
    assert stored(member, question) == (None, True, False)
