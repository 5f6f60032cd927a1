"""Forms of customer surveys: a manager opening one, and a customer answering one."""

import csv
import datetime
import io
import time
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessment import validators
from assessment.forms import base
from assessment.models.customers import (
    ATTRIBUTE_SLOTS,
    CUSTOMER_COMMENT_MAX_LENGTH,
    RATING_MAX,
    RATING_MIN,
)
from assessment.services.customers import CustomerAnswers
from assessment.services.mail import UnusableAddress
from frameworks.models import CustomerSurveyVersion

NOT_APPLICABLE = "na"
STARTED_SALT = "customer-survey-started"
# The hidden field that people never see and simple scripts fill in. Its name looks like
# one a form-filler would complete.
HONEYPOT_FIELD = "website"
# A page served this long ago is stale: the "started" stamp is refused as if missing.
STARTED_MAX_AGE = datetime.timedelta(hours=12)
DEFAULT_SURVEY_DAYS = 28
DEFAULT_MAX_RESPONSES = 500
MAX_RESPONSES_LIMIT = 1_000_000


def started_stamp(survey_id: int) -> str:
    """The signed time this survey's page was served, for the minimum-time check."""
    return signing.dumps({"s": survey_id, "t": time.time()}, salt=STARTED_SALT, compress=False)


@dataclass(frozen=True)
class RatingOption:
    id: str
    value: str
    label: str
    checked: bool


@dataclass(frozen=True)
class RatingGroup:
    """One rating question as the page draws it: its bound field (label, errors) and its
    options as plain values. The page writes each radio itself: rendering 120 of them
    through the widget's templates cost most of the page's time (docs/performance.md)."""

    field: forms.BoundField
    options: tuple[RatingOption, ...]


def rating_group(field: forms.BoundField) -> RatingGroup:
    chosen = str(field.value() or "")
    return RatingGroup(
        field=field,
        options=tuple(
            RatingOption(f"{field.auto_id}_{index}", str(value), str(label), str(value) == chosen)
            for index, (value, label) in enumerate(field.field.choices)
        ),
    )


class CustomerSurveyCreateForm(base.Form):
    """A manager opening a customer survey: its title, dates and cap."""

    title = forms.CharField(label=_("Title"), max_length=200)
    opens_on = forms.DateField(label=_("Opens on"), widget=forms.DateInput(attrs={"type": "date"}))
    closes_on = forms.DateField(
        label=_("Closes on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Answers are taken until the end of this day."),
    )
    max_responses = forms.IntegerField(
        label=_("Maximum number of responses"),
        min_value=1,
        max_value=MAX_RESPONSES_LIMIT,
        help_text=_("The survey stops taking answers when it has this many."),
    )
    allow_repeat = base.CheckboxField(
        label=_("Allow more than one response from the same browser"),
        required=False,
        help_text=_(
            "Leave this off unless customers share a device, such as a tablet on the counter."
        ),
    )

    @classmethod
    def initial_for(cls, title: str) -> dict[str, Any]:
        today = timezone.localdate()
        return {
            "title": title,
            "opens_on": today,
            "closes_on": today + datetime.timedelta(days=DEFAULT_SURVEY_DAYS),
            "max_responses": DEFAULT_MAX_RESPONSES,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        opens_on, closes_on = cleaned.get("opens_on"), cleaned.get("closes_on")
        if opens_on and closes_on and closes_on < opens_on:
            self.add_error("closes_on", _("The closing date must not be before the opening date."))
        if closes_on and closes_on < timezone.localdate():
            self.add_error(
                "closes_on",
                _("The closing date is in the past. To stop taking answers, use “Close now”."),
            )
        return cleaned


class CustomerResponseForm(base.Form):
    """A customer's answers on the public page: for each attribute of the survey's
    version, how much it matters (``i<position>``) and how well it was done
    (``p<position>``), each 1-5 or "doesn't apply"; an optional comment; and two
    checks for scripts, which never show as an error (``automated``)."""

    comment = forms.CharField(
        required=False,
        max_length=CUSTOMER_COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    started = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, version: CustomerSurveyVersion, survey_id: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.version = version
        self.survey_id = survey_id
        self.attributes = list(version.attributes.all())
        na = (NOT_APPLICABLE, version.not_applicable_label)
        for attribute in self.attributes:
            for prefix, which, question in (
                ("i", "importance", version.importance_question),
                ("p", "performance", version.performance_question),
            ):
                self.fields[f"{prefix}{attribute.position}"] = forms.ChoiceField(
                    label=question,
                    required=False,
                    choices=[(str(v), label) for v, label in version.rating_choices(which)] + [na],
                    widget=forms.RadioSelect(attrs={"class": "btn-check"}),
                )
        self.fields["comment"].label = version.comment_question
        self.fields[HONEYPOT_FIELD] = forms.CharField(
            required=False,
            label=_("Leave this field empty"),
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )
        if not self.is_bound:
            self.initial["started"] = started_stamp(survey_id)

    def attribute_rows(self) -> list[tuple[Any, "RatingGroup", "RatingGroup"]]:
        return [
            (a, rating_group(self[f"i{a.position}"]), rating_group(self[f"p{a.position}"]))
            for a in self.attributes
        ]

    def honeypot(self) -> forms.BoundField:
        return self[HONEYPOT_FIELD]

    def _rating(self, name: str) -> int | None:
        value = self.cleaned_data.get(name) or NOT_APPLICABLE
        if value == NOT_APPLICABLE:
            return None
        rating = int(value)
        return rating if RATING_MIN <= rating <= RATING_MAX else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        answered = [
            name
            for a in self.attributes
            for name in (f"i{a.position}", f"p{a.position}")
            if cleaned.get(name)
        ]
        if self.errors:
            return cleaned
        if not answered:
            raise ValidationError(
                _("Please answer at least one question before you send your answers."),
                code="empty",
            )
        return cleaned

    def seconds_taken(self) -> float | None:
        """How long after the page was served the answers came; None when the stamp is
        missing, forged, stale or for another survey."""
        try:
            stamp = signing.loads(
                self.cleaned_data.get("started") or "",
                salt=STARTED_SALT,
                max_age=STARTED_MAX_AGE,
            )
        except signing.BadSignature:
            return None
        if not isinstance(stamp, dict) or stamp.get("s") != self.survey_id:
            return None
        taken = time.time() - float(stamp.get("t", 0))
        return taken if 0 <= taken <= STARTED_MAX_AGE.total_seconds() else None

    def looks_automated(self) -> bool:
        """The honeypot was filled, or the answers came faster than a person could give
        them (or with no valid stamp of when the page was served)."""
        if self.cleaned_data.get(HONEYPOT_FIELD):
            return True
        taken = self.seconds_taken()
        return taken is None or taken < settings.CUSTOMER_MIN_SECONDS

    def answers(self) -> CustomerAnswers:
        return CustomerAnswers(
            ratings={
                a.position: (self._rating(f"i{a.position}"), self._rating(f"p{a.position}"))
                for a in self.attributes
            },
            comment=self.cleaned_data.get("comment", "").strip(),
        )


class CustomerPredictionForm(base.Form):
    """A team member's prediction: for each attribute of the survey's version, how well
    customers would say the team did it (``p<position>``), 1-5 or "don't know"."""

    def __init__(self, *args: Any, version: CustomerSurveyVersion, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.version = version
        self.attributes = list(version.attributes.all())
        choices = [(str(v), label) for v, label in version.rating_choices("performance")]
        choices.append((NOT_APPLICABLE, _("Don't know")))
        for attribute in self.attributes:
            self.fields[f"p{attribute.position}"] = forms.ChoiceField(
                label=_("How well would customers say we did this?"),
                required=False,
                choices=choices,
                widget=forms.RadioSelect(attrs={"class": "btn-check"}),
            )

    def rows(self) -> list[tuple[Any, RatingGroup]]:
        return [(a, rating_group(self[f"p{a.position}"])) for a in self.attributes]

    @classmethod
    def initial_from(cls, prediction) -> dict[str, str]:
        if prediction is None:
            return {}
        return {
            f"p{n}": str(getattr(prediction, f"p{n}") or NOT_APPLICABLE)
            for n in range(1, ATTRIBUTE_SLOTS + 1)
        }

    def ratings(self) -> dict[int, int | None]:
        result = {}
        for attribute in self.attributes:
            value = self.cleaned_data.get(f"p{attribute.position}") or NOT_APPLICABLE
            result[attribute.position] = None if value == NOT_APPLICABLE else int(value)
        return result


class CustomerLinksUploadForm(base.Form):
    """A customer list for personal links: a CSV file, one customer a line, the e-mail
    address first and an optional name second; a first line of column names is skipped.
    Every line is checked before anything is kept, and each bad line is named."""

    MAX_BYTES = 1024 * 1024
    MAX_ERRORS_SHOWN = 5

    file = forms.FileField(
        label=_("Customer list (CSV)"),
        help_text=_(
            "One customer a line: the e-mail address, then a name if you have one. "
            "Addresses are used only to send the link and are deleted when the survey closes."
        ),
    )

    def clean_file(self) -> list[tuple[str, str]]:
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError(_("The file is larger than 1 MB."), code="too_big")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(
                _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again."),
                code="encoding",
            ) from None
        try:
            lines = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error:
            raise ValidationError(
                _("The file is not valid CSV: check its quotation marks."), code="csv"
            ) from None
        entries, problems = [], []
        for number, cells in enumerate(lines, start=1):
            cells = [cell.strip() for cell in cells]
            if not any(cells):
                continue
            if number == 1 and "@" not in cells[0]:
                continue  # column names
            email, name = cells[0], cells[1] if len(cells) > 1 else ""
            reason = UnusableAddress.reason_for(email)
            if reason is None and not validators.is_clean(name):
                reason = _("the name contains a control character")
            if reason is None and len(name) > 200:
                reason = _("the name is longer than 200 characters")
            if reason is not None:
                problems.append(
                    _("Line %(line)s: %(address)s: %(reason)s.")
                    % {
                        "line": number,
                        "address": UnusableAddress.shown(email[:80]),
                        "reason": reason,
                    }
                )
                continue
            entries.append((email, name))
        if problems:
            shown = problems[: self.MAX_ERRORS_SHOWN]
            if len(problems) > len(shown):
                shown.append(_("and %(count)s more lines.") % {"count": len(problems) - len(shown)})
            raise ValidationError(shown, code="lines")
        if not entries:
            raise ValidationError(_("The file holds no e-mail addresses."), code="empty")
        if len(entries) > settings.CUSTOMER_LINKS_MAX:
            raise ValidationError(
                _("The file holds %(count)s addresses; the most one survey takes is %(limit)s.")
                % {"count": len(entries), "limit": settings.CUSTOMER_LINKS_MAX},
                code="too_many",
            )
        return entries
