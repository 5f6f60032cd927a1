"""The base of every form: the control-character rule on every text and e-mail field.

``assessment.validators`` holds the rule; this module is the one place it is attached,
so that a new form cannot forget it. Every form in ``assessment/forms/`` derives from
``Form`` or ``ModelForm`` here, or puts ``TextRuleMixin`` before a Django form class
(the sign-in forms); ``tests/test_architecture.py`` fails when one does not.

Long text (a field shown as a ``Textarea``: comments, rationales, pasted addresses)
may keep line breaks and tabs; every other text field, e-mail address and password
refuses any control character. Django's own ``ProhibitNullCharactersValidator``
already refuses NUL in a ``CharField``; this rule refuses the others too (a vertical
tab inside a quoted e-mail address passes Django's ``EmailValidator``).
"""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import QuerySet

from assessment import validators


def text_rule(field: forms.Field) -> validators.NoControlCharacters | None:
    """The control-character validator ``field`` needs; None for a field that is not text."""
    if not isinstance(field, forms.CharField):  # EmailField, SlugField… are CharFields
        return None
    return (
        validators.multiline if isinstance(field.widget, forms.Textarea) else validators.single_line
    )


def add_text_rule(fields: Mapping[str, forms.Field]) -> None:
    """Attach the control-character rule to each text field once (the fields are the
    form instance's own copies, so the class's fields are not changed).

    The rule refuses NUL too, so it takes the place of Django's
    ``ProhibitNullCharactersValidator``: one message beside the field, not two.
    """
    for field in fields.values():
        rule = text_rule(field)
        if rule is None or rule in field.validators:
            continue
        field.validators = [
            v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]
        field.validators.append(rule)


class TextRuleMixin:
    """Put before a Django form class: its text and e-mail fields refuse control characters."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_text_rule(self.fields)

    def full_clean(self) -> None:
        # Again before cleaning: a subclass may add a field after ``__init__`` has run.
        add_text_rule(self.fields)
        super().full_clean()


class Form(TextRuleMixin, forms.Form):
    """The base of the project's forms."""


class ModelForm(TextRuleMixin, forms.ModelForm):
    """The base of the project's model forms (the admin's included)."""


MAX_ID = 2**63 - 1


def is_id(value: Any) -> bool:
    """Whether ``value`` reads as a database id: ASCII digits, 1 to ``MAX_ID``. Python's
    ``int()`` also reads "٣" (Arabic-Indic three) or a full-width 3 as 3, so a value nobody typed as
    that number would pick an object; and the database cannot hold a larger integer
    (SQLite raises OverflowError, a 500, where Django's ``in`` lookup does not guard)."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return False
    return 1 <= int(text) <= MAX_ID


class ChoiceByIdField(forms.ModelChoiceField):
    """One object by id (a select, a hidden field or a query parameter): anything that is
    not an id is refused as an invalid choice before any query."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values or isinstance(value, self.queryset.model):
            return super().to_python(value)
        if self.to_field_name is None and not is_id(value):
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return super().to_python(value)


class ChoicesByIdField(forms.ModelMultipleChoiceField):
    """Several objects by id (checkboxes), each checked as ``is_id`` before any query.
    Every choice of objects in ``assessment/forms/`` uses one of these two fields;
    ``tests/assessment/forms/test_base.py`` checks."""

    def _check_values(self, value: Any) -> QuerySet:
        for pk in value:
            if not is_id(pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class _TickBox(forms.CheckboxInput):
    """Django's tick box reads any value but "false" and "0" as ticked; one holding control
    characters is passed on as it is, for the field to refuse."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        value = data.get(name)
        if isinstance(value, str) and not validators.is_clean(value):
            return value
        return super().value_from_datadict(data, files, name)


class CheckboxField(forms.BooleanField):
    """A tick box. Browsers send "on"; a value holding control characters is refused like
    any other field's, not read as ticked (``tests/assessment/forms/test_base.py`` checks
    that every tick box in ``assessment/forms/`` is one of these)."""

    widget = _TickBox

    def to_python(self, value: Any) -> bool:
        if isinstance(value, str):
            validators.NoControlCharacters()(value)
        return super().to_python(value)


class QuestionChoiceField(ChoiceByIdField):
    """One question of the assessment by id, labelled as people read it: the framework,
    the section and the question's words (never its internal code), shortened to fit a
    phone's select. The evidence and action forms share it."""

    LABEL_LENGTH = 90

    def label_from_instance(self, obj: Any) -> str:
        text = obj.text
        if len(text) > self.LABEL_LENGTH:
            text = text[: self.LABEL_LENGTH - 1] + "…"
        return f"{obj.version.short_name}, {obj.section.name}: {text}"
