"""The batch autosave in Chromium: answers chosen one after another go in one request,
closing the tab right after a click loses nothing, and a conflict in a batch is that
question's alone."""

import time

import pytest
from playwright.sync_api import expect

from assessment.models import Answer
from tests.browser.test_respondent_journey import link, start
from tests.factories import make_assessment, make_organisation, make_team

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def invited(live_server):
    """An open assessment with two invitations, whose links are /r/token-<pk>-<n>/."""
    organisation = make_organisation("Harbour Ltd")
    return live_server.url, make_assessment(make_team(organisation), status="open", invitees=2)


def stored_when_there(question_ids, timeout: float = 10.0) -> dict[int, tuple]:
    """The stored answers to these questions, once all are there (a beacon lands later)."""
    deadline = time.monotonic() + timeout
    while True:
        answers = {
            a.question_id: (a.level, a.comment)
            for a in Answer.objects.filter(question_id__in=question_ids)
        }
        if len(answers) == len(question_ids) or time.monotonic() > deadline:
            return answers
        time.sleep(0.1)


def test_answers_chosen_one_after_another_go_in_one_request(invited, page):
    base, assessment = invited
    batches = []
    page.on("request", lambda r: r.url.endswith("/answers/") and batches.append(r.post_data))
    start(page, link(base, assessment))
    questions = page.locator("fieldset.question")
    ids = [int(pk) for pk in questions.evaluate_all("els => els.map(e => e.dataset.question)")]
    assert len(ids) >= 3

    for index in range(3):
        # A click on the option's label, as a person clicks its text.
        page.locator(f"label[for='q{ids[index]}-l{index + 1}']").click()
        page.wait_for_timeout(300)
    for index in range(3):
        expect(questions.nth(index).locator(".answer-status")).to_contain_text("Saved")

    assert len(batches) == 1
    assert all(f"q{pk}-level" in batches[0] for pk in ids[:3])
    assert f"q{ids[3]}-" not in batches[0]  # only the changed questions
    assert stored_when_there(ids[:3]) == {
        ids[0]: (1, ""),
        ids[1]: (2, ""),
        ids[2]: (3, ""),
    }


@pytest.mark.parametrize("after_ms", [0, 100])
def test_closing_the_tab_right_after_a_click_loses_nothing(invited, context, after_ms):
    base, assessment = invited
    page = context.new_page()
    start(page, link(base, assessment))
    questions = page.locator("fieldset.question")
    first, second = questions.nth(0), questions.nth(1)
    ids = [int(first.get_attribute("data-question")), int(second.get_attribute("data-question"))]

    first.get_by_label("Comment or evidence (optional)").fill("Typed just before closing.")
    second.locator("input[type=radio][value='4']").check()
    page.wait_for_timeout(after_ms)
    page.close(run_before_unload=True)

    assert stored_when_there(ids) == {ids[0]: (None, "Typed just before closing."), ids[1]: (4, "")}


def test_a_conflict_in_a_batch_is_that_questions_alone(invited, context):
    base, assessment = invited
    page = context.new_page()
    start(page, link(base, assessment))
    questions = page.locator("fieldset.question")
    first, second = questions.nth(0), questions.nth(1)
    ids = [int(first.get_attribute("data-question")), int(second.get_attribute("data-question"))]
    # Another tab saves the first question meanwhile.
    other = context.new_page()
    other.goto(page.url)
    other.locator(f"#question-{ids[0]} input[type=radio][value='5']").check()
    expect(other.locator(f"#status-q{ids[0]}")).to_contain_text("Saved")
    other.close()

    page.bring_to_front()
    first.locator("input[type=radio][value='1']").check()
    second.locator("input[type=radio][value='2']").check()

    expect(first.locator(".answer-status")).to_contain_text("a newer answer was saved elsewhere")
    expect(second.locator(".answer-status")).to_contain_text("Saved")
    expect(first.locator("input[type=radio][value='1']")).to_be_checked()  # the input stays
    assert stored_when_there(ids) == {ids[0]: (5, ""), ids[1]: (2, "")}
