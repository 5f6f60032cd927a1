"""Customer surveys in Chromium (issue 17, "Must show" 1): a customer answers on a phone
by keyboard alone, with JavaScript and without, and the manager sees the grid only from
the threshold.

The customer opens the public link ``/c/<token>/`` in a 390 x 844 touch viewport, Tabs
from rating group to rating group (each a row of Bootstrap ``btn-check`` radios), chooses
with Space and the arrow keys, writes a comment and sends, all without the mouse; the
scripted wall time is measured. The page is no wider than the phone and axe-core finds no
violation of any impact (axe runs with JavaScript only: its run waits on the page's timers,
which never fire when JavaScript is off; the page has no script, so it is the same page
either way; the scroll width is read either way, as the protocol still evaluates a plain
expression). The manager's survey page (``/customers/<pk>/``) shows no grid
below ``CUSTOMER_THRESHOLD`` responses and the grid with its data table from it; the
responses that make the threshold come partly through ``services.customer_response_submit``
and partly through the real page in the browser. A browser that sends twice reads the
polite "already sent" message. ``CUSTOMER_MIN_SECONDS`` is lowered to one second (the live
server runs in this process, so pytest-django's ``settings`` reach it).

Full-page screenshots are saved to shots17/ in the system's temporary directory (outside
the repository) for a person to look at. Run with ``-s`` to see the timings.
"""

import datetime
import re
import tempfile
import time
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect

from assessment import services
from assessment.models import CustomerResponse, CustomerSurvey
from assessment.services.customers import CustomerAnswers
from frameworks.models import CustomerAttribute
from tests.browser.axe import Audit, audit
from tests.browser.conftest import ConsoleWatch
from tests.browser.test_layout_sweep import DESKTOP, OVERFLOW, PHONE, sign_in
from tests.factories import make_assessment, make_organisation, make_team

SHOTS = Path(tempfile.gettempdir()) / "shots17"  # for a person to look at; not kept
MIN_SECONDS = 1
WALL_LIMIT = 180  # seconds: a customer answers in about two minutes, a script faster
WIDTH = "document.scrollingElement.scrollWidth"
REPEAT = "Thank you, but this browser has already sent answers to this survey."

# What the keyboard customer chooses, by attribute position: (importance, performance) as
# the index of the option in its row: 0-4 are the ratings 1-5, 5 is "Doesn't apply to me".
KEYBOARD_PLAN = {
    1: (4, 1),
    2: (3, 3),
    3: (0, 5),
    4: (2, 4),
    5: (5, 5),
    6: (1, 2),
    7: (4, 0),
    8: (0, 4),
    9: (3, 2),
    10: (2, 3),
}
NA = 5
COMMENT = "The woman at the counter phoned me back the same day. Parking is hard."

# The focused element, and for a btn-check radio (clipped out of sight) the label that
# stands for it on screen: what marks the focus there, and where it is.
FOCUS = """() => {
  const el = document.activeElement;
  const shown = el.matches(".btn-check") ? document.querySelector(`label[for="${el.id}"]`) : el;
  shown.getAnimations().forEach((a) => a.finish());  // Bootstrap eases the glow in
  const style = getComputedStyle(shown);
  const rect = shown.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    type: el.type || "",
    name: el.name || "",
    value: el.value || "",
    checked: !!el.checked,
    id: el.id || "",
    text: (shown.innerText || "").trim().replace(/\\s+/g, " ").slice(0, 80),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2
      && style.outlineColor !== "rgba(0, 0, 0, 0)",
    shadow: style.boxShadow,
    style: `outline: ${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}; `
      + `box-shadow: ${style.boxShadow}`,
    right: rect.right,
  };
}"""

# The numbered dots of the grid that overlap another, by their numbers (a person looks).
DOT_OVERLAPS = """() => {
  const dots = [...document.querySelectorAll("svg.ipa-chart circle")].map((c, i) => {
    const r = c.getBoundingClientRect();
    return {n: i + 1, x: r.left + r.width / 2, y: r.top + r.height / 2, r: r.width / 2};
  });
  const found = [];
  for (const a of dots) for (const b of dots) {
    if (a.n < b.n && Math.hypot(a.x - b.x, a.y - b.y) < a.r + b.r) found.push([a.n, b.n]);
  }
  return found;
}"""


def rating_value(index: int) -> str:
    return "na" if index == NA else str(index + 1)


def stored(index: int) -> int | None:
    return None if index == NA else index + 1


@pytest.fixture
def world(live_server, settings) -> dict:
    """An organisation whose help desk's open assessment has a customer survey."""
    settings.SITE_URL = live_server.url
    settings.CUSTOMER_MIN_SECONDS = MIN_SECONDS
    organisation = make_organisation("Harbour Ltd", manager="harriet")
    team = make_team(organisation, "Help desk")
    assessment = make_assessment(team, status="open")
    today = timezone.localdate()
    survey = services.customer_survey_create(
        team=team,
        assessment=assessment,
        user=organisation.manager,
        title="Help desk customers",
        opens_on=today,
        closes_on=today + datetime.timedelta(days=28),
        max_responses=500,
    )
    attributes = list(CustomerAttribute.objects.filter(version=survey.version).order_by("position"))
    assert [a.position for a in attributes] == sorted(KEYBOARD_PLAN)
    SHOTS.mkdir(exist_ok=True)
    return {
        "base": live_server.url,
        "survey": survey,
        "link": f"{live_server.url}{survey.public_path()}",
        "manager": organisation.manager,
        "attributes": attributes,
        "threshold": settings.CUSTOMER_THRESHOLD,
    }


def phone(browser: Browser, *, javascript: bool = True) -> BrowserContext:
    context = browser.new_context(
        locale="en-GB", viewport=PHONE, has_touch=True, java_script_enabled=javascript
    )
    context.set_default_timeout(15_000)
    return context


def fits(page: Page, width: int) -> tuple[int, list[str]]:
    """The page's scroll width, and what sticks out past ``width`` if anything does."""
    scroll = page.evaluate(WIDTH)
    return scroll, (page.evaluate(OVERFLOW) if scroll > width else [])


def send(page: Page, press) -> None:
    """Send the answers (``press`` presses or taps the button) and follow to the page that
    answers; a refusal by the CSRF check is named with the Origin the browser sent."""
    with (
        page.expect_response(lambda r: r.request.method == "POST") as sent,
        page.expect_navigation(),
    ):
        press()
    origin = sent.value.request.all_headers().get("origin")
    assert sent.value.status != 403, (
        f"the CSRF check refused the customer's answers (HTTP 403): the browser sent "
        f"Origin: {origin}; the page says {page.locator('h1').inner_text()!r}"
    )


def wait_out_minimum(served: float) -> None:
    """A person takes longer than the minimum time; a fast script waits it out."""
    left = MIN_SECONDS + 0.2 - (time.monotonic() - served)
    if left > 0:
        time.sleep(left)


class Keyboard:
    """Drives the survey with the keyboard alone; every focus stop is noted."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.stops: list[dict] = []
        self.unmarked: list[str] = []  # focus stops with no visible ring

    def focused(self) -> dict:
        return self.page.evaluate(FOCUS)

    def press(self, key: str) -> dict:
        self.page.keyboard.press(key)
        state = self.focused()
        self.stops.append(state)
        return state

    def tab_to(self, matches, limit: int = 10) -> dict:
        for _ in range(limit):
            state = self.press("Tab")
            if matches(state):
                return state
        raise AssertionError(f"Tab never reached the element; last stops: {self.stops[-5:]}")

    def rate(self, name: str, index: int, *, keys: str = "ArrowRight") -> dict:
        """Tab into the rating row ``name`` and choose its option ``index``: Space for the
        first, the arrow keys for the others, and ArrowLeft from the first wraps round to
        the last ("doesn't apply")."""
        state = self.tab_to(lambda s: s["type"] == "radio" and s["name"] == name)
        assert (state["value"], state["checked"]) == ("1", False), state
        if index == 0:
            state = self.press("Space")
        elif index == NA:
            state = self.press("ArrowLeft")
        else:
            for _ in range(index):
                state = self.press(keys)
        return state


def answer_by_keyboard(page: Page, keys: Keyboard, close_up: Path | None = None) -> None:
    """Every rating row, the comment and the send button, in the page's Tab order;
    ``close_up``: a picture of the first attribute while its focused rating shows."""
    for position, (importance, performance) in KEYBOARD_PLAN.items():
        for prefix, index in (("i", importance), ("p", performance)):
            # Both arrow directions a person uses: right on importance, down on performance.
            state = keys.rate(
                f"{prefix}{position}", index, keys="ArrowRight" if prefix == "i" else "ArrowDown"
            )
            assert (state["name"], state["value"], state["checked"]) == (
                f"{prefix}{position}",
                rating_value(index),
                True,
            ), state
            # The label that stands for the focused radio must show the focus as the house
            # ring does (static/css/app.css): an outline. Bootstrap's pale glow alone is too
            # faint to count (as in test_accessibility.py). Checked once the answers are in.
            if not state["outline"]:
                keys.unmarked.append(f"{state['name']}={state['value']}: {state['style']}")
            if close_up is not None and (position, prefix) == (1, "p"):
                page.locator(".customer-attribute").first.screenshot(path=str(close_up))
    state = keys.press("Tab")
    assert (state["tag"], state["name"]) == ("textarea", "comment"), state
    page.keyboard.type(COMMENT)
    state = keys.press("Tab")  # the honeypot is out of the Tab order
    assert (state["tag"], state["text"]) == ("button", "Send my answers"), state


# --- the customer on a phone, by keyboard -------------------------------------------------


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
@pytest.mark.django_db(transaction=True)
def test_a_customer_answers_on_a_phone_by_keyboard_alone(
    world, browser: Browser, javascript: bool
) -> None:
    survey: CustomerSurvey = world["survey"]
    audits: list[Audit] = []
    context = phone(browser, javascript=javascript)
    page = context.new_page()
    console = ConsoleWatch(page)
    keys = Keyboard(page)
    try:
        start = time.monotonic()
        answer = page.goto(world["link"])
        served = time.monotonic()
        assert answer.status == 200
        expect(page.get_by_role("heading", level=1)).to_have_text("Your view of our service")
        assert page.locator("script").count() == 0  # the page has no script at all

        widths = {"survey": fits(page, PHONE["width"])}
        # Every rating button sits inside the phone's width (bounding boxes come from the
        # browser itself, not from a script in the page).
        labels = page.locator(".customer-rating label").all()
        boxes = [box for box in (label.bounding_box() for label in labels) if box]
        assert len(boxes) == len(KEYBOARD_PLAN) * 2 * 6
        assert max(b["x"] + b["width"] for b in boxes) <= PHONE["width"]
        assert min(b["width"] for b in boxes) >= 44  # WCAG 2.5.5's target size
        assert min(b["height"] for b in boxes) >= 44
        if javascript:  # axe's run waits on the page's timers: it needs JavaScript
            audits.append(audit(page, "customer survey at 390 px"))
            page.screenshot(path=str(SHOTS / "customer-survey-390.png"), full_page=True)

        answer_by_keyboard(
            page, keys, close_up=SHOTS / "customer-survey-390-focus.png" if javascript else None
        )
        if javascript:
            page.screenshot(path=str(SHOTS / "customer-survey-390-answered.png"), full_page=True)
        wait_out_minimum(served)
        send(page, lambda: page.keyboard.press("Enter"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
        elapsed = time.monotonic() - start
        assert page.url == f"{world['link']}thanks/"
        widths["thanks"] = fits(page, PHONE["width"])
        if javascript:
            audits.append(audit(page, "customer thanks at 390 px"))
            page.screenshot(path=str(SHOTS / "customer-thanks-390.png"), full_page=True)
    finally:
        context.close()

    print(
        f"\ncustomer by keyboard {'with' if javascript else 'without'} JavaScript: "
        f"{elapsed:.1f} s wall time, {len(keys.stops)} key presses, widths {widths}"
    )
    assert elapsed < WALL_LIMIT
    assert widths == {"survey": (390, []), "thanks": (390, [])}
    assert [a.describe() for a in audits if a.violations] == []
    assert "website" not in {s["name"] for s in keys.stops}  # the honeypot is never reached
    assert console.errors == []

    row = CustomerResponse.objects.get(survey=survey)
    expected = {
        position: (stored(importance), stored(performance))
        for position, (importance, performance) in KEYBOARD_PLAN.items()
    }
    assert {p: (getattr(row, f"i{p}"), getattr(row, f"p{p}")) for p in expected} == expected
    assert row.comment == COMMENT
    survey.refresh_from_db()
    assert survey.refused_total == 0
    assert keys.unmarked == [], "rating buttons whose keyboard focus shows no outline"


# --- the manager: no grid below the threshold, the grid and its table from it -------------


Ratings = dict[int, tuple[int | None, int | None]]


def tap_ratings(page: Page, ratings: Ratings) -> None:
    """A customer tapping the rating buttons (None: "doesn't apply")."""
    for position, (importance, performance) in ratings.items():
        for prefix, rating in (("i", importance), ("p", performance)):
            index = NA if rating is None else rating - 1
            page.locator(f"label[for='id_{prefix}{position}_{index}']").tap()


def answer_by_touch(page: Page, link: str, ratings: Ratings) -> None:
    """A customer opening the link, tapping their ratings and sending them."""
    page.goto(link)
    served = time.monotonic()
    tap_ratings(page, ratings)
    wait_out_minimum(served)
    send(page, page.get_by_role("button", name="Send my answers").tap)
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")


# Each attribute's centre (importance, performance), around which the customers' ratings
# spread; "Kept informed" (9) is rated as "Right first time" (2), so their dots coincide, as
# they may in real answers.
CENTRES = {1: (5, 2), 2: (4, 3), 3: (3, 4), 4: (4, 2), 5: (2, 4), 6: (2, 2), 7: (5, 3),
           8: (1, 4), 9: (4, 3), 10: (4, 5)}  # fmt: skip
SPREAD = ((0, 0), (1, -1), (-1, 1), (1, 0), (-1, 0))


def customer_ratings(n: int) -> Ratings:
    """The n-th customer's ratings, spread round each attribute's centre; "Help after
    buying" (5) doesn't apply to the first customer, so it stays below the threshold and is
    listed without figures."""
    di, dp = SPREAD[n % len(SPREAD)]
    ratings = {
        position: (min(5, max(1, i + di)), min(5, max(1, p + dp)))
        for position, (i, p) in CENTRES.items()
    }
    if n == 0:
        ratings[5] = (None, None)
    return ratings


@pytest.mark.django_db(transaction=True)
def test_the_manager_sees_the_grid_only_from_the_threshold(world, browser: Browser) -> None:
    survey: CustomerSurvey = world["survey"]
    threshold = world["threshold"]
    assert threshold >= 3
    everyone = [customer_ratings(n) for n in range(threshold)]
    by_service, first_by_browser, last_by_browser = everyone[:-2], everyone[-2], everyone[-1]
    for n, ratings in enumerate(by_service):
        refused = services.customer_response_submit(
            survey_id=survey.pk,
            answers=CustomerAnswers(ratings=ratings, comment=""),
            address=f"192.0.2.{n + 1}",
        )
        assert refused is None

    customers = phone(browser)
    page = customers.new_page()
    try:
        answer_by_touch(page, world["link"], first_by_browser)
    finally:
        customers.close()
    assert CustomerResponse.objects.filter(survey=survey).count() == threshold - 1

    manager = browser.new_context(locale="en-GB", viewport=DESKTOP)
    manager.set_default_timeout(15_000)
    page = manager.new_page()
    console = ConsoleWatch(page)
    audits = []
    widths = {}
    try:
        sign_in(page, world["base"], world["manager"].username)
        page.goto(f"{world['base']}{survey.get_absolute_url()}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Help desk customers")
        results = page.locator("section[aria-labelledby='customers-results-heading']")
        expect(results.locator(".alert-info")).to_contain_text(
            f"{threshold - 1} customers have answered so far. "
            f"Customer figures appear from {threshold} responses"
        )
        assert page.locator("svg.ipa-chart").count() == 0
        assert page.locator("#ipa-table-caption").count() == 0
        assert page.get_by_role("table").count() == 0
        page.screenshot(path=str(SHOTS / "manager-survey-below-threshold-1280.png"), full_page=True)

        # The last customer, in their own browser on their own phone.
        customers = phone(browser)
        try:
            answer_by_touch(customers.new_page(), world["link"], last_by_browser)
        finally:
            customers.close()

        page.reload()
        chart = page.locator("svg.ipa-chart")
        expect(chart).to_be_visible()
        table = page.get_by_role("table", name=re.compile(r"Customers' ratings, 1 to 5"))
        expect(table).to_be_visible()
        expect(table.locator("caption")).to_contain_text(f"from {threshold} responses")
        names = table.locator("tbody th[scope=row]").all_inner_texts()
        widths[1280] = fits(page, DESKTOP["width"])
        overlaps = page.evaluate(DOT_OVERLAPS)
        dots = chart.locator("circle").count()
        numbers = chart.locator("text[font-weight=bold]").all_text_contents()
        audits.append(audit(page, "manager's survey page at 1280 px"))
        page.screenshot(path=str(SHOTS / "manager-survey-1280.png"), full_page=True)
        chart.screenshot(path=str(SHOTS / "manager-survey-grid-1280.png"))
        page.set_viewport_size(PHONE)
        widths[390] = fits(page, PHONE["width"])
        phone_chart = chart.bounding_box()
        audits.append(audit(page, "manager's survey page at 390 px"))
        page.screenshot(path=str(SHOTS / "manager-survey-390.png"), full_page=True)
    finally:
        manager.close()

    print(
        f"\nmanager's page: widths {widths}; overlapping dots {overlaps}; the grid at 390 px "
        f"{phone_chart['width']:.0f} x {phone_chart['height']:.0f} px"
    )
    # Placed: rated (importance and performance both) by at least the threshold's customers.
    rated = {
        a.position: sum(1 for r in everyone if None not in r[a.position])
        for a in world["attributes"]
    }
    placed = [a.name for a in world["attributes"] if rated[a.position] >= threshold]
    unplaced = [a.name for a in world["attributes"] if rated[a.position] < threshold]
    assert unplaced == ["Help after buying"]
    assert names[: len(placed)] == placed  # every placed attribute, numbered as in the chart
    assert names[len(placed) :] == unplaced
    assert dots == len(placed)
    assert numbers == [str(n) for n in range(1, len(placed) + 1)]
    assert widths == {1280: (1280, []), 390: (390, [])}
    assert [a.describe() for a in audits if a.violations] == []
    assert console.errors == []
    assert CustomerResponse.objects.filter(survey=survey).count() == threshold


# --- the same browser twice ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_same_browser_sending_twice_reads_a_polite_message(world, browser: Browser) -> None:
    survey: CustomerSurvey = world["survey"]
    context = phone(browser)
    try:
        # Two tabs of one browser, both opened before either sends.
        first, second = context.new_page(), context.new_page()
        console = ConsoleWatch(second)
        second.goto(world["link"])
        served = time.monotonic()
        ratings = customer_ratings(1)
        first.bring_to_front()  # a tab in the background barely paints: taps would wait
        answer_by_touch(first, world["link"], ratings)

        # The first tab has sent in the meantime; this one, served before, sends too.
        second.bring_to_front()
        tap_ratings(second, ratings)
        wait_out_minimum(served)
        with second.expect_response(lambda r: r.request.method == "POST") as sent:
            second.get_by_role("button", name="Send my answers").tap()
        assert sent.value.status == 409
        expect(second.get_by_role("heading", level=1)).to_have_text("Answers not taken")
        expect(second.get_by_role("alert")).to_have_text(REPEAT)
        refused_width = fits(second, PHONE["width"])
        refused_audit = audit(second, "customer refused at 390 px")
        second.screenshot(path=str(SHOTS / "customer-refused-390.png"), full_page=True)

        # Opening the link again says the same, without the questions.
        first.bring_to_front()
        again = first.goto(world["link"])
        assert again.status == 200
        expect(first.get_by_role("alert")).to_have_text(REPEAT)
        assert first.locator("input[type=radio]").count() == 0
    finally:
        context.close()

    assert refused_width == (390, [])
    assert refused_audit.violations == [], refused_audit.describe()
    # The browser logs the refusal's own status (409) as an error; nothing else.
    assert [e for e in console.errors if "status of 409" not in e] == []
    assert CustomerResponse.objects.filter(survey=survey).count() == 1
    survey.refresh_from_db()
    assert (survey.refused_repeat, survey.refused_total) == (1, 1)
