"""Cross-framework concepts (issue 15, plan step 5): each framework's figure for a shared
concept, its 95 % interval, and the "frameworks disagree" flag. Real database, the shipped
v2 frameworks (Win4 and Holistic both tag "consistency" on team questions only: two in
Win4, five in Holistic)."""

import math
from collections.abc import Mapping

import pytest
from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from assessment.models import Answer, Assessment, Response, StoredResults
from assessment.scoring import concepts as scoring
from assessment.scoring.formula2 import t_quantile
from assessment.selectors.concepts import concept_agreement
from assessment.selectors.results import assessment_results
from frameworks.models import Question
from tests.factories import (
    make_assessment,
    make_manager_response,
    make_membership,
    make_organisation,
    make_response,
    make_team,
    make_user,
)

THRESHOLD = settings.ANONYMITY_THRESHOLD
SLUGS = ("win4", "holistic")
DASH = "\N{EN DASH}"

# A level for every question, or per framework slug; None answers "don't know".
Level = int | None | Mapping[str, int | None]


@pytest.fixture
def assessment(db):
    organisation = make_organisation()
    return make_assessment(make_team(organisation), slugs=SLUGS, status="submitted")


def respond(assessment, audience: str, levels: list[Level]) -> list:
    """One completed response of ``audience`` per entry of ``levels``, answering every
    question it is asked with that entry's level (or its framework's)."""
    questions = list(
        Question.objects.filter(version__assessments=assessment)
        .asked_of(audience)
        .select_related("version__framework")
    )
    responses, answers = [], []
    for level in levels:
        if audience == "manager":
            user = make_user(f"boss{len(responses)}-{assessment.pk}")
            make_membership(assessment.organisation, user)
            response = make_manager_response(assessment, user)
        else:
            response = make_response(assessment, status="completed", audience=audience)
        responses.append(response)
        for question in questions:
            value = (
                level.get(question.version.framework.slug) if isinstance(level, Mapping) else level
            )
            answers.append(
                Answer(
                    response=response,
                    question=question,
                    section_id=question.section_id,
                    level=value,
                    submitted_level=value,
                    dont_know=value is None,
                    submitted_dont_know=value is None,
                )
            )
    Answer.objects.bulk_create(answers)
    return responses


def row_of(assessment, key: str) -> scoring.ConceptScore:
    (row,) = [r for r in concept_agreement(assessment) if r.key == key]
    return row


def figures(row) -> dict[str, scoring.ConceptScore | None]:
    return {m.slug: m.score for m in row.measures}


def half_width(means: list[float]) -> float:
    """The 95 % half-width on 0-100 of the mean of ``means`` (levels 0-5)."""
    n = len(means)
    centre = sum(means) / n
    variance = sum((m - centre) ** 2 for m in means) / (n - 1)
    return t_quantile(n - 1) * math.sqrt(variance / n) * 20


# ---- the pure figures ----------------------------------------------------------------------


def test_one_rater_gives_the_whole_range():
    score = scoring.concept_score(
        raters=1, rated=2, level_sum=7, mean_sum=3.5, mean_square_sum=12.25
    )
    assert (score.score, score.low, score.high) == (70.0, 0.0, 100.0)


def test_the_interval_is_the_t_interval_of_the_raters_means_centred_on_the_score():
    # Three raters with means 2, 3 and 4 over two questions each: mean 3 (60), SD 1.
    score = scoring.concept_score(raters=3, rated=6, level_sum=18, mean_sum=9, mean_square_sum=29)
    half = 4.303 / math.sqrt(3) * 20
    assert score.score == pytest.approx(60.0)
    assert score.low == pytest.approx(60 - half)
    assert score.high == 100.0  # 60 + 49.7, clipped


def test_raters_who_all_agree_give_an_interval_of_no_width():
    score = scoring.concept_score(raters=4, rated=8, level_sum=24, mean_sum=12, mean_square_sum=36)
    assert (score.low, score.high) == (60.0, 60.0)


def test_frameworks_disagree_only_when_their_displayed_intervals_do_not_overlap():
    low = scoring.ConceptScore(3, 2.0, 40.0, 30.0, 59.6)
    touching = scoring.ConceptScore(3, 4.0, 80.0, 60.4, 99.0)  # 60 and 60 as displayed
    apart = scoring.ConceptScore(3, 4.0, 80.0, 61.0, 99.0)
    assert scoring.consistent([low, touching])
    assert not scoring.consistent([low, apart])
    assert not scoring.consistent([apart, low, touching])
    assert scoring.consistent([low])


def test_a_concept_score_needs_a_rated_answer():
    with pytest.raises(ValueError, match="at least one rated answer"):
        scoring.concept_score(raters=0, rated=0, level_sum=0, mean_sum=0, mean_square_sum=0)


# ---- the selector --------------------------------------------------------------------------


def test_it_lists_each_concept_two_frameworks_measure_with_their_figures(assessment):
    respond(assessment, "team", [2, 3, 4])
    rows = concept_agreement(assessment)
    keys = [r.key for r in rows]
    assert keys == sorted(keys)
    # Tagged in both Win4 and Holistic (scope and feedback-loop are not in Win4).
    assert {"consistency", "cost", "leadership", "staff-enablement", "value"} <= set(keys)
    assert "scope" not in keys
    assert "feedback-loop" not in keys
    row = row_of(assessment, "consistency")
    assert row.name == "Consistency"
    assert [m.slug for m in row.measures] == ["holistic", "win4"]
    for measure in row.measures:
        assert measure.score.raters == 3
        assert measure.score.score == pytest.approx(60.0)
        assert measure.score.low == pytest.approx(60 - half_width([2, 3, 4]))
        assert measure.score.high == 100.0
    assert row.consistent
    assert row.compared == 2


def test_two_frameworks_telling_different_stories_disagree(assessment):
    respond(
        assessment,
        "team",
        [{"win4": 4, "holistic": 1}, {"win4": 4, "holistic": 1}, {"win4": 5, "holistic": 2}],
    )
    row = row_of(assessment, "consistency")
    win4, holistic = figures(row)["win4"], figures(row)["holistic"]
    half = half_width([4, 4, 5])  # 28.7 points: the same spread in both
    assert win4.score == pytest.approx(13 / 3 * 20)  # 86.7
    assert win4.low == pytest.approx(13 / 3 * 20 - half)  # 58.0
    assert holistic.score == pytest.approx(4 / 3 * 20)  # 26.7
    assert holistic.high == pytest.approx(4 / 3 * 20 + half)  # 55.4
    assert holistic.low == 0.0
    assert not row.consistent


def test_close_stories_within_their_uncertainty_are_consistent(assessment):
    respond(
        assessment,
        "team",
        [{"win4": 3, "holistic": 3}, {"win4": 3, "holistic": 4}, {"win4": 4, "holistic": 3}],
    )
    row = row_of(assessment, "consistency")
    assert figures(row)["win4"].score == pytest.approx(figures(row)["holistic"].score)
    assert row.consistent


def test_the_score_is_the_mean_of_every_rated_answer_not_of_the_raters_means(assessment):
    # Holistic tags "consistency" on five team questions. One person rates only the first
    # (3) and answers "don't know" to the rest; two rate all five at 2.
    team = respond(assessment, "team", [1, 2, 2])
    consistency = Question.objects.filter(
        version__assessments=assessment,
        version__framework__slug="holistic",
        concepts__key="consistency",
    ).order_by("section__position", "position")
    first = consistency[0]
    Answer.objects.filter(response=team[0], question__in=consistency).update(
        submitted_level=None, submitted_dont_know=True
    )
    Answer.objects.filter(response=team[0], question=first).update(
        submitted_level=3, submitted_dont_know=False
    )
    score = figures(row_of(assessment, "consistency"))["holistic"]
    # Answers: one 3 and ten 2s (41.8); the raters' means 3, 2, 2 would give 46.7.
    assert score.raters == 3
    assert score.score == pytest.approx((3 + 20) / 11 * 20)
    assert score.high - score.score == pytest.approx(half_width([3, 2, 2]))
    assert score.score - score.low == pytest.approx(half_width([3, 2, 2]))


def test_the_submitted_copy_counts_not_the_working_copy(assessment):
    team = respond(assessment, "team", [3, 3, 3])
    Answer.objects.filter(response=team[0]).update(level=0)  # revising, not yet completed
    assert figures(row_of(assessment, "consistency"))["win4"].score == pytest.approx(60.0)


def test_an_answer_counts_only_where_the_question_asks_that_audience(assessment):
    team = respond(assessment, "team", [3] * THRESHOLD)
    # Stray answers of every team member to a leadership question on "cost" (Win4 asks
    # the team nothing on cost): not counted.
    question = Question.objects.filter(
        version__assessments=assessment,
        version__framework__slug="win4",
        concepts__key="cost",
        audience="leadership",
    ).first()
    Answer.objects.bulk_create(
        Answer(
            response=response,
            question=question,
            section_id=question.section_id,
            level=0,
            submitted_level=0,
        )
        for response in team
    )
    row = row_of(assessment, "cost")
    win4 = next(m for m in row.measures if m.slug == "win4")
    assert win4.score is None  # nobody who is asked answered
    assert not win4.withheld
    assert figures(row)["holistic"].score == pytest.approx(60.0)  # Holistic asks the team


def test_leadership_counts_only_from_the_anonymity_threshold(assessment):
    respond(assessment, "team", [4] * THRESHOLD)
    respond(assessment, "leadership", [0] * (THRESHOLD - 1))
    row = row_of(assessment, "cost")
    assert figures(row)["win4"] is None  # Win4 asks leadership and managers on cost
    assert figures(row)["holistic"].score == pytest.approx(80.0)  # the team's only
    assert not any(m.withheld for m in row.measures)

    respond(assessment, "leadership", [0])
    row = row_of(assessment, "cost")
    assert figures(row)["win4"].score == pytest.approx(0.0)
    holistic = figures(row)["holistic"]
    assert holistic.raters == 2 * THRESHOLD
    # Holistic's cost: two team questions at 4, two leadership questions at 0.
    assert holistic.score == pytest.approx(40.0)


def test_managers_answers_always_count(assessment):
    respond(assessment, "team", [3] * THRESHOLD)
    respond(assessment, "manager", [5])
    win4 = figures(row_of(assessment, "customer-needs"))["win4"]  # managers only in Win4
    assert (win4.raters, win4.score, win4.low, win4.high) == (1, 100.0, 0.0, 100.0)


def test_a_figure_fewer_of_the_team_rated_than_the_threshold_is_withheld(assessment):
    respond(assessment, "team", [3] * (THRESHOLD - 1) + [{"win4": None, "holistic": 3}])
    row = row_of(assessment, "consistency")
    win4 = next(m for m in row.measures if m.slug == "win4")
    assert win4.withheld
    assert win4.score is None
    assert figures(row)["holistic"].raters == THRESHOLD
    assert row.compared == 1
    assert row.consistent


def test_nothing_while_results_are_not_visible(db):
    organisation = make_organisation()
    open_one = make_assessment(make_team(organisation), slugs=SLUGS, status="open")
    respond(open_one, "team", [3] * THRESHOLD)
    assert concept_agreement(open_one) == []
    too_few = make_assessment(
        make_team(organisation, "Back office"), slugs=SLUGS, status="submitted"
    )
    respond(too_few, "team", [3] * (THRESHOLD - 1))
    assert concept_agreement(too_few) == []


def test_nothing_for_format_1_versions_or_a_single_framework(db):
    organisation = make_organisation()
    old = make_assessment(make_team(organisation), slugs=SLUGS, status="submitted", version=1)
    respond(old, "team", [3] * THRESHOLD)
    assert concept_agreement(old) == []
    single = make_assessment(make_team(organisation, "Solo"), slugs=("win4",), status="submitted")
    respond(single, "team", [3] * THRESHOLD)
    assert concept_agreement(single) == []


def count_queries(assessment) -> int:
    with CaptureQueriesContext(connection) as queries:
        concept_agreement(assessment)
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_respondents(db):
    organisation = make_organisation()
    few = make_assessment(make_team(organisation), slugs=SLUGS, status="submitted")
    respond(few, "team", [3, 4, 5])
    many = make_assessment(make_team(organisation, "Call centre"), slugs=SLUGS, status="submitted")
    respond(many, "team", [n % 6 for n in range(30)])
    respond(many, "leadership", [2] * THRESHOLD)
    respond(many, "manager", [4, 1])
    # Computed from every answer and stored (8), then read from the store (4).
    assert [count_queries(few), count_queries(few)] == [8, 4]
    assert [count_queries(many), count_queries(many)] == [8, 4]


def test_stored_concept_figures_are_the_computed_ones_and_read_no_answer(db, settings):
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), slugs=SLUGS, status="submitted")
    respond(assessment, "team", [n % 6 for n in range(5)])
    respond(assessment, "leadership", [2] * (THRESHOLD - 1))  # too few: not stored
    respond(assessment, "manager", [4, 1])
    computed = concept_agreement(assessment)
    stored = StoredResults.objects.get(assessment=assessment, kind="concepts").sums

    with CaptureQueriesContext(connection) as queries:
        again = concept_agreement(assessment)

    assert computed
    assert again == computed
    # Given the results (a manager's, with their own answers as the self-view), it counts
    # who counted as they did, without reading it again.
    viewer = Response.objects.filter(assessment=assessment, is_manager_view=True).first().user_id
    found = assessment_results(assessment, viewer_id=viewer)
    with CaptureQueriesContext(connection) as given:
        assert concept_agreement(assessment, counted=found) == computed
    assert len(given) == len(queries) - 1
    assert not any("assessment_answer" in q["sql"] for q in queries.captured_queries)
    assert {row[2] for row in stored["sums"]} == {"team", "manager"}
    settings.ANONYMITY_THRESHOLD = THRESHOLD - 1  # the leaders count now: computed afresh
    with_leaders = concept_agreement(assessment)
    assert with_leaders != computed
    assert {row[2] for row in StoredResults.objects.get(kind="concepts").sums["sums"]} == {
        "team",
        "manager",
        "leadership",
    }


# ---- the include ---------------------------------------------------------------------------


def test_the_include_shows_each_frameworks_score_with_n_and_the_disagreement(assessment):
    respond(
        assessment,
        "team",
        [{"win4": 4, "holistic": 1}, {"win4": 4, "holistic": 1}, {"win4": 5, "holistic": 2}],
    )
    html = render_to_string(
        "assessment/includes/concepts.html", {"concepts": concept_agreement(assessment)}
    )
    assert 'role="region"' in html
    assert "table-responsive" in html
    assert '<caption id="concepts-caption">' in html
    assert '<th scope="row">Consistency' in html
    assert "87 <span" in html
    assert f"(n = 3; 95 % interval 58{DASH}100)" in html
    assert "27 <span" in html
    assert f"(n = 3; 95 % interval 0{DASH}55)" in html
    assert "frameworks disagree" in html


def test_the_include_renders_nothing_without_concepts():
    assert render_to_string("assessment/includes/concepts.html", {"concepts": []}).strip() == ""


def one_person_rates_a_section(level: int) -> Assessment:
    """Holistic and service definition, five team members: only the first rates the
    holistic "organisation" section (at ``level``), the others answer "don't know" there;
    everything else is rated 3 by everyone."""
    assessment = make_assessment(
        make_team(make_organisation()),
        slugs=("holistic", "service-definition"),
        status="submitted",
    )
    questions = list(
        Question.objects.filter(version__assessments=assessment, audience="team").select_related(
            "section", "version__framework"
        )
    )
    people = [make_response(assessment, status="completed", audience="team") for _ in range(5)]
    rows = []
    for i, person in enumerate(people):
        for q in questions:
            hidden = q.version.framework.slug == "holistic" and q.section.key == "organisation"
            if hidden and i > 0:
                rows.append(
                    Answer(
                        response=person,
                        question=q,
                        section_id=q.section_id,
                        dont_know=True,
                        submitted_dont_know=True,
                    )
                )
            else:
                value = level if hidden else 3
                rows.append(
                    Answer(
                        response=person,
                        question=q,
                        section_id=q.section_id,
                        level=value,
                        submitted_level=value,
                    )
                )
    Answer.objects.bulk_create(rows)
    return assessment


@pytest.mark.django_db
def test_a_section_withheld_for_anonymity_is_left_out_of_every_concept():
    """The results leave the organisation section unscored (one rater); a concept figure
    that pooled its answers would move with that one person's levels, and so give them
    away. Found in review: 42.86 with their answers at 0, 71.43 at 5."""
    figures = []
    for level in (0, 5):
        assessment = one_person_rates_a_section(level)
        (holistic,) = [p for p in assessment_results(assessment).panels if p.slug == "holistic"]
        (organisation,) = [r for r in holistic.rows if r.key == "organisation"]
        assert organisation.team.score is None
        figures.append(
            {
                (row.key, m.slug): (m.withheld, m.score.score if m.score else None)
                for row in concept_agreement(assessment)
                for m in row.measures
            }
        )
    assert figures[0]
    assert figures[0] == figures[1]
