"""Reads for the manager's assessment page: what each audience is asked, the two lists,
and the target levels of each section's version."""

import pytest

from assessment.forms.manager import TargetsForm
from assessment.selectors import manager
from frameworks.models import Section
from tests.factories import make_assessment, make_invitation, make_team


@pytest.mark.django_db
def test_a_format_2_assessment_asks_each_audience_its_own_questions(organisation):
    assessment = make_assessment(make_team(organisation), slugs=("win4", "holistic"))

    questions = manager.audience_questions(assessment)

    # Win4 v2 (11 team, 8 manager, 8 leadership) and holistic v2 (19, 4, 3).
    assert (questions.team, questions.manager, questions.leadership) == (30, 12, 11)
    assert (questions.manager_only, questions.leadership_only) == (12, 11)
    assert questions.has_leadership
    assert questions.has_manager_questions
    assert questions.leadership_unanswered


@pytest.mark.django_db
def test_a_format_1_assessment_asks_everyone_everything_and_has_no_leadership(organisation):
    assessment = make_assessment(make_team(organisation), version=1)

    questions = manager.audience_questions(assessment)

    assert (questions.team, questions.manager, questions.leadership) == (24, 24, 24)
    assert (questions.manager_only, questions.leadership_only) == (0, 0)
    assert not questions.has_leadership
    assert not questions.has_manager_questions
    assert not questions.leadership_unanswered
    assert manager.leadership_questions(assessment) == 0


@pytest.mark.django_db
def test_only_standing_leadership_invitations_count_as_listed(organisation):
    assessment = make_assessment(make_team(organisation))
    make_invitation(assessment, email="a@example.com", audience="leadership")
    revoked = make_invitation(assessment, email="b@example.com", audience="leadership")
    revoked.revoked_at = revoked.created_at
    revoked.save()
    make_invitation(assessment, email="c@example.com")

    questions = manager.audience_questions(assessment)
    lists = manager.invitation_lists(assessment)

    assert questions.leadership_listed == 1
    assert not questions.leadership_unanswered
    assert [r.invitation.email for r in lists.team] == ["c@example.com"]
    assert [r.invitation.email for r in lists.leadership] == ["a@example.com", "b@example.com"]
    assert [r.status for r in lists.leadership] == ["not_sent", "revoked"]


@pytest.mark.django_db
def test_the_page_counts_take_a_constant_number_of_queries(organisation, django_assert_num_queries):
    assessment = make_assessment(make_team(organisation), slugs=("win4", "holistic"))

    with django_assert_num_queries(5):
        manager.audience_questions(assessment)
    with django_assert_num_queries(1):
        manager.invitation_lists(assessment)
    with django_assert_num_queries(2):
        manager.target_choices(assessment)


@pytest.mark.django_db
def test_target_levels_carry_the_labels_of_each_sections_version(organisation):
    v2 = make_assessment(make_team(organisation))
    v1 = make_assessment(make_team(organisation, "Back office"), version=1)
    v2_section = Section.objects.filter(version__assessments=v2).first()
    v1_section = Section.objects.filter(version__assessments=v1).first()

    v2_levels = manager.target_choices(v2)[v2_section.pk]
    v1_levels = manager.target_choices(v1)[v1_section.pk]

    assert [level for level, _label in v2_levels] == [1, 2, 3, 4, 5]
    assert v2_levels[1] == (2, "Meets expectations consistently")
    assert v1_levels[1] == (2, "Delivers consistently")
    assert manager.assessment_target_levels(v2) == [1, 2, 3, 4, 5]
    form = TargetsForm(choices=manager.target_choices(v2))
    assert form.fields[f"target-{v2_section.pk}"].choices[:2] == [
        ("", "Default (one level up)"),
        ("1", "1 · Barely meets expectations"),
    ]
