"""Forms of action plans: an action (created or changed by a manager), the section a new
action starts from (the results page's link), and the calendar feed's buttons."""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessment.forms import base
from assessment.models.actions import Action
from frameworks.models import Question, Section

DUE_DATE_MAX_DAYS = 5 * 366  # five years ahead: 9999-12-31 is a typo


class SectionChoiceField(base.ChoiceByIdField):
    def label_from_instance(self, obj: Section) -> str:
        return f"{obj.version.short_name}: {obj.name}"


class OwnerChoiceField(base.ChoiceByIdField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


class ActionForm(base.Form):
    """An action's fields. Of an action the assessor required, the title, section and
    question are shown but not taken (disabled), and "Dropped" is not offered."""

    title = forms.CharField(label=_("Title"), max_length=200)
    section = SectionChoiceField(
        label=_("Section"),
        queryset=Section.objects.none(),
        required=False,
        empty_label=_("No particular section"),
    )
    question = base.QuestionChoiceField(
        label=_("Question (optional)"),
        queryset=Question.objects.none(),
        required=False,
        empty_label=_("No particular question"),
        help_text=_("A question links the action to its section too."),
    )
    owner = OwnerChoiceField(
        label=_("Owner: a member of your organisation"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("Nobody yet, or someone without an account"),
    )
    owner_name = forms.CharField(
        label=_("Or: the owner's name, for someone without an account"),
        max_length=200,
        required=False,
    )
    owner_email = forms.EmailField(
        label=_("Their e-mail address (optional)"),
        max_length=254,
        required=False,
        help_text=_("They get a weekly e-mail listing their open actions."),
    )
    due_date = forms.DateField(
        label=_("Due date (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    status = forms.TypedChoiceField(
        label=_("Status"), choices=Action.Status.choices, initial=Action.Status.PLANNED
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(
        self,
        *args: Any,
        sections: QuerySet[Section],
        questions: QuerySet[Question],
        members: QuerySet,
        required: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Only the assessment's own sections and questions, and the organisation's members:
        # anything else is refused here, beside its field.
        self.fields["section"].queryset = sections
        self.fields["question"].queryset = questions
        self.fields["owner"].queryset = members
        self.required_action = required
        if required:
            for name in ("title", "section", "question"):
                self.fields[name].disabled = True
            self.fields["title"].help_text = _(
                "The assessor set this action's title and section as a condition of approval."
            )
            self.fields["status"].choices = [
                choice for choice in Action.Status.choices if choice[0] != Action.Status.DROPPED
            ]

    @classmethod
    def initial_for(cls, action: Action) -> dict[str, Any]:
        return {
            "title": action.title,
            "section": action.section_id,
            "question": action.question_id,
            "owner": action.owner_id,
            "owner_name": action.owner_name,
            "owner_email": action.owner_email,
            "due_date": action.due_date,
            "status": action.status,
            "notes": action.notes,
        }

    def clean_due_date(self) -> date | None:
        """Not in the past (but an overdue date may stay as it is), nor years ahead."""
        due = self.cleaned_data["due_date"]
        if due is None:
            return None
        today = timezone.localdate()
        if due < today and due != self.initial.get("due_date"):
            raise ValidationError(_("The due date cannot be in the past."), code="past")
        if due > today + timedelta(days=DUE_DATE_MAX_DAYS):
            raise ValidationError(_("Choose a due date within the next five years."), code="far")
        return due

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        owner, name = cleaned.get("owner"), cleaned.get("owner_name")
        if owner is not None and name:
            self.add_error(
                "owner_name",
                _("Choose a member or name someone without an account, not both."),
            )
        if cleaned.get("owner_email") and not name and "owner_name" not in self.errors:
            self.add_error(
                "owner_email",
                _("Give the name of the person this address belongs to."),
            )
        section, question = cleaned.get("section"), cleaned.get("question")
        if section is not None and question is not None and question.section_id != section.pk:
            self.add_error("question", _("Choose a question of the section chosen."))
        elif question is not None:
            cleaned["section"] = question.section
        return cleaned

    def action_fields(self) -> dict[str, Any]:
        """The cleaned values, as the services take them."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "section": data["section"],
            "question": data["question"],
            "owner": data["owner"],
            "owner_name": data["owner_name"],
            "owner_email": data["owner_email"],
            "due_date": data["due_date"],
            "status": data["status"],
            "notes": data["notes"],
        }


class ActionStartForm(base.Form):
    """The section a new action starts from (``?section=`` from the results page's
    priorities); anything else is ignored."""

    section = base.ChoiceByIdField(queryset=Section.objects.none(), required=False)

    def __init__(self, *args: Any, sections: QuerySet[Section], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["section"].queryset = sections

    def initial_section(self) -> int | None:
        if self.is_valid() and self.cleaned_data["section"] is not None:
            return self.cleaned_data["section"].pk
        return None
