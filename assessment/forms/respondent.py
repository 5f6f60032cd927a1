"""Forms for the questionnaire: one small form per question, and the final confirmation.

Both save paths (htmx autosave of one question, and the no-JavaScript "Save and
continue" of a whole section) read a question's fields with ``AnswerForm``, whose
prefix gives the field names the page uses: ``q<question pk>-level``, ``-comment``
and ``-revision``.
"""

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from assessment.errors import ServiceError
from assessment.forms import base
from assessment.services.answers import AnswerInput
from frameworks.models import SCALE_MAX, SCALE_MIN

if TYPE_CHECKING:
    from assessment.selectors.respondent import QuestionRow

NOT_APPLICABLE = "na"
LEVEL_VALUES = frozenset(str(n) for n in range(SCALE_MIN, SCALE_MAX + 1))
REVISION_MAX = 999_999_999
FIELDS = ("level", "comment", "revision")


def prefix(question_id: int) -> str:
    return f"q{question_id}"


def field_names(question_id: int) -> dict[str, str]:
    """The names of one question's fields in the posted form."""
    return {name: f"{prefix(question_id)}-{name}" for name in FIELDS}


def level_value(level: int | None, not_applicable: bool) -> str:
    """The level field's value for a stored answer: "1".."5", "na" or ""."""
    if not_applicable:
        return NOT_APPLICABLE
    return str(level) if level is not None else ""


class AnswerForm(base.Form):
    """One question's answer: a level 1-5, "not applicable" or nothing, and a comment."""

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

    def __init__(self, data: Mapping[str, Any] | None, *, question_id: int, **kwargs: Any) -> None:
        super().__init__(data, prefix=prefix(question_id), **kwargs)
        self.question_id = question_id

    def clean_level(self) -> str:
        level = self.cleaned_data["level"]
        if level not in LEVEL_VALUES | {NOT_APPLICABLE, ""}:
            raise ValidationError(
                _("Choose a level from 1 to 5, or “not applicable”."), code="invalid_choice"
            )
        return level

    def clean_comment(self) -> str:
        return self.cleaned_data["comment"].replace("\r\n", "\n")

    def clean_revision(self) -> int:
        return self.cleaned_data["revision"] or 0

    def answer(self) -> AnswerInput:
        """The input for ``services.answers_save``; ServiceError with the first problem.

        A damaged revision is named before a bad level, as the only fix for it is a reload.
        """
        if not self.is_valid():
            for name in ("revision", "level", "comment"):
                if name in self.errors:
                    raise ServiceError(self.errors[name][0])
        level = self.cleaned_data["level"]
        return AnswerInput(
            question_id=self.question_id,
            level=int(level) if level in LEVEL_VALUES else None,
            not_applicable=level == NOT_APPLICABLE,
            comment=self.cleaned_data["comment"],
            base_revision=self.cleaned_data["revision"],
        )

    def posted_revision(self) -> int:
        """The revision the page showed, or 0 when it is missing or damaged."""
        return self.cleaned_data.get("revision", 0) if self.is_valid() else 0


def parse_answer_input(data: QueryDict | Mapping[str, str], question_id: int) -> AnswerInput:
    """Read one question's fields; ServiceError with a user message when they are malformed."""
    return AnswerForm(data, question_id=question_id).answer()


def rows_from_input(questions: Iterable["QuestionRow"], data: QueryDict) -> list["QuestionRow"]:
    """The page as the user typed it, for showing their input back after a refused save."""
    rows = []
    for row in questions:
        form = AnswerForm(data, question_id=row.question.pk)
        level, comment = form["level"].value() or "", form["comment"].value() or ""
        rows.append(replace(row, level=level.strip(), comment=comment, conflict=None, error=""))
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
