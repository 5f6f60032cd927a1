"""Criterion-based review (issue 18): the assessor judges each question's criteria on the
evidence, the awarded-level rule reads the judgements, and approval waits for all of them."""

import pytest
from django.urls import reverse
from django.utils.html import escape
from hypothesis import given
from hypothesis import strategies as st

from assessment import selectors, services
from assessment.models import AuditEvent, Decision, Judgement
from assessment.scoring import formula2
from frameworks.models import Question, Section
from tests.factories import judge_criteria, make_assessor, make_in_review


def url(assessment, section) -> str:
    return reverse(
        "assessment:review_criteria", kwargs={"pk": assessment.pk, "section_pk": section.pk}
    )


def sections(assessment) -> list[Section]:
    return list(Section.objects.filter(version__assessments=assessment).order_by("position"))


def post_data(questions, verdict: str, note: str = "") -> dict:
    data = {}
    for question in questions:
        data[f"verdict_{question.pk}"] = verdict
        data[f"note_{question.pk}"] = note
    return data


@pytest.fixture
def review(db, client):
    """Win4 (format 2) in review, sections moderated to 60, 60, 60, 60 (level 3 each)."""
    assessment, assessor = make_in_review()
    for section in sections(assessment):
        services.moderation_record(
            assessment=assessment,
            section_id=section.pk,
            assessor=assessor,
            score=60,
            rationale="Seen the evidence.",
        )
    client.force_login(assessor)
    return assessment, assessor


# --- the rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "verdicts", "expected"),
    [
        (4, [], 4),
        (4, ["met", "met"], 4),
        (4, ["met", "partly"], 3),
        (4, ["partly", "partly"], 3),
        (4, ["met", "not_met"], 1),
        (4, ["not_evidenced"], 1),
        (1, ["not_met"], 1),
        (0, ["partly"], 0),
        (1, ["partly"], 1),  # never below "not met", which leaves 1
        (2, ["partly"], 1),
        (0, ["not_evidenced"], 0),
        (5, ["partly", "not_met"], 1),
    ],
)
def test_a_sections_evidenced_level_is_the_lowest_its_criteria_support(level, verdicts, expected):
    assert formula2.evidenced_level(level, verdicts) == expected


VERDICTS_MILDEST_FIRST = ["met", "partly", "not_met"]


@given(level=st.integers(0, 5), milder=st.integers(0, 2), harsher=st.integers(0, 2))
def test_a_milder_verdict_never_supports_a_lower_level(level, milder, harsher):
    mild, harsh = sorted((milder, harsher))
    assert formula2.supported_level(
        VERDICTS_MILDEST_FIRST[mild], level
    ) >= formula2.supported_level(VERDICTS_MILDEST_FIRST[harsh], level)
    assert formula2.supported_level("not_met", level) == formula2.supported_level(
        "not_evidenced", level
    )
    assert formula2.supported_level(VERDICTS_MILDEST_FIRST[mild], level) <= level


def test_an_unknown_verdict_is_an_error_not_a_level():
    with pytest.raises(ValueError, match="unknown verdict"):
        formula2.evidenced_level(3, ["maybe"])


@pytest.mark.django_db
def test_all_criteria_met_keep_the_rules_level(review):
    assessment, assessor = review
    before = selectors.review.assessment_award_rule(assessment)
    judge_criteria(assessment, assessor, "met")

    rule = selectors.review.assessment_award_rule(assessment)

    assert before.level == rule.level == 3
    assert before.unjudged == rule.criteria > 0
    assert rule.unjudged == 0
    assert rule.capped == []


@pytest.mark.django_db
def test_one_criterion_partly_met_lowers_its_section_and_the_rule_tolerates_it(review, client):
    assessment, assessor = review
    judge_criteria(assessment, assessor, "met")
    customers = sections(assessment)[0]
    question = Question.objects.filter(section=customers).first()
    Judgement.objects.create(
        assessment=assessment, question=question, assessor=assessor, verdict="partly"
    )

    rule = selectors.review.assessment_award_rule(assessment)

    row = next(s for s in rule.sections if s.section_id == customers.pk)
    assert (row.scored_level, row.level, row.capped) == (3, 2, True)
    # One section one level below: the award stays at 3 (formula2.awarded_level).
    assert rule.level == 3
    page = client.get(reverse("assessment:review_detail", kwargs={"pk": assessment.pk}))
    assert "lowered by the criteria" in page.text


@pytest.mark.django_db
def test_criteria_not_met_in_two_sections_bring_the_award_down(review):
    assessment, assessor = review
    judge_criteria(assessment, assessor, "met")
    for section in sections(assessment)[:2]:
        Judgement.objects.create(
            assessment=assessment,
            question=Question.objects.filter(section=section).first(),
            assessor=assessor,
            verdict="not_met",
        )

    rule = selectors.review.assessment_award_rule(assessment)

    assert [s.level for s in rule.sections] == [1, 1, 3, 3]
    assert rule.level == formula2.awarded_level({"a": 1, "b": 1, "c": 3, "d": 3}) == 1


# --- the page ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_each_criterion_and_its_evidence_prompts(review, client):
    assessment, _assessor = review
    section = sections(assessment)[0]
    questions = list(Question.objects.filter(section=section).order_by("position"))

    page = client.get(url(assessment, section))

    assert page.status_code == 200
    for question in questions:
        assert escape(question.criteria) in page.text
        assert escape(question.evidence[0]) in page.text
        assert f'name="verdict_{question.pk}"' in page.text
    assert "Not evidenced" in page.text


@pytest.mark.django_db
def test_judgements_are_saved_audited_and_not_recorded_twice(review, client):
    assessment, _assessor = review
    section = sections(assessment)[0]
    questions = list(Question.objects.filter(section=section))

    response = client.post(url(assessment, section), post_data(questions, "partly", "Half."))
    again = client.post(url(assessment, section), post_data(questions, "partly", "Half."))

    assert response.status_code == again.status_code == 302
    assert Judgement.objects.filter(assessment=assessment).count() == len(questions)
    assert set(Judgement.objects.values_list("verdict", "note")) == {("partly", "Half.")}
    events = AuditEvent.objects.filter(assessment=assessment, action="judged")
    assert events.count() == len(questions)
    entry = events.rendered()[0]
    # By label: PostgreSQL's jsonb keeps a recorded value's keys in its own order.
    changes = {change.label: change.after for change in entry.changes}
    assert changes["Judgement"] == "Partly met"
    assert changes["Note on the judgement"] == "Half."
    # A change is recorded again; the latest counts.
    client.post(url(assessment, section), post_data(questions[:1], "met"))
    state = selectors.review.criteria_state(assessment, assessment.framework_versions.all())
    assert state.verdicts[questions[0].pk] == "met"


@pytest.mark.django_db
@pytest.mark.parametrize("verdict", ["maybe", "MET", "<script>", "1"])
def test_an_unknown_verdict_is_refused_beside_the_field_and_nothing_is_written(
    review, client, verdict
):
    assessment, _assessor = review
    section = sections(assessment)[0]
    questions = list(Question.objects.filter(section=section))
    data = post_data(questions, "met")
    data[f"verdict_{questions[-1].pk}"] = verdict

    page = client.post(url(assessment, section), data)

    assert page.status_code == 400
    assert "Choose met, partly met, not met or not evidenced." in page.text
    assert f'id="id_verdict_{questions[-1].pk}-error"' in page.text
    assert not Judgement.objects.exists()
    # What the assessor chose is kept on the page.
    assert page.text.count(" checked>") == len(questions) - 1


@pytest.mark.django_db
def test_a_note_without_a_judgement_is_refused(review, client):
    assessment, _assessor = review
    section = sections(assessment)[0]
    question = Question.objects.filter(section=section).first()

    page = client.post(url(assessment, section), {f"note_{question.pk}": "Saw nothing."})

    assert page.status_code == 400
    assert "Choose a judgement for the note you wrote." in page.text
    assert "Saw nothing." in page.text
    assert not Judgement.objects.exists()


@pytest.mark.django_db
def test_a_section_of_another_assessment_and_other_people_get_404(review, client):
    assessment, _assessor = review
    foreign = Section.objects.exclude(version__assessments=assessment).first()
    assert client.get(url(assessment, foreign)).status_code == 404
    client.force_login(make_assessor("bea"))
    assert client.get(url(assessment, sections(assessment)[0])).status_code == 404
    client.force_login(assessment.organisation.memberships.first().user)
    assert client.get(url(assessment, sections(assessment)[0])).status_code == 404
    client.logout()
    assert client.get(url(assessment, sections(assessment)[0])).status_code in (302, 404)
    assert not Judgement.objects.exists()


@pytest.mark.django_db
def test_the_page_runs_the_same_queries_with_and_without_judgements(
    review, client, django_assert_max_num_queries
):
    assessment, assessor = review
    section = sections(assessment)[0]
    client.get(url(assessment, section))  # results stored
    with django_assert_max_num_queries(40) as bare:
        client.get(url(assessment, section))
    judge_criteria(assessment, assessor, "partly")
    with django_assert_max_num_queries(len(bare.captured_queries)):
        client.get(url(assessment, section))


# --- approval ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_approval_waits_until_every_criterion_is_judged(review, client):
    assessment, assessor = review
    first = sections(assessment)[0]
    client.post(url(assessment, first), post_data(Question.objects.filter(section=first), "met"))

    page = client.post(
        reverse("assessment:approve", kwargs={"pk": assessment.pk}),
        {"level": "3", "summary": "Fine."},
    )

    assert page.status_code == 400
    assert "Judge every criterion before you approve" in page.text
    assert not Decision.objects.exists()
    judge_criteria(assessment, assessor, "met")
    done = client.post(
        reverse("assessment:approve", kwargs={"pk": assessment.pk}),
        {"level": "3", "summary": "Fine."},
    )
    assert done.status_code == 302
    assert Decision.objects.get().rule_level == 3


@pytest.mark.django_db
def test_the_award_follows_the_judgements_and_another_level_needs_a_reason(review, client):
    assessment, assessor = review
    judge_criteria(assessment, assessor, "met")
    for section in sections(assessment)[:2]:
        Judgement.objects.create(
            assessment=assessment,
            question=Question.objects.filter(section=section).first(),
            assessor=assessor,
            verdict="not_evidenced",
        )
    approve = reverse("assessment:approve", kwargs={"pk": assessment.pk})

    refused = client.post(approve, {"level": "3", "summary": "Fine."})

    assert refused.status_code == 400
    assert "The rule gives level 1" in refused.text
    assert not Decision.objects.exists()
    client.post(approve, {"level": "1", "summary": "Evidence is missing in two sections."})
    assert (Decision.objects.get().awarded_level, Decision.objects.get().rule_level) == (1, 1)


# --- actions required for approval -------------------------------------------------------


@pytest.mark.django_db
def test_the_assessor_requires_an_action_the_manager_then_sees_first(review, client):
    assessment, assessor = review
    section = sections(assessment)[1]

    response = client.post(
        reverse("assessment:review_require_action", kwargs={"pk": assessment.pk}),
        {"title": "Publish a staffing plan for peak weeks", "section": str(section.pk)},
    )

    assert response.status_code == 302
    action = assessment.actions.get()
    assert (action.required_by, action.section, action.owner) == (assessor, section, None)
    event = AuditEvent.objects.get(assessment=assessment, action="actions_required")
    assert event.after["actions"] == "Publish a staffing plan for peak weeks"
    workspace = client.get(reverse("assessment:review_detail", kwargs={"pk": assessment.pk}))
    assert "Publish a staffing plan for peak weeks" in workspace.text
    client.force_login(assessment.organisation.memberships.first().user)
    plan = client.get(reverse("assessment:action_plan", kwargs={"pk": assessment.pk}))
    assert "Publish a staffing plan for peak weeks" in plan.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": ""}, "Give the action a title."),
        ({"title": "x" * 201}, "at most 200 characters"),
        ({"title": "Fine", "section": "abc"}, "That section is not part of this assessment."),
        ({"title": "Fine", "section": "999999"}, "That section is not part of this assessment."),
    ],
)
def test_a_bad_required_action_is_refused_beside_its_field(review, client, data, message):
    assessment, _assessor = review

    page = client.post(
        reverse("assessment:review_require_action", kwargs={"pk": assessment.pk}), data
    )

    assert page.status_code == 400
    assert message in page.text
    assert not assessment.actions.exists()
    assert not AuditEvent.objects.filter(action="actions_required").exists()


@pytest.mark.django_db
def test_the_criteria_page_lists_the_sections_evidence_with_who_added_it(review, client):
    assessment, _assessor = review
    section = sections(assessment)[0]
    manager = assessment.organisation.memberships.first().user
    services.evidence_add(
        assessment=assessment,
        section=section,
        question=None,
        kind="note",
        title="Complaints review minutes",
        note="Reviewed monthly since March.",
        by=manager,
    )

    page = client.get(url(assessment, section))

    assert "Complaints review minutes" in page.text
    assert "Reviewed monthly since March." in page.text
    assert "added by" in page.text


# --- found by reading the change (issue 18 review) --------------------------------------


@pytest.mark.django_db
def test_the_managers_timeline_leaves_out_judgements_while_in_review(review, client):
    assessment, assessor = review
    section = sections(assessment)[0]
    question = Question.objects.filter(section=section).first()
    services.judgements_record(
        assessment=assessment,
        section_id=section.pk,
        assessor=assessor,
        judgements={question.pk: ("not_met", "MARKER note for the assessor")},
    )
    manager = assessment.organisation.memberships.first().user
    client.force_login(manager)
    detail = reverse("assessment:detail", kwargs={"pk": assessment.pk})

    during = client.get(detail).text

    assert "MARKER note" not in during
    assert "Criteria judged" not in during
    judge_criteria(assessment, assessor)  # the rest, and this one again as met
    services.decision_approve(
        assessment=assessment, assessor=assessor, level=3, summary="Fair.", snapshot={}
    )
    after = client.get(detail).text
    assert "MARKER note" in after


@pytest.mark.django_db
def test_after_a_return_each_criterion_is_judged_again_before_approval(review, client):
    assessment, assessor = review
    judge_criteria(assessment, assessor, "met")
    manager = assessment.organisation.memberships.first().user
    services.decision_return(
        assessment=assessment,
        assessor=assessor,
        required_changes="Show the rota records.",
        sections=[],
        snapshot={},
    )
    services.assessment_reopen(
        assessment=assessment, by=manager, sections=sections(assessment)[:1], note="Again."
    )
    services.assessment_submit(assessment=assessment, by=manager)
    assessment.refresh_from_db()
    assert assessment.status == "in_review"
    assert assessment.round == 2

    for section in sections(assessment):  # the moderations are kept for this round
        services.moderation_keep(assessment=assessment, section_id=section.pk, assessor=assessor)
    rule = selectors.review.assessment_award_rule(assessment)
    assert rule.unjudged == rule.criteria  # last round's judgements need confirming
    assert rule.level == 3  # but still inform the level meanwhile
    with pytest.raises(services.ServiceError, match="Judge every criterion"):
        services.decision_approve(
            assessment=assessment, assessor=assessor, level=3, summary="Ok.", snapshot={}
        )
    # Saving a section's page as it is confirms its judgements for this round.
    section = sections(assessment)[0]
    questions = list(Question.objects.filter(section=section))
    client.post(url(assessment, section), post_data(questions, "met"))
    rule = selectors.review.assessment_award_rule(assessment)
    assert rule.unjudged == rule.criteria - len(questions)
