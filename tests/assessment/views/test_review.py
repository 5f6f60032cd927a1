"""The assessor's pages: the queue, the review workspace, moderation and decisions."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessment import services
from assessment.models import (
    Answer,
    Assessment,
    AuditEvent,
    Decision,
    Membership,
    Moderation,
    Response,
    StoredResults,
)
from assessment.selectors import review as review_selectors
from assessment.selectors.manager import assessment_sections
from frameworks.models import Section
from tests.factories import (
    judge_criteria,
    make_assessment,
    make_assessor,
    make_comment,
    make_invitation,
    make_organisation,
    make_response,
    make_team,
    make_user,
)
from tests.threads import run_together

MODERATED_LABEL = "Assessor&#x27;s moderated view"


def submitted_assessment(organisation, *, team: str = "Front desk", members: int = 3):
    """A submitted Win4 assessment with ``members`` completed team responses."""
    assessment = make_assessment(make_team(organisation, team), status="submitted")
    for _ in range(members):
        make_response(assessment, levels=[2, 3, 4], status="completed")
    Assessment.objects.filter(pk=assessment.pk).update(submitted_at=timezone.now())
    assessment.refresh_from_db()
    return assessment


def assign(assessment, assessor, staff):
    services.assessor_assign(assessment=assessment, assessor=assessor, by=staff)
    assessment.refresh_from_db()
    return assessment


@pytest.fixture
def staff_user(db):
    return make_user("stella", is_staff=True)


@pytest.fixture
def assessor(db):
    return make_assessor("alex")


@pytest.fixture
def in_review(assessor, staff_user):
    """A Win4 assessment of Acme Ltd's front desk, in review by alex."""
    assessment = assign(submitted_assessment(make_organisation()), assessor, staff_user)
    assert assessment.status == Assessment.Status.IN_REVIEW
    judge_criteria(assessment, assessor)
    return assessment


@pytest.fixture
def assessor_client(client, assessor):
    client.force_login(assessor)
    return client


def url(name: str, assessment) -> str:
    return reverse(f"assessment:{name}", kwargs={"pk": assessment.pk})


def first_section(assessment) -> Section:
    return Section.objects.filter(version__assessments=assessment).order_by("position").first()


def manager_of(assessment):
    return Membership.objects.get(organisation=assessment.organisation_id).user


def snapshot(assessment) -> dict:
    return review_selectors.decision_snapshot(assessment)


def reopen(assessment, by, sections=None, note: str = "Please look again."):
    """The manager reopens the returned assessment (every section unless ``sections``)."""
    chosen = sections if sections is not None else list(assessment_sections(assessment))
    return services.assessment_reopen(assessment=assessment, by=by, sections=chosen, note=note)


# --- access ----------------------------------------------------------------------------

REQUESTS = [
    ("get", "review_detail", {}),
    ("post", "moderate", {"section": "SECTION", "score": "70", "rationale": "Evidence seen."}),
    ("post", "approve", {"level": "3", "summary": "Well balanced."}),
    ("post", "return", {"required_changes": "Ask the owners too."}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["other_assessor", "manager", "anonymous"])
@pytest.mark.parametrize(("method", "name", "data"), REQUESTS, ids=[r[1] for r in REQUESTS])
def test_only_the_assigned_assessor_can_open_or_act_on_a_review(
    client, in_review, who, method, name, data
):
    if who == "other_assessor":
        client.force_login(make_assessor("olga"))
    elif who == "manager":
        client.force_login(manager_of(in_review))
    data = {k: str(first_section(in_review).pk) if v == "SECTION" else v for k, v in data.items()}
    events = AuditEvent.objects.count()

    response = getattr(client, method)(url(name, in_review), data)

    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == 404
    in_review.refresh_from_db()
    assert in_review.status == Assessment.Status.IN_REVIEW
    assert not Moderation.objects.exists()
    assert not Decision.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["moderate", "approve", "return"])
def test_the_actions_refuse_get(assessor_client, in_review, name):
    assert assessor_client.get(url(name, in_review)).status_code == 405


# --- the queue -------------------------------------------------------------------------


@pytest.fixture
def queue(assessor, staff_user):
    """Two assessments for alex (different teams, organisations and dates), one for olga."""
    zeta = submitted_assessment(make_organisation("Zeta plc"), team="Alpha team")
    acme = submitted_assessment(make_organisation("Acme Ltd"), team="Zulu team")
    Assessment.objects.filter(pk=zeta.pk).update(
        due_date=date(2031, 1, 10), submitted_at=timezone.now() - timedelta(days=5)
    )
    Assessment.objects.filter(pk=acme.pk).update(
        due_date=date(2030, 6, 1), submitted_at=timezone.now() - timedelta(days=1)
    )
    assign(zeta, assessor, staff_user)
    assign(acme, assessor, staff_user)
    others = submitted_assessment(make_organisation("Other Org"), team="Elsewhere team")
    assign(others, make_assessor("olga"), staff_user)
    return {"zeta": zeta, "acme": acme, "others": others}


def order_of(page, *names: str) -> list[str]:
    return sorted(names, key=page.text.index)


@pytest.mark.django_db
def test_the_queue_lists_only_assessments_assigned_to_me(assessor_client, queue):
    page = assessor_client.get(reverse("assessment:assessor_queue"))

    assert page.status_code == 200
    assert "Alpha team" in page.text
    assert "Zulu team" in page.text
    assert "Zeta plc" in page.text
    assert "Win4 sustainable service" in page.text
    assert "In review" in page.text
    assert url("review_detail", queue["zeta"]) in page.text
    assert "Elsewhere team" not in page.text
    assert "Other Org" not in page.text
    assert url("review_detail", queue["others"]) not in page.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "first", "second"),
    [
        ("team", "Alpha team", "Zulu team"),
        ("-team", "Zulu team", "Alpha team"),
        ("organisation", "Zulu team", "Alpha team"),  # Acme Ltd's team first
        ("-organisation", "Alpha team", "Zulu team"),
        ("due", "Zulu team", "Alpha team"),
        ("-due", "Alpha team", "Zulu team"),
        ("submitted", "Alpha team", "Zulu team"),
        ("-submitted", "Zulu team", "Alpha team"),
    ],
)
def test_the_queue_sorts_by_column(assessor_client, queue, sort, first, second):
    page = assessor_client.get(reverse("assessment:assessor_queue"), {"sort": sort})

    assert page.status_code == 200
    assert order_of(page, first, second) == [first, second]
    column = sort.removeprefix("-")
    assert 'aria-sort="{}"'.format("descending" if sort.startswith("-") else "ascending") in (
        page.text
    )
    # Clicking the sorted column again reverses it.
    assert f'href="?sort={column if sort.startswith("-") else "-" + column}"' in page.text


@pytest.mark.django_db
def test_the_queue_sorts_by_status_with_work_to_do_first(assessor_client, queue):
    judge_criteria(queue["acme"], queue["acme"].assignment.assessor)
    services.decision_approve(
        assessment=queue["acme"],
        assessor=queue["acme"].assignment.assessor,
        level=3,
        summary="Fine.",
        snapshot={},
    )

    page = assessor_client.get(reverse("assessment:assessor_queue"), {"sort": "status"})

    assert order_of(page, "Alpha team", "Zulu team") == ["Alpha team", "Zulu team"]
    assert "Approved" in page.text


@pytest.mark.django_db
def test_an_unknown_sort_falls_back_to_the_default(assessor_client, queue):
    page = assessor_client.get(reverse("assessment:assessor_queue"), {"sort": "password"})

    assert page.status_code == 200
    assert "Alpha team" in page.text


@pytest.mark.django_db
def test_the_queue_runs_the_same_queries_for_two_and_six_assessments(
    assessor_client, queue, assessor, staff_user
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert assessor_client.get(reverse("assessment:assessor_queue")).status_code == 200
        return len(queries)

    two = count()
    for n in range(4):
        assign(submitted_assessment(make_organisation(f"Org {n}"), members=0), assessor, staff_user)

    assert count() == two


@pytest.mark.django_db
def test_someone_who_is_not_an_assessor_is_told_kindly(client):
    organisation = make_organisation()
    client.force_login(organisation.manager)

    page = client.get(reverse("assessment:assessor_queue"))

    assert page.status_code == 200
    assert "You have no reviews assigned" in page.text
    assert "accredited assessors" in page.text


@pytest.mark.django_db
def test_an_assessor_with_nothing_assigned_sees_an_empty_queue(assessor_client):
    page = assessor_client.get(reverse("assessment:assessor_queue"))

    assert page.status_code == 200
    assert "You have no reviews assigned" in page.text
    assert "When an assessment is assigned to you" in page.text


# --- the review page -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_review_page_shows_results_answers_and_the_forms(assessor_client, in_review):
    response = Response.objects.filter(assessment=in_review).first()
    make_comment(response, "The rota ignores the owners.")

    page = assessor_client.get(url("review_detail", in_review))

    assert page.status_code == 200
    text = page.text
    assert "Acme Ltd" in text
    assert "Front desk" in text
    assert "Win4 sustainable service" in text
    assert "In review" in text
    assert text.count("<svg") == 1
    # Only the team answered: the owners' section (leadership and managers) has no score,
    # so formula 2 gives Win4 no overall, balance or verdict, and says why.
    assert (
        "No overall score, balance or verdict while these sections have no score: "
        "Shareholders and owners"
    ) in text
    assert "Priorities" in text
    assert "How the team answered" in text
    assert "The rota ignores the owners." in text
    assert "Moderated" in text
    assert MODERATED_LABEL not in text  # no moderation yet
    assert "Your own view" not in text  # assessors have no self-view
    sections = Section.objects.filter(version__assessments=in_review)
    assert text.count(f'action="{url("moderate", in_review)}#errors"') == sections.count()
    assert f'action="{url("approve", in_review)}#errors"' in text
    assert f'action="{url("return", in_review)}#errors"' in text
    assert '<option value="3">Level 3: Exceeds expectations</option>' in text
    assert "Assessor assigned" in text  # the audit trail
    assert "Review started" in text
    assert "No decision has been made yet." in text


@pytest.mark.django_db
def test_below_the_anonymity_threshold_the_page_shows_no_team_figures(
    assessor_client, assessor, staff_user
):
    assessment = assign(submitted_assessment(make_organisation(), members=2), assessor, staff_user)

    page = assessor_client.get(url("review_detail", assessment))

    assert page.status_code == 200
    assert "team results appear once at least 3 team members" in page.text
    assert "<svg" not in page.text
    assert "How the team answered" not in page.text
    # The assessor can still decide.
    assert f'action="{url("return", assessment)}#errors"' in page.text


# --- moderation ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_moderation_without_a_rationale_is_refused_and_keeps_the_score(
    assessor_client, in_review
):
    section = first_section(in_review)

    page = assessor_client.post(
        url("moderate", in_review), {"section": section.pk, "score": "72.5", "rationale": "  "}
    )

    assert page.status_code == 400
    assert "Give a rationale for the moderated score." in page.text
    assert 'value="72.5"' in page.text
    assert not Moderation.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "score",
    [
        "101",
        "-1",
        "abc",
        "",
        "1e9",
        "Infinity",
        "NaN",
    ],
)
def test_a_moderated_score_outside_0_to_100_is_refused_and_keeps_the_rationale(
    assessor_client, in_review, score
):
    section = first_section(in_review)

    page = assessor_client.post(
        url("moderate", in_review),
        {"section": section.pk, "score": score, "rationale": "Interviews contradict this."},
    )

    assert page.status_code == 400
    assert "The moderated score must be a number from 0 to 100." in page.text
    assert ">Interviews contradict this.</textarea>" in page.text
    assert not Moderation.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.MODERATED).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("section", ["", "abc", "1.5", "99999999999", "²", "\x00", "1" * 30, "-1"])
def test_a_moderation_of_no_real_section_is_refused(assessor_client, in_review, section):
    page = assessor_client.post(
        url("moderate", in_review), {"section": section, "score": "50", "rationale": "Because."}
    )

    assert page.status_code == 400
    assert not Moderation.objects.exists()


@pytest.mark.django_db
def test_a_section_of_another_framework_cannot_be_moderated(assessor_client, in_review):
    foreign = Section.objects.exclude(version__assessments=in_review).first()

    page = assessor_client.post(
        url("moderate", in_review), {"section": foreign.pk, "score": "50", "rationale": "Because."}
    )

    assert page.status_code == 400
    assert "That section is not part of this assessment." in page.text
    assert not Moderation.objects.exists()


@pytest.mark.django_db
def test_a_moderation_is_stored_shown_drawn_and_audited(assessor_client, in_review, assessor):
    section = first_section(in_review)

    response = assessor_client.post(
        url("moderate", in_review),
        {"section": section.pk, "score": "81", "rationale": "Site visit showed strong practice."},
    )

    assert response.status_code == 302
    # Back to the form that was saved, not to the top of a long page.
    assert response["Location"] == url("review_detail", in_review) + f"#moderate-{section.pk}"
    moderation = Moderation.objects.get()
    assert (moderation.section, moderation.score, moderation.assessor) == (section, 81, assessor)
    event = AuditEvent.objects.get(action=AuditEvent.Action.MODERATED)
    assert event.actor == assessor
    assert event.after["score"] == "81.0"

    page = assessor_client.get(url("review_detail", in_review))

    assert "Site visit showed strong practice." in page.text
    assert MODERATED_LABEL in page.text
    assert "Section moderated" in page.text  # the audit trail
    assert f"Moderated score for {section.name} saved" in page.text


# --- decisions -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"level": "", "summary": "A fair picture."}, "Choose the awarded maturity level"),
        ({"level": "9", "summary": "A fair picture."}, "Choose the awarded maturity level"),
        ({"level": "two", "summary": "A fair picture."}, "Choose the awarded maturity level"),
        ({"level": "3", "summary": "   "}, "Write a short summary of the review."),
    ],
)
def test_approval_needs_a_level_and_a_summary(assessor_client, in_review, data, message):
    page = assessor_client.post(url("approve", in_review), data)

    assert page.status_code == 400
    assert message in page.text
    if data["summary"].strip():
        assert f">{data['summary']}</textarea>" in page.text
    in_review.refresh_from_db()
    assert in_review.status == Assessment.Status.IN_REVIEW
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_approval_records_the_decision_and_tells_the_managers(
    assessor_client, in_review, assessor, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = assessor_client.post(
            url("approve", in_review), {"level": "4", "summary": "Balanced and well evidenced."}
        )

    assert response.status_code == 302
    in_review.refresh_from_db()
    assert in_review.status == Assessment.Status.APPROVED
    decision = Decision.objects.get()
    assert (decision.outcome, decision.awarded_level, decision.round) == ("approved", 4, 1)
    assert decision.assessor == assessor
    assert decision.snapshot["win4"]  # section scores at the time of the decision
    assert [m.to for m in mailoutbox] == [[manager_of(in_review).email]]
    assert "Approved" in mailoutbox[0].subject
    assert AuditEvent.objects.filter(action=AuditEvent.Action.APPROVED, actor=assessor).exists()

    page = assessor_client.get(url("review_detail", in_review))

    assert "Awarded maturity level 4" in page.text
    assert "Balanced and well evidenced." in page.text
    assert f'action="{url("approve", in_review)}#errors"' not in page.text
    assert f'action="{url("moderate", in_review)}#errors"' not in page.text


@pytest.mark.django_db
def test_a_second_decision_on_the_same_round_is_refused(assessor_client, in_review):
    assessor_client.post(url("approve", in_review), {"level": "4", "summary": "Good."})

    page = assessor_client.post(url("return", in_review), {"required_changes": "Redo it."})

    assert page.status_code == 400
    assert "This assessment is not in review" in page.text
    assert Decision.objects.count() == 1
    in_review.refresh_from_db()
    assert in_review.status == Assessment.Status.APPROVED


@pytest.mark.django_db
def test_a_return_needs_the_required_changes(assessor_client, in_review):
    page = assessor_client.post(url("return", in_review), {"required_changes": " "})

    assert page.status_code == 400
    assert "List the changes required" in page.text
    in_review.refresh_from_db()
    assert in_review.status == Assessment.Status.IN_REVIEW
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_a_return_sends_it_back_for_revision(
    assessor_client, in_review, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = assessor_client.post(
            url("return", in_review), {"required_changes": "Include the owners' perspective."}
        )

    assert response.status_code == 302
    in_review.refresh_from_db()
    assert in_review.status == Assessment.Status.RETURNED
    decision = Decision.objects.get()
    assert (decision.outcome, decision.awarded_level) == ("returned", None)
    assert len(mailoutbox) == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.RETURNED).exists()

    page = assessor_client.get(url("review_detail", in_review))

    assert "Returned for revision" in page.text
    assert "Include the owners&#x27; perspective." in page.text


@pytest.mark.django_db(transaction=True)
def test_two_assessors_deciding_at_once_make_exactly_one_decision():
    assessor = make_assessor("alex")
    assessment = assign(
        submitted_assessment(make_organisation()), assessor, make_user("stella", is_staff=True)
    )
    scores = snapshot(assessment)
    judge_criteria(assessment, assessor)

    def approve():
        return services.decision_approve(
            assessment=Assessment.objects.get(pk=assessment.pk),
            assessor=assessor,
            level=3,
            summary="Good.",
            snapshot=scores,
        )

    def send_back():
        return services.decision_return(
            assessment=Assessment.objects.get(pk=assessment.pk),
            assessor=assessor,
            required_changes="More evidence.",
            snapshot=scores,
        )

    outcomes = run_together(approve, send_back)

    decisions = [o for o in outcomes if isinstance(o, Decision)]
    errors = [o for o in outcomes if isinstance(o, services.ServiceError)]
    assert len(decisions) == 1, outcomes
    assert len(errors) == 1, outcomes
    assert Decision.objects.count() == 1
    assessment.refresh_from_db()
    assert assessment.status == decisions[0].outcome  # "approved" or "returned"


# --- a second round --------------------------------------------------------------------


@pytest.mark.django_db
def test_after_revision_the_review_shows_what_changed(assessor_client, in_review, assessor):
    manager = manager_of(in_review)
    services.decision_return(
        assessment=in_review,
        assessor=assessor,
        required_changes="Re-rate the employee questions with evidence.",
        snapshot=snapshot(in_review),
    )
    reopen(in_review, manager)
    in_review.refresh_from_db()
    assert in_review.status == Assessment.Status.OPEN
    # The others' answers stay completed and counted; one respondent revises one answer
    # and completes again.
    assert set(Response.objects.filter(assessment=in_review).values_list("status", flat=True)) == {
        Response.Status.COMPLETED
    }
    response = Response.objects.filter(assessment=in_review).order_by("pk").first()
    assert services.response_revise(response=response)
    answer = response.answers.select_related("section").order_by("question__position").first()
    new_level = 5 if answer.level != 5 else 1
    saved = services.answers_save(
        response=response,
        answers=[
            services.AnswerInput(
                question_id=answer.question_id,
                level=new_level,
                not_applicable=False,
                comment="",
                base_revision=answer.revision,
            )
        ],
    )
    assert saved.saved
    assert not saved.conflicts
    assert services.response_complete(response=response)
    services.assessment_submit(assessment=in_review, by=manager)
    in_review.refresh_from_db()
    assert in_review.status == Assessment.Status.IN_REVIEW
    assert in_review.assignment.assessor == assessor

    page = assessor_client.get(url("review_detail", in_review))

    assert page.status_code == 200
    assert "What changed since the last review" in page.text
    assert "Re-rate the employee questions with evidence." in page.text
    changes = page.context["changes"]
    assert changes.decision.round == 1
    changed = [row for row in changes.rows if row.team_change]
    assert [row.section for row in changed] == [answer.section.name]
    assert changed[0].team_change  # neither None nor zero
    sign = "+" if changed[0].team_change > 0 else "-"
    assert f"({sign}{abs(changed[0].team_change):.0f})" in page.text
    assert Answer.objects.get(pk=answer.pk).level == new_level
    # The forms are back for round 2.
    assert f'action="{url("approve", in_review)}#errors"' in page.text


# --- queries ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_review_page_runs_the_same_queries_for_3_and_30_respondents(
    assessor_client, in_review, assessor
):
    # Everything the page can show: a moderation, comments, an earlier decision round.
    section = first_section(in_review)
    services.moderation_record(
        assessment=in_review, section_id=section.pk, assessor=assessor, score=60, rationale="Why."
    )
    Decision.objects.create(
        assessment=in_review,
        round=1,
        assessor=assessor,
        outcome=Decision.Outcome.RETURNED,
        required_changes="Earlier round.",
        snapshot=snapshot(in_review),
    )
    make_comment(Response.objects.filter(assessment=in_review).first(), "First comment.")

    def count() -> tuple[int, int]:
        """The queries of a view that computes the results, and of one that reads them
        from the store."""
        StoredResults.objects.all().delete()
        counts = []
        for _view in ("computed", "stored"):
            with CaptureQueriesContext(connection) as queries:
                page = assessor_client.get(url("review_detail", in_review))
            assert page.status_code == 200
            assert "What changed since the last review" in page.text
            counts.append(len(queries))
        return counts[0], counts[1]

    three = count()
    for n in range(27):
        response = make_response(in_review, levels=[1, 5, 3], status="completed")
        make_comment(response, f"Comment {n}.")

    assert count() == three


@pytest.mark.django_db
def test_the_review_workspace_runs_a_fixed_number_of_queries(
    assessor_client, in_review, assessor, django_assert_num_queries
):
    services.moderation_record(
        assessment=in_review,
        section_id=first_section(in_review).pk,
        assessor=assessor,
        score=60,
        rationale="Why.",
    )

    with django_assert_num_queries(REVIEW_WORKSPACE_QUERIES):
        page = assessor_client.get(url("review_detail", in_review))
    with django_assert_num_queries(REVIEW_WORKSPACE_QUERIES - 1):  # the results stored
        again = assessor_client.get(url("review_detail", in_review))

    assert page.status_code == again.status_code == 200


# Session and user 2, the assessment 1, its versions 1, the results 9 (computed and
# stored; 8 once stored: selectors.results.assessment_results), the framework
# rules 1, the shared concepts 2 (a third when two frameworks share one), the decisions 1
# (and the sections a return named, when there is one), the sections and their
# moderations 2, the team's figures 5, the assessor's guidance (format 2) 1, the
# invitees 2 (and the count of leadership invitees who completed), the audit trail 3
# (events, people, sections), the levels 1, the navigation 2, the criteria and their
# latest judgements 2, the actions required 1.
REVIEW_WORKSPACE_QUERIES = 36


# --- forms -----------------------------------------------------------------------------


def form_html(page, form_id: str) -> str:
    """The markup of one <form> on the page, by its id."""
    start = page.text.index(f'id="{form_id}"')
    return page.text[start : page.text.index("</form>", start)]


@pytest.mark.django_db
def test_a_refused_moderation_shows_the_error_beside_its_field_in_its_own_form(
    assessor_client, in_review
):
    sections = Section.objects.filter(version__assessments=in_review).order_by("position")
    first, second = sections[:2]

    page = assessor_client.post(
        url("moderate", in_review),
        {"section": second.pk, "score": "150", "rationale": "Interviews contradict this."},
    )

    assert page.status_code == 400
    refused = form_html(page, f"moderate-{second.pk}")
    assert "The moderated score must be a number from 0 to 100." in refused
    assert 'aria-invalid="true"' in refused
    assert 'value="150"' in refused
    assert ">Interviews contradict this.</textarea>" in refused
    untouched = form_html(page, f"moderate-{first.pk}")
    assert "must be a number" not in untouched
    assert "Interviews contradict this." not in untouched
    assert "Please correct the error below." in page.text


@pytest.mark.django_db
def test_a_refused_approval_says_how_many_errors_and_where(assessor_client, in_review):
    page = assessor_client.post(url("approve", in_review), {"level": "²", "summary": ""})

    assert page.status_code == 400
    refused = form_html(page, "approve-form")
    # Win4 version 2 (format 2): the scale starts at 0, "not in place".
    assert "Choose the awarded maturity level, from 0 to 5." in refused
    assert "Write a short summary of the review." in refused
    assert "Please correct the 2 errors below." in page.text
    assert not Decision.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["²", "-", "--team", "\x00", "team" * 1000])
def test_a_hostile_sort_falls_back_to_the_default(assessor_client, queue, sort):
    page = assessor_client.get(reverse("assessment:assessor_queue"), {"sort": sort})

    assert page.status_code == 200
    assert 'aria-sort="ascending"' in page.text  # the default column, status


# --- reopening for a new round ---------------------------------------------------------


def returned(in_review, assessor):
    services.decision_return(
        assessment=in_review,
        assessor=assessor,
        required_changes="Ask again.",
        snapshot=snapshot(in_review),
    )
    return in_review


@pytest.mark.django_db
def test_reopening_keeps_completed_answers_counted_in_a_new_round(in_review, assessor):
    unfinished = make_response(in_review, levels=[1], status="closed")
    manager = manager_of(in_review)

    reopen(returned(in_review, assessor), manager)

    in_review.refresh_from_db()
    assert (in_review.status, in_review.round) == (Assessment.Status.OPEN, 2)
    statuses = dict(Response.objects.filter(assessment=in_review).values_list("pk", "status"))
    assert statuses.pop(unfinished.pk) == Response.Status.IN_PROGRESS  # may finish now
    assert set(statuses.values()) == {Response.Status.COMPLETED}  # still counted
    assert Response.objects.members().completed().filter(assessment=in_review).count() == 3
    event = in_review.audit_events.get(action=AuditEvent.Action.REOPENED)
    assert event.after["responses_reopened"] == 1


@pytest.mark.django_db
def test_a_member_may_revise_only_answers_of_an_earlier_round(in_review, assessor):
    member = Response.objects.filter(assessment=in_review).first()
    with pytest.raises(services.ServiceError, match="closed"):
        services.response_revise(response=member)  # in review: nothing changes

    reopen(returned(in_review, assessor), manager_of(in_review))
    member.refresh_from_db()
    assert services.response_revise(response=member)
    assert services.response_revise(response=member) is False  # a second click
    assert services.response_complete(response=member)

    member.refresh_from_db()
    assert (member.status, member.completed_round) == (Response.Status.COMPLETED, 2)
    with pytest.raises(services.ServiceError, match="already submitted"):
        services.response_revise(response=member)  # final for this round


@pytest.mark.django_db
def test_the_assessor_sees_who_was_invited_and_whose_answers_count(assessor_client, in_review):
    """So that made-up addresses answered by the manager can be spotted."""
    make_response(in_review, levels=[1], status="closed")
    own = make_invitation(in_review, email=manager_of(in_review).email.upper())
    make_response(in_review, invitation=own, levels=[5], status="completed")

    page = assessor_client.get(url("review_detail", in_review))

    invitees = {i.email: i.counted for i in page.context["invitees"]}
    assert len(invitees) == 5
    assert sum(invitees.values()) == 3  # the unfinished one and the manager's own do not
    assert invitees[own.email] is False
    assert "Who was invited" in page.text
    for email in invitees:
        assert email in page.text
