"""Accessibility in Chromium: axe-core on every main page, and the questionnaire by keyboard.

Run with ``-s`` to see the table of axe violations per page, counted by impact.
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Browser, Page, expect

from assessment import services
from assessment.models import Answer, Assessment, Response
from assessment.selectors import review as review_selectors
from assessment.services.customers import CustomerAnswers
from frameworks.models import Question
from tests.browser.axe import IMPACTS, Audit, audit, table
from tests.browser.conftest import ConsoleWatch
from tests.browser.test_manager_journey import sign_in
from tests.factories import (
    make_assessment,
    make_assessor,
    make_consultant,
    make_grant,
    make_manager_response,
    make_organisation,
    make_response,
    make_team,
    make_user,
)

DESKTOP = {"width": 1280, "height": 720}
NARROW = {"width": 320, "height": 640}  # WCAG reflow width


def invitation_path(assessment: Assessment, n: int = 1) -> str:
    """The link make_assessment's n-th invitation was created with."""
    return f"/r/token-{assessment.pk}-{n}/"


@pytest.fixture
def world(live_server, settings):
    """One organisation seen by every role: a manager, a member, an assessor, a consultant."""
    settings.SITE_URL = live_server.url
    organisation = make_organisation("Harbour Ltd", manager="harriet")
    team = make_team(organisation, "Help desk", members=3)

    # Last quarter's assessment gives the results a trend and a previous series.
    previous = make_assessment(team, status="approved")
    for levels in ([2], [3], [2, 3]):
        make_response(previous, levels=levels, status="completed")
    Assessment.objects.filter(pk=previous.pk).update(
        submitted_at=timezone.now() - timedelta(days=90)
    )

    # This quarter's: two frameworks, three members and the manager's self-view, in review.
    current = make_assessment(team, slugs=("win4", "holistic"), status="submitted")
    Assessment.objects.filter(pk=current.pk).update(title="Winter review")
    for levels in ([3, 4, 2, 5], [4, 4, 3], [2, 3, 4, 5, 1]):
        make_response(current, levels=levels, status="completed")
    make_manager_response(current, organisation.manager, levels=[4, 5])
    Assessment.objects.filter(pk=current.pk).update(submitted_at=timezone.now())
    current.refresh_from_db()
    manager = organisation.manager
    assessor = make_assessor("alex")
    staff = make_user("stella", is_staff=True)
    services.assessor_assign(assessment=current, assessor=assessor, by=staff)

    # A first review round: one section moderated, returned, revised and resubmitted, so
    # the workspace shows what changed, the decision history and the moderated series.
    moderated = Question.objects.filter(version__assessments=current).first().section_id
    services.moderation_record(
        assessment=current,
        section_id=moderated,
        assessor=assessor,
        score="55",
        rationale="The complaint logs do not support the top ratings.",
    )
    services.decision_return(
        assessment=current,
        assessor=assessor,
        required_changes="Show evidence for the customer scores.",
        snapshot=review_selectors.decision_snapshot(current),
    )
    services.assessment_reopen(
        assessment=current,
        by=manager,
        sections=[moderated],
        note="Show evidence for the customer scores.",
    )
    for response in current.responses.filter(status=Response.Status.IN_PROGRESS):
        services.response_complete(response=response)
    services.assessment_submit(assessment=current, by=manager)
    current.refresh_from_db()
    assert current.status == Assessment.Status.IN_REVIEW

    # An open assessment of another team, with one invitation to answer.
    answering = make_assessment(make_team(organisation, "Front desk"), status="open", invitees=1)

    # The front desk's customer survey, answered by enough customers for its grid to show.
    today = timezone.localdate()
    survey = services.customer_survey_create(
        team=answering.team,
        user=manager,
        title="Front desk customers",
        opens_on=today,
        closes_on=today + timedelta(days=28),
        max_responses=500,
    )
    positions = survey.version.attributes.values_list("position", flat=True)
    for n in range(settings.CUSTOMER_THRESHOLD):
        ratings = {p: (1 + (p + n) % 5, 1 + (2 * p + n) % 5) for p in positions}
        services.customer_response_submit(
            survey_id=survey.pk,
            answers=CustomerAnswers(ratings=ratings, comment=""),
            address=f"192.0.2.{n + 1}",
        )

    consultant = make_consultant("carla")
    make_grant(organisation, consultant.consultancy)
    return {
        "base": live_server.url,
        "organisation": organisation,
        "team": team,
        "current": current,
        "answering": answering,
        "survey": survey,
        "assessor": assessor,
        "staff": staff,
        "consultant": consultant,
    }


# --- axe ----------------------------------------------------------------------------------


def in_language(language: str):
    """A message of our catalogue as the pages in ``language`` show it."""

    def translate(text: str) -> str:
        with translation.override(language):
            return translation.gettext(text)

    return translate


# Every page in each shipped language (issue 19): the German pages, their lang
# attributes included, are held to the same bar as the English.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en-gb", "de"])
def test_axe_finds_no_violations_on_the_main_pages_in_their_states(
    world, browser: Browser, language: str
) -> None:
    base = world["base"]
    current = world["current"]
    audits: list[Audit] = []
    console_errors: list[str] = []
    tr = in_language(language)

    def check(page: Page, name: str, path: str | None = None) -> None:
        if path is not None:
            page.goto(f"{base}{path}")
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == language, name
        audits.append(audit(page, name))
        # The same page at 320 px (WCAG reflow): tables scroll, the navigation folds away.
        page.set_viewport_size(NARROW)
        audits.append(audit(page, f"{name}, 320 px"))
        page.set_viewport_size(DESKTOP)

    def session(username: str | None = None, *, watch: bool = True) -> Iterator[Page]:
        """A fresh browser signed in as username; its console errors are collected."""
        context = browser.new_context(locale="en-GB", viewport=DESKTOP)
        page = context.new_page()
        console = ConsoleWatch(page)
        if username is not None:
            sign_in(page, base, username)
        # The language chosen as the switcher keeps it (the cookie).
        context.add_cookies([{"name": "django_language", "value": language, "url": base}])
        try:
            yield page
        finally:
            if watch:
                console_errors.extend(console.errors)
            context.close()

    for page in session():
        check(page, "landing", "/")
        check(page, "sign-in", "/accounts/login/")
        page.get_by_label(tr("Username")).fill("nobody")
        page.get_by_label(tr("Password")).fill("wrong")
        page.get_by_role("button", name=tr("Sign in")).click()
        check(page, "sign-in, refused")
        check(page, "sign-up", "/signup/")
        check(page, "framework catalogue", "/frameworks/")
        check(page, "framework detail", "/frameworks/win4/")
        check(page, "scoring rules", "/scoring/")
        check(page, "glossary", "/glossary/")
        check(page, "invitation start", invitation_path(world["answering"]))
        page.get_by_role("button", name=tr("Open my questionnaire")).click()
        check(page, "questionnaire section")
        question = page.locator("fieldset.question").first
        with page.expect_response(lambda r: "/answers/" in r.url):
            question.locator("input[value='3']").check()
        expect(question.locator(".answer-status")).to_contain_text(tr("Saved"))
        check(page, "questionnaire, answer saved")
        page.get_by_role("link", name=tr("Review and submit")).click()
        check(page, "questionnaire review")
        check(page, "customer survey", world["survey"].public_path())

    for page in session(watch=False):  # the browser logs the 404 itself as an error
        check(page, "not found", "/no-such-page/")

    for page in session(world["organisation"].manager.username):
        check(page, "dashboard", "/dashboard/")
        check(page, "team", f"/teams/{world['team'].pk}/")
        check(page, "new assessment", "/assessments/new/")
        check(page, "assessment detail", f"/assessments/{current.pk}/")
        check(page, "results", f"/assessments/{current.pk}/results/")
        check(page, "consultant grants", "/organisation/consultants/")
        check(page, "managers", "/managers/")
        check(page, "submit for review", f"/assessments/{world['answering'].pk}/submit/")
        check(page, "customer survey results", world["survey"].get_absolute_url())

    for page in session(world["staff"].username):
        check(page, "staff review queue", "/staff/reviews/")

    for page in session(world["assessor"].username):
        check(page, "assessor queue", "/reviews/")
        check(page, "review workspace", f"/reviews/{current.pk}/")

    for page in session(world["consultant"].username):
        check(page, "portfolio", "/clients/")
        check(page, "branding", "/clients/branding/")
        check(page, "bulk export", "/clients/exports/new/")

    summary = table(audits)
    print("\n" + summary)
    # Every impact, minor included (the layout sweep holds every page to the same).
    details = "\n".join(a.describe(IMPACTS) for a in audits if a.violations)
    assert sum(a.count(i) for a in audits for i in IMPACTS) == 0, f"{summary}\n\n{details}"
    assert console_errors == []  # axe ran without tripping the Content Security Policy


# --- keyboard -----------------------------------------------------------------------------

FOCUS_STATE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  // The house focus ring is an outline (static/css/app.css); Bootstrap's pale glow
  // (box-shadow) alone is too faint to count.
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  return {
    tag: el.tagName.toLowerCase(),
    type: el.type || "",
    name: el.name || "",
    value: el.value || "",
    id: el.id || "",
    text: (el.innerText || el.getAttribute("aria-label") || "").trim().slice(0, 80),
    visible: outline && style.outlineColor !== "rgba(0, 0, 0, 0)",
    style: `outline: ${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
  };
}"""


class Keyboard:
    """Drives a page with the keyboard alone, checking each focus stop is visibly marked."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.stops: list[dict] = []

    def focused(self) -> dict:
        return self.page.evaluate(FOCUS_STATE)

    def press(self, key: str) -> dict:
        self.page.keyboard.press(key)
        state = self.focused()
        if state["tag"] != "body":
            self.stops.append(state)
            assert state["visible"], f"no visible focus after {key}: {state}"
        return state

    def tab_to(self, matches, *, backwards: bool = False, limit: int = 80) -> dict:
        """Press Tab (or Shift+Tab) until the focused element matches."""
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(limit):
            state = self.press(key)
            if matches(state):
                return state
        raise AssertionError(f"{key} never reached the element; last stops: {self.stops[-10:]}")


def is_level_of(question_pk: int):
    return lambda s: s["type"] == "radio" and s["name"] == f"q{question_pk}-level"


def is_button(text: str):
    return lambda s: s["tag"] in ("button", "a") and s["text"] == text


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
@pytest.mark.django_db(transaction=True)
def test_a_member_answers_a_section_and_submits_by_keyboard_alone(
    world, browser: Browser, javascript: bool
) -> None:
    base, assessment = world["base"], world["answering"]
    context = browser.new_context(locale="en-GB", java_script_enabled=javascript)
    page = context.new_page()
    keys = Keyboard(page)

    page.goto(f"{base}{invitation_path(assessment)}")
    assert keys.press("Tab")["text"] == "Skip to main content"
    keys.tab_to(is_button("Open my questionnaire"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    first_section = page.get_by_role("heading", level=1).inner_text()
    # The member's own questions (frameworks v2: the team's), as the page lists them.
    questions = list(
        Question.objects.filter(version__assessments=assessment, section__name=first_section)
        .asked_of("team")
        .order_by("position")
    )
    assert len(questions) >= 3

    def saving(question: Question) -> AbstractContextManager:
        """With JavaScript, wait for the autosave the keys set off (so none is in flight)."""
        if not javascript:
            return nullcontext()
        return page.expect_response(
            lambda r: (
                r.url.endswith("/answers/")
                and r.status == 200
                and f"q{question.pk}-level" in (r.request.post_data or "")
            )
        )

    def options(question: Question) -> list[str]:
        """The question's radio values in page order: its levels in its statement's
        direction (``Question.options``), then "not applicable to us" and "don't know"."""
        return [str(level) for level, _anchor in question.options()] + ["na", "dk"]

    def stored(value: str) -> tuple[int | None, bool, bool]:
        return (
            int(value) if value.isdecimal() else None,
            value == "na",
            value == "dk",
        )

    # Each question: Tab into its radio group, choose with Space or the arrow keys.
    # Nothing is chosen yet, so Tab lands on the first option (level 0, or level 5 for a
    # negatively worded statement); ArrowUp from there wraps round to "Don't know".
    expected: dict[int, tuple[int | None, bool, bool, str]] = {}
    chosen: dict[int, str] = {}
    for index, question in enumerate(questions):
        values = options(question)
        with saving(question):
            state = keys.tab_to(is_level_of(question.pk))
            assert state["value"] == values[0]
            if index == 0:
                keys.press("Space")
                chosen[question.pk] = values[0]
            elif index == 1:
                keys.press("ArrowUp")  # wraps round to the last option: "Don't know"
                chosen[question.pk] = "dk"
            else:
                steps = (4, 2, 5, 3)[(index - 2) % 4]
                for _ in range(steps):
                    keys.press("ArrowDown")
                chosen[question.pk] = values[steps]
        assert keys.focused()["value"] == chosen[question.pk]
        comment = ""
        if index == 2:
            comment = "Shown in the weekly call review."
            with saving(question):
                state = keys.press("Tab")
                assert state["id"] == f"q{question.pk}-comment"
                page.keyboard.type(comment)
        expected[question.pk] = (*stored(chosen[question.pk]), comment)

    # Change our mind about the last answer: Shift+Tab back into it from what follows.
    last = questions[-1]
    keys.press("Tab")  # its comment box
    with saving(last):
        state = keys.tab_to(is_level_of(last.pk), backwards=True)
        assert state["value"] == chosen[last.pk]  # the chosen option holds focus
        keys.press("ArrowUp")
    values = options(last)
    expected[last.pk] = (*stored(values[values.index(chosen[last.pk]) - 1]), "")

    keys.tab_to(is_button("Save and continue"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_text("Your answers are saved.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).not_to_have_text(first_section)

    # The next section: go to the review page from its progress panel, and submit.
    keys.tab_to(is_button("Review and submit"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review and submit")
    keys.tab_to(lambda s: s["id"] == "confirm-final")
    keys.press("Space")
    keys.tab_to(is_button("Submit my answers"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_text("Your answers are submitted. Thank you.")).to_be_visible()
    context.close()

    response = Response.objects.get(assessment=assessment)
    assert response.status == Response.Status.COMPLETED
    saved = {
        a.question_id: (a.level, a.not_applicable, a.dont_know, a.comment)
        for a in Answer.objects.filter(response=response)
    }
    assert saved == expected
    assert {s["tag"] for s in keys.stops} >= {"a", "button", "input", "textarea"}
