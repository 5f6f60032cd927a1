"""Every shipped language is complete (issue 19, "Must show" 1): the interface catalogue
has no untranslated, fuzzy or copied-English message and its compiled .mo is current; no
message in the code is missing from it; and every framework file translates every text.

A language is "shipped" when settings.LANGUAGES lists it; adding one makes these tests
demand it complete (docs/translating.md).
"""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from frameworks.loading import (
    DEFAULT_DATA_DIR,
    coverage,
    customer_survey_files,
    framework_entries,
    parse_customer_survey_file,
    parse_data_dir,
    service_attributes,
    survey_entries,
)
from frameworks.translation import translated_languages

LOCALE = Path(settings.BASE_DIR) / "assessment" / "locale"
SHIPPED = translated_languages()
# Placeholders and markup, which stay the same in every language.
NOT_WORDS = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_0-9]*\}|<[^>]+>|&[a-z]+;")


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{2,}", NOT_WORDS.sub(" ", text))


def test_a_second_language_is_shipped():
    assert SHIPPED, "settings.LANGUAGES lists no language but the source language"


@pytest.mark.parametrize("language", SHIPPED)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    po = catalogue(language)
    assert len(po) > 1000
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert untranslated == [], f"{len(untranslated)} untranslated, e.g. {untranslated[:3]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy, e.g. {fuzzy[:3]}"
    assert "fuzzy" not in po.metadata_as_entry().flags


@pytest.mark.parametrize("language", SHIPPED)
def test_no_message_is_the_english_copied(language):
    copied = []
    for entry in catalogue(language).translated_entries():
        pairs = [(entry.msgid, entry.msgstr)]
        if entry.msgid_plural:
            pairs = [
                (entry.msgid, entry.msgstr_plural[0]),
                (entry.msgid_plural, entry.msgstr_plural[1]),
            ]
        copied += [
            source for source, target in pairs if len(words(source)) >= 3 and source == target
        ]
    assert copied == []


@pytest.mark.parametrize("language", SHIPPED)
def test_the_catalogue_compiles_cleanly_and_its_mo_is_current(language, tmp_path):
    po_path = LOCALE / language / "LC_MESSAGES" / "django.po"
    compiled = tmp_path / "django.mo"
    # msgfmt -c checks placeholders, plural forms and the header as gettext does.
    subprocess.run(  # noqa: S603 - gettext's own checker on our catalogue
        [shutil.which("msgfmt"), "-c", "--check-format", "-o", str(compiled), str(po_path)],
        check=True,
        capture_output=True,
    )
    with compiled.open("rb") as fresh, (po_path.with_suffix(".mo")).open("rb") as shipped:
        assert (
            gettext.GNUTranslations(shipped)._catalog == gettext.GNUTranslations(fresh)._catalog
        ), "django.mo is older than django.po: run `make messages`"


@pytest.mark.parametrize("language", SHIPPED)
def test_no_message_in_the_code_is_missing_from_the_catalogue(language, tmp_path, monkeypatch):
    """makemessages over a copy of the code and the catalogue: nothing new appears. (A
    copy: makemessages writes into every locale folder it walks past.)"""
    root = Path(settings.BASE_DIR)
    for folder in ("assessment", "frameworks", "templates"):
        shutil.copytree(
            root / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.mo", "__pycache__")
        )
    locale = tmp_path / "assessment" / "locale"
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[locale]):
        call_command("makemessages", locale=[language], no_obsolete=True, verbosity=0)
    po = polib.pofile(str(locale / language / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in po.untranslated_entries()] + [e.msgid for e in po.fuzzy_entries()]
    assert missing == [], f"not in the {language} catalogue: {missing[:5]} (run `make messages`)"
    # The copy's catalogue lost nothing either: no message is left over from deleted code.
    assert {e.msgid for e in po} == {e.msgid for e in catalogue(language)}


def _content():
    frameworks = parse_data_dir(DEFAULT_DATA_DIR)
    known = service_attributes(frameworks)
    surveys = [
        parse_customer_survey_file(p, service_attributes=known)
        for p in customer_survey_files(DEFAULT_DATA_DIR)
    ]
    return [(f.path, framework_entries(f), f.translations) for f in frameworks] + [
        (s.path, survey_entries(s), s.translations) for s in surveys
    ]


@pytest.mark.parametrize("language", SHIPPED)
def test_every_framework_file_translates_every_text(language):
    gaps = {}
    for path, entries, translations in _content():
        found = coverage(entries, translations, language)
        assert found.total > 0
        if not found.complete:
            gaps[path] = found.missing[:5]
    assert gaps == {}


@pytest.mark.parametrize("language", SHIPPED)
def test_no_framework_text_is_the_english_copied(language):
    copied = []
    for path, entries, translations in _content():
        for entry in entries:
            texts = translations.get(language, {}).get(entry.id, {})
            for toml_key, english in entry.english.items():
                translated = texts.get(entry.fields[toml_key][0])
                for source, target in zip(
                    english if isinstance(english, list) else [english],
                    translated if isinstance(translated, list) else [translated],
                    strict=False,
                ):
                    if len(words(source)) >= 3 and source == target:
                        copied.append(f"{Path(path).name}: {entry.id}.{toml_key}")
    assert copied == []


def test_load_frameworks_check_reports_full_coverage():
    from io import StringIO

    out = StringIO()
    call_command("load_frameworks", "--check", "--complete", stdout=out)
    lines = [line for line in out.getvalue().splitlines() if "translation " in line]
    assert len(lines) == len(_content()) * len(SHIPPED)
    assert all(line.strip().endswith("complete") for line in lines), lines
