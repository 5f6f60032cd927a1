"""The formula-2 results in Chromium (issue 15): the manager's results page, the assessor's
review workspace, /scoring/ and /glossary/, with everything formula 2 adds on show.

The layout sweep's world has one framework and no moderation. This one has two format-2
frameworks (service definition and six dimensions, their newest versions, which have
rules), a previous submitted assessment of the same team (so each section shows its change
and margin), one section whose team is divided (half answered 1, half 5) and one section
moderated by the assessor in review (so the official figures stand beside the team's own).
Each page, signed in through the real sign-in form, at 390 px and at 1280 px: it shows what
it should, it is no wider than the viewport, axe-core finds no violation of any impact, no
table hides what a reader needs behind a sideways scroll (a caption, a score on a phone, any
column on a desktop), and Tab reaches every results table's scroll region. Full-page
screenshots of each are saved to shots15/ in the system's temporary directory (outside the
repository) for a person to look at.
"""

import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import TransactionTestCase, override_settings
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page
from pytest_django.live_server_helper import LiveServer

from assessment import services
from assessment.models import Answer, Assessment
from frameworks.models import Section
from tests.assessment.selectors.test_results_v2 import answer
from tests.browser.axe import audit
from tests.browser.conftest import ConsoleWatch
from tests.browser.test_layout_sweep import DESKTOP, OVERFLOW, PHONE, WIDTH, sign_in
from tests.factories import make_assessment, make_assessor, make_organisation, make_team, make_user

THRESHOLD = settings.ANONYMITY_THRESHOLD
SLUGS = ("service-definition", "six-dimensions")
SHOTS = Path(tempfile.gettempdir()) / "shots15"  # for a person to look at; not kept
DIVIDED = "customer_experienced"  # service definition's section asked of the team alone
MODERATED = "business_defined"


def submitted(team, *, days_ago: int, title: str) -> Assessment:
    assessment = make_assessment(team, slugs=SLUGS, status="submitted")
    when = timezone.now() - timedelta(days=days_ago)
    Assessment.objects.filter(pk=assessment.pk).update(
        title=title, submitted_at=when, created_at=when
    )
    assessment.refresh_from_db()
    return assessment


def everyone_answers(assessment: Assessment, level: int) -> list:
    """Four team members, one manager and enough leadership invitees to count, each
    answering every question they are asked with ``level``; the team's responses."""
    team = answer(assessment, "team", THRESHOLD + 1, level)
    answer(assessment, "manager", 1, level)
    answer(assessment, "leadership", THRESHOLD, level)
    return team


def build() -> dict:
    """Last quarter's assessment (approved, everyone at 2) and this quarter's, in review:
    everyone at 3, except the divided section (half the team at 1, half at 5), six
    dimensions' tools at 5 and process at 1 (drifted apart: the rule's advice), and the
    business-defined section moderated to 70 by the assessor."""
    organisation = make_organisation("Harbour Ltd", manager="harriet")
    team = make_team(organisation, "Help desk")
    previous = submitted(team, days_ago=90, title="Summer review")
    everyone_answers(previous, 2)
    Assessment.objects.filter(pk=previous.pk).update(status=Assessment.Status.APPROVED)

    current = submitted(team, days_ago=0, title="Winter review")
    members = everyone_answers(current, 3)
    half = len(members) // 2
    for responses, level in ((members[:half], 1), (members[half:], 5)):
        Answer.objects.filter(response__in=responses, section__key=DIVIDED).update(
            level=level, submitted_level=level
        )
    for key, level in (("tools", 5), ("process", 1)):
        Answer.objects.filter(response__assessment=current, section__key=key).update(
            level=level, submitted_level=level
        )

    assessor = make_assessor("alex", last_name="Assessor")
    services.assessor_assign(
        assessment=current, assessor=assessor, by=make_user("stella", is_staff=True)
    )
    services.moderation_record(
        assessment=current,
        section_id=Section.objects.get(version__assessments=current, key=MODERATED).pk,
        assessor=assessor,
        score="70",
        rationale="The written standards are ahead of the team's own rating.",
    )
    current.refresh_from_db()
    assert current.status == Assessment.Status.IN_REVIEW
    return {"manager": organisation.manager, "assessor": assessor, "current": current}


# As in the layout sweep: a world built once for the module, on a live server of its own;
# the flush after each test is skipped while it exists, and done once at the end.
@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[dict]:
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(TransactionTestCase, "_fixture_teardown", lambda self: None)
        server = LiveServer("localhost")
        try:
            with server._live_server_modified_settings, override_settings(SITE_URL=server.url):
                yield {"base": server.url, **build()}
        finally:
            server.stop()
            call_command("flush", interactive=False, verbosity=0)
            connections.close_all()


def signed_in(browser: Browser, world: dict, who: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(locale="en-GB", viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, world["base"], world[who].username)
    return context, page


def pages(world: dict) -> list[tuple[str, str, str]]:
    """(name, who, path) of each page visited."""
    pk = world["current"].pk
    return [
        ("results", "manager", f"/assessments/{pk}/results/"),
        ("review", "assessor", f"/reviews/{pk}/"),
        ("scoring", "manager", "/scoring/"),
        ("glossary", "manager", "/glossary/"),
    ]


# What formula 2 adds, as each results page must show it.
SHOWN = (
    "95 % interval",
    "Divided team",
    "beyond the noise",
    "±",
    "Official figures",
    "The team's own figures, before moderation",
    "What the model asks of these scores",
    "The same idea, measured by several frameworks",
)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["results", "review"])
def test_the_results_pages_show_what_formula_2_adds(world, browser: Browser, name: str):
    (who, path) = next((w, p) for n, w, p in pages(world) if n == name)
    context, page = signed_in(browser, world, who)
    try:
        page.goto(f"{world['base']}{path}")
        text = page.locator("main").inner_text()
        badges = {
            slug: page.locator(f"ul[aria-labelledby=rules-{slug}] .badge").all_inner_texts()
            for slug in SLUGS
        }
        rows = page.locator(
            "table:has(> caption#scores-service-definition) tbody tr"
        ).all_inner_texts()
    finally:
        context.close()

    assert [item for item in SHOWN if item not in text] == []
    # The rules: service definition's customers lead (not met: the moderated business
    # side is ahead) and come before excellence (met); six dimensions' is advice.
    assert badges == {"service-definition": ["not met", "met"], "six-dimensions": ["advice"]}
    # Half the team at 1, half at 5: the average describes nobody, and the row says so.
    (divided,) = [row for row in rows if row.startswith("Experienced by customers")]
    assert "average 3.0; 50 % at level 4 or above" in divided
    assert "Divided team" in divided
    # The assessor's score and reason stand in the moderated column.
    assert "The written standards are ahead of the team's own rating." in text


# What a reader of a results table cannot see without scrolling it sideways: a caption
# running past its region's edge, at 390 px a section's score (the cell after the row's
# heading) past it, and at 1280 px any table wider than its region; and a caption squeezed
# into less than half its region's width (a stacked table's, one word a line).
HIDDEN = """(wide) => {
  const found = [];
  for (const region of document.querySelectorAll(".table-responsive[role=region]")) {
    const table = region.querySelector(":scope > table.results-table");
    if (!table) continue;
    const edge = region.getBoundingClientRect().right + 0.5;
    const name = region.getAttribute("aria-labelledby");
    const caption = table.querySelector(":scope > caption:not(.visually-hidden)");
    if (caption && caption.getBoundingClientRect().right > edge) found.push(`${name}: caption`);
    if (caption && caption.getBoundingClientRect().width < region.clientWidth / 2) {
      found.push(`${name}: caption squeezed`);
    }
    if (wide && table.offsetWidth > region.clientWidth) {
      found.push(`${name}: ${table.offsetWidth} px in ${region.clientWidth} px`);
    }
    if (!wide && table.matches(":not(.table-stack, .audience-table)")) {
      for (const cell of table.querySelectorAll("tbody th[scope=row] + td")) {
        if (cell.getBoundingClientRect().right > edge) {
          found.push(`${name}: the score of ${cell.previousElementSibling.innerText}`);
        }
      }
    }
  }
  return found;
}"""


@pytest.mark.django_db(transaction=True)
def test_each_page_fits_390_and_1280_px_and_axe_finds_nothing(world, browser: Browser):
    SHOTS.mkdir(exist_ok=True)
    widths: dict[str, int] = {}
    overflowing: dict[str, list[str]] = {}
    hidden: dict[str, list[str]] = {}
    violations: dict[str, str] = {}
    errors: list[str] = []
    for who in ("manager", "assessor"):
        context, page = signed_in(browser, world, who)
        console = ConsoleWatch(page)
        try:
            for name, owner, path in pages(world):
                if owner != who:
                    continue
                page.goto(f"{world['base']}{path}")
                for viewport in (PHONE, DESKTOP):
                    page.set_viewport_size(viewport)
                    key = f"{name} at {viewport['width']} px"
                    widths[key] = page.evaluate(WIDTH)
                    if widths[key] > viewport["width"]:
                        overflowing[key] = page.evaluate(OVERFLOW)
                    if hidden_now := page.evaluate(HIDDEN, viewport == DESKTOP):
                        hidden[key] = hidden_now
                    result = audit(page, key)
                    if result.violations:
                        violations[key] = result.describe()
                    page.screenshot(
                        path=str(SHOTS / f"{name}-{viewport['width']}.png"), full_page=True
                    )
        finally:
            errors += console.errors
            context.close()

    assert len(widths) == 2 * len(pages(world))
    too_wide = {key: width for key, width in widths.items() if width > int(key.split()[-2])}
    assert (too_wide, overflowing) == ({}, {})
    assert hidden == {}
    assert violations == {}, "\n".join(violations.values())
    assert errors == []


# Tab from the top of the page, noting each scroll region the focus lands on (by the
# caption that names it), and whether its focus ring shows.
FOCUSED_REGION = """() => {
  const el = document.activeElement;
  if (!el.matches(".table-responsive[role=region]")) return null;
  const style = getComputedStyle(el);
  return {
    label: el.getAttribute("aria-labelledby"),
    ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
  };
}"""

REGIONS = """() => [...document.querySelectorAll(
  ".table-responsive[role=region]:has(> .results-table)")].map(
  (el) => [el.getAttribute("aria-labelledby"), el.getAttribute("tabindex")])"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["results", "review"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_tab_reaches_every_results_tables_scroll_region(
    world, browser: Browser, name: str, viewport: dict
):
    (who, path) = next((w, p) for n, w, p in pages(world) if n == name)
    context, page = signed_in(browser, world, who)
    try:
        page.set_viewport_size(viewport)
        page.goto(f"{world['base']}{path}")
        regions = dict(page.evaluate(REGIONS))
        reached: dict[str, bool] = {}
        for _ in range(400):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUSED_REGION)
            if focused is not None:
                reached[focused["label"]] = focused["ring"]
            if set(reached) >= set(regions):
                break
    finally:
        context.close()

    # Both frameworks' scores and who rated what, and the shared concepts.
    assert {f"{kind}-{slug}" for kind in ("scores", "audiences") for slug in SLUGS} | {
        "concepts-caption"
    } == set(regions)
    assert set(regions.values()) == {"0"}
    assert reached == dict.fromkeys(regions, True)
