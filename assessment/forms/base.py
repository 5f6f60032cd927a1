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


class ChoicesByIdField(forms.ModelMultipleChoiceField):
    """Several objects by id (checkboxes). A value that cannot be a database id is refused
    before any query: Django's ``in`` lookup does not guard against integers the database
    cannot hold (SQLite raises OverflowError, a 500). Every multiple choice of objects in
    ``assessment/forms/`` uses this field; ``tests/assessment/forms/test_base.py`` checks."""

    pk_field = forms.IntegerField(min_value=1, max_value=2**63 - 1)

    def _check_values(self, value: Any) -> QuerySet:
        for pk in value:
            try:
                self.pk_field.clean(pk)
            except ValidationError:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                ) from None
        return super()._check_values(value)
