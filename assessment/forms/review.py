"""The assessor's input: the queue's sort, a moderation, an approval and a return.

Each form checks what it can on its own (a section of this assessment, a score from 0 to
100, a level on the scale, text within its limit); the services check the state of the
assessment and write.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from assessment.forms import base
from assessment.models import Action, Assessment, Decision, Judgement, Moderation
from assessment.selectors.manager import assessment_sections
from assessment.selectors.review import DEFAULT_SORT, QUEUE_SORTS, ModerationGroup, ModerationRow
from frameworks.models import Section

SCORE_MESSAGE = _("The moderated score must be a number from 0 to 100.")
# The levels that may be awarded depend on the assessment's frameworks (0-5 in format 2).
LEVEL_MESSAGE = _("Choose the awarded maturity level, from %(low)d to %(high)d.")


def _limit(model, field: str) -> int:
    return model._meta.get_field(field).max_length


class QueueSortForm(base.Form):
    """``?sort=``: a column key, or "-" and a key for descending order."""

    sort = forms.TypedChoiceField(
        choices=[(key, key) for key in QUEUE_SORTS] + [(f"-{key}", key) for key in QUEUE_SORTS],
        required=False,
        empty_value=DEFAULT_SORT,
    )

    def chosen(self) -> str:
        """The sort asked for, or the default when it is missing or not one we offer."""
        return self.cleaned_data["sort"] if self.is_valid() else DEFAULT_SORT


class ModerationForm(base.Form):
    """A moderated score for one section of the assessment, with the reason for it."""

    section = base.ChoiceByIdField(
        queryset=Section.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose a section to moderate."),
            "invalid_choice": _("That section is not part of this assessment."),
        },
    )
    score = forms.DecimalField(
        label=_("Moderated score"),
        min_value=0,
        max_value=100,
        error_messages={
            "required": SCORE_MESSAGE,
            "invalid": SCORE_MESSAGE,
            "min_value": SCORE_MESSAGE,
            "max_value": SCORE_MESSAGE,
        },
    )
    rationale = forms.CharField(
        label=_("Rationale"),
        widget=forms.Textarea,
        max_length=_limit(Moderation, "rationale"),
        error_messages={"required": _("Give a rationale for the moderated score.")},
    )

    def __init__(self, *args, assessment: Assessment, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["section"].queryset = assessment_sections(assessment)


class ApprovalForm(base.Form):
    """Approve with an awarded level from the assessment's scale and a summary (and, on
    format 2, the reason for a level other than the rule's)."""

    level = forms.TypedChoiceField(
        label=_("Awarded maturity level"),
        coerce=int,
        choices=[],
    )
    summary = forms.CharField(
        label=_("Summary"),
        widget=forms.Textarea,
        max_length=_limit(Decision, "summary"),
        error_messages={"required": _("Write a short summary of the review.")},
    )
    # Format 2: required (by ``services.decision_approve``) when the level chosen is not
    # the awarded-level rule's; the workspace shows the field only there.
    deviation_reason = forms.CharField(
        label=_("Reason for awarding another level than the rule's"),
        widget=forms.Textarea,
        max_length=_limit(Decision, "deviation_reason"),
        required=False,
    )

    def __init__(self, *args, levels: range, **kwargs) -> None:
        """Validates against ``levels``, the numbers of the assessment's scale
        (``selectors.review.assessment_levels``); the page shows the scale's names."""
        super().__init__(*args, **kwargs)
        message = LEVEL_MESSAGE % {"low": levels[0], "high": levels[-1]}
        field = self.fields["level"]
        field.choices = [(value, str(value)) for value in levels]
        field.error_messages = {
            **field.error_messages,
            "required": message,
            "invalid_choice": message,
        }


class KeepModerationForm(base.Form):
    """Keep a section's moderation from an earlier round as it is (the service checks
    that there is one)."""

    section = base.ChoiceByIdField(
        queryset=Section.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose a section to moderate."),
            "invalid_choice": _("That section is not part of this assessment."),
        },
    )

    def __init__(self, *args, assessment: Assessment, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["section"].queryset = assessment_sections(assessment)


class ReturnForm(base.Form):
    """Return for revision with the changes the organisation must make, and the sections
    the team should look at again (the manager's reopening starts from them)."""

    required_changes = forms.CharField(
        label=_("Changes required"),
        widget=forms.Textarea,
        max_length=_limit(Decision, "required_changes"),
        error_messages={
            "required": _("List the changes required before the assessment can be approved.")
        },
    )
    sections = base.ChoicesByIdField(
        label=_("Sections to look at again"),
        queryset=Section.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("That section is not part of this assessment."),
            "invalid_pk_value": _("That section is not part of this assessment."),
        },
    )

    def __init__(self, *args, assessment: Assessment, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sections"].queryset = assessment_sections(assessment)

    def ticked(self) -> set[str]:
        """The sections ticked in the input, as submitted (so a refused return shows them
        ticked again)."""
        return {str(value) for value in (self["sections"].value() or [])}


def moderation_forms(
    assessment: Assessment,
    groups: list[ModerationGroup],
    *,
    refused: ModerationForm | None = None,
) -> list[tuple[ModerationGroup, list[tuple[ModerationRow, ModerationForm]]]]:
    """Each section's row with its form: a refused form in its own section's place (its
    input and errors kept), the others blank but for the current moderated score."""
    refused_section = refused.cleaned_data.get("section") if refused is not None else None
    return [
        (
            group,
            [
                (
                    row,
                    refused
                    if refused_section is not None and refused_section.pk == row.section_id
                    else ModerationForm(
                        assessment=assessment,
                        initial={"section": row.section_id, "score": row.moderated},
                    ),
                )
                for row in group.rows
            ],
        )
        for group in groups
    ]


class JudgementForm(base.Form):
    """The assessor's judgement of each criterion of one section: a verdict (met, partly
    met, not met, not evidenced) and an optional note per question. A question left
    without a verdict is not judged yet; a note needs a verdict beside it."""

    VERDICT_PREFIX = "verdict"
    NOTE_PREFIX = "note"

    def __init__(self, *args, questions: list, current: dict[int, tuple[str, str]], **kwargs):
        initial = {}
        for question in questions:
            verdict, note = current.get(question.pk, ("", ""))
            initial[f"{self.VERDICT_PREFIX}_{question.pk}"] = verdict
            initial[f"{self.NOTE_PREFIX}_{question.pk}"] = note
        super().__init__(*args, initial=initial, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[f"{self.VERDICT_PREFIX}_{question.pk}"] = forms.ChoiceField(
                label=_("Judgement for %(code)s") % {"code": question.code},
                choices=Judgement.Verdict.choices,
                widget=forms.RadioSelect,
                required=False,
                error_messages={
                    "invalid_choice": _("Choose met, partly met, not met or not evidenced.")
                },
            )
            self.fields[f"{self.NOTE_PREFIX}_{question.pk}"] = forms.CharField(
                label=_("Note on %(code)s") % {"code": question.code},
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
                max_length=_limit(Judgement, "note"),
            )

    def verdict_field(self, question) -> forms.BoundField:
        return self[f"{self.VERDICT_PREFIX}_{question.pk}"]

    def note_field(self, question) -> forms.BoundField:
        return self[f"{self.NOTE_PREFIX}_{question.pk}"]

    def clean(self):
        cleaned = super().clean()
        for question in self.questions:
            verdict = cleaned.get(f"{self.VERDICT_PREFIX}_{question.pk}")
            note = cleaned.get(f"{self.NOTE_PREFIX}_{question.pk}")
            if note and not verdict:
                self.add_error(
                    f"{self.VERDICT_PREFIX}_{question.pk}",
                    _("Choose a judgement for the note you wrote."),
                )
        return cleaned

    def judgements(self) -> dict[int, tuple[str, str]]:
        """Each judged question's (verdict, note), by question id."""
        return {
            question.pk: (
                self.cleaned_data[f"{self.VERDICT_PREFIX}_{question.pk}"],
                self.cleaned_data.get(f"{self.NOTE_PREFIX}_{question.pk}", ""),
            )
            for question in self.questions
            if self.cleaned_data.get(f"{self.VERDICT_PREFIX}_{question.pk}")
        }


class RequiredActionForm(base.Form):
    """An action the assessor requires before or with approval: a title and, optionally,
    the section it answers."""

    title = forms.CharField(
        label=_("Action required"),
        max_length=_limit(Action, "title"),
        error_messages={"required": _("Give the action a title.")},
    )
    section = base.ChoiceByIdField(
        label=_("Section it answers (optional)"),
        queryset=Section.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("That section is not part of this assessment.")},
    )

    def __init__(self, *args, assessment: Assessment, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["section"].queryset = assessment_sections(assessment)
