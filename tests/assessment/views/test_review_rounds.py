"""Review rounds (issue 13): what changed since the last decision, moderations from an earlier
round, and a return that names sections.

The team revises through the real services (``response_revise``, ``answers_save``,
``response_complete``), so "answers changed" is what completing again recorded.
"""

import pytest
from django.core import mail
from django.urls import reverse

from assessment import services
from assessment.models import Answer, Assessment, AuditEvent, Decision, Moderation, Response
from assessment.selectors import results
from assessment.selectors import review as review_selectors
from assessment.selectors.manager import assessment_sections
from frameworks.models import Question, Section
from tests.factories import (
    answer_inputs,
    judge_criteria,
    make_assessor,
    make_opened_assessment,
    make_organisation,
    make_response,
    make_team,
    make_user,
)


def url(name: str, assessment, fragment: str = "") -> str:
    return reverse(f"assessment:{name}", kwargs={"pk": assessment.pk}) + fragment


def section(assessment, key: str) -> Section:
    return Section.objects.get(version__assessments=assessment, key=key)


@pytest.fixture
def world(db):
    """Harbour Ltd's help desk: three members answered every question they are asked (the
    team's, in Win4 version 2) at level 2 (one more invitee never finished), submitted,
    and in review by alex."""
    organisation = make_organisation("Harbour Ltd", manager="harriet")
    team = make_team(organisation, "Help desk", members=4)
    assessment = make_opened_assessment(team, title="Winter review")
    questions = list(
        Question.objects.filter(version__assessments=assessment)
        .asked_of("team")
        .select_related("section")
    )
    invitations = list(assessment.invitations.order_by("pk"))
    members = []
    for invitation in invitations[:3]:
        response = make_response(assessment, invitation=invitation)
        services.answers_save(response=response, answers=answer_inputs(questions, level=2))
        services.response_complete(response=response)
        members.append(response)
    late = make_response(assessment, invitation=invitations[3])  # never finished in round 1
    services.assessment_submit(assessment=assessment, by=organisation.manager)
    assessor = make_assessor("alex")
    services.assessor_assign(
        assessment=assessment, assessor=assessor, by=make_user("stella", is_staff=True)
    )
    assessment.refresh_from_db()
    return {
        "assessment": assessment,
        "manager": organisation.manager,
        "assessor": assessor,
        "members": members,
        "late": late,
        "questions": questions,
    }


def return_and_reopen(w, *, keys=("customers",), moderate: dict | None = None):
    """Round 1: optional moderations, a return naming ``keys``; the manager reopens them."""
    assessment = w["assessment"]
    for key, (score, rationale) in (moderate or {}).items():
        services.moderation_record(
            assessment=assessment,
            section_id=section(assessment, key).pk,
            assessor=w["assessor"],
            score=score,
            rationale=rationale,
        )
    chosen = [section(assessment, key) for key in keys]
    services.decision_return(
        assessment=assessment,
        assessor=w["assessor"],
        required_changes="Show evidence for the customer scores.",
        sections=chosen,
        snapshot=review_selectors.decision_snapshot(assessment),
    )
    services.assessment_reopen(
        assessment=assessment, by=w["manager"], sections=chosen, note="Customers, please."
    )
    assessment.refresh_from_db()
    return assessment


def revise(response, changes: dict[int, int]) -> None:
    """The member changes answers (question pk -> level) and completes again."""
    response.refresh_from_db()
    services.response_revise(response=response)
    current = {a.question_id: a for a in response.answers.all()}
    services.answers_save(
        response=response,
        answers=[
            services.AnswerInput(
                question_id=pk,
                level=level,
                not_applicable=False,
                comment=current[pk].comment,
                base_revision=current[pk].revision,
            )
            for pk, level in changes.items()
        ],
    )
    assert services.response_complete(response=response)


def finish(response, questions, level: int) -> None:
    response.refresh_from_db()
    services.answers_save(response=response, answers=answer_inputs(questions, level=level))
    assert services.response_complete(response=response)


def resubmit(w) -> Assessment:
    assessment = w["assessment"]
    services.assessment_submit(assessment=assessment, by=w["manager"])
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.IN_REVIEW
    return assessment


def customers_questions(w) -> list[Question]:
    return [q for q in w["questions"] if q.section.key == "customers"]


@pytest.fixture
def assessor_client(client, world):
    client.force_login(world["assessor"])
    return client


# --- what changed ------------------------------------------------------------------------


@pytest.mark.django_db
def test_what_changed_counts_answers_whose_value_changed_not_answers_saved_again(
    world, assessor_client
):
    return_and_reopen(world)
    first, second, third = customers_questions(world)[:3]
    # Two answers move; a third is saved again with the same level, which is no change.
    revise(world["members"][0], {first.pk: 4, second.pk: 5, third.pk: 2})
    revise(world["members"][1], {})  # completes again without changing anything
    assessment = resubmit(world)

    page = assessor_client.get(url("review_detail", assessment))

    changes = page.context["changes"]
    counts = {row.section: row.changed_answers for row in changes.rows}
    assert counts == {
        "Customers": 2,
        "Employees and line managers": 0,
        "The company": 0,
        "Shareholders and owners": 0,
    }
    assert Answer.objects.filter(changed_round=2).count() == 2
    assert changes.revised == 2
    assert changes.first_completions == 0
    assert "2 answers changed their level, “not applicable” or comment in round 2." in page.text
    assert "2 team members completed their answers again." in page.text


@pytest.mark.django_db
def test_then_and_now_show_the_teams_score_and_the_moderated_score_apart(world, assessor_client):
    return_and_reopen(world, moderate={"customers": ("25", "Complaint logs are thin.")})
    customers = customers_questions(world)
    for member in world["members"]:
        revise(member, {q.pk: 3 for q in customers})
    assessment = resubmit(world)

    page = assessor_client.get(url("review_detail", assessment))

    row = next(r for r in page.context["changes"].rows if r.section == "Customers")
    # On the 0-5 scale of version 2, level 2 everywhere is 40 of 100 and level 3 is 60
    # (docs/scoring.md).
    assert (row.team_before, row.team_after) == (40.0, 60.0)
    assert (row.moderated_before, row.moderated_after) == (25.0, 25.0)
    assert row.team_change == 20.0
    assert row.stale  # the moderation is from round 1
    html = page.text
    for heading in ("Team then", "Team now", "Moderated then", "Moderated now"):
        assert heading in html
    assert "(+20)" in html  # the team's move, not the unchanged moderated score
    assert "from round 1" in html


@pytest.mark.django_db
def test_a_decision_stored_with_one_score_per_section_reads_as_shown_then(world, assessor_client):
    assessment = return_and_reopen(world)
    decision = Decision.objects.get(assessment=assessment)
    Decision.objects.filter(pk=decision.pk).update(
        snapshot={"win4": {"customers": 40.0, "employees": None}}  # before issue 13
    )
    assessment = resubmit(world)

    page = assessor_client.get(url("review_detail", assessment))

    changes = page.context["changes"]
    row = next(r for r in changes.rows if r.section == "Customers")
    assert (row.shown_before, row.team_before, row.moderated_before) == (40.0, None, None)
    assert changes.first_completions is None  # that decision did not record who counted
    assert "Shown then" in page.text
    assert "completed their answers for the first time" not in page.text


@pytest.mark.django_db
def test_a_member_who_completes_for_the_first_time_is_counted_apart(world, assessor_client):
    return_and_reopen(world)
    finish(world["late"], world["questions"], level=4)  # closed unfinished, finished now
    assessment = resubmit(world)

    page = assessor_client.get(url("review_detail", assessment))

    changes = page.context["changes"]
    assert (changes.first_completions, changes.revised) == (1, 0)
    # A first completion changes scores but no answer "changed".
    assert changes.changed_answers == 0
    assert "1 team member completed their answers for the first time." in page.text


@pytest.mark.django_db
def test_a_new_decision_stores_the_teams_and_the_moderated_score(world):
    assessment = world["assessment"]
    services.moderation_record(
        assessment=assessment,
        section_id=section(assessment, "customers").pk,
        assessor=world["assessor"],
        score="30",
        rationale="Thin.",
    )

    stored = review_selectors.decision_snapshot(assessment)

    assert stored["win4"]["customers"] == {"team": 40.0, "moderated": 30.0}
    # Version 2 asks the owners' questions of leadership and the manager, and only team
    # members answered: no score.
    assert stored["win4"]["owners"] == {"team": None, "moderated": None}
    assert sorted(stored[review_selectors.COUNTED_KEY]) == sorted(m.pk for m in world["members"])


# --- moderations from an earlier round ----------------------------------------------------


@pytest.mark.django_db
def test_a_moderation_records_the_round_it_was_made_in(world):
    assessment = return_and_reopen(world, moderate={"owners": ("40", "Round one.")})
    resubmit(world)
    services.moderation_record(
        assessment=assessment,
        section_id=section(assessment, "company").pk,
        assessor=world["assessor"],
        score="60",
        rationale="Round two.",
    )

    rounds = dict(Moderation.objects.values_list("rationale", "round"))

    assert rounds == {"Round one.": 1, "Round two.": 2}


@pytest.mark.django_db
def test_approval_is_refused_while_a_moderation_from_an_earlier_round_stands(
    world, assessor_client
):
    return_and_reopen(
        world,
        moderate={"customers": ("25", "Complaint logs are thin."), "owners": ("40", "No plan.")},
    )
    assessment = resubmit(world)

    page = assessor_client.post(
        url("approve", assessment), {"level": "3", "summary": "Evidence now supports it."}
    )

    assert page.status_code == 400
    assert not Decision.objects.filter(outcome=Decision.Outcome.APPROVED).exists()
    assert (
        "Keep or replace the moderated scores from an earlier round before you approve: "
        "Customers, Shareholders and owners." in page.text
    )
    assert 'id="errors"' in page.text  # summarised at the top
    assert page.text.count("Keep this moderation") == 2
    assert ">Evidence now supports it.</textarea>" in page.text  # the input is kept


@pytest.mark.django_db
def test_keeping_a_moderation_records_it_again_in_this_round_and_audits_it(world, assessor_client):
    return_and_reopen(world, moderate={"customers": ("25", "Complaint logs are thin.")})
    assessment = resubmit(world)
    customers = section(assessment, "customers")

    response = assessor_client.post(url("keep_moderation", assessment), {"section": customers.pk})

    assert response.status_code == 302
    assert response["Location"] == url("review_detail", assessment, f"#moderate-{customers.pk}")
    kept = Moderation.objects.latest_per_section(assessment).get(section=customers)
    assert (kept.score, kept.rationale, kept.round) == (25, "Complaint logs are thin.", 2)
    event = AuditEvent.objects.filter(action=AuditEvent.Action.MODERATED).last()
    assert event.after["kept_from_round"] == 1
    assert event.actor == world["assessor"]
    # A second click keeps nothing twice.
    assessor_client.post(url("keep_moderation", assessment), {"section": customers.pk})
    assert Moderation.objects.filter(section=customers).count() == 2
    assert not review_selectors.earlier_round_moderations(assessment)


@pytest.mark.django_db
def test_keeping_needs_a_moderation_of_this_assessment(world, assessor_client):
    assessment = return_and_reopen(world)
    resubmit(world)
    other = Section.objects.exclude(version__assessments=assessment).first()

    for pk in (section(assessment, "owners").pk, other.pk):
        page = assessor_client.post(url("keep_moderation", assessment), {"section": pk})
        assert page.status_code == 400
    assert not Moderation.objects.exists()


@pytest.mark.django_db
def test_the_approved_report_carries_only_this_rounds_rationale(world):
    assessment = return_and_reopen(world, moderate={"customers": ("25", "Round one reason.")})
    resubmit(world)
    with pytest.raises(services.ServiceError, match="Customers"):
        services.decision_approve(
            assessment=assessment, assessor=world["assessor"], level=3, summary="Ok.", snapshot={}
        )
    services.moderation_record(
        assessment=assessment,
        section_id=section(assessment, "customers").pk,
        assessor=world["assessor"],
        score="55",
        rationale="Round two: evidence seen.",
    )
    judge_criteria(assessment, world["assessor"])

    services.decision_approve(
        assessment=assessment, assessor=world["assessor"], level=3, summary="Ok.", snapshot={}
    )

    assessment.refresh_from_db()
    rows = [row for panel in results.assessment_results(assessment).panels for row in panel.rows]
    customers = next(row for row in rows if row.key == "customers")
    assert (customers.moderated, customers.rationale) == (55.0, "Round two: evidence seen.")
    assert all("Round one" not in row.rationale for row in rows)


# --- a return that names sections ---------------------------------------------------------


@pytest.mark.django_db
def test_a_return_names_sections_shown_in_the_history_and_the_email(
    world, assessor_client, mailoutbox, django_capture_on_commit_callbacks
):
    assessment = world["assessment"]
    customers, owners = section(assessment, "customers"), section(assessment, "owners")

    with django_capture_on_commit_callbacks(execute=True):
        response = assessor_client.post(
            url("return", assessment),
            {"required_changes": "Show evidence.", "sections": [customers.pk, owners.pk]},
        )

    assert response.status_code == 302
    assert response["Location"] == url("review_detail", assessment, "#decision")
    decision = Decision.objects.get()
    assert set(decision.required_sections.all()) == {customers, owners}
    page = assessor_client.get(url("review_detail", assessment))
    assert "Sections to look at again:" in page.text
    assert "Customers, Shareholders and owners" in page.text
    body = next(m for m in mail.outbox if m.subject.startswith("Review decision")).body
    assert "Sections the assessor asks the team to look at again:" in body
    assert "- Customers\n- Shareholders and owners" in body


@pytest.mark.django_db
def test_the_return_form_offers_sections_per_framework_and_refuses_others(world, assessor_client):
    assessment = world["assessment"]
    page = assessor_client.get(url("review_detail", assessment))
    form = page.text[page.text.index('id="return-form"') :]
    form = form[: form.index("</form>")]
    assert '<legend class="h6">Sections to look at again</legend>' in form
    assert "<legend" in form.split("Sections to look at again", 1)[1]  # a framework's legend
    assert form.count('type="checkbox" name="sections"') == assessment_sections(assessment).count()

    other = Section.objects.exclude(version__assessments=assessment).first()
    refused = assessor_client.post(
        url("return", assessment), {"required_changes": "Show evidence.", "sections": [other.pk]}
    )

    assert refused.status_code == 400
    assert not Decision.objects.exists()
    assert 'href="#return-sections"' in refused.text  # the summary links to the field
    assert ">Show evidence.</textarea>" in refused.text


# --- the workspace's forms ----------------------------------------------------------------


@pytest.mark.django_db
def test_moderation_forms_are_fieldsets_and_errors_are_summarised_with_links(
    world, assessor_client
):
    assessment = world["assessment"]
    customers = section(assessment, "customers")

    page = assessor_client.post(
        url("moderate", assessment), {"section": customers.pk, "score": "150", "rationale": ""}
    )

    assert page.status_code == 400
    text = page.text
    assert text.count("<fieldset>") >= assessment_sections(assessment).count()
    assert '<legend class="h6">Customers</legend>' in text
    summary = text[text.index('id="errors"') : text.index("</ul>", text.index('id="errors"'))]
    assert 'tabindex="-1"' in summary
    assert f'href="#score-{customers.pk}"' in summary
    assert f'href="#rationale-{customers.pk}"' in summary
    assert "Customers: The moderated score must be a number from 0 to 100." in summary
    assert f'aria-describedby="score-{customers.pk}-error"' in text
    assert f'aria-describedby="rationale-{customers.pk}-error"' in text
    assert f'action="{url("moderate", assessment)}#errors"' in text


@pytest.mark.django_db
def test_the_workspace_queries_stay_fixed_in_a_second_round(world, assessor_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    return_and_reopen(world, moderate={"customers": ("25", "Thin.")})
    assessment = resubmit(world)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert assessor_client.get(url("review_detail", assessment)).status_code == 200
        return len(queries)

    before = count()
    for _ in range(5):
        make_response(assessment, levels=[1, 5], status="completed")
    assert count() == before
    assert Response.objects.filter(assessment=assessment).count() == 9
