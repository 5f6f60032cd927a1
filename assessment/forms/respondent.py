"""Forms for the questionnaire: one small form per question, and the final confirmation.

Both save paths (the script's autosave of the changed questions, and the no-JavaScript
"Save and continue" of a whole section) read a question's fields with ``AnswerForm``,
whose prefix gives the field names the page uses: ``q<question pk>-level``, ``-comment``
and ``-revision``. An autosave posts only the changed questions' fields;
``posted_question_ids`` says which questions those are.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from assessment.errors import ServiceError
from assessment.forms import base
from assessment.services.answers import (
    FORMAT_1_CHOICES,
    AnswerChoices,
    AnswerInput,
    validate_answer,
)

if TYPE_CHECKING:
    from assessment.selectors.respondent import QuestionRow
    from frameworks.models import Question

# The level field's values besides the levels themselves: "not applicable" (format 1:
# the merged "not applicable / don't know"; format 2: "not applicable to us") and, in
# format 2 only, "don't know".
NOT_APPLICABLE = "na"
DONT_KNOW = "dk"
REVISION_MAX = 999_999_999
FIELDS = ("level", "comment", "revision")
# A question's field name: ASCII digits only ("q٣-level" is no question), no leading zero
# (one question, one name), at most 10 digits.
_FIELD_NAME = re.compile(r"q([1-9][0-9]{0,9})-(?:level|comment|revision)", re.ASCII)
# The most questions one autosave may carry: a section has at most 60 (the loader's rule).
BATCH_MAX = 100


def prefix(question_id: int) -> str:
    return f"q{question_id}"


def field_names(question_id: int) -> dict[str, str]:
    """The names of one question's fields in the posted form."""
    return {name: f"{prefix(question_id)}-{name}" for name in FIELDS}


def level_value(level: int | None, not_applicable: bool, dont_know: bool = False) -> str:
    """The level field's value for a stored answer: a level ("0".."5"), "na", "dk" or ""."""
    if dont_know:
        return DONT_KNOW
    if not_applicable:
        return NOT_APPLICABLE
    return str(level) if level is not None else ""


class AnswerForm(base.Form):
    """One question's answer: a level of its version's scale, "not applicable", "don't
    know" (format 2 only) or nothing, and a comment.

    Without ``choices`` the form takes format 1's (levels 1-5, no "don't know");
    ``AnswerForm.for_question`` takes the question's version's."""

    level = forms.CharField(required=False)
    # Long text (a textarea on the page): keeps line breaks and tabs, refuses other
    # control characters (the base form's rule, by the widget).
    comment = forms.CharField(required=False, widget=forms.Textarea)
    revision = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=REVISION_MAX,
        error_messages={
            "invalid": _("The form was damaged; reload the page."),
            "min_value": _("The form was damaged; reload the page."),
            "max_value": _("The form was damaged; reload the page."),
        },
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None,
        *,
        question_id: int,
        choices: AnswerChoices = FORMAT_1_CHOICES,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, prefix=prefix(question_id), **kwargs)
        self.question_id = question_id
        self.choices = choices
        # Compared as strings: "²", "٣" or "03" are no level.
        self.level_values = {str(n) for n in choices.levels}
        self.allowed = self.level_values | {NOT_APPLICABLE, ""}
        if choices.dont_know:
            self.allowed.add(DONT_KNOW)

    @classmethod
    def for_question(cls, data: Mapping[str, Any] | None, question: "Question") -> "AnswerForm":
        """The form for one question, with its version's choices."""
        return cls(data, question_id=question.pk, choices=AnswerChoices.of(question.version))

    def clean_level(self) -> str:
        level = self.cleaned_data["level"]
        if level not in self.allowed:
            levels = self.choices.levels
            bounds = {"low": levels[0], "high": levels[-1]}
            if self.choices.dont_know:
                message = _(
                    "Choose a level from %(low)d to %(high)d, “Not applicable to us” or "
                    "“Don't know”."
                )
            else:
                message = _("Choose a level from %(low)d to %(high)d, or “not applicable”.")
            raise ValidationError(message % bounds, code="invalid_choice")
        return level

    def clean_comment(self) -> str:
        return self.cleaned_data["comment"].replace("\r\n", "\n")

    def clean_revision(self) -> int:
        return self.cleaned_data["revision"] or 0

    def answer(self) -> AnswerInput:
        """The input for ``services.answers_save``; ServiceError with the first problem.

        A damaged revision is named before a bad level, as the only fix for it is a reload.
        The service's own rules for an answer (``validate_answer``: the comment's length)
        are checked here too, so that each problem is found beside its question.
        """
        if not self.is_valid():
            for name in ("revision", "level", "comment"):
                if name in self.errors:
                    raise ServiceError(self.errors[name][0])
        level = self.cleaned_data["level"]
        answer = AnswerInput(
            question_id=self.question_id,
            level=int(level) if level in self.level_values else None,
            not_applicable=level == NOT_APPLICABLE,
            dont_know=level == DONT_KNOW,
            comment=self.cleaned_data["comment"],
            base_revision=self.cleaned_data["revision"],
        )
        validate_answer(answer, self.choices)
        return answer

    def posted_revision(self) -> int:
        """The revision the page showed, or 0 when it is missing or damaged."""
        return self.cleaned_data.get("revision", 0) if self.is_valid() else 0


def posted_question_ids(data: QueryDict | Mapping[str, str]) -> list[int]:
    """The questions an autosave posts fields of (``q<pk>-level``, ``-comment``,
    ``-revision``), each once, in the order posted; other fields are ignored.
    ServiceError when there is none, or more than ``BATCH_MAX``."""
    ids: dict[int, None] = {}
    for name in data:
        match = _FIELD_NAME.fullmatch(name)
        if match is not None:
            ids[int(match[1])] = None
    if not ids:
        raise ServiceError(_("The form was damaged; reload the page."))
    if len(ids) > BATCH_MAX:
        raise ServiceError(
            _("At most %(limit)d answers can be saved at once.") % {"limit": BATCH_MAX}
        )
    return list(ids)


def parse_answer_input(
    data: QueryDict | Mapping[str, str],
    question_id: int,
    choices: AnswerChoices = FORMAT_1_CHOICES,
) -> AnswerInput:
    """Read one question's fields (by format 1's choices unless ``choices`` say);
    ServiceError with a user message when they are malformed."""
    return AnswerForm(data, question_id=question_id, choices=choices).answer()


def parse_page(
    data: QueryDict | Mapping[str, str], rows: Iterable["QuestionRow"]
) -> tuple[list[AnswerInput], dict[int, str]]:
    """Read a page's answers ("Save and continue"): the inputs, and the problem with each
    question whose fields are malformed, by question pk (empty when all are fine)."""
    inputs, errors = [], {}
    for row in rows:
        try:
            inputs.append(AnswerForm.for_question(data, row.question).answer())
        except ServiceError as error:
            errors[row.question.pk] = str(error)
    return inputs, errors


def rows_from_input(
    questions: Iterable["QuestionRow"], data: QueryDict, errors: Mapping[int, str] | None = None
) -> list["QuestionRow"]:
    """The page as the user typed it, for showing their input back after a refused save,
    with each question's problem (``errors``, by question pk) beside it."""
    errors = errors or {}
    rows = []
    for row in questions:
        form = AnswerForm.for_question(data, row.question)
        level, comment = form["level"].value() or "", form["comment"].value() or ""
        rows.append(
            replace(
                row,
                level=level.strip(),
                comment=comment,
                conflict=None,
                error=errors.get(row.question.pk, ""),
            )
        )
    return rows


class SectionSaveQuery(base.Form):
    """``?finish=1`` on "Save and review": after saving, go to the review page."""

    finish = base.CheckboxField(required=False)


class CompleteForm(base.Form):
    """The respondent confirms that their answers are final."""

    confirm = forms.ChoiceField(
        choices=[("yes", _("My answers are final"))],
        error_messages={
            "required": _("Tick the box to confirm that your answers are final."),
            "invalid_choice": _("Tick the box to confirm that your answers are final."),
        },
    )
