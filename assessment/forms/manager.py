"""Forms for the manager pages. They validate input; the services do the writing."""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from assessment.models import Team
from frameworks.models import FrameworkVersion


class ManagerInviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address of the new manager"), max_length=254)


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=200)


class RosterEntryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("E-mail"), max_length=254)


class AssessmentForm(forms.Form):
    """Title, one of the manager's teams, at least one framework and an optional due date."""

    title = forms.CharField(label=_("Title"), max_length=200)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none())
    frameworks = forms.MultipleChoiceField(
        label=_("Frameworks"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one framework.")},
    )
    due_date = forms.DateField(
        label=_("Due date (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Team members see it in their invitation."),
    )

    def __init__(
        self,
        *args: Any,
        teams: QuerySet[Team],
        versions: Iterable[FrameworkVersion],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Only the manager's own teams are valid choices: another team is refused here.
        self.fields["team"].queryset = teams
        self.fields["frameworks"].choices = [(v.framework.slug, v.name) for v in versions]


class AddressesForm(forms.Form):
    addresses = forms.CharField(
        label=_("E-mail addresses"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Paste one or more addresses, separated by commas, spaces or new lines."),
    )
