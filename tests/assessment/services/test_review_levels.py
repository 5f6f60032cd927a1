"""decision_approve checks the awarded level against the assessment's scale (issue 14):
0-5 when its frameworks are format 2, 1-5 when they are format 1."""

import pytest

from assessment import services
from assessment.models import Assessment, Decision
from tests.factories import judge_criteria, make_in_review


def in_review(version: int | None):
    return make_in_review(version=version)


def approve(assessment, assessor, level):
    judge_criteria(assessment, assessor)
    return services.decision_approve(
        assessment=assessment, assessor=assessor, level=level, summary="Fair.", snapshot={}
    )


@pytest.mark.django_db
@pytest.mark.parametrize("level", [0, "0", -1, 6, "", "two", "²", None])
def test_a_format_1_assessment_refuses_a_level_outside_1_to_5(level):
    assessment, assessor = in_review(version=1)

    with pytest.raises(services.ServiceError, match="from 1 to 5"):
        approve(assessment, assessor, level)

    assert not Decision.objects.exists()
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.IN_REVIEW


@pytest.mark.django_db
@pytest.mark.parametrize("level", [-1, 6, "", "two", "²", None])
def test_a_format_2_assessment_refuses_a_level_outside_0_to_5(level):
    assessment, assessor = in_review(version=None)

    with pytest.raises(services.ServiceError, match="from 0 to 5"):
        approve(assessment, assessor, level)

    assert not Decision.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("version", "level"), [(1, 1), (1, 5), (None, 5), (None, 1)])
def test_a_level_on_the_scale_is_awarded(version, level):
    assessment, assessor = in_review(version=version)

    decision = approve(assessment, assessor, str(level))

    assert (decision.outcome, decision.awarded_level) == ("approved", level)


@pytest.mark.django_db
def test_a_format_2_assessment_may_be_awarded_level_0():
    """Level 0, "not in place", is on the format-2 scale: an assessor may award it."""
    assessment, assessor = in_review(version=None)

    decision = approve(assessment, assessor, 0)

    assert (decision.outcome, decision.awarded_level) == ("approved", 0)
