"""Input hygiene: one rule for control characters in every text and e-mail value.

Control characters (Unicode category Cc: NUL, vertical tab, escape…) have no place
in a name, a title or an e-mail address. PostgreSQL refuses NUL in text outright, an
SMTP server may refuse or misread the others, and a terminal or spreadsheet may act
on them. Long text (comments, rationales, notes) may keep line breaks and tabs.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# What long text may keep: line breaks (browsers send CR LF) and tabs.
MULTILINE_ALLOWED = frozenset("\n\r\t")


def control_characters(value: str, *, multiline: bool = False) -> list[str]:
    """The control characters in ``value`` that are not allowed, in order of appearance."""
    allowed = MULTILINE_ALLOWED if multiline else frozenset()
    return [char for char in value if unicodedata.category(char) == "Cc" and char not in allowed]


@deconstructible
class NoControlCharacters:
    """A validator: refuses control characters (except line breaks and tabs when multiline)."""

    message_single = _(
        "Remove the control character (such as a null byte or vertical tab): "
        "only letters, digits, punctuation and spaces are allowed here."
    )
    message_multiline = _(
        "Remove the control character (such as a null byte or vertical tab): "
        "only text, line breaks and tabs are allowed here."
    )
    code = "control_character"

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: object) -> None:
        if isinstance(value, str) and control_characters(value, multiline=self.multiline):
            raise ValidationError(
                self.message_multiline if self.multiline else self.message_single,
                code=self.code,
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoControlCharacters) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash((NoControlCharacters, self.multiline))


single_line = NoControlCharacters()
multiline = NoControlCharacters(multiline=True)


def is_clean(value: str, *, multiline: bool = False) -> bool:
    """True when ``value`` has no control character that the rule refuses."""
    return not control_characters(value, multiline=multiline)
