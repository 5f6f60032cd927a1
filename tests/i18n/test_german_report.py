"""A German PDF report (issue 19, "Must show" 3): the section names and the verdict in
German, the document's language "de" in its metadata, and none of the English headings."""

import re
import zlib

import pytest
from django.conf import settings
from django.utils import translation

from assessment import reports, services
from frameworks.models import Section
from tests.assessment.selectors.test_results_v2 import answer
from tests.factories import judge_criteria, make_in_review
from tests.pdf import pdf_info, poppler

THRESHOLD = settings.ANONYMITY_THRESHOLD


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def approved(db):
    """Win4 approved: the team and managers answer 3, leadership 1, so the owners lose and
    the verdict is "not sustainable"."""
    assessment, assessor = make_in_review()
    assessment.responses.all().delete()
    answer(assessment, "team", THRESHOLD, 3)
    answer(assessment, "manager", 1, 3)
    answer(assessment, "leadership", THRESHOLD, 1)
    judge_criteria(assessment, assessor)
    services.decision_approve(
        assessment=assessment,
        assessor=assessor,
        level=2,
        summary="Solide Praxis.",
        snapshot={},
        deviation_reason="Begründung.",
    )
    assessment.refresh_from_db()
    return assessment


def streams(pdf: bytes) -> bytes:
    """The PDF with its compressed streams inflated (the catalogue may sit in one)."""
    found = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            found.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(found)


def test_the_report_in_german(approved):
    with translation.override("de"):
        pdf = reports.render_report(approved).pdf
    text = flat(poppler("pdftotext", pdf))

    sections = Section.objects.filter(version__assessments=approved)
    for section in sections:
        german = section.translations["de"]["name"]
        assert german != section.name
        assert german in text, german
    # The verdict, in German words: "Urteil <Win4 in German>: nicht nachhaltig …",
    # the stakeholders with their nouns' capitals.
    with translation.override("de"):
        verdict = translation.gettext("not sustainable")
        heading = translation.gettext("Executive summary")
    assert verdict != "not sustainable"
    assert re.search(rf"Urteil [^:]+: {re.escape(verdict)} —", text), text[:2000]
    assert heading in text
    assert "auf Kosten von Anteilseigner" in text
    # Dates as German writes them.
    assert re.search(
        r"\b\d{1,2}\. (Januar|Februar|März|April|Mai|Juni|Juli|August|September|"
        r"Oktober|November|Dezember) \d{4}\b",
        text,
    )
    for english in ("Executive summary", "Top priorities", "Action plan", "not sustainable"):
        assert english not in text
    assert "[EN]" not in text, "a framework text fell back to English"

    info = pdf_info(pdf)
    assert "Bericht" in info["Title"]
    assert "<rdf:li>de</rdf:li>" in poppler("pdfinfo", pdf, "-meta")
    assert b"/Lang (de)" in streams(pdf)


def test_each_language_is_its_own_cached_report(approved):
    with translation.override("de"):
        german = reports.render_report(approved)
        again = reports.render_report(approved)
    english = reports.render_report(approved)

    assert not german.cached
    assert again.cached
    assert again.pdf == german.pdf
    assert not english.cached
    assert english.pdf != german.pdf
    text = flat(poppler("pdftotext", english.pdf))
    assert "Executive summary" in text
    assert "<rdf:li>en-gb</rdf:li>" in poppler("pdfinfo", english.pdf, "-meta")


def test_a_corrected_translation_makes_a_fresh_german_report_only(approved):
    """Correcting German moves the version's loaded_at: German reports are made afresh,
    English ones keep their key."""
    from frameworks.services.sync import _row_translations, _sync_version_translations

    version = approved.framework_versions.get()
    with translation.override("de"):
        german_before = reports.cache_key(approved, viewer_id=None)
    english_before = reports.cache_key(approved, viewer_id=None)
    corrected = {"de": {}}
    for section in version.sections.all():
        corrected["de"][f"sections.{section.key}"] = dict(section.translations["de"])
    corrected["de"]["sections.owners"]["name"] = "Eigentümerseite"
    # Everything else as loaded: only the owners' name changes.
    loaded = {
        "": version.translations,
        **{f"scale.{lv.value}": lv.translations for lv in version.levels.all()},
        **{f"questions.{q.code}": q.translations for q in version.questions.all()},
    }
    for entry, texts in loaded.items():
        if "de" in texts:
            corrected["de"][entry] = texts["de"]
    assert _row_translations(corrected, "sections.owners")["de"]["name"] == "Eigentümerseite"

    assert _sync_version_translations(version, corrected) >= 1

    approved.refresh_from_db()
    with translation.override("de"):
        assert reports.cache_key(approved, viewer_id=None) != german_before
        text = flat(poppler("pdftotext", reports.render_report(approved).pdf))
    assert reports.cache_key(approved, viewer_id=None) == english_before
    assert "Eigentümerseite" in text
