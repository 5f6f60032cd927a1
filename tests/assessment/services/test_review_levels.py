"""decision_approve checks the awarded level against the assessment's scale (issue 14):
0-5 when its frameworks are format 2, 1-5 when they are format 1."""

import pytest
from django.utils import timezone

from assessment import services
from assessment.models import Assessment, Decision
from tests.factories import (
    make_assessment,
    make_assessor,
    make_organisation,
    make_response,
    make_team,
    make_user,
)


def in_review(version: int | None):
    assessment = make_assessment(
        make_team(make_organisation()), status="submitted", version=version
    )
    for _ in range(3):
        make_response(assessment, levels=[2, 3], status="completed")
    Assessment.objects.filter(pk=assessment.pk).update(submitted_at=timezone.now())
    assessor = make_assessor("alex")
    services.assessor_assign(
        assessment=assessment, assessor=assessor, by=make_user("stella", is_staff=True)
    )
    assessment.refresh_from_db()
    return assessment, assessor


def approve(assessment, assessor, level):
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
