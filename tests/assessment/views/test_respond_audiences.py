"""The questionnaire in frameworks v2 (issue 14): each audience answers its own questions,
every level carries the question's anchor, "Not applicable to us" and "Don't know" are two
answers, the page says whom the person answers as, and the review page shows the asides."""

import io
import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessment import access
from assessment.models import Answer
from frameworks.models import Question, ScaleLevel
from tests.assessment.views.test_respond import autosave
from tests.factories import (
    make_assessment,
    make_invitation,
    make_manager_response,
    make_organisation,
    make_response,
    make_team,
)


@pytest.fixture
def world(db):
    """An open Win4 v2 assessment with a team member, a manager and a leadership invitee."""
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="open")
    return {
        "organisation": organisation,
        "assessment": assessment,
        "team": make_response(assessment),
        "manager": make_manager_response(assessment, organisation.manager, status="in_progress"),
        "leadership": make_response(assessment, audience="leadership"),
    }


def as_respondent(client, world, audience: str):
    """The browser of the person who answers as ``audience``: holds the invitee's response,
    or is the signed-in manager."""
    response = world[audience]
    if audience == "manager":
        client.force_login(world["organisation"].manager)
    else:
        session = client.session
        session[access.SESSION_RESPONSES] = [response.pk]
        session.save()
    return response


def asked(world, audience: str):
    return (
        Question.objects.filter(version__assessments=world["assessment"])
        .asked_of(audience)
        .order_by("section__position", "position")
    )


def section_url(response, section_id: int) -> str:
    return reverse("assessment:section", kwargs={"pk": response.pk, "section_pk": section_id})


def radios(text: str, question: Question) -> list[str]:
    """The values of one question's radios, in page order."""
    return re.findall(rf'name="q{question.pk}-level" id="[^"]+" value="([^"]*)"', text)


# --- each audience its own questions ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("audience", ["team", "manager", "leadership"])
def test_each_audience_sees_only_its_own_questions_on_every_page(client, world, audience):
    response = as_respondent(client, world, audience)
    mine = list(asked(world, audience))
    others = Question.objects.filter(version__assessments=world["assessment"]).exclude(
        pk__in=[q.pk for q in mine]
    )

    seen = set()
    for section_id in sorted({q.section_id for q in mine}):
        page = client.get(section_url(response, section_id))
        assert page.status_code == 200
        seen |= {int(pk) for pk in re.findall(r'id="question-(\d+)"', page.text)}
        for other in others.filter(section_id=section_id):
            assert f'id="question-{other.pk}"' not in page.text
            assert other.text not in page.text

    assert seen == {q.pk for q in mine}


@pytest.mark.django_db
def test_a_section_without_questions_for_the_person_is_not_part_of_their_questionnaire(
    client, world
):
    response = as_respondent(client, world, "team")
    owners = world["assessment"].framework_versions.get().sections.get(key="owners")

    page = client.get(section_url(response, owners.pk))
    first = client.get(reverse("assessment:response_start", kwargs={"pk": response.pk}))
    review = client.get(reverse("assessment:review", kwargs={"pk": response.pk}))

    assert page.status_code == 404
    assert first["Location"] != section_url(response, owners.pk)
    assert owners.name not in review.text
    assert f"{asked(world, 'team').count()} questions are unanswered" in review.text


@pytest.mark.django_db
@pytest.mark.parametrize(("audience", "other"), [("team", "manager"), ("leadership", "team")])
def test_an_answer_to_another_audiences_question_is_refused_like_an_unknown_one(
    client, world, audience, other
):
    response = as_respondent(client, world, audience)
    question = asked(world, other).exclude(audience=audience).first()

    result = autosave(client, response.pk, question, level="3")

    assert result.status_code == 404
    assert not Answer.objects.filter(response=response).exists()


@pytest.mark.django_db
def test_a_page_save_ignores_fields_of_questions_the_person_is_not_asked(client, world):
    response = as_respondent(client, world, "team")
    section = world["assessment"].framework_versions.get().sections.get(key="customers")
    data = {f"q{q.pk}-level": "2" for q in Question.objects.filter(section=section)}

    result = client.post(section_url(response, section.pk), data)

    assert result.status_code == 302
    saved = set(Answer.objects.filter(response=response).values_list("question_id", flat=True))
    assert saved == set(asked(world, "team").filter(section=section).values_list("pk", flat=True))


# --- the choices ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_v2_question_lists_its_anchors_then_not_applicable_and_dont_know(client, world):
    response = as_respondent(client, world, "team")
    question = asked(world, "team").filter(reversed=False).first()
    reversed_question = asked(world, "team").filter(reversed=True).first()
    labels = dict(ScaleLevel.objects.filter(version=question.version).values_list("value", "label"))

    page = client.get(section_url(response, question.section_id)).text
    other = client.get(section_url(response, reversed_question.section_id)).text

    assert radios(page, question) == ["0", "1", "2", "3", "4", "5", "na", "dk"]
    assert radios(other, reversed_question) == ["5", "4", "3", "2", "1", "0", "na", "dk"]
    for level, anchor in enumerate(question.anchors):
        assert f"{level} · {labels[level]}" in page
        assert anchor.replace("'", "&#x27;") in page
    assert page.count("Not applicable to us</strong>") == page.count('class="card mb-3 question"')
    assert page.count("Don't know</strong>") == page.count('class="card mb-3 question"')
    assert "Not applicable / don't know" not in page


@pytest.mark.django_db
def test_the_generic_ladder_is_a_legend_shown_once_per_page(client, world):
    response = as_respondent(client, world, "team")
    question = asked(world, "team").first()
    ladder = ScaleLevel.objects.filter(version=question.version).order_by("value")

    page = client.get(section_url(response, question.section_id)).text

    assert page.count('<details class="scale-legend') == 1
    legend = page.split('<details class="scale-legend', 1)[1].split("</details>", 1)[0]
    for level in ladder:
        assert level.label in legend
        assert level.descriptor.replace("'", "&#x27;") in legend
        assert page.count(level.descriptor.replace("'", "&#x27;")) == 1  # not per question
    assert page.index("scale-legend") < page.index('id="question-')


@pytest.mark.django_db
def test_a_v1_page_keeps_levels_1_to_5_and_the_merged_not_applicable(client):
    assessment = make_assessment(make_team(make_organisation()), status="open", version=1)
    response = make_response(assessment)
    session = client.session
    session[access.SESSION_RESPONSES] = [response.pk]
    session.save()
    question = Question.objects.filter(version__assessments=assessment).first()

    page = client.get(section_url(response, question.section_id)).text

    assert radios(page, question) == ["1", "2", "3", "4", "5", "na"]
    assert "Not applicable / don't know" in page
    assert "scale-legend" not in page
    assert "Don't know</strong>" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "stored"),
    [("dk", (None, False, True)), ("na", (None, True, False)), ("0", (0, False, False))],
)
def test_autosave_stores_dont_know_not_applicable_and_level_0_apart(client, world, value, stored):
    response = as_respondent(client, world, "team")
    question = asked(world, "team").first()

    result = autosave(client, response.pk, question, level=value)

    assert result.status_code == 200
    answer = Answer.objects.get(response=response, question=question)
    assert (answer.level, answer.not_applicable, answer.dont_know) == stored
    page = client.get(section_url(response, question.section_id)).text
    checked = re.search(rf'name="q{question.pk}-level" id="[^"]+" value="([^"]*)" checked', page)
    assert checked.group(1) == value


@pytest.mark.django_db
def test_a_bad_value_on_a_page_save_is_named_beside_its_question_and_nothing_is_saved(
    client, world
):
    response = as_respondent(client, world, "team")
    first, second = asked(world, "team")[:2]
    data = {
        f"q{first.pk}-level": "dk",
        f"q{first.pk}-comment": "Kept",
        f"q{second.pk}-level": "7",
    }

    page = client.post(section_url(response, first.section_id), data)

    assert page.status_code == 400
    assert not Answer.objects.filter(response=response).exists()
    card = page.text.split(f'id="question-{second.pk}"', 1)[1].split("</fieldset>", 1)[0]
    assert "level from 0 to 5" in card
    assert f'aria-describedby="help-{second.pk} error-{second.pk}"' in card
    mine = page.text.split(f'id="question-{first.pk}"', 1)[1].split("</fieldset>", 1)[0]
    assert "level from 0 to 5" not in mine
    assert re.search(r'value="dk" checked', mine)  # the input is shown back
    assert ">Kept</textarea>" in mine


@pytest.mark.django_db
def test_a_conflict_names_a_newer_dont_know_as_such(client, world):
    response = as_respondent(client, world, "team")
    question = asked(world, "team").first()
    autosave(client, response.pk, question, level="dk")

    stale = autosave(client, response.pk, question, level="2", revision=0)

    assert stale.status_code == 200  # handled: a conflict is this answer's state
    assert "The newer answer is:\n        Don't know" in stale.text


# --- whom the person answers as ---------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_is_told_their_answers_count_as_managements_and_are_not_anonymous(client, world):
    response = as_respondent(client, world, "manager")

    page = client.get(reverse("assessment:response_start", kwargs={"pk": response.pk}), follow=True)

    assert "You answer as a manager." in page.text
    assert "the management's answers" in page.text
    assert "not anonymous" in page.text
    for who in ("fellow managers", "the assessor", "consultants your organisation has granted"):
        assert who in page.text
    assert "beside the team's results, never inside them" not in page.text


@pytest.mark.django_db
def test_a_leadership_invitee_is_told_their_answers_count_from_the_threshold(client, world):
    response = as_respondent(client, world, "leadership")

    page = client.get(reverse("assessment:response_start", kwargs={"pk": response.pk}), follow=True)

    assert "You answer as a member of the leadership." in page.text
    minimum = settings.ANONYMITY_THRESHOLD
    assert f"only once at least {minimum} leadership invitees have completed" in page.text
    assert "You answer as a manager." not in page.text


@pytest.mark.django_db
def test_a_team_member_keeps_the_anonymity_sentence(client, world):
    response = as_respondent(client, world, "team")

    page = client.get(reverse("assessment:response_start", kwargs={"pk": response.pk}), follow=True)

    assert "grouped by question and without your name" in page.text
    assert f"at least {settings.ANONYMITY_THRESHOLD} team members" in page.text
    assert "leadership invitees" not in page.text


@pytest.mark.django_db
def test_a_leadership_link_counts_and_introduces_the_leadership_questions(client, world):
    make_invitation(world["assessment"], token="lead-1", audience="leadership")

    client.get(reverse("assessment:invitation_open", kwargs={"token": "lead-1"}))
    page = client.get(reverse("assessment:invitation_landing"))

    assert f"{asked(world, 'leadership').count()} questions" in page.text
    assert "asks its leadership" in page.text
    assert f"at least {settings.ANONYMITY_THRESHOLD} leadership invitees" in page.text


# --- the review page --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_review_page_shows_dont_know_and_not_applicable_answers_apart(client, world):
    response = as_respondent(client, world, "team")
    first, second, third = asked(world, "team")[:3]
    autosave(client, response.pk, first, level="dk")
    autosave(client, response.pk, second, level="na")
    autosave(client, response.pk, third, level="0")

    page = client.get(reverse("assessment:review", kwargs={"pk": response.pk})).text

    dont_know = page.split('class="set-aside-list dont-know-list"', 1)[1].split("</ul>", 1)[0]
    not_applicable = page.split('class="set-aside-list not-applicable-list"', 1)[1]
    not_applicable = not_applicable.split("</ul>", 1)[0]
    assert "You answered “Don't know” to 1 question" in page
    assert "You answered “Not applicable to us” to 1 question" in page
    assert f"#question-{first.pk}" in dont_know
    assert f"#question-{second.pk}" not in dont_know
    assert f"#question-{second.pk}" in not_applicable
    assert f"#question-{first.pk}" not in not_applicable
    assert f"#question-{third.pk}" not in page  # level 0 is a level: answered, not set aside
    unanswered = asked(world, "team").count() - 3
    assert f"{unanswered} questions are unanswered" in page


# --- queries ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("audience", ["team", "manager", "leadership"])
def test_the_v2_page_takes_the_same_queries_for_any_section_and_audience(client, world, audience):
    response = as_respondent(client, world, audience)
    sections = sorted({q.section_id for q in asked(world, audience)})
    autosave(client, response.pk, asked(world, audience).first(), level="dk")  # no introduction
    client.get(section_url(response, sections[0]))  # the session's first write
    counts = {}
    for section_id in sections:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(section_url(response, section_id)).status_code == 200
        counts[section_id] = len(queries)

    assert len(set(counts.values())) == 1, counts


@pytest.mark.django_db
def test_a_person_asked_nothing_is_led_to_the_review_page_not_a_404(client, tmp_path):
    # A format-2 framework whose questions are all the team's: a leadership invitee is
    # asked nothing. Opening their link has already used it, so a 404 would strand them.
    from frameworks.loading import framework_files
    from tests.bench.common import LONG_SLUG, long_section_framework

    path = tmp_path / f"{LONG_SLUG}.toml"
    path.write_text(long_section_framework(questions=5), encoding="utf-8")
    shipped = framework_files(settings.FRAMEWORKS_DATA_DIR)  # concepts need them all
    call_command("load_frameworks", *map(str, [*shipped, path]), stdout=io.StringIO())
    assessment = make_assessment(make_team(make_organisation()), slugs=[LONG_SLUG], status="open")
    response = make_response(assessment, audience="leadership")
    session = client.session
    session[access.SESSION_RESPONSES] = [response.pk]
    session.save()

    start = client.get(reverse("assessment:response_start", kwargs={"pk": response.pk}))

    assert start.status_code == 302
    assert start["Location"] == reverse("assessment:review", kwargs={"pk": response.pk})
    assert client.get(start["Location"]).status_code == 200
