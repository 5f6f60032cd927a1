"""services.invitations_add, assessment_open and targets_set with audiences (frameworks v2)."""

import pytest

from assessment import services
from assessment.models import Assessment, SectionTarget
from assessment.services.assessments import AudienceRefused, InviteeRefused
from frameworks.models import Section
from tests.factories import make_assessment, make_invitation, make_team


@pytest.mark.django_db
def test_leadership_invitations_are_their_own_list(organisation):
    assessment = make_assessment(make_team(organisation))

    added = services.invitations_add(
        assessment=assessment,
        people=[("Cy", "CFO@example.com "), ("", "owner@example.com"), ("", "cfo@example.com")],
        audience="leadership",
    )

    assert added == 2
    assert sorted(assessment.invitations.values_list("email", "audience", "name")) == [
        ("cfo@example.com", "leadership", "Cy"),
        ("owner@example.com", "leadership", ""),
    ]


@pytest.mark.django_db
def test_leadership_needs_leadership_questions(organisation):
    assessment = make_assessment(make_team(organisation), version=1)

    with pytest.raises(AudienceRefused, match="asks leadership questions"):
        services.invitations_add(
            assessment=assessment, people=[("", "cfo@example.com")], audience="leadership"
        )
    assert not assessment.invitations.exists()


@pytest.mark.django_db
def test_an_unknown_audience_is_refused(organisation):
    assessment = make_assessment(make_team(organisation))

    with pytest.raises(AudienceRefused):
        services.invitations_add(
            assessment=assessment, people=[("", "a@example.com")], audience="manager"
        )
    assert not assessment.invitations.exists()


@pytest.mark.django_db
def test_an_address_is_on_one_list_only_and_a_refused_batch_invites_nobody(organisation):
    assessment = make_assessment(make_team(organisation))
    make_invitation(assessment, email="pat@example.com")

    with pytest.raises(InviteeRefused, match=r"pat@example\.com is already on the team list"):
        services.invitations_add(
            assessment=assessment,
            people=[("", "new@example.com"), ("", "Pat@Example.com")],
            audience="leadership",
        )
    assert list(assessment.invitations.values_list("email", flat=True)) == ["pat@example.com"]
    # On its own list it is simply already invited.
    assert services.invitations_add(assessment=assessment, people=[("", "pat@example.com")]) == 0


@pytest.mark.django_db
def test_a_managers_address_is_refused_on_the_leadership_list(organisation):
    """Their answers through an invitation would never count: say so before they answer."""
    assessment = make_assessment(make_team(organisation))
    manager = organisation.manager
    manager.email = "Boss@Example.com"
    manager.save(update_fields=["email"])

    with pytest.raises(InviteeRefused, match=r"boss@example\.com belongs to a manager"):
        services.invitations_add(
            assessment=assessment,
            people=[("", "cfo@example.com"), ("", "boss@example.com")],
            audience="leadership",
        )
    assert not assessment.invitations.exists()
    assert (
        services.invitations_add(
            assessment=assessment, people=[("", "cfo@example.com")], audience="leadership"
        )
        == 1
    )


@pytest.mark.django_db
def test_the_roster_is_the_team_list(organisation):
    team = make_team(organisation, members=2)

    assessment = services.assessment_create(
        team=team, title="Check", framework_slugs=["win4"], due_date=None, by=organisation.manager
    )

    assert set(assessment.invitations.values_list("audience", flat=True)) == {"team"}


@pytest.mark.django_db
def test_an_assessment_opens_without_leadership_but_not_without_the_team(organisation):
    alone = make_assessment(make_team(organisation))
    make_invitation(alone, email="cfo@example.com", audience="leadership")
    with_team = make_assessment(make_team(organisation, "Back office"), invitees=1)

    with pytest.raises(services.ServiceError, match="Invite at least one team member"):
        services.assessment_open(assessment=alone, by=organisation.manager)
    services.assessment_open(assessment=with_team, by=organisation.manager)

    alone.refresh_from_db()
    with_team.refresh_from_db()
    assert alone.status == Assessment.Status.DRAFT
    assert with_team.status == Assessment.Status.OPEN


@pytest.mark.django_db
@pytest.mark.parametrize(("version", "level"), [(None, 0), (1, 0), (None, 6), (1, 6)])
def test_targets_outside_the_sections_target_levels_are_refused(organisation, version, level):
    assessment = make_assessment(make_team(organisation), status="submitted", version=version)
    sections = list(Section.objects.filter(version__assessments=assessment)[:2])

    with pytest.raises(services.ServiceError, match="from 1 to 5"):
        services.targets_set(
            assessment=assessment, levels={sections[0].pk: 3, sections[1].pk: level}
        )
    assert not SectionTarget.objects.exists()
