"""The questionnaire page's speed work (issue 16): a version's content is read once per
process, and each question's block is rendered once per question and language, with the
person's own choice, comment and revision filled in. These tests hold it to rendering
exactly what a full render gives, for every person, with a constant number of queries."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessment import access
from assessment.models import Answer
from assessment.selectors.respondent import questionnaire_page
from assessment.templatetags import questionnaire
from frameworks import selectors as framework_selectors
from frameworks.models import FrameworkVersion, Question, Section
from tests.factories import (
    framework_document,
    make_assessment,
    make_organisation,
    make_response,
    make_team,
    write_framework,
)

HOSTILE = '<script>alert("x")</script> & \ue000 3 \ue000 \ue001'


def open_page(client, response, section):
    session = client.session
    session[access.SESSION_RESPONSES] = [*session.get(access.SESSION_RESPONSES, []), response.pk]
    session.save()
    url = reverse("assessment:section", kwargs={"pk": response.pk, "section_pk": section.pk})
    return client.get(url)


def checked_values(html: str, question: Question) -> list[str]:
    return re.findall(rf'name="q{question.pk}-level" id="[^"]+" value="([^"]+)" checked', html)


@pytest.fixture
def assessment(db):
    return make_assessment(make_team(make_organisation()), slugs=["six-dimensions"], status="open")


@pytest.mark.django_db
def test_each_person_sees_their_own_choice_comment_and_revision_in_the_shared_blocks(
    client, assessment
):
    first, second = make_response(assessment, levels=[4]), make_response(assessment)
    question = Question.objects.filter(version__assessments=assessment).asked_of("team").first()
    Answer.objects.filter(response=first, question=question).update(comment=HOSTILE, revision=7)
    Answer.objects.create(
        response=second,
        question=question,
        section_id=question.section_id,
        not_applicable=True,
        revision=3,
    )

    pages = [open_page(client, r, question.section).text for r in (first, second, first)]

    mine, theirs, mine_again = pages
    assert checked_values(mine, question) == ["4"]
    assert checked_values(theirs, question) == ["na"]
    comment = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; \ue000 3 \ue000 \ue001"
    assert f">{comment}</textarea>" in mine
    assert "alert" not in theirs
    assert f'name="q{question.pk}-revision" value="7"' in mine
    assert f'name="q{question.pk}-revision" value="3"' in theirs
    assert mine_again.replace(nonce(mine_again), "") == mine.replace(nonce(mine), "").replace(
        csrf(mine), csrf(mine_again)
    )


def nonce(html: str) -> str:
    return re.search(r'nonce="([^"]+)"', html).group(1)


def csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


@pytest.mark.django_db
@pytest.mark.parametrize("editable", [True, False])
def test_a_block_from_the_store_is_exactly_the_full_render(assessment, editable):
    response = make_response(assessment, levels=[0, 3, 5])
    section = Section.objects.filter(version__assessments=assessment).first()
    page = questionnaire_page(response, section.pk)
    page.rows[1].comment = HOSTILE
    context = {"page": page, "comment_max_length": 2000}
    questionnaire._BLOCKS.clear()

    for number, row in enumerate(page.rows, start=1):
        full = questionnaire._render(
            {
                "row": row,
                "number": number,
                "editable": editable,
                "has_audiences": page.has_audiences,
                "comment_max_length": 2000,
                "comment": row.comment,
                "revision": row.revision,
            },
            {
                value: " checked" if value == row.level else ""
                for value in [c.value for c in row.choices] + ["na", "dk"]
            },
        )
        cold = questionnaire.question_block(context, row, number, editable)
        warm = questionnaire.question_block(context, row, number, editable)
        assert cold == warm == full
        # No marker is left, and the ones a comment carries are the comment's own.
        assert full.count("\ue000") == (2 if row.comment == HOSTILE else 0)


@pytest.mark.django_db
def test_the_page_runs_five_queries_for_five_questions_or_sixty(client, tmp_path):
    for n in (5, 60):
        path = write_framework(tmp_path, framework_document(f"size-{n}", questions_per_section=n))
        call_command("load_frameworks", str(path), stdout=io.StringIO())
        assessment = make_assessment(
            make_team(make_organisation(f"Org {n}")), slugs=[f"size-{n}"], status="open"
        )
        response = make_response(assessment, levels=[2, 4])
        section = Section.objects.filter(version__framework__slug=f"size-{n}").first()
        open_page(client, response, section)  # the session holds the response: a write
        url = reverse("assessment:section", kwargs={"pk": response.pk, "section_pk": section.pk})
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url)
        assert page.status_code == 200
        assert page.text.count('class="card mb-3 question"') == n
        # The session, the response, the assessment's versions, the answer counts and this
        # section's answers (the content of a version is read once per process).
        assert len(queries) == 5, [q["sql"] for q in queries]


@pytest.mark.django_db
def test_a_versions_content_is_read_once_and_forgotten_when_framework_content_is_written(
    assessment, django_assert_num_queries
):
    version = assessment.framework_versions.get()
    framework_selectors.forget_asked_content()
    with django_assert_num_queries(3):
        first = framework_selectors.asked_content(version, "team")
    with django_assert_num_queries(0):
        assert framework_selectors.asked_content(version, "team") is first

    question = Question.objects.filter(version=version).first()
    question.help_text = "Changed by a test."
    question.save()

    with django_assert_num_queries(3):
        again = framework_selectors.asked_content(version, "team")
    assert again is not first
    assert again.questions[question.section_id][0].help_text == "Changed by a test."


@pytest.mark.django_db
def test_the_content_key_carries_the_load_time_so_a_reused_id_never_meets_old_content(
    assessment,
):
    version = assessment.framework_versions.get()
    content = framework_selectors.asked_content(version, "team")
    later = FrameworkVersion.objects.get(pk=version.pk)
    later.loaded_at = version.loaded_at.replace(year=version.loaded_at.year + 1)

    assert framework_selectors.asked_content(later, "team") is not content


@pytest.mark.django_db
def test_a_warmed_worker_serves_a_first_page_without_rendering_a_question(client, assessment):
    from assessment.warmup import warm_worker

    draft = make_assessment(make_team(make_organisation("Draft Ltd")), slugs=["win4"])
    response = make_response(assessment, levels=[2])
    section = Section.objects.filter(version__assessments=assessment).first()
    framework_selectors.forget_asked_content()
    questionnaire._BLOCKS.clear()
    cold = open_page(client, response, section)
    assert questionnaire.TEMPLATE in [t.name for t in cold.templates]

    framework_selectors.forget_asked_content()
    questionnaire._BLOCKS.clear()
    warm_worker()

    warm = open_page(client, response, section)
    assert warm.status_code == 200
    assert questionnaire.TEMPLATE not in [t.name for t in warm.templates]
    assert warm.text.replace(nonce(warm.text), "").replace(csrf(warm.text), "") == (
        cold.text.replace(nonce(cold.text), "").replace(csrf(cold.text), "")
    )
    # Only the open assessments' questionnaires: a draft's framework is not read.
    warmed = {key[0] for key in questionnaire._BLOCKS}
    assert not warmed & set(
        Question.objects.filter(version__assessments=draft).values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_a_failing_warm_up_is_logged_and_the_worker_starts_anyway(monkeypatch, caplog):
    from assessment import warmup

    def broken() -> list:
        raise RuntimeError("a template that does not compile, say")

    monkeypatch.setattr(warmup, "contents_in_progress", broken)

    warmup.warm_worker()  # gunicorn's post_worker_init: a raise would stop the server

    assert "Worker warm-up failed" in caplog.text
    assert "Worker warmed" not in caplog.text
