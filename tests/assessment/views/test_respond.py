"""Respondents: invitation links, autosave, save-and-continue, review and completion."""

import io
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessment import access, services
from assessment.forms.respondent import field_names
from assessment.models import Answer, Assessment, Invitation, Response, token_digest
from frameworks.loading import MAX_QUESTIONS_PER_SECTION
from frameworks.models import Question, Section
from tests.factories import (
    framework_document,
    make_assessment,
    make_comment,
    make_opened_assessment,
    make_organisation,
    make_response,
    make_team,
    write_framework,
)
from tests.threads import run_together


@pytest.fixture
def open_assessment(db):
    organisation = make_organisation()
    return make_opened_assessment(make_team(organisation, members=2))


def token_from(mail) -> str:
    return re.search(r"/r/([^/\s]+)/", mail.body).group(1)


def redeem(client, token: str):
    """Follow the e-mailed link, then press "Open my questionnaire" (a POST)."""
    first = client.get(reverse("assessment:invitation_open", kwargs={"token": token}))
    return first, client.post(first["Location"])


def member_client(client, mailoutbox, index: int = 0):
    token = token_from(mailoutbox[index])
    _first, landing = redeem(client, token)
    return int(landing["Location"].strip("/").split("/")[1])


def asked(assessment, audience: str = "team"):
    """The questions of the assessment a person of this audience answers, in order."""
    return (
        Question.objects.filter(version__assessments=assessment)
        .asked_of(audience)
        .order_by("version__framework__slug", "section__position", "position")
    )


def autosave(client, response_pk, question, *, level="3", comment="", revision=0):
    """One changed question, as the page's script posts it to the batch autosave."""
    prefix = f"q{question.pk}"
    return client.post(
        reverse("assessment:answers", kwargs={"pk": response_pk}),
        {f"{prefix}-level": level, f"{prefix}-comment": comment, f"{prefix}-revision": revision},
        headers={"X-CSRFToken": "ignored-by-the-test-client"},
    )


def saved_ids(result) -> list[int]:
    """The questions the autosave's reply says were saved (its X-Answers-Saved header)."""
    return [int(pk) for pk in result["X-Answers-Saved"].split()]


# --- links ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_link_moves_its_token_into_the_session_and_leaves_the_url_clean(
    client, open_assessment, mailoutbox
):
    first, landing = redeem(client, token_from(mailoutbox[0]))

    assert first.status_code == 302
    assert first["Location"] == reverse("assessment:invitation_landing")
    assert first["Referrer-Policy"] == "no-referrer"
    assert landing.status_code == 302
    assert "/responses/" in landing["Location"]


@pytest.mark.django_db
def test_only_the_hash_of_a_token_is_stored(open_assessment, mailoutbox):
    token = token_from(mailoutbox[0])

    assert len(token) >= 43  # 32 random bytes, URL-safe base64: 256 bits
    assert not Invitation.objects.filter(token_hash=token).exists()
    assert Invitation.objects.filter(token_hash=token_digest(token)).exists()


@pytest.mark.django_db
def test_a_token_works_only_once(client, client_factory, open_assessment, mailoutbox):
    token = token_from(mailoutbox[0])
    redeem(client, token)

    _first, again = redeem(client_factory(), token)

    assert again.status_code == 410
    assert "already been used" in again.text
    assert "E-mail me a fresh link" in again.text


@pytest.mark.django_db
def test_an_expired_token_is_refused_clearly(client, open_assessment, mailoutbox):
    Invitation.objects.update(token_expires_at=timezone.now() - timedelta(minutes=1))

    _first, landing = redeem(client, token_from(mailoutbox[0]))

    assert landing.status_code == 410
    assert "expired" in landing.text
    assert Response.objects.count() == 0


@pytest.mark.django_db
def test_a_tampered_token_is_refused_clearly(client, open_assessment, mailoutbox):
    token = token_from(mailoutbox[0])

    _first, landing = redeem(client, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))

    assert landing.status_code == 404
    assert "not valid" in landing.text
    assert Response.objects.count() == 0


@pytest.fixture
def used_link(client, client_factory, open_assessment, mailoutbox):
    """The first invitee's link, used in ``client`` and then opened in another browser:
    the link's token and the other browser."""
    token = token_from(mailoutbox[0])
    redeem(client, token)
    other = client_factory()
    redeem(other, token)
    return token, other


@pytest.mark.django_db
def test_a_used_link_can_ask_for_a_fresh_one_by_email(used_link, mailoutbox):
    token, other = used_link
    sent_before = len(mailoutbox)
    Invitation.objects.update(sent_at=timezone.now() - timedelta(minutes=10))  # a while later

    renewed = other.post(reverse("assessment:invitation_renew"))

    assert renewed.status_code == 200
    assert len(mailoutbox) == sent_before + 1
    assert mailoutbox[-1].to == mailoutbox[0].to
    new_token = token_from(mailoutbox[-1])
    assert new_token != token
    _first, landing = redeem(other, new_token)
    assert landing.status_code == 302  # the same response, resumed
    assert Response.objects.count() == 1


@pytest.mark.django_db
def test_a_revoked_invitation_cannot_be_used(client, open_assessment, mailoutbox):
    invitation = Invitation.objects.get(email=mailoutbox[0].to[0])
    services.invitation_revoke(invitation=invitation)

    _first, landing = redeem(client, token_from(mailoutbox[0]))

    assert "withdrawn" in landing.text
    assert "E-mail me a fresh link" not in landing.text


# --- answering --------------------------------------------------------------------


@pytest.mark.django_db
def test_autosave_stores_an_answer_and_says_saved(client, open_assessment, mailoutbox):
    pk = member_client(client, mailoutbox)
    question = asked(open_assessment).first()

    result = autosave(client, pk, question, level="4", comment="We log every call.")

    assert result.status_code == 200
    assert "Saved" in result.text
    assert 'value="1"' in result.text  # the new revision travels back with the fragment
    answer = Answer.objects.get(response_id=pk, question=question)
    assert (answer.level, answer.comment, answer.revision) == (4, "We log every call.", 1)


@pytest.mark.django_db
def test_not_applicable_is_stored_as_such_and_not_as_a_level(client, open_assessment, mailoutbox):
    pk = member_client(client, mailoutbox)
    question = asked(open_assessment).first()

    autosave(client, pk, question, level="na")

    answer = Answer.objects.get(response_id=pk, question=question)
    assert answer.level is None
    assert answer.not_applicable


@pytest.mark.django_db
def test_a_stale_save_is_a_conflict_and_the_newer_value_is_kept(
    client, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)
    question = asked(open_assessment).first()
    autosave(client, pk, question, level="2", revision=0)  # tab A: revision 1
    autosave(client, pk, question, level="5", revision=1)  # tab A again: revision 2

    stale = autosave(client, pk, question, level="1", comment="From tab B", revision=1)

    assert stale.status_code == 200  # the batch was handled; this answer's state is a conflict
    assert saved_ids(stale) == []
    assert "newer answer" in stale.text
    assert "level 5" in stale.text
    answer = Answer.objects.get(response_id=pk, question=question)
    assert (answer.level, answer.revision, answer.comment) == (5, 2, "")


@pytest.mark.django_db
def test_save_and_continue_shows_a_conflict_with_the_users_input_kept(
    client, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)
    response = Response.objects.get(pk=pk)
    section = open_assessment.framework_versions.get().sections.first()
    questions = list(section.questions.asked_of("team"))
    Answer.objects.create(
        response=response,
        question=questions[0],
        section_id=questions[0].section_id,
        level=5,
        revision=3,
    )
    data = {}
    for q in questions:
        data |= {f"q{q.pk}-level": "2", f"q{q.pk}-comment": f"Mine {q.pk}", f"q{q.pk}-revision": 0}

    page = client.post(
        reverse("assessment:section", kwargs={"pk": pk, "section_pk": section.pk}), data
    )

    assert page.status_code == 409
    assert f"Mine {questions[0].pk}" in page.text  # the user's input is shown back
    assert Answer.objects.get(response=response, question=questions[0]).level == 5
    assert Answer.objects.filter(response=response, level=2).count() == len(questions) - 1


@pytest.mark.django_db
def test_save_and_continue_saves_the_page_and_moves_on(client, open_assessment, mailoutbox):
    pk = member_client(client, mailoutbox)
    sections = list(open_assessment.framework_versions.get().sections.order_by("position"))
    asked_here = list(sections[0].questions.asked_of("team"))
    data = {f"q{q.pk}-level": "3" for q in asked_here}

    result = client.post(
        reverse("assessment:section", kwargs={"pk": pk, "section_pk": sections[0].pk}), data
    )

    assert result.status_code == 302
    assert result["Location"].endswith(f"/sections/{sections[1].pk}/")
    # Every question of the page: the team's questions of the section (four of its seven).
    assert len(asked_here) == 4
    assert Answer.objects.filter(response_id=pk, level=3).count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("level", "comment", "message"),
    [
        ("9", "", "level from 0 to 5"),
        ("6", "", "level from 0 to 5"),
        ("-1", "", "level from 0 to 5"),
        ("x", "", "level from 0 to 5"),
        ("²", "", "level from 0 to 5"),
        ("DK", "", "level from 0 to 5"),
        ("na,dk", "", "level from 0 to 5"),
        ("3", "a" * 2001, "2000"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    client, open_assessment, mailoutbox, level, comment, message
):
    pk = member_client(client, mailoutbox)
    question = asked(open_assessment).first()

    result = autosave(client, pk, question, level=level, comment=comment)

    # A batch whose every answer is bad is refused as a whole (400), saving nothing.
    assert (result.status_code, saved_ids(result)) == (400, [])
    assert message in result.text
    assert not Answer.objects.filter(response_id=pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["0", "dk", "9", "x", "²"])
def test_bad_input_to_a_format_1_question_is_refused_by_its_own_scale(client, level):
    """Format 1 keeps levels 1-5 and one merged "not applicable / don't know": level 0
    and "don't know" are format 2's."""
    assessment = make_assessment(make_team(make_organisation()), status="open", version=1)
    response = make_response(assessment)
    session = client.session
    session[access.SESSION_RESPONSES] = [response.pk]
    session.save()
    question = asked(assessment).first()

    result = autosave(client, response.pk, question, level=level)

    # A batch whose every answer is bad is refused as a whole (400), saving nothing.
    assert (result.status_code, saved_ids(result)) == (400, [])
    assert "level from 1 to 5, or “not applicable”" in result.text
    assert not Answer.objects.filter(response=response).exists()


@pytest.mark.django_db
def test_a_question_of_another_assessment_is_a_404(client, open_assessment, mailoutbox):
    pk = member_client(client, mailoutbox)
    foreign = Question.objects.exclude(version__assessments=open_assessment).first()

    assert autosave(client, pk, foreign).status_code == 404


@pytest.mark.django_db
def test_one_autosave_uses_at_most_five_queries(client, open_assessment, mailoutbox):
    pk = member_client(client, mailoutbox)
    question = asked(open_assessment).first()

    with CaptureQueriesContext(connection) as queries:
        result = autosave(client, pk, question)

    assert result.status_code == 200
    assert len(queries) <= 5, [q["sql"] for q in queries]


def test_the_largest_page_the_loader_allows_stays_below_the_form_field_limit():
    fields_per_question = len(field_names(1))
    largest_page = MAX_QUESTIONS_PER_SECTION * fields_per_question + 1  # + CSRF token

    assert largest_page < settings.DATA_UPLOAD_MAX_NUMBER_FIELDS


def sized_response(client, tmp_path, n: int, levels=None):
    """A response, held by ``client``'s session, to a framework of ``n`` questions a
    section (loaded from a file, as an install's are)."""
    path = write_framework(tmp_path, framework_document(f"size-{n}", questions_per_section=n))
    call_command("load_frameworks", str(path), stdout=io.StringIO())
    assessment = make_assessment(
        make_team(make_organisation(f"Org {n}")), slugs=[f"size-{n}"], status="open"
    )
    response = make_response(assessment, levels=levels)
    session = client.session
    session[access.SESSION_RESPONSES] = [response.pk]
    session.save()
    return response


def queries_of_second_view(client, url: str):
    """The page, and the queries of its second view (the first starts the session's idle
    clock, a session write)."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    return page, len(queries)


@pytest.mark.django_db
def test_the_questionnaire_page_query_count_does_not_grow_with_questions(client, tmp_path):
    counts = {}
    for n in (5, 20):
        response = sized_response(client, tmp_path, n, levels=[2, 4])
        section = Section.objects.filter(version__framework__slug=f"size-{n}").first()
        url = reverse("assessment:section", kwargs={"pk": response.pk, "section_pk": section.pk})
        page, counts[n] = queries_of_second_view(client, url)
        assert page.status_code == 200
        assert page.text.count('class="card mb-3 question"') == n

    assert counts[5] == counts[20], counts


@pytest.mark.django_db
def test_the_review_page_query_count_does_not_grow_with_questions(client, tmp_path):
    counts = {}
    for n in (5, 20):
        response = sized_response(client, tmp_path, n)  # nothing answered: all listed
        url = reverse("assessment:review", kwargs={"pk": response.pk})
        page, counts[n] = queries_of_second_view(client, url)
        assert page.status_code == 200
        asked_count = Question.objects.filter(version__assessments=response.assessment).count()
        assert page.text.count("#question-") == asked_count

    assert counts[5] == counts[20], counts


@pytest.mark.django_db
def test_a_manager_of_another_organisation_cannot_open_a_response(
    client, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)
    outsider = make_organisation("Elsewhere plc", manager="olga")
    section = open_assessment.framework_versions.get().sections.first()
    other = Client()
    other.force_login(outsider.manager)
    for url in [
        reverse("assessment:response_start", kwargs={"pk": pk}),
        reverse("assessment:section", kwargs={"pk": pk, "section_pk": section.pk}),
        reverse("assessment:review", kwargs={"pk": pk}),
    ]:
        assert other.get(url).status_code == 404
    assert autosave(other, pk, section.questions.asked_of("team").first()).status_code == 404


# --- completion and submission ----------------------------------------------------


@pytest.mark.django_db
def test_completing_makes_answers_read_only(client, open_assessment, mailoutbox):
    pk = member_client(client, mailoutbox)
    question = asked(open_assessment).first()
    autosave(client, pk, question, level="3")

    done = client.post(reverse("assessment:complete", kwargs={"pk": pk}), {"confirm": "yes"})
    again = autosave(client, pk, question, level="1", revision=1)

    assert done.status_code == 302
    assert Response.objects.get(pk=pk).status == Response.Status.COMPLETED
    assert again.status_code == 400
    assert Answer.objects.get(response_id=pk, question=question).level == 3


@pytest.mark.django_db
def test_completing_needs_the_confirmation_box(client, open_assessment, mailoutbox):
    pk = member_client(client, mailoutbox)

    client.post(reverse("assessment:complete", kwargs={"pk": pk}))

    assert Response.objects.get(pk=pk).status == Response.Status.IN_PROGRESS


@pytest.mark.django_db
def test_a_double_click_on_submit_completes_once_without_an_error(
    client, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)
    url = reverse("assessment:complete", kwargs={"pk": pk})

    first = client.post(url, {"confirm": "yes"})
    second = client.post(url, {"confirm": "yes"})

    assert (first.status_code, second.status_code) == (302, 302)
    assert "submitted" in client.get(second["Location"]).text


@pytest.mark.django_db
def test_the_review_page_links_every_unanswered_question(client, open_assessment, mailoutbox):
    pk = member_client(client, mailoutbox)
    questions = list(asked(open_assessment))
    autosave(client, pk, questions[0])

    page = client.get(reverse("assessment:review", kwargs={"pk": pk}))

    assert f"{len(questions) - 1} questions are unanswered" in page.text
    for question in questions[1:]:
        assert f"#question-{question.pk}" in page.text
    assert f"#question-{questions[0].pk}" not in page.text


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_submits_make_exactly_one_submission():
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="open")
    make_response(assessment, levels=[3], status="completed")

    results = run_together(
        *[
            lambda: services.assessment_submit(
                assessment=assessment, by=organisation.manager, without_results=True
            )
        ]
        * 10
    )

    assert results.count(True) == 1, results
    assert results.count(False) == 9, results
    assert Assessment.objects.get(pk=assessment.pk).status == Assessment.Status.SUBMITTED


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_completions_of_one_response_complete_it_once():
    assessment = make_assessment(make_team(make_organisation()), status="open")
    response = make_response(assessment, levels=[2])

    results = run_together(
        *[lambda: services.response_complete(response=Response.objects.get(pk=response.pk))] * 10
    )

    assert results.count(True) == 1, results
    assert results.count(False) == 9, results


@pytest.mark.django_db
def test_completing_tests_the_response_status_on_the_updated_row_itself():
    """PostgreSQL re-checks only the updated row's own columns when a concurrent update
    commits first; a status test inside ``id IN (SELECT …)`` let two completions of
    one response both succeed (seen about 2 runs in 8 of the parallel test above)."""
    assessment = make_assessment(make_team(make_organisation()), status="open")
    response = make_response(assessment, levels=[2])

    with CaptureQueriesContext(connection) as queries:
        services.response_complete(response=response)

    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "assessment_response"')]
    assert len(updates) == 1
    # The outer WHERE comes last (the round is read by a subquery in SET); a status test
    # inside a subquery would name its table by an alias (U0), not assessment_response.
    where = updates[0].rsplit(" WHERE ", 1)[1]
    assert '"assessment_response"."status" IN (' in where, updates[0]


@pytest.mark.django_db
def test_after_the_team_assessment_is_submitted_answers_are_immutable(
    client, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)
    question = asked(open_assessment).first()
    autosave(client, pk, question, level="3")
    client.post(reverse("assessment:complete", kwargs={"pk": pk}), {"confirm": "yes"})
    services.assessment_submit(
        assessment=open_assessment, by=open_assessment.created_by, without_results=True
    )

    result = autosave(client, pk, question, level="1", revision=1)

    assert result.status_code == 400
    assert Answer.objects.get(response_id=pk, question=question).level == 3


# --- access -----------------------------------------------------------------------


@pytest.mark.django_db
def test_another_browser_cannot_open_someone_elses_response(
    client, client_factory, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)
    stranger = client_factory()
    section = open_assessment.framework_versions.get().sections.first()
    question = section.questions.asked_of("team").first()

    urls = [
        reverse("assessment:response_start", kwargs={"pk": pk}),
        reverse("assessment:section", kwargs={"pk": pk, "section_pk": section.pk}),
        reverse("assessment:review", kwargs={"pk": pk}),
    ]
    assert [stranger.get(url).status_code for url in urls] == [404, 404, 404]
    assert autosave(stranger, pk, question).status_code == 404
    assert stranger.post(reverse("assessment:complete", kwargs={"pk": pk})).status_code == 404


@pytest.mark.django_db
def test_a_member_cannot_reach_manager_pages(client, open_assessment, mailoutbox):
    member_client(client, mailoutbox)

    for url in [
        reverse("assessment:dashboard"),
        reverse("assessment:detail", kwargs={"pk": open_assessment.pk}),
        reverse("assessment:team_detail", kwargs={"pk": open_assessment.team_id}),
    ]:
        result = client.get(url)
        assert result.status_code == 302
        assert result["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_save_from_a_page_loaded_before_completion_changes_nothing(open_assessment):
    response = make_response(open_assessment)
    stale = Response.objects.select_related("assessment").get(pk=response.pk)
    services.response_complete(response=Response.objects.get(pk=response.pk))
    question = asked(open_assessment).first()

    with pytest.raises(services.ServiceError, match="can no longer be changed"):
        services.answers_save(
            response=stale,
            answers=[
                services.AnswerInput(
                    question_id=question.pk,
                    level=2,
                    not_applicable=False,
                    comment="late",
                    base_revision=0,
                )
            ],
        )

    assert not Answer.objects.filter(response=response).exists()


@pytest.mark.django_db
def test_following_the_link_without_pressing_start_does_not_use_it(
    client, client_factory, open_assessment, mailoutbox
):
    token = token_from(mailoutbox[0])
    scanner = client_factory()
    first = scanner.get(reverse("assessment:invitation_open", kwargs={"token": token}))
    start = scanner.get(first["Location"])

    _first, landing = redeem(client, token)

    assert start.status_code == 200
    assert "Open my questionnaire" in start.text
    assert landing.status_code == 302
    assert "/responses/" in landing["Location"]


@pytest.mark.django_db
def test_using_the_link_gives_the_browser_a_new_session_key(client, open_assessment, mailoutbox):
    token = token_from(mailoutbox[0])
    client.get(reverse("assessment:invitation_open", kwargs={"token": token}))
    before = client.session.session_key

    client.post(reverse("assessment:invitation_landing"))

    assert client.session.session_key != before


@pytest.mark.django_db
def test_fresh_links_are_not_sent_more_than_once_every_few_minutes(used_link, mailoutbox):
    _token, other = used_link
    sent_before = len(mailoutbox)

    renewed = other.post(reverse("assessment:invitation_renew"))

    assert "a few minutes ago" in renewed.text
    assert len(mailoutbox) == sent_before


@pytest.mark.django_db
@pytest.mark.parametrize("revision", ["9" * 30, "-1", "²", "1.5"])
def test_a_damaged_revision_is_refused_with_a_message(
    client, open_assessment, mailoutbox, revision
):
    pk = member_client(client, mailoutbox)
    question = asked(open_assessment).first()

    result = autosave(client, pk, question, level="3", revision=revision)

    # A batch whose every answer is bad is refused as a whole (400), saving nothing.
    assert (result.status_code, saved_ids(result)) == (400, [])
    assert "reload the page" in result.text
    assert not Answer.objects.filter(response_id=pk).exists()


@pytest.fixture
def refusing_mail(settings, mailoutbox):
    settings.MAILERS = {"default": {"BACKEND": "tests.mail.FailForSomeBackend"}}
    return mailoutbox


@pytest.mark.django_db
def test_a_failed_send_is_reported_and_the_others_still_go(refusing_mail):
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation))
    services.invitations_add(
        assessment=assessment,
        people=[("", "ok@example.com"), ("", "refused@example.com"), ("", "fine@example.com")],
    )

    with pytest.raises(services.ServiceError, match=r"refused@example\.com could not be sent"):
        services.assessment_open(assessment=assessment, by=organisation.manager)

    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.OPEN
    assert sorted(m.to[0] for m in refusing_mail) == ["fine@example.com", "ok@example.com"]
    refused = Invitation.objects.get(email="refused@example.com")
    assert (refused.sent_at, refused.send_count) == (None, 0)


@pytest.mark.django_db
def test_a_failed_resend_keeps_the_earlier_link_working(client, refusing_mail, settings):
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation))
    services.invitations_add(assessment=assessment, people=[("", "someone@example.com")])
    services.assessment_open(assessment=assessment, by=organisation.manager)
    token = token_from(refusing_mail[0])
    invitation = Invitation.objects.get()
    Invitation.objects.filter(pk=invitation.pk).update(
        email="refused@example.com",
        sent_at=timezone.now() - timedelta(minutes=settings.INVITATION_RESEND_COOLDOWN_MINUTES),
    )
    invitation.refresh_from_db()

    with pytest.raises(services.ServiceError, match="could not be sent"):
        services.invitation_send(invitation=invitation)

    _first, landing = redeem(client, token)
    assert landing.status_code == 302  # the link from the first e-mail still works


@pytest.mark.django_db
def test_a_title_with_line_breaks_cannot_break_the_mail_headers(mailoutbox):
    organisation = make_organisation()
    team = make_team(organisation, members=1)
    assessment = services.assessment_create(
        team=team,
        title="Q1\nBcc: x@evil.example",
        framework_slugs=["win4"],
        due_date=None,
        by=organisation.manager,
    )

    services.assessment_open(assessment=assessment, by=organisation.manager)

    assert len(mailoutbox) == 1
    assert "\n" not in mailoutbox[0].subject
    assert mailoutbox[0].bcc == []


# --- completing copies the answers; revising in a later round ---------------------------


def opened_by(client, response) -> None:
    """The browser holds the response, as after following its invitation link."""
    session = client.session
    session[access.SESSION_RESPONSES] = [response.pk]
    session.save()


def in_round_two(levels=(2,)):
    """An open assessment in its second round with a member who completed in round one."""
    assessment = make_assessment(make_team(make_organisation()), status="open")
    Assessment.objects.filter(pk=assessment.pk).update(round=2)
    assessment.refresh_from_db()
    response = make_response(assessment, levels=list(levels), status="completed")
    Response.objects.filter(pk=response.pk).update(completed_round=1, completed_at=timezone.now())
    response.refresh_from_db()
    return response


@pytest.mark.django_db
def test_completing_copies_the_answers_into_the_submitted_copy():
    assessment = make_assessment(make_team(make_organisation()), status="open")
    response = make_response(assessment, levels=[2, None])
    Answer.objects.filter(response=response, level=None).update(not_applicable=True)
    make_comment(response, "Our rota works.")
    assert not Answer.objects.filter(response=response, submitted_level__isnull=False).exists()

    assert services.response_complete(response=response)

    response.refresh_from_db()
    assert (response.status, response.completed_round) == (Response.Status.COMPLETED, 1)
    for answer in response.answers.all():
        assert (answer.submitted_level, answer.submitted_not_applicable) == (
            answer.level,
            answer.not_applicable,
        )
        assert answer.submitted_comment == answer.comment
    assert response.answers.filter(submitted_comment="Our rota works.").count() == 1


@pytest.mark.django_db
def test_a_member_changes_answers_of_an_earlier_round_and_completes_again(client):
    response = in_round_two(levels=(2,))
    opened_by(client, response)
    question = asked(response.assessment).first()
    review_url = reverse("assessment:review", kwargs={"pk": response.pk})
    revise_url = reverse("assessment:revise", kwargs={"pk": response.pk})

    page = client.get(review_url)
    section = client.get(
        reverse("assessment:section", kwargs={"pk": response.pk, "section_pk": question.section_id})
    )
    assert "Your answers from the last round still count until you complete again" in page.text
    assert f'action="{revise_url}"' in page.text
    assert "Change my answers" in page.text
    assert "These are your answers from the last round, and they still count." in section.text

    revised = client.post(revise_url, follow=True)
    assert revised.status_code == 200
    assert "You are changing your answers." in revised.text
    stored = Answer.objects.get(response=response, question=question)
    saved = autosave(client, response.pk, question, level="5", revision=stored.revision)
    assert saved.status_code == 200
    stored.refresh_from_db()
    # The working copy changed; the copy the team figures count did not, yet.
    assert (stored.level, stored.submitted_level) == (5, 2)
    assert Response.objects.get(pk=response.pk).status == Response.Status.REVISING

    client.post(reverse("assessment:complete", kwargs={"pk": response.pk}), {"confirm": "yes"})

    response.refresh_from_db()
    stored.refresh_from_db()
    assert (response.status, response.completed_round) == (Response.Status.COMPLETED, 2)
    assert stored.submitted_level == 5
    assert "Change my answers" not in client.get(review_url).text  # final for this round


@pytest.mark.django_db
def test_answers_of_this_round_cannot_be_revised(client):
    assessment = make_assessment(make_team(make_organisation()), status="open")
    response = make_response(assessment, levels=[3], status="completed")
    opened_by(client, response)

    page = client.post(reverse("assessment:revise", kwargs={"pk": response.pk}), follow=True)

    assert "already submitted" in page.text
    assert "Change my answers" not in page.text
    response.refresh_from_db()
    assert response.status == Response.Status.COMPLETED


@pytest.mark.django_db
def test_someone_elses_response_cannot_be_revised(client):
    response = in_round_two()

    page = client.post(reverse("assessment:revise", kwargs={"pk": response.pk}))

    assert page.status_code == 404
    response.refresh_from_db()
    assert response.status == Response.Status.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_revisions_and_completions_each_happen_once():
    response = in_round_two()

    revised = run_together(
        *[lambda: services.response_revise(response=Response.objects.get(pk=response.pk))] * 10
    )
    completed = run_together(
        *[lambda: services.response_complete(response=Response.objects.get(pk=response.pk))] * 10
    )

    assert (revised.count(True), revised.count(False)) == (1, 9), revised
    assert (completed.count(True), completed.count(False)) == (1, 9), completed
    response.refresh_from_db()
    assert (response.status, response.completed_round) == (Response.Status.COMPLETED, 2)
