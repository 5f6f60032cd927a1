"""Framework content in the reader's language (docs/translating.md).

The English text of a framework is the versioned source: it is what a version's content
hash covers and what the database columns hold. Each translatable row also carries a
``translations`` JSON object, ``{"de": {"text": "…", "anchors": ["…", …]}, …}``, loaded
from the file's ``[translations.<code>]`` block (``frameworks.loading``).

A translatable column is declared with ``TranslatedCharField``, ``TranslatedTextField``
or ``TranslatedJSONField``. Reading it (``question.text``) gives the active language's
text, so pages, charts, e-mails, exports and the PDF need no change to be translated;
saving always writes the English. A text the active language lacks falls back to the
English visibly: it is marked with ``FALLBACK_MARK`` (plain text, so that it is safe in
an attribute, a chart label or a CSV cell), never shown as if it were translated.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils import translation

TRANSLATIONS_FIELD = "translations"
# Shown before English text that stands in for a missing translation.
FALLBACK_MARK = "[EN] "


def source_language() -> str:
    """The language the files' own text is in (the base of ``LANGUAGE_CODE``)."""
    return settings.LANGUAGE_CODE.split("-")[0]


def translated_languages() -> list[str]:
    """The shipped languages the files are translated into: every base code of
    ``settings.LANGUAGES`` but the source language's (``["de"]``)."""
    bases = dict.fromkeys(code.split("-")[0] for code, _name in settings.LANGUAGES)
    return [code for code in bases if code != source_language()]


def active_language() -> str | None:
    """The active language's code (lower case) when it is not the source language."""
    code = translation.get_language()
    if not code:
        return None
    code = code.lower()
    return None if code.split("-")[0] == source_language() else code


class LocalisedText(str):
    """A translated (or marked fallback) text that remembers its English, so that code
    copying a field's value to a model (``refresh_from_db`` does) keeps the English."""

    english: str

    def __new__(cls, text: str, english: str) -> "LocalisedText":
        made = super().__new__(cls, text)
        made.english = english
        return made


class LocalisedList(list):
    """A translated list of texts (anchors, labels) that remembers its English."""

    english: list


def _localised(value: Any, english: Any) -> Any:
    if isinstance(value, list):
        made = LocalisedList(value)
        made.english = english
        return made
    return LocalisedText(value, english)


def fallback(english: Any) -> Any:
    """English text marked as standing in for a translation (lists item by item)."""
    if isinstance(english, list):
        return [fallback(item) for item in english]
    if isinstance(english, str) and english:
        return FALLBACK_MARK + english
    return english


def localise(english: Any, translations: dict | None, field: str) -> Any:
    """``english`` in the active language, from a row's ``translations``."""
    language = active_language()
    if language is None or not english:
        return english
    found = translations or {}
    # A block for the exact language ("pt-br"), else for its base ("pt").
    value = found.get(language, {}).get(field)
    if value in (None, "", []):
        value = found.get(language.split("-")[0], {}).get(field)
    if value in (None, "", []):
        return _localised(fallback(english), english)
    return _localised(value, english)


def source_value(value: Any) -> Any:
    """The English behind a value read in another language (itself if it is English)."""
    return getattr(value, "english", value)


class TranslatedAttribute(DeferredAttribute):
    """Reads give the active language's text; writes (and saves) keep the English."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        english = super().__get__(instance, cls)
        return localise(english, instance.__dict__.get(TRANSLATIONS_FIELD), self.field.attname)

    def __set__(self, instance, value) -> None:
        instance.__dict__[self.field.attname] = source_value(value)


class _Translated:
    descriptor_class = TranslatedAttribute

    def pre_save(self, model_instance, add):
        return model_instance.__dict__[self.attname]

    def value_from_object(self, obj):
        return obj.__dict__[self.attname]


class TranslatedCharField(_Translated, models.CharField):
    pass


class TranslatedTextField(_Translated, models.TextField):
    pass


class TranslatedJSONField(_Translated, models.JSONField):
    pass
