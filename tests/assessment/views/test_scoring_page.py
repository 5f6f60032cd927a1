"""The public /scoring/ page and the glossary's entries for formula 2 (issue 15): plain
words, with the thresholds in force read from the settings and the scoring modules."""

import re

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from assessment import scoring
from assessment.scoring import formula2

DASH = "\N{EN DASH}"


def page_text(response) -> str:
    """The page's words, tags stripped and white space collapsed."""
    return " ".join(strip_tags(response.content.decode()).split())


# --- /scoring/ --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_scoring_page_explains_formula_2_first_and_version_1_after(client):
    response = client.get(reverse("scoring"))

    assert response.status_code == 200
    html = response.content.decode()
    headings = re.findall(r'<h2 class="h4" id="([a-z0-9-]+)"', html)
    assert headings == [
        "section-scores",
        "how-sure",
        "withheld",
        "balance",
        "verdict",
        "priorities",
        "rules-and-concepts",
        "moderation",
        "version-1",
    ]
    text = page_text(response)
    assert "scoring rules version 2, for version 2 and later of each framework" in text
    assert "Version 1 of a framework: scoring rules version 1" in text
    for words in (
        "95 % interval",
        "divided team",
        "no overall score, balance, weakest section or verdict",
        "Balance is advice",
        "never turn a sustainable verdict into an unsustainable one",
        "lowest score first",
        "the frameworks disagree when their intervals do not overlap",
        "the team's own figures stay beside them, labelled",
        "only with a written reason, which the report prints",
    ):
        assert words in text
    # Each word links to its glossary entry.
    glossary = reverse("glossary")
    for anchor in ("interval", "agreement", "noise", "moderated-score", "awarded-level"):
        assert f'href="{glossary}#{anchor}"' in html


@pytest.mark.django_db
def test_the_scoring_page_reads_the_thresholds_in_force(client, settings, monkeypatch):
    settings.SCORING_FLOOR_LEVEL = 3
    settings.ANONYMITY_THRESHOLD = 5
    monkeypatch.setattr(scoring, "ALERT_GAP", 12.0)
    monkeypatch.setattr(scoring, "MIN_RATED_SHARE", 0.6)
    monkeypatch.setattr(formula2, "AGREEMENT_WEAK", 0.4)
    monkeypatch.setattr(formula2, "DIVIDED_MIN_RATERS", 4)

    text = page_text(client.get(reverse("scoring")))

    # The floor is the lower edge of level 3's band, named as the frameworks name it.
    assert (
        "Win4 is sustainable when every stakeholder scores at least 50, the lower edge of "
        "level 3, “Exceeds expectations”." in text
    )
    assert "when at least 5 of them rated it" in text
    assert "at least 60% of its possible answers" in text
    assert "it lies 12 points or more below the framework's overall score" in text
    assert "below 0.4 with at least 4 people" in text


@pytest.mark.django_db
def test_the_scoring_page_shows_the_default_floor_and_the_bands_of_the_scale(client, settings):
    settings.SCORING_FLOOR_LEVEL = 2

    text = page_text(client.get(reverse("scoring")))

    assert "at least 30, the lower edge of level 2, “Meets expectations consistently”" in text
    assert "each level is 20 points, so level 0 is 0 and level 5 is 100" in text
    for band in (
        f"0{DASH}10: level 0, “Not in place”",
        f"10{DASH}30: level 1, “Barely meets expectations”",
        f"30{DASH}50: level 2, “Meets expectations consistently”",
        f"50{DASH}70: level 3, “Exceeds expectations”",
        f"70{DASH}90: level 4, “Excellence”",
        f"90{DASH}100: level 5, “Superior: a model others learn from”",
    ):
        assert band in text


@pytest.mark.django_db
def test_the_scoring_pages_version_1_paragraph_reads_version_1s_thresholds(client, monkeypatch):
    monkeypatch.setattr(scoring, "NO_LOSER_FLOOR", 45.0)
    monkeypatch.setattr(scoring, "NO_LOSER_MIN_BALANCE", 75.0)
    monkeypatch.setattr(scoring, "PERSPECTIVE_GAP", 20.0)

    text = page_text(client.get(reverse("scoring")))

    version_1 = text[text.index("Version 1 of a framework: scoring rules version 1") :]
    assert "no stakeholder scores below 45 and the balance index is at least 75" in version_1
    assert "differs from the team's by 20 points or more" in version_1
    assert "never change them" in version_1


def test_the_scoring_page_works_before_any_framework_is_loaded(client, no_frameworks):
    response = client.get(reverse("scoring"))

    assert response.status_code == 200
    text = page_text(response)
    # No names to give the levels yet: the bands and the floor stand without them.
    assert f"0{DASH}10: level 0 " in text
    assert "scores at least 30, the lower edge of level 2. Otherwise" in text


@pytest.mark.django_db
def test_the_scoring_page_takes_one_query_for_the_names_of_the_levels(
    client, django_assert_num_queries
):
    with django_assert_num_queries(1):
        client.get(reverse("scoring"))


# --- the glossary ---------------------------------------------------------------------------

NEW_ANCHORS = ("interval", "agreement", "noise", "moderated-score", "awarded-level", "levels")


@pytest.mark.django_db
def test_the_glossary_has_an_entry_for_each_word_of_formula_2(client):
    response = client.get(reverse("glossary"))

    html = response.content.decode()
    for anchor in NEW_ANCHORS:
        assert f'id="{anchor}"' in html
        assert f'href="#{anchor}"' in html
    text = page_text(response)
    for words in (
        # interval
        "One person's answers give the whole range, 0 to 100.",
        # agreement
        "the section is marked “divided team”",
        # beyond the noise
        "marked “beyond the noise” only when it is larger than its margin",
        # official figures
        "the official figures (overall score, balance, verdict, priorities, the report's "
        "action plan and the checks of the framework's rules) use the moderated score",
        "The team's own figures stay beside them, labelled",
        "On version 1 of a framework the moderated score is shown beside",
        # awarded level
        "the highest level that every section reaches, or that all sections but one reach "
        "while that one is no more than one level below",
        # levels: a section's band and average, the organisation's awarded level
        "On results, a section is not given a single level.",
        "“average 3.4; 40 % at level 4 or above”",
        "The word “level” for an organisation as a whole is kept for the level an assessor awards.",
    ):
        assert words in text


@pytest.mark.django_db
def test_the_glossary_reads_the_agreement_and_alert_thresholds_in_force(client, monkeypatch):
    monkeypatch.setattr(formula2, "AGREEMENT_WEAK", 0.4)
    monkeypatch.setattr(scoring, "ALERT_GAP", 12.0)

    monkeypatch.setattr(formula2, "DIVIDED_MIN_RATERS", 4)

    text = page_text(client.get(reverse("glossary")))

    assert "Below 0.4, with at least 4 people" in text
    assert "(and it is 12 points or more below it)" in text
    assert "A section 12 points or more below the overall score" in text
