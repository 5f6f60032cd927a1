"""Results of closed assessments, stored (issue 16): a second view reads no team answer, a
stored view gives the same results as a computed one, and nothing stale ever shows.

``computed`` drops the stored sums first, so it always reads every answer; ``stored``
checks that it read none of the team's. Comparing whole ``AssessmentResults`` compares
every figure, row, chart and verdict the pages and the report show.
"""

from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessment import services
from assessment.models import (
    Answer,
    Assessment,
    Moderation,
    Response,
    StoredResults,
)
from assessment.selectors import results
from assessment.selectors import review as review_selectors
from frameworks.models import Framework, Question, Section
from tests.factories import (
    answer_inputs,
    make_assessment,
    make_assessor,
    make_invitation,
    make_manager_response,
    make_membership,
    make_opened_assessment,
    make_organisation,
    make_response,
    make_team,
    make_user,
)


def answer_reads(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "assessment_answer" in q["sql"]]


def answer(assessment, audience: str, count: int, *, low: int = 1, **fields) -> list[Response]:
    """``count`` completed responses of ``audience`` ("manager": each a new manager's own),
    answering every question they are asked with levels that differ by person and question
    (from ``low`` up), or as ``fields`` say (not_applicable / dont_know)."""
    if audience == "manager":
        responses = []
        for n in range(count):
            user = make_user(f"boss{n}-{assessment.pk}-{Response.objects.count()}")
            make_membership(assessment.organisation, user)
            responses.append(make_manager_response(assessment, user))
    else:
        responses = [
            make_response(assessment, status="completed", audience=audience) for _ in range(count)
        ]
    questions = list(
        Question.objects.filter(version__assessments=assessment)
        .asked_of(audience)
        .select_related("version")
    )
    top = max(q.version.level_range.stop - 1 for q in questions) if questions else 5
    Answer.objects.bulk_create(
        Answer(
            response=r,
            question=q,
            section_id=q.section_id,
            level=None if fields else min(top, low + (i + j) % 3),
            submitted_level=None if fields else min(top, low + (i + j) % 3),
            not_applicable=fields.get("not_applicable", False),
            submitted_not_applicable=fields.get("not_applicable", False),
            dont_know=fields.get("dont_know", False),
            submitted_dont_know=fields.get("dont_know", False),
        )
        for i, r in enumerate(responses)
        for j, q in enumerate(questions)
    )
    return responses


def computed(assessment, viewer_id=None) -> results.AssessmentResults:
    """The results from every answer (nothing stored yet), and stored by the way."""
    StoredResults.objects.filter(assessment=assessment).delete()
    assessment.refresh_from_db()
    return results.assessment_results(assessment, viewer_id=viewer_id)


def stored(assessment, viewer_id=None) -> results.AssessmentResults:
    """The results from the store: no answer of the team or leadership read."""
    assessment.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        found = results.assessment_results(assessment, viewer_id=viewer_id)
    assert all("is_manager_view" in sql for sql in answer_reads(queries)), "read every answer"
    return found


def assert_stored_equals_computed(assessment, viewer_id=None) -> results.AssessmentResults:
    fresh = computed(assessment, viewer_id)
    assert fresh.visible
    assert fresh.panels
    assert stored(assessment, viewer_id) == fresh
    return fresh


@pytest.fixture
def organisation(db):
    return make_organisation()


@pytest.fixture
def format_2(organisation):
    """Win4 version 2, submitted: the team, two managers and too few leaders to count; two
    of the team's four raters rate the "employees" section, too few for a score."""
    assessment = make_assessment(make_team(organisation), status="submitted")
    team = answer(assessment, "team", 4)
    Answer.objects.filter(response__in=team[2:], section__key="employees").update(
        level=None, submitted_level=None, not_applicable=True, submitted_not_applicable=True
    )
    answer(assessment, "team", 2, not_applicable=True)
    answer(assessment, "manager", 2, low=2)
    answer(assessment, "leadership", results.settings.ANONYMITY_THRESHOLD - 1, low=3)
    return assessment


# --- reproduced: every view read every answer ------------------------------------------


@pytest.mark.django_db
def test_a_second_view_of_closed_results_reads_no_team_answer():
    assessment = make_assessment(make_team(make_organisation()), status="submitted")
    people = [make_response(assessment, levels=[3, 4], status="completed") for _ in range(3)]
    first = results.assessment_results(assessment)
    # Nothing can change a closed assessment's answers; were they read again, this would show.
    Answer.objects.filter(response__in=people).update(submitted_level=1)

    with CaptureQueriesContext(connection) as second:
        found = results.assessment_results(assessment)

    assert found.visible
    assert [p.team for p in found.panels] == [p.team for p in first.panels]
    # Only the managers' own answers are read again (none here): never the team's.
    reads = answer_reads(second)
    assert len(reads) == 1
    assert "is_manager_view" in reads[0]


# --- a stored view is the computed one, whatever the shape ------------------------------


def test_format_1_with_self_views_another_manager_and_a_trend(organisation):
    team = make_team(organisation)
    earlier = make_assessment(team, status="approved", version=1)
    answer(earlier, "team", 3, low=1)
    Assessment.objects.filter(pk=earlier.pk).update(
        submitted_at=timezone.now() - timezone.timedelta(days=60),
        created_at=timezone.now() - timezone.timedelta(days=90),
    )
    assessment = make_assessment(team, status="submitted", version=1)
    answer(assessment, "team", 5, low=2)
    make_manager_response(assessment, organisation.manager, levels=[5, 1, 4])
    colleague = make_user("colleague")
    make_membership(organisation, colleague)
    make_manager_response(assessment, colleague, levels=[1])

    mine = assert_stored_equals_computed(assessment, organisation.manager.pk)
    theirs = stored(assessment, colleague.pk)
    nobody = stored(assessment)

    (panel,) = mine.panels
    assert panel.trend is not None
    assert panel.self_view is not None
    assert theirs.panels[0].self_view != panel.self_view  # each their own, never stored
    assert nobody.panels[0].self_view is None
    assert theirs == computed(assessment, colleague.pk)
    assert nobody == computed(assessment)


def test_format_2_with_every_audience_withheld_leadership_and_unscored_sections(format_2):
    found = assert_stored_equals_computed(format_2, format_2.organisation.manager.pk)

    (panel,) = found.panels
    assert panel.leadership_withheld == results.settings.ANONYMITY_THRESHOLD - 1
    assert next(row for row in panel.rows if row.key == "employees").team.score is None
    assert any(cell.withheld for row in panel.audiences for cell in row.cells)


def test_leaving_out_what_never_shows_changes_no_figure(format_2):
    """The store keeps only the rows of audiences that may show; keeping every row of the
    team and leadership would give the very same results."""

    def keep_all(rows, groups, threshold):
        return [r for r in rows if r[2] is not None and r[1] in (results.TEAM, results.LEADERSHIP)]

    with mock.patch.object(results, "_storable", keep_all):
        unfiltered = computed(format_2)
    assert computed(format_2) == unfiltered


def test_four_frameworks_of_both_formats_with_a_moderation(organisation):
    assessment = make_assessment(
        make_team(organisation),
        slugs=("win4", "holistic", "six-dimensions", "service-definition"),
        status="in_review",
    )
    answer(assessment, "team", 4)
    answer(assessment, "manager", 1)
    section = Section.objects.filter(version__assessments=assessment, version__format=2).first()
    Moderation.objects.create(
        assessment=assessment,
        section=section,
        assessor=make_assessor(),
        score=Decimal("55.0"),
        rationale="Seen the evidence.",
    )

    found = assert_stored_equals_computed(assessment, organisation.manager.pk)

    assert len(found.panels) == 4
    assert found.moderated


# --- several rounds, through the services --------------------------------------------------


@pytest.fixture
def rounds(organisation):
    """A Win4 assessment answered by three members through the services, submitted, in
    review and returned for its customer section."""
    team = make_team(organisation, "Help desk", members=3)
    assessment = make_opened_assessment(team)
    questions = list(Question.objects.filter(version__assessments=assessment).asked_of("team"))
    members = []
    for level, invitation in zip((2, 3, 4), assessment.invitations.order_by("pk"), strict=True):
        response = make_response(assessment, invitation=invitation)
        services.answers_save(response=response, answers=answer_inputs(questions, level=level))
        services.response_complete(response=response)
        members.append(response)
    services.assessment_submit(assessment=assessment, by=organisation.manager)
    assessor = make_assessor("alex")
    services.assessor_assign(
        assessment=assessment, assessor=assessor, by=make_user("stella", is_staff=True)
    )
    customers = Section.objects.get(version__assessments=assessment, key="customers")
    services.decision_return(
        assessment=assessment,
        assessor=assessor,
        required_changes="Show evidence.",
        sections=[customers],
        snapshot=review_selectors.decision_snapshot(assessment),  # computes and stores
    )
    assessment.refresh_from_db()
    return assessment, members, customers, questions


def test_reopening_a_new_round_and_a_revised_answer_are_never_shown_stale(rounds, organisation):
    assessment, members, customers, questions = rounds
    before = stored(assessment)
    assert StoredResults.objects.filter(assessment=assessment).exists()

    services.assessment_reopen(
        assessment=assessment, by=organisation.manager, sections=[customers], note="Again."
    )
    assessment.refresh_from_db()
    with CaptureQueriesContext(connection) as while_open:
        found = results.assessment_results(assessment)
    assert not found.visible  # open: nothing shows, and the store is not even read
    assert not any("stored" in q["sql"] for q in while_open.captured_queries)

    reviser = members[0]
    reviser.refresh_from_db()
    services.response_revise(response=reviser)
    current = {a.question_id: a for a in reviser.answers.all()}
    services.answers_save(
        response=reviser,
        answers=[
            services.AnswerInput(
                question_id=q.pk,
                level=5,
                not_applicable=False,
                comment="",
                base_revision=current[q.pk].revision,
            )
            for q in questions
            if q.section_id == customers.pk
        ],
    )
    services.response_complete(response=reviser)
    services.assessment_submit(assessment=assessment, by=organisation.manager)
    assessment.refresh_from_db()
    assert assessment.round == 2

    after = stored_after_one_view(assessment)
    assert after == computed(assessment)
    row = next(r for r in after.panels[0].rows if r.key == "customers")
    then = next(r for r in before.panels[0].rows if r.key == "customers")
    assert row.team.score > then.team.score


def stored_after_one_view(assessment) -> results.AssessmentResults:
    """The first view since a change computes afresh; the second reads what it stored."""
    assessment.refresh_from_db()
    results.assessment_results(assessment)
    return stored(assessment)


# --- every other change that can change a figure ----------------------------------------


def test_a_moderation_shows_at_once(format_2):
    before = stored_after_one_view(format_2)
    section = Section.objects.get(version__assessments=format_2, key="customers")
    Moderation.objects.create(
        assessment=format_2,
        section=section,
        assessor=make_assessor(),
        score=Decimal("90.0"),
        rationale="Better than the answers say.",
    )

    after = stored(format_2)

    assert after != before
    assert after.moderated
    assert next(r for r in after.panels[0].rows if r.key == "customers").official == 90.0
    assert after == computed(format_2)


def test_a_changed_anonymity_threshold_shows_at_once(format_2, settings):
    before = stored_after_one_view(format_2)
    assert before.panels[0].leadership_withheld

    settings.ANONYMITY_THRESHOLD -= 1  # the leaders now count
    lower = results.assessment_results(format_2)
    assert lower.panels[0].leadership_withheld == 0
    assert lower.panels[0].team != before.panels[0].team
    assert stored(format_2) == lower == computed(format_2)

    settings.ANONYMITY_THRESHOLD = 5  # more than the four members who rated
    assert stored_after_one_view(format_2) == computed(format_2)


def test_a_changed_scoring_floor_shows_at_once(format_2, settings):
    settings.SCORING_FLOOR_LEVEL = 1
    before = stored_after_one_view(format_2)

    settings.SCORING_FLOOR_LEVEL = 5
    after = stored(format_2)

    assert after.panels[0].team.verdict != before.panels[0].team.verdict
    assert after == computed(format_2)


def test_another_framework_version_shows_at_once(format_2):
    before = stored_after_one_view(format_2)
    format_2.framework_versions.set([Framework.objects.get(slug="win4").versions.get(number=1)])

    after = stored_after_one_view(format_2)

    assert after.panels[0].version == 1 != before.panels[0].version
    assert after == computed(format_2)


def test_an_invitee_who_becomes_a_manager_stops_counting_at_once(format_2):
    before = stored_after_one_view(format_2)
    counted = Response.objects.filter(
        assessment=format_2, audience="team", answers__submitted_level__isnull=False
    ).first()
    make_membership(format_2.organisation, make_user("promoted", email=counted.invitation.email))

    after = stored_after_one_view(format_2)

    assert after.completed_members == before.completed_members - 1
    assert after.panels[0].team != before.panels[0].team
    assert after == computed(format_2)


def test_an_earlier_assessment_reopened_leaves_the_trend_at_once(organisation):
    team = make_team(organisation)
    earlier = make_assessment(team, status="returned")
    answer(earlier, "team", 3)
    Assessment.objects.filter(pk=earlier.pk).update(
        submitted_at=timezone.now() - timezone.timedelta(days=60),
        created_at=timezone.now() - timezone.timedelta(days=90),
    )
    assessment = make_assessment(team, status="submitted")
    answer(assessment, "team", 3, low=2)
    assert stored_after_one_view(assessment).panels[0].trend is not None

    Assessment.objects.filter(pk=earlier.pk).update(status="open", round=2)

    after = stored_after_one_view(assessment)
    assert after.panels[0].trend is None
    assert after == computed(assessment)


# --- what is stored ---------------------------------------------------------------------


def test_the_store_holds_section_sums_of_audiences_that_show_and_nothing_per_person(
    format_2, settings
):
    computed(format_2, format_2.organisation.manager.pk)
    rows = StoredResults.objects.get(assessment=format_2, kind="sections").sums
    sections = Section.objects.filter(version__assessments=format_2).count()

    # The team's sums only: not the managers' (read on every view), not the leaders' (too
    # few), one row per section at most whatever the number of people.
    assert {row[1] for row in rows} == {"team"}
    assert len(rows) <= sections
    assert len({(row[0], row[1], row[2]) for row in rows}) == len(rows)

    settings.ANONYMITY_THRESHOLD -= 1
    computed(format_2)
    rows = StoredResults.objects.get(assessment=format_2, kind="sections").sums
    assert {row[1] for row in rows} == {"team", "leadership"}


def test_results_that_cannot_show_are_not_stored(organisation):
    assessment = make_assessment(make_team(organisation), status="submitted")
    answer(assessment, "team", results.settings.ANONYMITY_THRESHOLD - 1)

    assert not results.assessment_results(assessment).visible
    assert not StoredResults.objects.exists()


# --- queries: constant, a stored view one fewer --------------------------------------------


@pytest.mark.parametrize("people", [3, 12])
def test_a_computed_view_takes_nine_queries_and_a_stored_one_eight(
    organisation, people, django_assert_num_queries
):
    assessment = make_assessment(make_team(organisation), slugs=("win4", "holistic"))
    Assessment.objects.filter(pk=assessment.pk).update(status="submitted")
    assessment.refresh_from_db()
    answer(assessment, "team", people)
    answer(assessment, "manager", 1)

    with django_assert_num_queries(9):
        first = results.assessment_results(assessment, viewer_id=organisation.manager.pk)
    with django_assert_num_queries(8):
        second = results.assessment_results(assessment, viewer_id=organisation.manager.pk)
    assert first == second


@pytest.mark.django_db
def test_the_results_page_takes_as_many_queries_for_3_as_for_12_people(client):
    organisation = make_organisation()
    client.force_login(organisation.manager)
    counts = []
    for people in (3, 12):
        assessment = make_assessment(
            make_team(organisation, f"Team {people}"),
            slugs=("win4", "holistic"),  # they share concepts: those sums are stored too
            status="submitted",
        )
        answer(assessment, "team", people)
        url = reverse("assessment:results", kwargs={"pk": assessment.pk})
        views = []
        for _view in ("computed", "stored"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, secure=True).status_code == 200
            views.append(len(queries))
        # The stored view reads the managers' own answers only (and here there are none).
        assert all("is_manager_view" in sql for sql in answer_reads(queries))
        counts.append(views)

    assert counts[0] == counts[1]
    # Stored: no lookup misses, nothing written, no sums read again (results 1, concepts 4).
    assert counts[0][1] == counts[0][0] - 5


def test_an_invitation_to_the_viewers_own_address_is_their_self_view_when_stored(organisation):
    """The viewer's own answers are read on every view, so who looks never changes what the
    store holds."""
    assessment = make_assessment(make_team(organisation), status="submitted", version=1)
    answer(assessment, "team", 3)
    invitation = make_invitation(assessment, email=organisation.manager.email)
    make_response(assessment, invitation=invitation, levels=[5], status="completed")

    assert_stored_equals_computed(assessment, organisation.manager.pk)
    assert stored(assessment).completed_members == 3
