"""Forms for the manager pages. They validate input; the services do the writing."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from assessment.forms import base
from assessment.forms.public import LanguageSelect, language_choices
from assessment.models import Consultancy, Invitation, Team
from assessment.selectors.manager import AudienceQuestions, target_level_message
from assessment.services.consultants import GRANT_DAYS_DEFAULT, GRANT_DAYS_MAX, GRANT_DAYS_MIN
from frameworks.models import FrameworkVersion, Section

DUE_DATE_MAX_DAYS = 2 * 366  # two years ahead, leap day or not
EMAIL_MAX_LENGTH = 254  # the database columns' limit (RFC 5321's practical maximum)


class ManagerInviteForm(base.Form):
    email = forms.EmailField(label=_("E-mail address of the new manager"), max_length=254)


class TeamForm(base.Form):
    name = forms.CharField(label=_("Team name"), max_length=200)


class RosterEntryForm(base.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("E-mail"), max_length=254)


class AssessmentForm(base.Form):
    """Title, one of the manager's teams, at least one framework and an optional due date."""

    title = forms.CharField(label=_("Title"), max_length=200)
    team = base.ChoiceByIdField(label=_("Team"), queryset=Team.objects.none())
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
    language = forms.ChoiceField(
        label=_("Language"),
        choices=language_choices,
        widget=LanguageSelect,
        # Left out (an older form, a script), it is the creator's own language.
        required=False,
        help_text=_(
            "Invitations, the questionnaire and the customer survey start in this language; "
            "each person can switch to another at the foot of any page."
        ),
    )

    def __init__(
        self,
        *args: Any,
        teams: QuerySet[Team],
        versions: Iterable[FrameworkVersion],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["language"].initial = translation.get_language()
        # Only the manager's own teams are valid choices: another team is refused here.
        self.fields["team"].queryset = teams
        self.fields["frameworks"].choices = [(v.framework.slug, v.name) for v in versions]

    def clean_due_date(self) -> date | None:
        """From today to ``DUE_DATE_MAX_DAYS`` ahead: 0001-01-01 and 9999-12-31 are typos."""
        due = self.cleaned_data["due_date"]
        if due is None:
            return None
        today = timezone.localdate()
        if due < today:
            raise ValidationError(_("The due date cannot be in the past."), code="past")
        if due > today + timedelta(days=DUE_DATE_MAX_DAYS):
            raise ValidationError(_("Choose a due date within the next two years."), code="too_far")
        return due


@dataclass(frozen=True)
class ParsedAddresses:
    valid: list[str]
    invalid: list[str]


def parse_addresses(text: str) -> ParsedAddresses:
    """Split pasted text into addresses (commas, semicolons, spaces or new lines).

    Duplicates are dropped (case-insensitively); each invalid entry is kept to report.
    """
    valid: list[str] = []
    invalid: list[str] = []
    seen: set[str] = set()
    for raw in text.replace(",", " ").replace(";", " ").split():
        candidate = raw.strip().strip("<>").lower()
        if not candidate or candidate in seen:
            continue
        seen.add(candidate)
        try:
            validate_email(candidate)
            if len(candidate) > EMAIL_MAX_LENGTH:
                raise ValidationError("too long")
        except ValidationError:  # reported to the user one by one
            invalid.append(raw.strip())
        else:
            valid.append(candidate)
    return ParsedAddresses(valid=valid, invalid=invalid)


class FirstRadioSelect(forms.RadioSelect):
    """Radio buttons whose label target is the first button, so that the error summary's
    link to the field (``partials/form_errors.html``) lands on it (Django gives none)."""

    def id_for_label(self, id_: str, index: str | None = "0") -> str:
        return super().id_for_label(id_, index)


class AddressesForm(base.Form):
    """Pasted addresses; ``cleaned_data["addresses"]`` is a ``ParsedAddresses``."""

    addresses = forms.CharField(
        label=_("E-mail addresses"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Paste one or more addresses, separated by commas, spaces or new lines."),
        error_messages={"required": _("Paste at least one e-mail address.")},
    )

    audience = forms.ChoiceField(
        label=_("Invite them as"),
        choices=Invitation.Audience.choices,
        required=False,  # the team's list unless leadership is chosen
        initial=Invitation.Audience.TEAM,
        widget=FirstRadioSelect,
        error_messages={"invalid_choice": _("Choose who they are: team members or leadership.")},
    )

    def __init__(
        self, *args: Any, questions: AudienceQuestions | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if questions is not None:
            self.fields["audience"].choices = [
                (
                    Invitation.Audience.TEAM,
                    ngettext(
                        "Team members: they answer the team's %(count)d question",
                        "Team members: they answer the team's %(count)d questions",
                        questions.team,
                    )
                    % {"count": questions.team},
                ),
                (
                    Invitation.Audience.LEADERSHIP,
                    ngettext(
                        "Leadership (executives, finance, owners): they answer the "
                        "%(count)d leadership question",
                        "Leadership (executives, finance, owners): they answer the "
                        "%(count)d leadership questions",
                        questions.leadership,
                    )
                    % {"count": questions.leadership}
                    if questions.has_leadership
                    else _(
                        "Leadership (executives, finance, owners): not asked in this assessment"
                    ),
                ),
            ]

    def clean_audience(self) -> str:
        return self.cleaned_data["audience"] or Invitation.Audience.TEAM

    def clean_addresses(self) -> ParsedAddresses:
        """Every pasted address valid, or none is invited: each invalid one is named beside
        the field, and the pasted text is shown again to correct."""
        parsed = parse_addresses(self.cleaned_data["addresses"])
        if parsed.invalid:
            raise ValidationError(
                [
                    ValidationError(
                        ngettext(
                            "“%(addresses)s” is not a valid e-mail address. Correct it or "
                            "remove it; nobody was invited yet.",
                            "“%(addresses)s” are not valid e-mail addresses. Correct them or "
                            "remove them; nobody was invited yet.",
                            len(parsed.invalid),
                        )
                        % {"addresses": "”, “".join(parsed.invalid)},
                        code="invalid",
                    )
                ]
            )
        if not parsed.valid:
            raise ValidationError(_("Paste at least one e-mail address."), code="required")
        return parsed


class PreselectTeamForm(base.Form):
    """``?team=`` on the new-assessment link: one of the manager's teams, or nothing."""

    team = base.ChoiceByIdField(queryset=Team.objects.none(), required=False)

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams

    def preselected(self) -> Team | None:
        """The team to preselect; None when none was asked for or it is not the manager's."""
        return self.cleaned_data["team"] if self.is_valid() else None


TARGET_PREFIX = "target-"
SECTION_PK = forms.IntegerField(min_value=1, max_value=2**31 - 1)  # names a posted field


class TargetsForm(base.Form):
    """Target levels of the assessment's sections, one field ``target-<section pk>`` each,
    offering that section's target levels (``selectors.manager.target_choices``) with its
    version's labels.

    Only the sections posted are changed (the results page posts one framework at a
    time); "" restores the default. A posted ``target-…`` name that is not one of the
    assessment's sections is refused as a whole.
    """

    def __init__(
        self, *args: Any, choices: Mapping[int, Sequence[tuple[int, str]]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sections = {f"{TARGET_PREFIX}{pk}": pk for pk in choices}
        for name, pk in self.sections.items():
            levels = [level for level, _label in choices[pk]]
            self.fields[name] = forms.TypedChoiceField(
                choices=[
                    ("", _("Default (one level up)")),
                    *(
                        (str(level), f"{level} · {label}" if label else str(level))
                        for level, label in choices[pk]
                    ),
                ],
                coerce=int,
                empty_value=None,
                required=False,
                error_messages={
                    "invalid_choice": target_level_message(range(levels[0], levels[-1] + 1))
                },
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        names = [name for name in self.data if name.startswith(TARGET_PREFIX)]
        for name in names:
            if name in self.fields:
                continue
            try:
                SECTION_PK.clean(name.removeprefix(TARGET_PREFIX))
            except ValidationError:
                raise ValidationError(
                    _("Choose a target level from 1 to 5."), code="malformed"
                ) from None
            raise ValidationError(
                _("One of those sections is not part of this assessment."), code="section"
            )
        return cleaned

    def levels(self) -> dict[int, int | None]:
        """Section pk -> level (None: back to the default), for the posted sections only."""
        return {
            pk: self.cleaned_data[name] for name, pk in self.sections.items() if name in self.data
        }


NOTE_MAX_LENGTH = 4000  # Reopening.note's limit


class ReopenForm(base.Form):
    """Which sections the team should look at again, and the note they read about it."""

    sections = base.ChoicesByIdField(
        label=_("Sections to look at again"),
        queryset=Section.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one section for the team to look at again."),
            "invalid_choice": _("Choose sections of this assessment."),
            "invalid_pk_value": _("Choose sections of this assessment."),
        },
    )
    note = forms.CharField(
        label=_("Note to the team"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Team members read this in their e-mail and in their questionnaire. Say what the "
            "assessor asked for, in words the team will understand."
        ),
        error_messages={"required": _("Write a note telling the team what to look at.")},
    )

    def __init__(self, *args: Any, sections: QuerySet[Section], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only this assessment's sections are valid choices.
        self.fields["sections"].queryset = sections


class SubmitForm(base.Form):
    """The confirmation of submitting; closing without results must be chosen explicitly."""

    close_without_results = base.CheckboxField(
        label=_("Close without results"),
        required=False,
        help_text=_(
            "Tick this to close the assessment although its team results can never be shown."
        ),
    )


class AssessorChoiceForm(base.Form):
    """One of the assessors available to the assessment (``selectors.review``)."""

    assessor = base.ChoiceByIdField(
        label=_("Assessor"),
        queryset=None,
        error_messages={
            "required": _("Choose one of the assessors listed."),
            "invalid_choice": _("Choose one of the assessors listed."),
        },
    )

    def __init__(self, *args: Any, assessors: QuerySet[AbstractBaseUser], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assessor"].queryset = assessors


class GrantForm(base.Form):
    """Which consultancy, and for how many days."""

    consultancy = base.ChoiceByIdField(
        label=_("Consultancy"),
        queryset=Consultancy.objects.order_by("name"),
        empty_label=_("Choose a consultancy"),
    )
    days = forms.IntegerField(
        label=_("Days of access"),
        min_value=GRANT_DAYS_MIN,
        max_value=GRANT_DAYS_MAX,
        initial=GRANT_DAYS_DEFAULT,
        help_text=_("From 1 to 366 days. You can revoke access at any time."),
    )
