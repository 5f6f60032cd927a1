"""Plain words on results (issue 13): the score table and the team's figures explain "n",
spread and levels, link to the glossary, say "section", and show no internal codes."""

import re

import pytest
from django.urls import NoReverseMatch, reverse

from assessment.models import Answer
from frameworks.models import Question
from tests.factories import make_assessment, make_comment, make_response, make_team


def glossary_url() -> str | None:
    try:
        return reverse("glossary")
    except NoReverseMatch:  # the glossary page comes with the sweep of issue 13
        return None


@pytest.fixture
def closed(manager_client):
    assessment = make_assessment(
        make_team(manager_client.organisation), slugs=("holistic",), status="submitted"
    )
    responses = [
        make_response(assessment, levels=[4, 3, 2, 5], status="completed") for _ in range(3)
    ]
    make_comment(responses[0], "Queues are long on Mondays.")
    return assessment


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|title)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_score_table_says_section_and_explains_its_columns(manager_client, closed):
    page = manager_client.get(reverse("assessment:results", kwargs={"pk": closed.pk})).text
    text = visible_text(page)

    assert "scores by section" in text
    assert "scores by part" not in text
    assert not re.search(r"\bparts?\b", text, flags=re.I), re.findall(r".{40}\bparts?\b.{40}", text)
    assert "Responses (n)" in text
    assert "Spread (points)" in text
    # Levels in words, not "L3".
    assert not re.search(r"\bL[1-5]\b", text)
    assert re.search(r"\blevel [0-5]\b", text)
    # The note under the table says what the columns mean.
    # (Frameworks v2 pool the audiences: the team, managers and leadership.)
    assert "how many people rated the section, the team, managers and leadership pooled" in text
    if glossary_url():
        for anchor in ("responses", "spread", "levels", "balance"):
            assert f'href="{glossary_url()}#{anchor}"' in page, anchor


def test_the_team_figures_show_questions_without_internal_codes(manager_client, closed):
    page = manager_client.get(reverse("assessment:detail", kwargs={"pk": closed.pk})).text
    text = visible_text(page)
    question = Question.objects.get(
        pk=Answer.objects.get(submitted_comment="Queues are long on Mondays.").question_id
    )

    assert "Queues are long on Mondays." in text
    assert question.text in text
    assert question.code not in page
    assert not re.search(r"\b[A-Z]{2,5}-[A-Z]{2,5}-\d+\b", text)
    assert f"{question.section.name}, question {question.position}" in text
    assert "How the team rated each section" in text
    assert not re.search(r"\bparts?\b", text, flags=re.I), re.findall(r".{40}\bparts?\b.{40}", text)
