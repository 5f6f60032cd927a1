"""Words and empty states on the manager's pages (issue 13)."""

import re

import pytest
from django.urls import reverse

from tests.factories import make_assessment, make_response, make_team


def primary_buttons(html: str) -> list[str]:
    return re.findall(r'<a class="btn btn-primary" href="([^"]+)">([^<]+)</a>', html)


@pytest.mark.django_db
def test_a_new_organisations_main_button_creates_its_first_team(manager_client):
    page = manager_client.get(reverse("assessment:dashboard"))

    assert primary_buttons(page.text) == [
        (reverse("assessment:team_create"), "Create your first team")
    ]
    assert "First create a team and list its members" in page.text


@pytest.mark.django_db
def test_with_a_team_the_main_button_starts_an_assessment(manager_client, organisation):
    make_team(organisation)

    page = manager_client.get(reverse("assessment:dashboard"))

    assert primary_buttons(page.text) == [
        (reverse("assessment:assessment_create"), "New assessment")
    ]
    assert "Create your first team" not in page.text


@pytest.mark.django_db
def test_a_submitted_assessment_says_the_assessor_step_is_optional(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), status="submitted")
    make_response(assessment, levels=[3], status="completed")

    page = manager_client.get(assessment.get_absolute_url())

    text = " ".join(page.text.split())
    assert "Review by an assessor (optional)" in text
    assert "A review is not required" in text
    assert "press “Choose an assessor”" in text


@pytest.mark.django_db
def test_the_manager_pages_show_no_internal_codes_and_say_section(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), slugs=("holistic", "win4"), status="open")
    pages = [
        reverse("assessment:dashboard"),
        assessment.get_absolute_url(),
        reverse("assessment:submit", kwargs={"pk": assessment.pk}),
        reverse("assessment:results", kwargs={"pk": assessment.pk}),
    ]
    for url in pages:
        text = manager_client.get(url).text
        assert not re.search(r"\b[A-Z]{2,4}-[A-Z]{2,4}-\d+\b", text), url
        assert not re.search(r"\bparts?\b", re.sub(r"<[^>]+>", " ", text)), url
