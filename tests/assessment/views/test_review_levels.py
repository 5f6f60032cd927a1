"""The approval form offers and accepts the levels of the assessment's scale (issue 14):
0-5 for format-2 frameworks, 1-5 for format 1; a level off the scale is an error beside the
field, and nothing is decided."""

import pytest
from django.urls import reverse

from assessment import reports
from assessment.models import Assessment, Decision
from tests.factories import judge_criteria, make_in_review


def in_review(version: int | None):
    """In review, with every criterion judged met (as approval needs)."""
    assessment, assessor = make_in_review(version=version)
    judge_criteria(assessment, assessor)
    return assessment, assessor


def url(name: str, assessment) -> str:
    return reverse(f"assessment:{name}", kwargs={"pk": assessment.pk})


def level_options(text: str) -> list[str]:
    select = text[text.index('id="approve-level"') :]
    select = select[: select.index("</select>")]
    return [
        line.strip()
        for line in select.split("\n")
        if '<option value="' in line and 'value=""' not in line
    ]


@pytest.mark.django_db
def test_a_format_2_review_offers_levels_0_to_5_with_the_ladders_names(client):
    assessment, assessor = in_review(version=None)
    client.force_login(assessor)

    page = client.get(url("review_detail", assessment))

    assert level_options(page.text) == [
        '<option value="0">Level 0: Not in place</option>',
        '<option value="1">Level 1: Barely meets expectations</option>',
        '<option value="2">Level 2: Meets expectations consistently</option>',
        '<option value="3">Level 3: Exceeds expectations</option>',
        '<option value="4">Level 4: Excellence</option>',
        '<option value="5">Level 5: Superior: a model others learn from</option>',
    ]


@pytest.mark.django_db
def test_a_format_1_review_offers_levels_1_to_5(client):
    assessment, assessor = in_review(version=1)
    client.force_login(assessor)

    page = client.get(url("review_detail", assessment))

    options = level_options(page.text)
    assert [option.split('"')[1] for option in options] == ["1", "2", "3", "4", "5"]
    assert "Level 0" not in page.text[page.text.index('id="approve-level"') :].split("</select>")[0]


@pytest.mark.django_db
def test_level_0_on_a_format_1_review_is_refused_beside_the_field(client):
    assessment, assessor = in_review(version=1)
    client.force_login(assessor)

    page = client.post(url("approve", assessment), {"level": "0", "summary": "Nothing there."})

    assert page.status_code == 400
    assert (
        '<div class="invalid-feedback" id="approve-level-error">'
        "Choose the awarded maturity level, from 1 to 5.</div>"
    ) in page.text
    assert '<a href="#approve-level" class="alert-link">' in page.text  # the summary's link
    assert ">Nothing there.</textarea>" in page.text
    assert not Decision.objects.exists()
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.IN_REVIEW


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["6", "-1", "²", ""])
def test_a_level_off_the_format_2_scale_is_refused_beside_the_field(client, level):
    assessment, assessor = in_review(version=None)
    client.force_login(assessor)

    page = client.post(url("approve", assessment), {"level": level, "summary": "Fair."})

    assert page.status_code == 400
    assert "Choose the awarded maturity level, from 0 to 5." in page.text
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_level_0_on_a_format_2_review_is_awarded(client):
    assessment, assessor = in_review(version=None)
    client.force_login(assessor)

    response = client.post(url("approve", assessment), {"level": "0", "summary": "Not in place."})

    assert response.status_code == 302
    assert Decision.objects.get().awarded_level == 0
    # Level 0 is a level: the manager's page and the report say it, not just "Approved".
    client.force_login(assessment.organisation.memberships.first().user)
    page = client.get(reverse("assessment:detail", kwargs={"pk": assessment.pk})).text
    assert "awarded maturity level 0" in page
    report = reports.report_html(assessment, viewer_id=None)
    assert "awarded maturity level 0" in report
