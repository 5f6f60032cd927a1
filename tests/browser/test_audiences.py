"""Frameworks v2 in Chromium (issue 14, must show 3): a team member, a manager and a
leadership invitee each see only their own audience's questions; "Don't know" and "Not
applicable to us" are two distinct answers, each reached and chosen with the keyboard
alone and stored apart; axe finds nothing on the v2 questionnaire."""

import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from assessment.models import Answer, Response
from frameworks.models import Question
from tests.browser.axe import IMPACTS, audit, table
from tests.browser.conftest import ConsoleWatch
from tests.browser.test_accessibility import Keyboard, is_level_of
from tests.browser.test_manager_journey import sign_in
from tests.factories import make_assessment, make_invitation, make_organisation, make_team

AUDIENCES = ("team", "manager", "leadership")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def world(live_server):
    """An opened Win4 v2 assessment with a team invitation and a leadership invitation."""
    organisation = make_organisation("Harbour Ltd", manager="harriet")
    assessment = make_assessment(make_team(organisation, "Help desk"), status="open")
    make_invitation(assessment, token="team-link", audience="team")
    make_invitation(assessment, token="leadership-link", audience="leadership")
    return {"base": live_server.url, "organisation": organisation, "assessment": assessment}


def start(page: Page, world, audience: str) -> None:
    """Open the person's questionnaire as they do: an invitee through their link, the
    manager signed in, from the assessment's page."""
    base = world["base"]
    if audience == "manager":
        sign_in(page, base, world["organisation"].manager.username)
        page.goto(f"{base}{world['assessment'].get_absolute_url()}")
        page.get_by_role("button", name="Answer the manager questions").click()
    else:
        page.goto(f"{base}/r/{audience}-link/")
        page.get_by_role("button", name="Open my questionnaire").click()
    expect(page.locator("fieldset.question").first).to_be_visible()


def questions_seen(page: Page) -> tuple[set[int], str]:
    """Every question on every page of the person's questionnaire (by the progress list's
    links), and all the pages' text."""
    seen: set[int] = set()
    text = ""
    for url in page.locator(".section-list a").evaluate_all("els => els.map(e => e.href)"):
        page.goto(url)
        ids = page.locator("fieldset.question").evaluate_all("els => els.map(e => e.id)")
        seen |= {int(i.removeprefix("question-")) for i in ids}
        text += page.locator("main").inner_text()
    return seen, text


def wait_for_answer(response: Response, question: Question, expected: tuple) -> tuple:
    """The stored (level, not applicable, don't know), once autosave has stored ``expected``
    (it is debounced, so the last key's value arrives a moment after the keys)."""
    deadline = time.monotonic() + 10
    while True:
        answer = Answer.objects.filter(response=response, question=question).first()
        value = answer and (answer.level, answer.not_applicable, answer.dont_know)
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_each_audience_sees_only_its_own_questions(world, browser: Browser) -> None:
    version_questions = Question.objects.filter(version__assessments=world["assessment"])
    assert version_questions.first().version.has_audiences
    for audience in AUDIENCES:
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        console = ConsoleWatch(page)
        start(page, world, audience)

        seen, text = questions_seen(page)

        mine = version_questions.asked_of(audience)
        assert seen == set(mine.values_list("pk", flat=True)), audience
        assert {q.audience for q in mine} == {audience}
        for other in version_questions.exclude(audience=audience):
            assert other.pk not in seen, (audience, other.code)
            assert other.text not in text, (audience, other.code)
        label = page.locator("label[for=overall-progress]")
        expect(label).to_contain_text(f"0 of {mine.count()} questions")
        assert console.errors == []
        context.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("audience", "javascript"),
    [("team", True), ("leadership", False)],
    ids=["team member, autosave", "leadership invitee, without JavaScript"],
)
def test_dont_know_and_not_applicable_are_two_answers_chosen_by_keyboard_alone(
    world, browser: Browser, audience: str, javascript: bool
) -> None:
    context = browser.new_context(locale="en-GB", java_script_enabled=javascript)
    page = context.new_page()
    start(page, world, audience)
    response = Response.objects.get(invitation__audience=audience)
    heading = page.get_by_role("heading", level=1).inner_text()
    first, second = (
        Question.objects.filter(version__assessments=world["assessment"], section__name=heading)
        .asked_of(audience)
        .order_by("position")[:2]
    )
    keys = Keyboard(page)

    # Both answers are native radios of the question's one group, named apart.
    group = page.locator(f"#question-{first.pk}")
    dont_know = group.get_by_role("radio", name=re.compile("^Don't know"))
    not_applicable = group.get_by_role("radio", name=re.compile("^Not applicable to us"))
    assert dont_know.get_attribute("value") == "dk"
    assert not_applicable.get_attribute("value") == "na"
    assert dont_know.get_attribute("name") == not_applicable.get_attribute("name")

    # First question: Tab into its group (nothing chosen: the first option), then the
    # arrow keys: up wraps round to the last option, "Don't know"; Space keeps it chosen.
    state = keys.tab_to(is_level_of(first.pk))
    assert state["value"] == str(first.options()[0][0])
    keys.press("ArrowUp")
    state = keys.press("Space")
    assert state["value"] == "dk"
    expect(dont_know).to_be_checked()
    expect(not_applicable).not_to_be_checked()

    # Second question: on from the first one's comment box into the next group, then up
    # twice: past "Don't know" to "Not applicable to us".
    keys.press("Tab")  # the first question's comment
    state = keys.tab_to(is_level_of(second.pk))
    keys.press("ArrowUp")
    state = keys.press("ArrowUp")
    assert state["value"] == "na"
    expect(page.locator(f"#q{second.pk}-na")).to_be_checked()

    if javascript:  # saved as chosen (autosave)
        assert wait_for_answer(response, first, (None, False, True)) == (None, False, True)
        assert wait_for_answer(response, second, (None, True, False)) == (None, True, False)
        expect(page.locator(f"#status-q{second.pk}")).to_contain_text("Saved")
    else:  # saved by the page's button, reached by keyboard too
        keys.tab_to(lambda s: s["tag"] == "button" and s["text"].startswith("Save and"))
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.get_by_text("Your answers are saved.")).to_be_visible()

    # (The page's button saves its other questions too, as blanks: no answer.)
    stored = {
        a.question_id: (a.level, a.not_applicable, a.dont_know)
        for a in Answer.objects.filter(response=response)
        if a.is_answered
    }
    assert stored == {first.pk: (None, False, True), second.pk: (None, True, False)}

    # The review page names them apart.
    page.goto(f"{world['base']}/responses/{response.pk}/review/")
    expect(page.locator(".dont-know-list")).to_contain_text(first.text)
    expect(page.locator(".not-applicable-list")).to_contain_text(second.text)
    expect(page.locator(".dont-know-list")).not_to_contain_text(second.text)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_axe_finds_nothing_on_the_v2_questionnaire(world, browser: Browser) -> None:
    audits = []
    for audience in AUDIENCES:
        context = browser.new_context(locale="en-GB", viewport=DESKTOP)
        page = context.new_page()
        console = ConsoleWatch(page)
        start(page, world, audience)
        page.locator("details.scale-legend summary").click()  # the legend, opened
        first = page.locator("fieldset.question").first
        with page.expect_response(lambda r: "/answers/" in r.url):
            first.get_by_role("radio", name=re.compile("^Don't know")).check()
        expect(first.locator(".answer-status")).to_contain_text("Saved")
        audits.append(audit(page, f"{audience}: section"))
        page.set_viewport_size(PHONE)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        audits.append(audit(page, f"{audience}: section, 390 px"))
        page.set_viewport_size(DESKTOP)
        page.get_by_role("link", name="Review and submit").first.click()
        expect(page.locator(".dont-know-list")).to_be_visible()
        audits.append(audit(page, f"{audience}: review"))
        assert console.errors == []
        context.close()

    summary = table(audits)
    print("\n" + summary)
    details = "\n".join(a.describe(IMPACTS) for a in audits if a.violations)
    assert sum(a.count(i) for a in audits for i in IMPACTS) == 0, f"{summary}\n\n{details}"
