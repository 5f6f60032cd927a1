"""The levels an assessor may award (issue 14): the scale of the assessment's frameworks."""

import pytest

from assessment.selectors.review import assessment_levels, awarded_levels, level_choices
from frameworks.models import FrameworkVersion
from tests.factories import make_assessment, make_organisation, make_team


def versions(number: int, *slugs: str) -> list[FrameworkVersion]:
    return list(FrameworkVersion.objects.filter(framework__slug__in=slugs, number=number))


@pytest.mark.django_db
def test_format_2_frameworks_award_levels_0_to_5():
    assert assessment_levels(versions(2, "win4", "holistic")) == range(0, 6)


@pytest.mark.django_db
def test_format_1_frameworks_award_levels_1_to_5():
    assert assessment_levels(versions(1, "win4", "holistic")) == range(1, 6)


@pytest.mark.django_db
def test_a_mix_awards_only_the_levels_every_framework_has():
    """Format 1 has no level 0, so an assessment with a format-1 framework cannot be
    awarded it."""
    mixed = versions(2, "win4") + versions(1, "holistic")

    assert assessment_levels(mixed) == range(1, 6)


def test_no_frameworks_fall_back_to_levels_1_to_5():
    assert assessment_levels([]) == range(1, 6)


@pytest.mark.django_db
@pytest.mark.parametrize(("version", "expected"), [(None, range(0, 6)), (1, range(1, 6))])
def test_an_assessment_awards_the_levels_of_its_pinned_versions(
    django_assert_num_queries, version, expected
):
    assessment = make_assessment(
        make_team(make_organisation()), slugs=("win4", "holistic"), version=version
    )

    with django_assert_num_queries(1):
        assert awarded_levels(assessment) == expected


@pytest.mark.django_db
def test_the_level_choices_carry_the_scales_names():
    choices = dict(level_choices(versions(2, "win4", "six-dimensions")))

    assert list(choices) == [0, 1, 2, 3, 4, 5]
    assert choices[0] == "Not in place"  # the shared v2 ladder: one name, not two
    assert choices[3] == "Exceeds expectations"
    v1 = dict(level_choices(versions(1, "win4", "six-dimensions")))
    assert list(v1) == [1, 2, 3, 4, 5]
