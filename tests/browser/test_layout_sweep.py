"""Every page of the access matrix, at 390 px and 1280 px: it fits, and axe finds nothing.

The pages are the access matrix's allowed GETs (tests/security/test_access_matrix.py), in
its world (tests/security/world.py): every rule, as every principal it allows. Each
principal has one browser context, signed in once through the real sign-in form (the
respondent through their invitation link, as a member does). Each page is loaded once:
at 390 px wide, ``document.documentElement.scrollWidth`` must be at most 390 and axe-core
must report no violation of any impact; then the same page at 1280 px, the same checks.
No page shows a question's internal code (such as "HOL-CUS-1"), except the assessor's
workspace and criteria pages, whose question-by-question criteria name each code so that
an assessor can match them with the "question code" column of the answers export.

Left out, each with its reason (``skipped``): downloads (PDF, CSV, Excel, ZIP, PNG,
iCalendar, evidence files and JSON answers are not pages), signing out (it would end the
principal's session), and
GET-less views (POST only: their pages are those they redirect to). The admin is not in
the matrix (Django's own pages). Run with ``-s`` to see the table of pages and widths.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import TransactionTestCase, override_settings
from django.urls import Resolver404, resolve
from playwright.sync_api import Browser, BrowserContext, Page
from pytest_django.live_server_helper import LiveServer

from assessment import services
from frameworks.models import Question
from tests.browser.axe import audit
from tests.factories import (
    PASSWORD,
    make_membership,
    make_opened_assessment,
    make_organisation,
    make_team,
    make_user,
)
from tests.security.routes import allowed_methods, routes
from tests.security.test_access_matrix import MATRIX, PRINCIPALS, SIGN_OUT, build_context
from tests.security.world import World, build_world

PHONE = {"width": 390, "height": 844}
WIDTH = "document.documentElement.scrollWidth"
DESKTOP = {"width": 1280, "height": 800}

# Allowed GETs that are not pages, or would undo the sweep, with the reason. Downloads are
# found by their route (a file name with its extension, or .../download/).
DOWNLOAD = re.compile(
    r"\.(pdf|csv|xlsx|zip|svg|png|ics)$|/download/$|/evidence/<int:evidence_pk>/file/$"
)
SKIPPED: dict[str, str] = {
    "health": "JSON for load balancers, not a page",
    "assessment:branding_logo": "a PNG image",
    **dict.fromkeys(SIGN_OUT, "signs the principal out"),
    "admin:login": "Django's admin site, not the app's own pages",
}


def skipped(key: str, route: str) -> str | None:
    """Why the sweep leaves this pattern out, or None."""
    if key in SKIPPED:
        return SKIPPED[key]
    if DOWNLOAD.search(route):
        return "a download"
    return None


# Pages allowed to be wider than 390 px, with the reason. None.
WIDE_EXCEPTIONS: dict[str, str] = {}


@dataclass
class Visit:
    key: str
    principal: str
    url: str
    final: str = ""
    status: int = 0
    widths: dict[int, int] = field(default_factory=dict)
    overflowing: list[str] = field(default_factory=list)  # what sticks out at 390 px
    violations: dict[int, list[str]] = field(default_factory=dict)
    codes: list[str] = field(default_factory=list)  # internal question codes shown


# What sticks out past the viewport: the innermost elements past its right edge (none of
# their children stick out too), not clipped by a region that fits, each with the path of
# its three nearest ancestors.
OVERFLOW = """() => {
  const limit = document.documentElement.clientWidth;
  const name = (el) => {
    let text = el.tagName.toLowerCase();
    if (el.id) text += "#" + el.id;
    const classes = [...el.classList].slice(0, 2);
    return classes.length ? text + "." + classes.join(".") : text;
  };
  const sticksOut = (el) => {
    const rect = el.getBoundingClientRect();
    return rect.width > 0 && rect.right > limit + 0.5;
  };
  // Inside a region that clips it: one that fits, between the element and its containing
  // block (an absolutely positioned element escapes a scroller that is not positioned).
  const scrolledAway = (el) => {
    for (let at = el; at && at !== document.body; ) {
      const position = getComputedStyle(at).position;
      if (position === "fixed") return false;
      const up = position === "absolute" ? at.offsetParent : at.parentElement;
      if (!up || up === document.body) return false;
      const overflow = getComputedStyle(up).overflowX;
      if (["auto", "scroll", "hidden", "clip"].includes(overflow) && !sticksOut(up)) return true;
      at = up;
    }
    return false;
  };
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (!sticksOut(el) || scrolledAway(el) || [...el.children].some(sticksOut)) continue;
    const path = [];
    for (let up = el.parentElement; up && up !== document.body && path.length < 3;
         up = up.parentElement) path.unshift(name(up));
    const text = (el.innerText || "").trim().replace(/\\s+/g, " ").slice(0, 30);
    const right = Math.round(el.getBoundingClientRect().right);
    found.push(`${path.join(" > ")} > ${name(el)} (${right}px) "${text}"`);
    if (found.length >= 4) break;
  }
  return found;
}"""


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def open_invitation(page: Page, base: str, token: str) -> int:
    """Follow the invitation link as the member does; the response it opened."""
    page.goto(f"{base}/r/{token}/")
    start = page.locator("main form button[type=submit]")  # "Open my questionnaire", any language
    if start.count():
        start.click()
    page.wait_for_url(re.compile(r"/responses/\d+/"))
    return int(re.search(r"/responses/(\d+)/", page.url).group(1))


def usernames(w: World) -> dict[str, str | None]:
    """Each principal's username (None: not signed in)."""
    return {
        "anonymous": None,
        "respondent": None,
        "leader": None,
        "manager": w.a.manager.username,
        "other_manager": w.b.manager.username,
        "assessor": w.a.assessor.username,
        "other_assessor": w.free_assessor.username,
        "consultant": w.a.consultant.username,
        "other_consultant": w.b.consultant.username,
        "staff": w.staff.username,
    }


def pages_for(principal: str) -> list[str]:
    """The matrix's keys this principal may GET, their own objects first (a public page,
    such as another invitation link, may change what their session holds)."""
    keyed = {route.key: route for route in routes()}
    keys = [
        key
        for key, rule in MATRIX.items()
        if principal in rule.allowed
        and not skipped(key, keyed[key].route)
        and "GET" in allowed_methods(keyed[key].callback)
    ]
    return sorted(keys, key=lambda key: (len(MATRIX[key].allowed) > 2, key))


def report(visits: list[Visit]) -> str:
    width = max(len(f"{v.key} as {v.principal}") for v in visits)
    header = f"{'page'.ljust(width)} {'status':>6} {'390px':>6} {'1280px':>7}  axe 390/1280"
    rows = [header, "-" * len(header)]
    for v in visits:
        name = f"{v.key} as {v.principal}".ljust(width)
        axe = "/".join(str(len(v.violations.get(w, []))) for w in (390, 1280))
        rows.append(
            f"{name} {v.status:>6} {v.widths.get(390, 0):>6} {v.widths.get(1280, 0):>7}  {axe}"
        )
    left_out = sorted(
        f"{route.key} ({why})" for route in routes() if (why := skipped(route.key, route.route))
    )
    rows.append(f"{len(visits)} page visits; left out: " + ", ".join(left_out))
    return "\n".join(rows)


# Question codes ("HOL-CUS-1") are the frameworks' internal keys: never shown to people,
# except to assessors beside the criteria (the export they work from is keyed on them).
CODE_LIKE = re.compile(r"\b[A-Z0-9]+(?:-[A-Z0-9]+)+\b")
CODES_SHOWN_ON = frozenset({"assessment:review_detail", "assessment:review_criteria"})


def check(page: Page, visit: Visit, codes: frozenset[str]) -> None:
    """At each width: the page's width, what sticks out, and axe's violations; and
    whether the page shows a question's internal code."""
    visit.codes = sorted(set(CODE_LIKE.findall(page.inner_text("body"))) & codes)
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        width = viewport["width"]
        visit.widths[width] = page.evaluate(WIDTH)
        if width == PHONE["width"] and visit.widths[width] > width:
            visit.overflowing = page.evaluate(OVERFLOW)
        result = audit(page, f"{visit.key} as {visit.principal} at {width}px")
        visit.violations[width] = [
            f"{v['id']} ({v['impact']}): "
            + "; ".join(", ".join(map(str, n["target"])) for n in v["nodes"][:3])
            for v in result.violations
        ]


# The tests are transactional (the live server must see committed data), but the world
# is built once for the module: while it exists, the flush after each test is skipped,
# and the fixture flushes once at the end instead (as tests/browser/test_xss.py does).
@pytest.fixture(scope="module")
def sweep(django_db_setup, django_db_blocker) -> Iterator[tuple[str, World, dict]]:
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(TransactionTestCase, "_fixture_teardown", lambda self: None)
        server = LiveServer("localhost")
        try:
            with server._live_server_modified_settings, override_settings(SITE_URL=server.url):
                w = build_world()
                yield server.url, w, build_context(w)
        finally:
            server.stop()
            call_command("flush", interactive=False, verbosity=0)
            connections.close_all()


# Every page in each shipped language, in one session per principal (an invitation link
# works once): German's longer words must fit a phone too (issue 19).
LANGUAGES = ("en-gb", "de")


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.django_db(transaction=True)
def test_every_page_fits_390px_and_axe_finds_nothing(sweep, browser: Browser, principal: str):
    base, w, ctx = sweep
    codes = frozenset(Question.objects.values_list("code", flat=True))
    username = usernames(w)[principal]
    visits: list[Visit] = []
    not_html: list[str] = []

    context: BrowserContext = browser.new_context(locale="en-GB", viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        if username is not None:
            sign_in(page, base, username)
        if principal == "respondent":
            ctx["response"] = open_invitation(page, base, w.a.respondent_token)
        if principal == "leader":
            ctx["leader_response"] = open_invitation(page, base, w.a.leader_token)
        for language, key in ((lang, k) for lang in LANGUAGES for k in pages_for(principal)):
            # The language as the switcher keeps it (the cookie).
            context.add_cookies([{"name": "django_language", "value": language, "url": base}])
            url = MATRIX[key].url(w, ctx)
            visit = Visit(f"{key} ({language})", principal, url)
            page.set_viewport_size(PHONE)
            answer = page.goto(f"{base}{url}")
            visit.status, visit.final = answer.status, page.url
            if "text/html" not in answer.headers.get("content-type", ""):
                not_html.append(f"{key}: {answer.headers.get('content-type')}")
                continue
            check(page, visit, codes)
            assert page.locator("html").get_attribute("lang") == language, url
            visits.append(visit)
    finally:
        context.close()

    print("\n" + report(visits))
    too_wide = [
        f"{v.key} ({v.url} -> {resolve_name(v.final)}): {v.widths[390]} px; "
        + " | ".join(v.overflowing)
        for v in visits
        if v.widths[390] > 390 and v.key.split(" (")[0] not in WIDE_EXCEPTIONS
    ]
    wide_desktop = [f"{v.key}: {v.widths[1280]} px" for v in visits if v.widths[1280] > 1280]
    violations = [
        f"{v.key} at {width} px: {item}"
        for v in visits
        for width, items in v.violations.items()
        for item in items
    ]
    assert not_html == [], "not pages: list them in SKIPPED"
    shown = [
        f"{v.key}: {v.codes}"
        for v in visits
        if v.codes and v.key.split(" (")[0] not in CODES_SHOWN_ON
    ]
    assert shown == [], "internal codes shown"
    assert (too_wide, wide_desktop, violations) == ([], [], []), (
        f"as {principal}:\nwider than 390 px:\n"
        + "\n".join(too_wide)
        + "\nwider than 1280 px:\n"
        + "\n".join(wide_desktop)
        + "\naxe-core violations:\n"
        + "\n".join(violations)
    )
    assert len(visits) == len(LANGUAGES) * len(pages_for(principal)) > 0


def test_the_sweep_covers_every_allowed_page():
    """Every rule of the matrix with a GET is visited by each principal it allows, or
    skipped for a stated reason."""
    keyed = {route.key: route for route in routes()}
    visited = {key for principal in PRINCIPALS for key in pages_for(principal)}
    with_get = {key for key in MATRIX if "GET" in allowed_methods(keyed[key].callback)}

    left_out = {key for key in with_get if skipped(key, keyed[key].route)}
    assert visited | left_out == with_get
    assert len(visited) >= 35


def resolve_name(url: str) -> str:
    path = re.sub(r"^https?://[^/]+", "", url).split("?")[0]
    try:
        match = resolve(path)
    except Resolver404:  # a 404 page's address resolves to nothing
        return path
    return f"{match.namespace + ':' if match.namespace else ''}{match.url_name}"


# --- long words ---------------------------------------------------------------------------

LONG = "Kundendienstqualitätssicherungsabteilungsleitungsbesprechung"  # 60 letters, no break


@pytest.mark.django_db(transaction=True)
def test_long_unbroken_names_and_addresses_do_not_widen_a_phone_page(live_server, browser: Browser):
    """Names people type (a team, an assessment, an account) and e-mail addresses have no
    place to break: at 390 px they wrap inside their box, in the navigation, breadcrumbs,
    headings, badges and tables alike."""
    manager = make_user(LONG.lower()[:40], first_name=LONG, last_name=LONG)
    organisation = make_organisation(LONG * 2, manager=None)
    make_membership(organisation, manager)
    team = make_team(organisation, LONG * 2)
    services.roster_entry_add(
        team=team, name=LONG, email=f"{LONG.lower().replace('ä', 'ae')}@{'x' * 50}.example"
    )
    assessment = make_opened_assessment(team, title=LONG * 3, by=manager)

    context = browser.new_context(locale="en-GB", viewport=PHONE)
    page = context.new_page()
    widths = {}
    try:
        sign_in(page, live_server.url, manager.username)
        for url in ("/dashboard/", f"/teams/{team.pk}/", f"/assessments/{assessment.pk}/"):
            page.goto(f"{live_server.url}{url}")
            page.locator(".navbar-toggler").click()  # the folded menu names the account
            page.locator("#main-nav.show").wait_for()
            widths[url] = (page.evaluate(WIDTH), page.evaluate(OVERFLOW))
    finally:
        context.close()

    assert {url: width for url, (width, _) in widths.items()} == dict.fromkeys(widths, 390), widths
