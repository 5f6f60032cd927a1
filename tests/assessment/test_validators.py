"""The one rule for control characters in text and e-mail values."""

import pytest
from django.core.exceptions import ValidationError

from assessment import validators


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"],
    ids=repr,
)
def test_control_characters_are_refused_in_both_kinds_of_text(char):
    for rule in (validators.single_line, validators.multiline):
        with pytest.raises(ValidationError) as raised:
            rule(f"a{char}b")
        assert raised.value.code == "control_character"
    assert not validators.is_clean(f"a{char}b")
    assert not validators.is_clean(f"a{char}b", multiline=True)


@pytest.mark.parametrize("char", ["\n", "\r", "\t"], ids=repr)
def test_line_breaks_and_tabs_are_kept_in_long_text_only(char):
    validators.multiline(f"a{char}b")
    with pytest.raises(ValidationError):
        validators.single_line(f"a{char}b")


@pytest.mark.parametrize(
    "value", ["Müller & Søn", "東京", "مرحبا", "🙂", "‮#1d4e5f", "a\u2028b", "non\u00a0breaking"]
)
def test_letters_of_any_script_and_other_formatting_characters_pass(value):
    # Only category Cc is refused: a right-to-left override (Cf) or a line separator (Zl)
    # is not a control character in Unicode's sense.
    validators.single_line(value)
    validators.multiline(value)


def test_values_that_are_not_text_are_left_to_their_field():
    validators.single_line(None)
    validators.single_line(42)


def test_the_validators_compare_by_kind_so_a_field_gets_each_once():
    assert validators.NoControlCharacters() == validators.single_line
    assert validators.NoControlCharacters(multiline=True) == validators.multiline
    assert validators.single_line != validators.multiline
    assert len({validators.single_line, validators.NoControlCharacters()}) == 1


def test_the_control_characters_are_listed_in_order():
    assert validators.control_characters("a\x00b\nc\x1b") == ["\x00", "\n", "\x1b"]
    assert validators.control_characters("a\x00b\nc\x1b", multiline=True) == ["\x00", "\x1b"]
