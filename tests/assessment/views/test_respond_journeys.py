"""Respondents (issue 13): a returning member, dead links that say why at once, review
rounds reopened by section, no false conflict with one's own save, and the words."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessment import access, services
from assessment.models import Answer, Assessment, Invitation, Reopening, Response
from frameworks.models import Question, Section
from tests.assessment.views.test_respond import asked, autosave, member_client, token_from
from tests.factories import (
    make_assessment,
    make_manager_response,
    make_opened_assessment,
    make_organisation,
    make_response,
    make_team,
)

LANDING = reverse("assessment:invitation_landing")


@pytest.fixture
def open_assessment(db):
    organisation = make_organisation("Harbour Ltd")
    team = make_team(organisation, "Night desk", members=2)
    return make_opened_assessment(team, due_date=date(2031, 3, 14))


def open_link(client, token: str):
    """Follow the e-mailed link (GET only, as a mail scanner or a returning member does)."""
    first = client.get(reverse("assessment:invitation_open", kwargs={"token": token}))
    assert first["Location"] == LANDING
    return client.get(LANDING)


def holds(client, *responses) -> None:
    """The browser holds these responses, as after following their invitation links."""
    session = client.session
    session[access.SESSION_RESPONSES] = [r.pk for r in responses]
    session.save()


# --- a returning member ------------------------------------------------------------


@pytest.mark.django_db
def test_a_returning_member_goes_straight_back_to_the_questionnaire(
    client, open_assessment, mailoutbox
):
    token = token_from(mailoutbox[0])
    pk = member_client(client, mailoutbox)

    again = open_link(client, token)

    assert again.status_code == 302
    # Straight to the section where they stopped (no detour through response_start).
    assert again["Location"].startswith(f"/responses/{pk}/sections/")
    section = client.get(again["Location"])
    assert section.status_code == 200
    assert 'class="card mb-3 question"' in section.text


@pytest.mark.django_db
def test_a_returning_member_who_completed_lands_on_the_review_page(
    client, open_assessment, mailoutbox
):
    token = token_from(mailoutbox[0])
    pk = member_client(client, mailoutbox)
    client.post(reverse("assessment:complete", kwargs={"pk": pk}), {"confirm": "yes"})

    again = open_link(client, token)

    assert again["Location"] == reverse("assessment:review", kwargs={"pk": pk})
    assert "Your answers are submitted" in client.get(again["Location"]).text


@pytest.mark.django_db
def test_a_returning_member_does_not_spend_a_fresh_link(client, open_assessment, mailoutbox):
    pk = member_client(client, mailoutbox)
    invitation = Invitation.objects.get(response__pk=pk)
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_at=timezone.now() - timedelta(minutes=10)
    )
    invitation.refresh_from_db()
    services.invitation_send(invitation=invitation)  # the manager sends the link again
    fresh = token_from(mailoutbox[-1])

    again = open_link(client, fresh)

    assert again["Location"].startswith(f"/responses/{pk}/sections/")
    assert Invitation.objects.get(pk=invitation.pk).token_used_at is None


@pytest.mark.django_db
def test_the_landing_without_a_link_offers_the_questionnaires_this_browser_holds(
    client, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)

    page = client.get(LANDING)

    assert page.status_code == 200
    assert "Continue my questionnaire" in page.text
    assert reverse("assessment:response_start", kwargs={"pk": pk}) in page.text


@pytest.mark.django_db
def test_the_landing_without_a_link_offers_nothing_to_a_stranger(client, open_assessment):
    page = client.get(LANDING)

    assert page.status_code == 200
    assert "Continue my questionnaire" not in page.text
    assert "/responses/" not in page.text


@pytest.mark.django_db
def test_someone_elses_used_link_neither_reveals_nor_attaches_their_response(
    client, client_factory, open_assessment, mailoutbox
):
    mine = member_client(client, mailoutbox, index=0)
    theirs_browser = client_factory()
    theirs = member_client(theirs_browser, mailoutbox, index=1)

    page = open_link(client, token_from(mailoutbox[1]))  # their link, in my browser

    assert page.status_code == 410
    assert "already been used" in page.text
    assert f"/responses/{theirs}/" not in page.text
    assert client.session[access.SESSION_RESPONSES] == [mine]
    section = open_assessment.framework_versions.get().sections.first()
    url = reverse("assessment:section", kwargs={"pk": theirs, "section_pk": section.pk})
    assert client.get(url).status_code == 404


# --- dead links say why on first view ------------------------------------------------


@pytest.mark.django_db
def test_a_used_link_says_so_at_once_and_offers_a_fresh_one(
    client, client_factory, open_assessment, mailoutbox
):
    token = token_from(mailoutbox[0])
    member_client(client, mailoutbox)
    other = client_factory()

    page = open_link(other, token)

    assert page.status_code == 410
    assert "already been used" in page.text
    assert "E-mail me a fresh link" in page.text
    assert "Open my questionnaire" not in page.text
    Invitation.objects.update(sent_at=timezone.now() - timedelta(minutes=10))
    sent_before = len(mailoutbox)
    assert other.post(reverse("assessment:invitation_renew")).status_code == 200
    assert len(mailoutbox) == sent_before + 1


@pytest.mark.django_db
def test_an_expired_link_says_so_at_once_without_spending_anything(
    client, open_assessment, mailoutbox
):
    Invitation.objects.update(token_expires_at=timezone.now() - timedelta(minutes=1))

    page = open_link(client, token_from(mailoutbox[0]))

    assert page.status_code == 410
    assert "expired" in page.text
    assert "E-mail me a fresh link" in page.text
    assert "Open my questionnaire" not in page.text
    assert not Invitation.objects.filter(token_used_at__isnull=False).exists()


@pytest.mark.django_db
def test_a_link_to_a_closed_assessment_says_there_is_nothing_to_do(
    client, open_assessment, mailoutbox
):
    Assessment.objects.filter(pk=open_assessment.pk).update(status=Assessment.Status.SUBMITTED)

    page = open_link(client, token_from(mailoutbox[0]))

    assert page.status_code == 410
    assert "This assessment is closed." in page.text
    assert "nothing more to do" in page.text
    assert "E-mail me a fresh link" not in page.text
    assert "Open my questionnaire" not in page.text


@pytest.mark.django_db
def test_a_withdrawn_link_says_so_at_once(client, open_assessment, mailoutbox):
    invitation = Invitation.objects.get(email=mailoutbox[0].to[0])
    services.invitation_revoke(invitation=invitation)

    page = open_link(client, token_from(mailoutbox[0]))

    assert page.status_code == 410
    assert "withdrawn" in page.text
    assert "E-mail me a fresh link" not in page.text
    assert "Open my questionnaire" not in page.text


@pytest.mark.django_db
def test_a_damaged_link_says_so_at_once(client, open_assessment, mailoutbox):
    page = open_link(client, token_from(mailoutbox[0]) + "x")

    assert page.status_code == 404
    assert "not valid" in page.text
    assert "Open my questionnaire" not in page.text


@pytest.mark.django_db
def test_a_live_link_is_only_inspected_by_a_get(client, open_assessment, mailoutbox):
    page = open_link(client, token_from(mailoutbox[0]))

    assert page.status_code == 200
    assert "Open my questionnaire" in page.text
    assert not Invitation.objects.filter(token_used_at__isnull=False).exists()
    assert not Response.objects.exists()


# --- words ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_first_page_names_the_organisation_team_due_date_length_and_anonymity(
    client, open_assessment, mailoutbox
):
    questions = asked(open_assessment).count()  # the team's questions only

    page = open_link(client, token_from(mailoutbox[0]))

    assert "Harbour Ltd" in page.text
    assert "Night desk" in page.text
    assert "14 March 2031" in page.text
    assert f"{questions} questions" in page.text
    assert "about " in page.text
    assert " minutes" in page.text
    assert f"at least {settings.ANONYMITY_THRESHOLD} team members" in page.text


@pytest.mark.django_db
def test_the_first_section_page_also_introduces_the_assessment(client, open_assessment, mailoutbox):
    pk = member_client(client, mailoutbox)

    page = client.get(reverse("assessment:response_start", kwargs={"pk": pk}), follow=True)

    assert "Harbour Ltd" in page.text
    assert "Night desk" in page.text
    assert "14 March 2031" in page.text
    assert " minutes" in page.text


@pytest.mark.django_db
def test_the_managers_own_thank_you_page_says_their_answers_sit_beside_the_teams(client):
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="open", version=1)
    response = make_manager_response(assessment, organisation.manager, levels=[3])
    client.force_login(organisation.manager)

    page = client.get(reverse("assessment:review", kwargs={"pk": response.pk}))

    assert "only ever sees them combined" not in page.text
    assert "beside the team" in page.text


@pytest.mark.django_db
def test_a_managers_thank_you_page_in_frameworks_v2_says_whom_they_answered_as(client):
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="open")
    response = make_manager_response(assessment, organisation.manager, levels=[3])
    client.force_login(organisation.manager)

    page = client.get(reverse("assessment:review", kwargs={"pk": response.pk}))

    assert "only ever sees them combined" not in page.text
    assert "beside the team" not in page.text
    assert "the management's answers" in page.text


@pytest.mark.django_db
def test_the_questions_come_before_the_progress_list(client, open_assessment, mailoutbox):
    pk = member_client(client, mailoutbox)

    page = client.get(reverse("assessment:response_start", kwargs={"pk": pk}), follow=True)

    assert page.text.index('id="question-') < page.text.index('id="progress-heading"')


# --- no false conflict with one's own save --------------------------------------------


@pytest.mark.django_db
def test_a_stale_revision_with_the_same_input_is_saved_not_a_conflict(
    client, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)
    question = asked(open_assessment).first()
    autosave(client, pk, question, level="4", comment="Same", revision=0)  # revision 1

    again = autosave(client, pk, question, level="4", comment="Same", revision=0)

    assert again.status_code == 200
    assert 'value="1"' in again.text
    assert Answer.objects.get(response_id=pk, question=question).revision == 1


@pytest.mark.django_db
def test_save_and_continue_right_after_an_autosave_of_the_same_input_moves_on(
    client, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)
    sections = list(open_assessment.framework_versions.get().sections.order_by("position"))
    questions = list(sections[0].questions.asked_of("team"))
    autosave(client, pk, questions[0], level="2", revision=0)  # in flight as the page is sent
    data = {}
    for q in questions:
        data |= {f"q{q.pk}-level": "2", f"q{q.pk}-comment": "", f"q{q.pk}-revision": 0}

    page = client.post(
        reverse("assessment:section", kwargs={"pk": pk, "section_pk": sections[0].pk}), data
    )

    assert page.status_code == 302
    assert Answer.objects.filter(response_id=pk, level=2).count() == len(questions)


@pytest.mark.django_db
def test_a_stale_revision_with_other_input_is_still_a_conflict(client, open_assessment, mailoutbox):
    pk = member_client(client, mailoutbox)
    question = asked(open_assessment).first()
    autosave(client, pk, question, level="4", comment="Same", revision=0)

    other = autosave(client, pk, question, level="4", comment="Different", revision=0)

    assert (other.status_code, "newer answer" in other.text) == (200, True)
    assert Answer.objects.get(response_id=pk, question=question).comment == "Same"


# --- reopened by section ---------------------------------------------------------------


def reopened(*, status: str = "revising", open_sections: int = 1, note: str = "Look again."):
    """An assessment in round 2, reopened for its first ``open_sections`` sections, with a
    member who completed in round 1 (``status`` now): (response, open, locked sections)."""
    organisation = make_organisation("Harbour Ltd")
    assessment = make_assessment(make_team(organisation), status="open")
    Assessment.objects.filter(pk=assessment.pk).update(round=2)
    assessment.refresh_from_db()
    sections = list(Section.objects.filter(version__assessments=assessment).order_by("position"))
    reopening = Reopening.objects.create(
        assessment=assessment, round=2, note=note, created_by=organisation.manager
    )
    reopening.sections.set(sections[:open_sections])
    response = make_response(assessment, levels=[2], status="completed")
    Response.objects.filter(pk=response.pk).update(
        status=status, completed_round=1, completed_at=timezone.now()
    )
    response.refresh_from_db()
    return response, sections[:open_sections], sections[open_sections:]


def questionnaire(text: str) -> str:
    """The questionnaire's form, from a section page."""
    return text.split('class="questionnaire"', 1)[1].split("</form>", 1)[0]


def answer(question, *, level=5, revision=1, comment=""):
    return services.AnswerInput(
        question_id=question.pk,
        level=level,
        not_applicable=False,
        comment=comment,
        base_revision=revision,
    )


@pytest.mark.django_db
def test_answers_outside_the_reopened_sections_are_refused():
    response, open_sections, locked = reopened()
    inside = open_sections[0].questions.asked_of("team").first()
    outside = locked[0].questions.asked_of("team").first()

    with pytest.raises(services.ServiceError, match="not open for changes"):
        services.answers_save(response=response, answers=[answer(inside), answer(outside)])

    assert not Answer.objects.filter(response=response, level=5).exists()
    outcome = services.answers_save(response=response, answers=[answer(inside)])
    assert [s.question_id for s in outcome.saved] == [inside.pk]


@pytest.mark.django_db
def test_autosave_outside_the_reopened_sections_answers_400_with_the_reason(client):
    response, _open, locked = reopened()
    holds(client, response)
    question = locked[0].questions.asked_of("team").first()

    result = autosave(client, response.pk, question, level="5", revision=1)

    assert result.status_code == 400
    assert "not open for changes" in result.text
    assert Answer.objects.get(response=response, question=question).level == 2


@pytest.mark.django_db
def test_a_response_never_completed_may_answer_every_section_of_a_reopened_round(client):
    response, _open, locked = reopened()
    Response.objects.filter(pk=response.pk).update(status="in_progress", completed_round=None)
    response.refresh_from_db()
    holds(client, response)
    question = locked[0].questions.asked_of("team").first()

    result = autosave(client, response.pk, question, level="5", revision=1)
    page = client.get(
        reverse("assessment:section", kwargs={"pk": response.pk, "section_pk": locked[0].pk})
    )

    assert result.status_code == 200
    assert "not open for changes" not in page.text
    assert "data-autosave=" in page.text
    assert "disabled" not in questionnaire(page.text)


@pytest.mark.django_db
def test_a_reopened_questionnaire_shows_the_note_and_locks_the_other_sections(client):
    response, open_sections, locked = reopened(note="Check the rota answers, please.")
    holds(client, response)

    def section_page(section):
        return client.get(
            reverse("assessment:section", kwargs={"pk": response.pk, "section_pk": section.pk})
        ).text

    open_page, locked_page = section_page(open_sections[0]), section_page(locked[0])

    for text in (open_page, locked_page):
        assert "Check the rota answers, please." in text
        assert open_sections[0].name in text
    assert 'class="card mb-3 question"' in open_page
    assert "data-autosave=" in open_page
    assert "disabled" not in questionnaire(open_page)
    assert "This section is not open for changes in this round" in locked_page
    assert "data-autosave=" not in locked_page
    assert locked_page.count("disabled") >= locked[0].questions.asked_of("team").count()
    assert 'name="q' in locked_page  # the answers stay visible
    assert "section-locked" in open_page  # the progress list marks the locked ones


@pytest.mark.django_db
def test_the_review_page_of_a_reopened_round_shows_the_note_and_the_open_sections(client):
    response, open_sections, _locked = reopened(
        status="completed", note="Two sections need a look."
    )
    holds(client, response)

    page = client.get(reverse("assessment:review", kwargs={"pk": response.pk}))

    assert "Two sections need a look." in page.text
    assert open_sections[0].name in page.text
    assert "Change my answers" in page.text


@pytest.mark.django_db
def test_completing_again_marks_only_the_answers_whose_value_changed():
    response, open_sections, _locked = reopened(open_sections=2)
    questions = list(
        Question.objects.filter(section__in=open_sections)
        .asked_of("team")
        .order_by("section__position", "position")
    )
    stored = {a.question_id: a for a in Answer.objects.filter(response=response)}
    Answer.objects.filter(pk=stored[questions[0].pk].pk).update(level=4, revision=2)  # moved
    Answer.objects.filter(pk=stored[questions[1].pk].pk).update(revision=7)  # saved, same
    Answer.objects.filter(pk=stored[questions[2].pk].pk).update(
        level=None, not_applicable=True
    )  # now N/A
    Answer.objects.filter(pk=stored[questions[3].pk].pk).update(comment="New note")
    Answer.objects.filter(pk=stored[questions[5].pk].pk).update(
        level=None, dont_know=True
    )  # now "don't know"
    fresh = questions[4]
    Answer.objects.filter(pk=stored[fresh.pk].pk).delete()
    services.answers_save(response=response, answers=[answer(fresh, level=3, revision=0)])

    services.response_complete(response=response)

    changed = set(
        Answer.objects.filter(response=response, changed_round=2).values_list(
            "question_id", flat=True
        )
    )
    assert changed == {
        questions[0].pk,
        questions[2].pk,
        questions[3].pk,
        questions[5].pk,
        fresh.pk,
    }
    assert not Answer.objects.filter(response=response, changed_round=1).exists()
    assert Answer.objects.get(response=response, question=questions[5]).submitted_dont_know


@pytest.mark.django_db
def test_a_first_completion_marks_nothing_as_changed():
    assessment = make_assessment(make_team(make_organisation()), status="open")
    response = make_response(assessment, levels=[2, None])

    services.response_complete(response=response)

    assert not Answer.objects.filter(changed_round__isnull=False).exists()


@pytest.mark.django_db
def test_completing_again_takes_the_same_queries_for_any_number_of_answers():
    counts = []
    for n in (1, 4):
        response, open_sections, _locked = reopened()
        for question in open_sections[0].questions.asked_of("team")[:n]:
            Answer.objects.filter(response=response, question=question).update(level=5)
        response = Response.objects.select_related("assessment").get(pk=response.pk)
        with CaptureQueriesContext(connection) as queries:
            services.response_complete(response=response)
        counts.append(len(queries))

    assert counts[0] == counts[1], counts


@pytest.mark.django_db
def test_revising_lets_a_member_change_an_open_section_and_complete_again(client):
    response, open_sections, _locked = reopened(status="completed")
    holds(client, response)
    question = open_sections[0].questions.asked_of("team").first()

    client.post(reverse("assessment:revise", kwargs={"pk": response.pk}))
    saved = autosave(client, response.pk, question, level="5", revision=1)
    client.post(reverse("assessment:complete", kwargs={"pk": response.pk}), {"confirm": "yes"})

    assert saved.status_code == 200
    stored = Answer.objects.get(response=response, question=question)
    assert (stored.submitted_level, stored.changed_round) == (5, 2)
    response.refresh_from_db()
    assert (response.status, response.completed_round) == ("completed", 2)


@pytest.mark.django_db
def test_after_the_managers_reopening_a_member_changes_only_its_sections(client):
    organisation = make_organisation("Harbour Ltd")
    assessment = make_assessment(make_team(organisation), status="open")
    response = make_response(assessment, levels=[2])
    services.response_complete(response=response)
    Assessment.objects.filter(pk=assessment.pk).update(status=Assessment.Status.RETURNED)
    assessment.refresh_from_db()
    sections = list(Section.objects.filter(version__assessments=assessment).order_by("position"))
    services.assessment_reopen(
        assessment=assessment,
        by=organisation.manager,
        sections=[sections[1]],
        note="Tell us more about complaints.",
    )
    holds(client, response)

    review = client.get(reverse("assessment:review", kwargs={"pk": response.pk}))
    client.post(reverse("assessment:revise", kwargs={"pk": response.pk}))
    inside = autosave(
        client, response.pk, sections[1].questions.asked_of("team").first(), level="4", revision=1
    )
    outside = autosave(
        client, response.pk, sections[0].questions.asked_of("team").first(), level="4", revision=1
    )
    client.post(reverse("assessment:complete", kwargs={"pk": response.pk}), {"confirm": "yes"})

    assert "Tell us more about complaints." in review.text
    assert sections[1].name in review.text
    assert (inside.status_code, outside.status_code) == (200, 400)
    changed = Answer.objects.filter(response=response, changed_round=2)
    assert list(changed.values_list("question_id", flat=True)) == [
        sections[1].questions.asked_of("team").first().pk
    ]
