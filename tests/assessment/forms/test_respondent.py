"""The questionnaire's answer form: which values a question's version accepts."""

import pytest

from assessment import services  # first: the forms and selectors import each other through it
from assessment.forms.respondent import AnswerForm, level_value, parse_answer_input, parse_page
from assessment.selectors.respondent import QuestionRow
from assessment.services.answers import AnswerChoices
from frameworks.models import FrameworkVersion, Question


def question(pk: int, format: int) -> Question:
    """An unsaved question of a version of this format (the form reads only these)."""
    return Question(pk=pk, version=FrameworkVersion(format=format))


def posted(pk: int, level: str, comment: str = "") -> dict[str, str]:
    return {f"q{pk}-level": level, f"q{pk}-comment": comment, f"q{pk}-revision": "0"}


@pytest.mark.parametrize("value", ["0", "1", "2", "3", "4", "5"])
def test_a_format_2_question_takes_every_level_from_0_to_5(value):
    answer = AnswerForm.for_question(posted(7, value), question(7, 2)).answer()

    assert (answer.level, answer.not_applicable, answer.dont_know) == (int(value), False, False)


def test_a_format_2_question_takes_not_applicable_and_dont_know_apart():
    not_applicable = AnswerForm.for_question(posted(7, "na"), question(7, 2)).answer()
    dont_know = AnswerForm.for_question(posted(7, "dk"), question(7, 2)).answer()

    assert (not_applicable.level, not_applicable.not_applicable, not_applicable.dont_know) == (
        None,
        True,
        False,
    )
    assert (dont_know.level, dont_know.not_applicable, dont_know.dont_know) == (None, False, True)


def test_a_blank_answer_is_neither_a_level_nor_an_aside():
    answer = AnswerForm.for_question(posted(7, ""), question(7, 2)).answer()

    assert (answer.level, answer.not_applicable, answer.dont_know) == (None, False, False)


@pytest.mark.parametrize("value", ["6", "-1", "9", "x", "²", "٣", "03", "DK", "NA", "dk na", "0.0"])
def test_a_format_2_question_refuses_anything_else_with_its_scale_named(value):
    with pytest.raises(
        services.ServiceError, match="level from 0 to 5, “Not applicable to us” or “Don't"
    ):
        AnswerForm.for_question(posted(7, value), question(7, 2)).answer()


@pytest.mark.parametrize("value", ["0", "dk", "6", "x"])
def test_a_format_1_question_keeps_levels_1_to_5_and_one_merged_not_applicable(value):
    with pytest.raises(services.ServiceError, match="level from 1 to 5, or “not applicable”"):
        AnswerForm.for_question(posted(7, value), question(7, 1)).answer()
    assert AnswerForm.for_question(posted(7, "na"), question(7, 1)).answer().not_applicable
    assert AnswerForm.for_question(posted(7, "1"), question(7, 1)).answer().level == 1


def test_without_a_question_the_form_takes_format_1s_rules():
    """The strict default: "don't know" and level 0 are refused unless a version allows them."""
    with pytest.raises(services.ServiceError):
        parse_answer_input(posted(7, "dk"), 7)
    with pytest.raises(services.ServiceError):
        parse_answer_input(posted(7, "0"), 7)
    format_2 = AnswerChoices(levels=range(0, 6), dont_know=True)
    assert parse_answer_input(posted(7, "0"), 7, format_2).level == 0


def test_a_page_names_the_problem_of_each_bad_question_and_parses_the_rest():
    rows = [QuestionRow(question=question(pk, 2)) for pk in (1, 2, 3)]
    data = posted(1, "dk") | posted(2, "7") | posted(3, "0", "fine")

    inputs, errors = parse_page(data, rows)

    assert list(errors) == [2]
    assert "level from 0 to 5" in errors[2]
    assert [(i.question_id, i.level, i.dont_know) for i in inputs] == [
        (1, None, True),
        (3, 0, False),
    ]


@pytest.mark.parametrize(
    ("stored", "value"),
    [
        ((0, False, False), "0"),
        ((5, False, False), "5"),
        ((None, True, False), "na"),
        ((None, False, True), "dk"),
        ((None, False, False), ""),
    ],
)
def test_a_stored_answer_is_shown_back_as_the_value_its_radio_carries(stored, value):
    assert level_value(*stored) == value
