"""The batch autosave: the changed questions of a page saved in one request, each with its
own state (saved, a conflict, a problem with its input); and the one-question address that
pages opened before it still post to."""

from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from assessment.models import Answer, Response
from frameworks.models import Question
from tests.assessment.views.test_respond import (
    asked,
    autosave,
    member_client,
    saved_ids,
    token_from,
)
from tests.factories import make_opened_assessment, make_organisation, make_team


@pytest.fixture
def open_assessment(db):
    return make_opened_assessment(make_team(make_organisation(), members=2))


def fields(question, level="3", comment="", revision=0) -> dict:
    prefix = f"q{question.pk}"
    return {f"{prefix}-level": level, f"{prefix}-comment": comment, f"{prefix}-revision": revision}


def batch(client, pk, *answers: dict, **kwargs):
    data = {}
    for answer in answers:
        data |= answer
    return client.post(reverse("assessment:answers", kwargs={"pk": pk}), data, **kwargs)


def stored(pk) -> dict[int, tuple]:
    return {
        a.question_id: (a.level, a.not_applicable, a.comment, a.revision)
        for a in Answer.objects.filter(response_id=pk)
    }


@pytest.mark.django_db
def test_several_answers_are_saved_in_one_request_each_with_its_new_revision(
    client, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)
    first, second, third = asked(open_assessment)[:3]
    autosave(client, pk, first, level="1")  # revision 1

    result = batch(
        client,
        pk,
        fields(first, "2", "Again", revision=1),
        fields(second, "na"),
        fields(third, "4", "Typed"),
    )

    assert result.status_code == 200
    assert saved_ids(result) == [first.pk, second.pk, third.pk]
    assert stored(pk) == {
        first.pk: (2, False, "Again", 2),
        second.pk: (None, True, "", 1),
        third.pk: (4, False, "Typed", 1),
    }
    # Each question's status fragment, by id, with its new revision for the next save.
    for question, revision in ((first, 2), (second, 1), (third, 1)):
        assert f'id="status-q{question.pk}"' in result.text
        assert f'name="q{question.pk}-revision" value="{revision}"' in result.text
    assert result.text.count("Saved") == 3


@pytest.mark.django_db
def test_a_conflict_is_that_answers_alone_and_the_others_are_saved(
    client, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)
    first, second = asked(open_assessment)[:2]
    autosave(client, pk, first, level="5", comment="From the other tab")  # revision 1

    result = batch(client, pk, fields(first, "1", "Mine", revision=0), fields(second, "3"))

    assert result.status_code == 200
    assert saved_ids(result) == [second.pk]
    assert stored(pk) == {
        first.pk: (5, False, "From the other tab", 1),
        second.pk: (3, False, "", 1),
    }
    assert result.text.count("a newer answer was saved elsewhere") == 1
    assert "From the other tab" in result.text
    # The conflict's fragment carries the newer answer's revision: saving again replaces it.
    assert f'name="q{first.pk}-revision" value="1"' in result.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"level": "9"}, "level from 0 to 5"),
        ({"level": "²"}, "level from 0 to 5"),
        ({"comment": "a" * 2001}, "2000"),
        ({"revision": "-1"}, "reload the page"),
    ],
)
def test_a_bad_value_is_refused_beside_its_question_and_the_others_are_saved(
    client, open_assessment, mailoutbox, bad, message
):
    """Decided: the batch's other answers are saved. They are independent answers, and
    the one refused keeps its input on the page, unsaved and marked so."""
    pk = member_client(client, mailoutbox)
    first, second = asked(open_assessment)[:2]
    broken = fields(first, "3", "Kept on the page")
    broken |= {f"q{first.pk}-{name}": value for name, value in bad.items()}

    result = batch(client, pk, broken, fields(second, "4"))

    assert result.status_code == 200
    assert saved_ids(result) == [second.pk]
    assert stored(pk) == {second.pk: (4, False, "", 1)}
    assert f"Not saved: {message}" in result.text or message in result.text
    assert result.text.count("Not saved:") == 1


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_answers(
    client, open_assessment, mailoutbox, django_assert_num_queries
):
    """Session, response, the questions (asked of this person, with their versions), and
    one statement that upserts every answer."""
    pk = member_client(client, mailoutbox)
    questions = list(asked(open_assessment))
    assert len(questions) >= 10
    batch(client, pk, fields(questions[-1]))  # the session's clock is refreshed now, not below

    with django_assert_num_queries(4):
        one = batch(client, pk, fields(questions[0]))
    with django_assert_num_queries(4):
        many = batch(client, pk, *[fields(q, "2") for q in questions[1:10]])
    # Saved again over the stored revisions, one of them stale: 3 more, however many (is
    # the response still open; is the stale one the tab's own save; the newer answer).
    with django_assert_num_queries(7):
        again = batch(
            client,
            pk,
            fields(questions[0], "1", revision=0),
            *[fields(q, "4", revision=1) for q in questions[1:10]],
        )

    assert saved_ids(one) == [questions[0].pk]
    assert saved_ids(many) == [q.pk for q in questions[1:10]]
    assert saved_ids(again) == [q.pk for q in questions[1:10]]


@pytest.mark.django_db
def test_another_persons_response_is_a_404_and_nothing_is_written(
    client, client_factory, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)
    other_member = client_factory()
    member_client(other_member, mailoutbox, index=1)
    question = asked(open_assessment).first()

    assert batch(other_member, pk, fields(question)).status_code == 404
    assert batch(client_factory(), pk, fields(question)).status_code == 404
    assert not Answer.objects.filter(response_id=pk).exists()


@pytest.mark.django_db
def test_another_organisations_manager_gets_a_404_and_nothing_is_written(
    client, client_factory, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)
    elsewhere = make_organisation("Elsewhere Ltd", manager="elsie")
    make_opened_assessment(make_team(elsewhere, members=1))  # their own, elsewhere
    other = client_factory()
    other.force_login(elsewhere.manager)

    assert batch(other, pk, fields(asked(open_assessment).first())).status_code == 404
    assert not Answer.objects.filter(response_id=pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("foreign", ["another audience", "another version"])
def test_a_question_not_asked_of_this_person_refuses_the_batch_and_writes_nothing(
    client, open_assessment, mailoutbox, foreign
):
    pk = member_client(client, mailoutbox)
    mine = asked(open_assessment).first()
    if foreign == "another audience":
        question = asked(open_assessment, "leadership").first()
    else:
        question = Question.objects.exclude(version__assessments=open_assessment).first()

    result = batch(client, pk, fields(mine), fields(question))

    assert result.status_code == 404
    assert not Answer.objects.filter(response_id=pk).exists()


@pytest.mark.django_db
def test_a_post_without_a_question_is_refused(client, open_assessment, mailoutbox):
    pk = member_client(client, mailoutbox)
    # Names that only look like a question's fields are no question.
    result = batch(client, pk, {"q٣-level": "3", "q03-level": "3", "level": "3"})

    assert result.status_code == 400
    assert not Answer.objects.filter(response_id=pk).exists()


@pytest.mark.django_db
def test_a_completed_response_refuses_the_whole_batch_and_says_so_beside_each(
    client, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)
    first, second = asked(open_assessment)[:2]
    autosave(client, pk, first, level="3")
    client.post(reverse("assessment:complete", kwargs={"pk": pk}), {"confirm": "yes"})

    result = batch(client, pk, fields(first, "1", revision=1), fields(second, "2"))

    assert result.status_code == 400
    assert saved_ids(result) == []
    assert result.text.count("can no longer be changed") == 2
    assert stored(pk) == {first.pk: (3, False, "", 1)}


def beacon_client(client: Client, mailoutbox) -> tuple[Client, int]:
    """A browser that checks CSRF as a real one does, holding the member's response."""
    strict = Client(enforce_csrf_checks=True)
    link = strict.get(
        reverse("assessment:invitation_open", kwargs={"token": token_from(mailoutbox[0])})
    )
    strict.get(link["Location"])  # the landing page's form sets the CSRF cookie
    started = strict.post(link["Location"], {"csrfmiddlewaretoken": csrf_cookie(strict)})
    return strict, int(started["Location"].strip("/").split("/")[1])


def csrf_cookie(client: Client) -> str:
    return client.cookies[settings.CSRF_COOKIE_NAME].value


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_is_refused_and_writes_nothing(
    client, open_assessment, mailoutbox
):
    strict, pk = beacon_client(client, mailoutbox)
    question = asked(open_assessment).first()

    result = batch(strict, pk, fields(question))
    stale = batch(strict, pk, fields(question) | {"csrfmiddlewaretoken": "x" * 64})

    assert (result.status_code, stale.status_code) == (403, 403)
    assert not Answer.objects.filter(response_id=pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_beacon_shaped_post_is_saved(client, open_assessment, mailoutbox, encoding):
    """navigator.sendBeacon: no custom header (the token in the body), no htmx header, a
    URLSearchParams (urlencoded) or FormData (multipart) body; nobody reads the reply."""
    strict, pk = beacon_client(client, mailoutbox)
    first, second = asked(open_assessment)[:2]
    data = fields(first, "2", "Sent as the tab closed") | fields(second, "dk")
    data["csrfmiddlewaretoken"] = csrf_cookie(strict)
    url = reverse("assessment:answers", kwargs={"pk": pk})

    if encoding == "urlencoded":
        result = strict.post(url, urlencode(data), content_type="application/x-www-form-urlencoded")
    else:
        result = strict.post(url, data)

    assert result.status_code == 200
    assert stored(pk) == {
        first.pk: (2, False, "Sent as the tab closed", 1),
        second.pk: (None, False, "", 1),
    }
    assert Answer.objects.get(response_id=pk, question=second).dont_know


# --- the one-question address of pages opened before the batch autosave ----------------------


def old_autosave(client, pk, question, data):
    url = reverse("assessment:autosave", kwargs={"pk": pk, "question_pk": question.pk})
    return client.post(url, data, headers={"HX-Request": "true"})


@pytest.mark.django_db
def test_the_old_address_saves_only_its_own_question_of_the_whole_form(
    client, open_assessment, mailoutbox
):
    """The older script posts the whole form (htmx's hx-post on each question)."""
    pk = member_client(client, mailoutbox)
    first, second = asked(open_assessment)[:2]

    result = old_autosave(client, pk, first, fields(first, "4", "Old page") | fields(second, "1"))

    assert result.status_code == 200
    assert "Saved" in result.text
    assert stored(pk) == {first.pk: (4, False, "Old page", 1)}


@pytest.mark.django_db
def test_the_old_address_answers_a_conflict_and_a_bad_value_with_their_old_statuses(
    client, open_assessment, mailoutbox
):
    pk = member_client(client, mailoutbox)
    first, second = asked(open_assessment)[:2]
    autosave(client, pk, first, level="5")

    conflict = old_autosave(client, pk, first, fields(first, "1", revision=0))
    bad = old_autosave(client, pk, second, fields(second, "9"))
    foreign = old_autosave(client, pk, asked(open_assessment, "leadership").first(), {})

    assert (conflict.status_code, bad.status_code, foreign.status_code) == (409, 400, 404)
    assert "newer answer" in conflict.text
    assert "level from 0 to 5" in bad.text
    assert stored(pk) == {first.pk: (5, False, "", 1)}
    assert Response.objects.get(pk=pk).status == Response.Status.IN_PROGRESS
