"""The figures page's counts (``results.team_results``) for frameworks v2 (issue 14): each
version's own levels, "don't know" apart from "not applicable", sections not asked of the
team, and leadership invitees' answers in a block of their own from the threshold up."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment.models import Answer
from assessment.selectors import results
from tests.factories import (
    make_assessment,
    make_comment,
    make_manager_response,
    make_organisation,
    make_response,
    make_team,
)


def figures_of(assessment):
    return results.team_results(assessment, list(assessment.framework_versions.all()))


def by_key(framework_figures):
    return {s.section.key: s for s in framework_figures.sections}


def dont_know(response, section_key: str, count: int = 1) -> None:
    """Turn the response's first ``count`` answers in a section into "don't know", as
    completed (the submitted copy)."""
    answers = response.answers.filter(section__key=section_key).order_by("question__position")
    Answer.objects.filter(pk__in=[a.pk for a in answers[:count]]).update(
        level=None, submitted_level=None, dont_know=True, submitted_dont_know=True
    )


@pytest.fixture
def win4_v2(db):
    """A submitted Win4 v2 assessment: three members at level 0 then 4, a manager at 5."""
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="submitted")
    assert assessment.framework_versions.get().format == 2
    members = [make_response(assessment, levels=[0, 4], status="completed") for _ in range(3)]
    make_manager_response(assessment, organisation.manager, levels=[5])
    return assessment, members


@pytest.mark.django_db
def test_format_2_counts_level_0_and_dont_know_apart_from_not_applicable(win4_v2):
    assessment, members = win4_v2
    dont_know(members[0], "customers", 2)
    first = members[1].answers.get(section__key="customers", question__position=4)
    first.level = first.submitted_level = None
    first.not_applicable = first.submitted_not_applicable = True
    first.save()

    (framework,) = figures_of(assessment).frameworks
    customers = by_key(framework)["customers"]

    # Four team questions in Customers, three members: 12 answers, all given.
    assert customers.answered == 12
    assert customers.dont_know == 2
    assert customers.not_applicable == 1
    assert dict(customers.level_counts) == {0: 4, 1: 0, 2: 0, 3: 0, 4: 5, 5: 0}
    assert [level for level, _label in framework.levels] == [0, 1, 2, 3, 4, 5]
    assert framework.levels[0][1] == "Not in place"
    # The manager's 5s are nowhere in the team's figures.
    assert all(dict(s.level_counts).get(5, 0) == 0 for s in framework.sections)


@pytest.mark.django_db
def test_a_section_without_team_questions_is_marked_not_asked(win4_v2):
    assessment, _members = win4_v2

    sections = by_key(figures_of(assessment).frameworks[0])

    assert not sections["owners"].asked  # Win4 v2: owners are asked of managers and leadership
    assert sections["owners"].answered == 0
    assert all(sections[key].asked for key in ("customers", "employees", "company"))


@pytest.mark.django_db
def test_leadership_answers_are_left_out_below_the_threshold(win4_v2):
    assessment, _members = win4_v2
    before = figures_of(assessment)
    for _ in range(2):
        leader = make_response(assessment, levels=[1], status="completed", audience="leadership")
    make_comment(leader, "Only the finance director would say this")

    found = figures_of(assessment)
    (framework,) = found.frameworks

    assert found.completed == 3  # leadership never counts towards the team's threshold
    assert (found.leadership_completed, found.leadership_shown) == (2, False)
    assert found.leadership_withheld == 2
    assert framework.leadership is not None  # Win4 v2 asks leadership ...
    assert framework.leadership.sections == []  # ... but shows none of their figures yet
    assert framework.leadership.comments == []
    assert framework.sections == before.frameworks[0].sections
    assert framework.comments == before.frameworks[0].comments


@pytest.mark.django_db
def test_from_the_threshold_leadership_has_its_own_block_never_the_teams_counts(win4_v2):
    assessment, _members = win4_v2
    before = figures_of(assessment).frameworks[0]
    leaders = [
        make_response(assessment, levels=[2], status="completed", audience="leadership")
        for _ in range(3)
    ]
    make_comment(leaders[0], "Budget is set a year ahead")

    found = figures_of(assessment)
    (framework,) = found.frameworks
    leadership = {s.section.key: s for s in framework.leadership.sections}

    assert found.leadership_shown
    assert found.leadership_withheld == 0
    # Only the sections that ask leadership: Win4 v2 asks them about the company and owners.
    assert set(leadership) == {"company", "owners"}
    assert dict(leadership["owners"].level_counts)[2] == 15  # 5 questions x 3 invitees
    assert leadership["company"].answered == 9
    assert not leadership["owners"].hidden
    # The team's counts are exactly what they were.
    assert framework.sections == before.sections
    assert [c.comments for c in framework.leadership.comments] == [["Budget is set a year ahead"]]
    assert framework.leadership.comments[0].question.audience == "leadership"
    assert framework.comments == before.comments


@pytest.mark.django_db
def test_a_format_1_assessment_keeps_levels_1_to_5_and_has_no_leadership_block(db):
    assessment = make_assessment(make_team(make_organisation()), status="submitted", version=1)
    for _ in range(3):
        make_response(assessment, levels=[1, 5], status="completed")

    (framework,) = figures_of(assessment).frameworks

    assert [level for level, _label in framework.levels] == [1, 2, 3, 4, 5]
    assert all([n for n, _count in s.level_counts] == [1, 2, 3, 4, 5] for s in framework.sections)
    assert all(s.asked and s.dont_know == 0 for s in framework.sections)
    assert framework.leadership is None


def count_queries(assessment) -> int:
    versions = list(assessment.framework_versions.all())
    with CaptureQueriesContext(connection) as queries:
        results.team_results(assessment, versions)
    return len(queries)


@pytest.mark.django_db
def test_team_results_runs_five_queries_however_many_answered(win4_v2):
    assessment, _members = win4_v2
    few = count_queries(assessment)
    for _ in range(4):
        make_comment(make_response(assessment, levels=[3], status="completed"), "More")
    for _ in range(4):
        leader = make_response(assessment, levels=[2], status="completed", audience="leadership")
        make_comment(leader, "Leaders too")

    assert few == count_queries(assessment) == 5
