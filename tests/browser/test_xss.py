"""The XSS corpus of issue 7: every payload in every free-text field, rendered everywhere.

One world is built once for the module, through the app's forms and services: every
free-text field a user can fill holds every payload of ``tests.xss_payloads``. Long
fields (comments, rationales, decisions) hold them all at once; names hold them spread
over several organisations, teams, titles, people and consultancies (the "carriers"),
each value tagged with its field so it is only found where it belongs. Headless
Chromium then opens every page that shows those values and asserts, page by page:

- no dialog, console error, page error or CSP violation;
- no element carries a payload's ``data-xss`` marker, none has an event handler
  attribute or a script URL, none is a frame, object, base, style, MathML or an inline
  script, and nothing was asked of ``/xss-probe/`` or another host;
- each value shows whole, as text (escaped, not dropped).

The canary test shows that each payload, inserted unescaped where it would be live,
is caught by those checks, so a clean page means something.

The PDF reports (branded, the manager's own, the bulk ZIP) are read back with poppler
(the text of the tagged structure, and the document title); the report's locked-down
fetcher must have been asked for nothing but our own stylesheets. The CSV and XLSX
exports keep the values as text, with every formula-leading cell neutralised.

The world has a live server of its own: pytest-django's ``live_server`` would flush the
database after each test.
"""

import contextlib
import csv
import io
import re
import subprocess
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.db import connections
from django.test import TransactionTestCase
from django.test.utils import override_settings
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from playwright.sync_api import Browser, BrowserContext, Page, expect
from playwright.sync_api import Error as PlaywrightError
from pytest_django.live_server_helper import LiveServer

from assessment import reports, services
from assessment.forms.manager import AssessmentForm, RosterEntryForm, TeamForm, parse_addresses
from assessment.forms.public import SignUpForm
from assessment.models import (
    Assessment,
    AssessorProfile,
    Consultancy,
    Organisation,
    ReportCache,
    Response,
    Team,
    token_digest,
)
from assessment.selectors import review as review_selectors
from assessment.validators import is_clean
from frameworks.models import Framework, Question, Section
from tests.factories import (
    PASSWORD,
    answer_inputs,
    judge_criteria,
    make_assessor,
    make_consultant,
    make_response,
    make_user,
)
from tests.xss_payloads import (
    BODY,
    EMAIL_PAYLOADS,
    EMAILS,
    EXTERNAL_HOST,
    FORMULAS,
    MARKER,
    PAYLOADS,
    PROBE_PATH,
    TEXTS,
    chunks,
    joined,
)

TAG_ROOM = 14  # characters kept free in a name for its " #t12"-style tag

# Names hold the payloads spread over several objects; each value ends with a tag
# naming its field and owner, so a value can only be found where it belongs.
# One-line fields refuse control characters (assessment/validators.py), so the payloads
# carrying a tab or a carriage return reach only the long fields below.
LINE_TEXTS = [t for t in TEXTS if is_clean(t)]
TEXT_CHUNKS = chunks(  # organisations, teams, titles, ...
    200 - TAG_ROOM, lead=[f for f in FORMULAS if is_clean(f)], texts=LINE_TEXTS
)
NAME_CHUNKS = chunks(150 - TAG_ROOM, texts=LINE_TEXTS)  # full names (the form allows 150)
# Accreditation numbers allow 100 characters: every payload that fits (the polyglot does not).
NUMBER_CHUNKS = chunks(100, texts=[t for t in LINE_TEXTS if len(t) <= 100])
LONG_TEXT = joined()  # every payload: rationales and decision texts allow 4000 characters
_HALF = len(TEXTS) // 2
COMMENTS = (joined(texts=TEXTS[:_HALF]), joined(texts=TEXTS[_HALF:]))  # 2000 at most
# The long fields, tagged too: a page showing one must not pass for showing another.
RATIONALE = f"{LONG_TEXT}\n#rationale"
SUMMARY = f"{LONG_TEXT}\n#summary"
REQUIRED_CHANGES = f"{LONG_TEXT}\n#required-changes"
TEAM_COMMENTS = (f"{COMMENTS[0]}\n#team-comment", f"{COMMENTS[1]}\n#team-comment")
OWN_COMMENTS = (f"{COMMENTS[0]}\n#own-comment", f"{COMMENTS[1]}\n#own-comment")
CARRIERS = len(TEXT_CHUNKS)
GOOD_COLOUR = "#1d4e5f"
FRAMEWORK = "win4"


def text_value(offset: int, tag: str) -> str:
    return f"{TEXT_CHUNKS[offset % CARRIERS]} #{tag}"


def name_value(offset: int, tag: str) -> str:
    return f"{NAME_CHUNKS[offset % len(NAME_CHUNKS)]} #{tag}"


def norm(text: str) -> str:
    """Whitespace as a browser shows it: any run of it is one space."""
    return " ".join(text.split())


def squeeze(text: str) -> str:
    """No whitespace at all: a PDF's text wraps wherever a line is full."""
    return "".join(text.split())


# --- the world --------------------------------------------------------------------------


@dataclass
class Carrier:
    """One organisation, its manager, team, roster and one assessment with every long text."""

    index: int
    organisation: Organisation
    manager: object
    team: Team
    assessment: Assessment
    assessor: object
    consultancy: Consultancy
    consultant: object
    own_response: Response
    first_section: Section
    own_section: Section  # where the manager's own (manager-question) comments are
    managers: list = field(default_factory=list)  # the manager and any who joined
    pending_invitation: str = ""  # e-mail address of a manager invitation not yet accepted
    join_link: str = ""  # its link

    def refresh(self) -> None:
        for obj in (self.organisation, self.team, self.assessment, self.consultancy):
            obj.refresh_from_db()


@dataclass
class World:
    base: str
    carriers: list[Carrier]
    assessors: list
    staff: object
    open_assessment: Assessment
    invitation_links: dict[str, str]  # e-mail address -> link, for the open assessment
    invitation_mails: dict[str, str]  # e-mail address -> the invitation's text
    forms_manager: object  # a manager of an organisation kept for the form tests
    renders: list[tuple[list[str], list[str]]]  # (served, refused) of every PDF render
    failing_reports: set[int]  # assessments whose report the bulk export fails on purpose


def _valid(form) -> dict:
    assert form.is_valid(), form.errors.as_json()
    return form.cleaned_data


def _sign_up(organisation_name: str, full_name: str, email: str, username: str):
    data = _valid(
        SignUpForm(
            {
                "organisation_name": organisation_name,
                "full_name": full_name,
                "email": email,
                "username": username,
                "password1": PASSWORD,
                "password2": PASSWORD,
            }
        )
    )
    user = services.organisation_sign_up(
        organisation_name=data["organisation_name"],
        full_name=data["full_name"],
        email=data["email"],
        username=data["username"],
        password=data["password1"],
        confirmed=True,  # the address confirmation is tested in tests/assessment/test_mail_abuse.py
    )
    return user, Organisation.objects.get(memberships__user=user)


def _names(full_name: str) -> dict[str, str]:
    """A full name as an account holds it (assessors, consultants and staff are made as
    the admin would: they sign up nowhere)."""
    first, _sep, last = full_name.partition(" ")
    return {"first_name": first, "last_name": last}


def _complete_all(assessment: Assessment) -> None:
    for response in Response.objects.filter(assessment=assessment, status="in_progress"):
        if response.is_manager_view:
            continue
        services.response_complete(response=response)


def _snapshot(assessment: Assessment) -> dict:
    return review_selectors.decision_snapshot(assessment)


def _links(to: str, pattern: str) -> list[str]:
    found = []
    for message in mail.outbox:
        if to in message.to:
            found += re.findall(pattern, message.body)
    return found


def _build_carrier(index: int, staff, assessors: list, consultancy_zero) -> Carrier:
    manager, organisation = _sign_up(
        text_value(index, f"o{index}"),
        name_value(index, f"n{index}"),
        EMAILS[index % len(EMAILS)],
        f"manager{index}",
    )
    name = _valid(TeamForm({"name": text_value(index + 1, f"t{index}")}))["name"]
    team = services.team_create(organisation=organisation, name=name)
    for member in range(3):
        # Not the manager's address (index) nor the invited manager's (index + 3): a
        # manager's own address on the roster is their self-view, never team data.
        email = (
            EMAILS[(index + 5) % len(EMAILS)] if member == 0 else f"m{member}.{index}@example.com"
        )
        data = _valid(
            RosterEntryForm(
                {"name": text_value(index + 3 + member, f"m{index}.{member}"), "email": email}
            )
        )
        services.roster_entry_add(team=team, name=data["name"], email=data["email"])
    versions = [Framework.objects.get(slug=FRAMEWORK).latest_version()]
    data = _valid(
        AssessmentForm(
            {
                "title": text_value(index + 2, f"a{index}"),
                "team": team.pk,
                "frameworks": [FRAMEWORK],
            },
            teams=Team.objects.filter(organisation=organisation),
            versions=versions,
        )
    )
    assessment = services.assessment_create(
        team=data["team"],
        title=data["title"],
        framework_slugs=data["frameworks"],
        due_date=None,
        by=manager,
    )
    services.assessment_open(assessment=assessment, by=manager)
    asked = Question.objects.filter(version__assessments=assessment).order_by(
        "section__position", "position"
    )
    questions = list(asked.asked_of("team"))
    managers_questions = list(asked.asked_of("manager"))
    first_section = questions[0].section
    commented = {questions[0].pk: TEAM_COMMENTS[0], questions[1].pk: TEAM_COMMENTS[1]}
    own_comments = {
        managers_questions[0].pk: OWN_COMMENTS[0],
        managers_questions[1].pk: OWN_COMMENTS[1],
    }
    own = services.manager_response_start(assessment=assessment, by=manager)
    services.answers_save(
        response=own, answers=answer_inputs(managers_questions, level=4, comments=own_comments)
    )
    services.response_complete(response=own)
    for number, invitation in enumerate(assessment.invitations.order_by("pk")):
        response = make_response(assessment, invitation=invitation)
        services.answers_save(
            response=response,
            answers=answer_inputs(
                questions, level=2 + number, comments=commented if number == 0 else None
            ),
        )
        services.response_complete(response=response)
    services.assessment_submit(assessment=assessment, by=manager)
    assessor = assessors[index]
    services.assessor_assign(assessment=assessment, assessor=assessor, by=staff)
    sections = list(Section.objects.filter(version__in=versions).order_by("position"))
    services.moderation_record(
        assessment=assessment,
        section_id=sections[0].pk,
        assessor=assessor,
        score="55",
        rationale=RATIONALE,
    )
    if index == 0:  # returned, revised and back in review, moderated again
        services.decision_return(
            assessment=assessment,
            assessor=assessor,
            required_changes=REQUIRED_CHANGES,
            snapshot=_snapshot(assessment),
        )
        services.assessment_reopen(
            assessment=assessment,
            by=manager,
            sections=list(Section.objects.filter(version__assessments=assessment)[:1]),
            note=REQUIRED_CHANGES,
        )
        _complete_all(assessment)
        services.assessment_submit(assessment=assessment, by=manager)
        services.moderation_record(
            assessment=assessment,
            section_id=sections[1].pk,
            assessor=assessor,
            score="45",
            rationale=RATIONALE,
        )
    elif index == 1:
        judge_criteria(assessment, assessor)
        services.decision_approve(
            assessment=assessment,
            assessor=assessor,
            level=3,
            summary=SUMMARY,
            snapshot=_snapshot(assessment),
        )
    elif index == 2:
        services.decision_return(
            assessment=assessment,
            assessor=assessor,
            required_changes=REQUIRED_CHANGES,
            snapshot=_snapshot(assessment),
        )

    # Consultancies: the first sees every client; each other one sees its own client.
    consultancy = Consultancy.objects.create(name="placeholder")
    services.branding_update(
        consultancy=consultancy, name=text_value(index + 6, f"c{index}"), accent_colour=GOOD_COLOUR
    )
    consultant = make_consultant(
        f"consultant{index}",
        consultancy=consultancy,
        **_names(name_value(index + 5, f"k{index}")),
    )
    for firm in {consultancy, consultancy_zero or consultancy}:
        services.grant_create(organisation=organisation, consultancy=firm, by=manager, days=90)

    # A pending manager invitation (carrier 0's is accepted in the browser later), and
    # for a few carriers a second manager who joined through one.
    invited = EMAILS[(index + 3) % len(EMAILS)]
    services.manager_invite(organisation=organisation, email=invited, by=manager)
    join_link = _links(invited, r"https?://\S+/join/[^/\s]+/")[-1]
    managers = [manager]
    if 1 <= index < len(NAME_CHUNKS) - CARRIERS:
        managers.append(
            services.manager_invitation_accept(
                token_hash=token_digest(join_link.rstrip("/").rsplit("/", 1)[-1]),
                full_name=name_value(CARRIERS + index - 1, f"j{index}"),
                username=f"joined{index}",
                password=PASSWORD,
            )
        )
        invited = join_link = ""
    assessment.refresh_from_db()
    return Carrier(
        index=index,
        organisation=organisation,
        manager=manager,
        team=team,
        assessment=assessment,
        assessor=assessor,
        consultancy=consultancy,
        consultant=consultant,
        own_response=own,
        first_section=first_section,
        own_section=managers_questions[0].section,
        managers=managers,
        pending_invitation=invited,
        join_link=join_link,
    )


def _build_world(base: str, renders: list, failing: set[int]) -> World:
    staff = make_user("staff", is_staff=True, is_superuser=True, **_names(name_value(3, "staff")))
    assessors = [
        make_assessor(
            f"assessor{number}",
            body=text_value(number + 4, f"b{number}"),
            number=NUMBER_CHUNKS[number % len(NUMBER_CHUNKS)],
            **_names(name_value(number, f"s{number}")),
        )
        for number in range(max(len(NAME_CHUNKS), len(NUMBER_CHUNKS), CARRIERS))
    ]
    carriers: list[Carrier] = []
    for index in range(CARRIERS):
        zero = carriers[0].consultancy if carriers else None
        carriers.append(_build_carrier(index, staff, assessors, zero))

    # Spreadsheets must neutralise a leading tab or carriage return too. The forms strip
    # both, so they are put in place directly, as a defence-in-depth check.
    for carrier, lead in zip(carriers[4:6], ("\t", "\r"), strict=True):
        Organisation.objects.filter(pk=carrier.organisation.pk).update(
            name=lead + carrier.organisation.name
        )
        carrier.refresh()

    # An open assessment of carrier 0's team, inviting every payload address.
    first = carriers[0]
    data = _valid(
        AssessmentForm(
            {"title": text_value(5, "open"), "team": first.team.pk, "frameworks": [FRAMEWORK]},
            teams=Team.objects.filter(organisation=first.organisation),
            versions=[Framework.objects.get(slug=FRAMEWORK).latest_version()],
        )
    )
    open_assessment = services.assessment_create(
        team=first.team,
        title=data["title"],
        framework_slugs=[FRAMEWORK],
        due_date=None,
        by=first.manager,
    )
    services.invitations_add(assessment=open_assessment, people=[("", e) for e in EMAILS])
    mail.outbox.clear()
    services.assessment_open(assessment=open_assessment, by=first.manager)
    links = {}
    for invitation in open_assessment.invitations.all():
        found = _links(invitation.email, r"https?://\S+/r/[^/\s]+/")
        assert found, f"no invitation link was e-mailed to {invitation.email}"
        links[invitation.email] = found[-1]
    mails = {message.to[0]: message.body for message in mail.outbox}

    forms_manager, _organisation = _sign_up("Forms Ltd", "Fran Forms", "fran@example.com", "fran")
    return World(
        base=base,
        carriers=carriers,
        assessors=assessors,
        staff=staff,
        open_assessment=open_assessment,
        invitation_links=links,
        invitation_mails=mails,
        forms_manager=forms_manager,
        renders=renders,
        failing_reports=failing,
    )


# The tests are transactional (the live server must see committed data), but building
# the world for each of them would take minutes: while the world exists, the flush after
# each test is skipped, and the world fixture flushes once at the end instead.
uses_the_world = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """The world, on a live server of its own; the database is flushed afterwards, as
    a transactional test would leave it."""
    renders: list[tuple[list[str], list[str]]] = []
    failing: set[int] = set()
    real_html_to_pdf = reports.html_to_pdf
    real_render_report = reports.render_report

    def recording_html_to_pdf(html, extra=None):
        pdf, served, refused = real_html_to_pdf(html, extra)
        renders.append((served, refused))
        return pdf, served, refused

    def render_report(assessment, **kwargs):
        if assessment.pk in failing:
            raise RuntimeError("made to fail by the XSS test")
        return real_render_report(assessment, **kwargs)

    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(TransactionTestCase, "_fixture_teardown", lambda self: None)
        patch.setattr(reports, "html_to_pdf", recording_html_to_pdf)
        patch.setattr(reports, "render_report", render_report)
        server = LiveServer("localhost")
        try:
            with server._live_server_modified_settings, override_settings(SITE_URL=server.url):
                yield _build_world(server.url, renders, failing)
        finally:
            server.stop()
            call_command("flush", interactive=False, verbosity=0)
            # Playwright's event loop makes Django keep this thread's connections per
            # context: close ours, or the test database could not be dropped at the end.
            connections.close_all()


# --- looking at pages ---------------------------------------------------------------------

# Runs before any script of every document: records CSP violations and dialog calls
# (dialog events are watched too; this also catches print()).
INIT_SCRIPT = """
(() => {
  const seen = (window.__xssSeen = {csp: [], calls: []});
  document.addEventListener("securitypolicyviolation", (e) => {
    seen.csp.push(`${e.violatedDirective} blocked ${e.blockedURI} ${e.sample}`);
  });
  for (const name of ["alert", "confirm", "prompt", "print"]) {
    const original = window[name];
    window[name] = function (...args) {
      seen.calls.push(`${name}(${args.join(", ")})`);
      return original.apply(this, args);
    };
  }
})();
"""

# What a page holds: markers, live markup a payload could have made, and its text.
PROBE_JS = """
(marker) => {
  const seen = window.__xssSeen || {csp: [], calls: []};
  const found = {markers: [], live: [], text: "", csp: [...seen.csp], calls: [...seen.calls]};
  seen.csp.length = 0;
  seen.calls.length = 0;
  const short = (el) => el.outerHTML.slice(0, 160);
  // Our own scripts and stylesheets: same origin, by path.
  const ours = (url) => url.startsWith("/") && !url.startsWith("//") && !url.includes("xss-probe");
  for (const el of document.querySelectorAll(`[${marker}]`)) found.markers.push(short(el));
  const urlAttributes = ["href", "src", "action", "formaction", "data", "xlink:href", "poster",
                         "background", "srcset"];
  for (const el of document.querySelectorAll("*")) {
    for (const attribute of el.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on") || name.startsWith("hx-on") || name === "srcdoc") {
        found.live.push(`${name} attribute on ${short(el)}`);
      } else if (urlAttributes.includes(name)
                 && /^\\s*(javascript|vbscript|data:text)/i.test(attribute.value)) {
        found.live.push(`script URL on ${short(el)}`);
      }
    }
  }
  const forbidden = "iframe, frame, frameset, object, embed, applet, base, meta[http-equiv], "
    + "style, math, noscript, template, video, audio";
  for (const el of document.querySelectorAll(forbidden)) found.live.push(short(el));
  for (const el of document.querySelectorAll("script")) {
    const src = el.getAttribute("src") || "";
    const inert = (el.getAttribute("type") || "") === "application/json";
    if (!inert && !ours(src)) found.live.push(short(el));
  }
  for (const el of document.querySelectorAll("link")) {
    if (!ours(el.getAttribute("href") || "")) found.live.push(short(el));
  }
  const parts = [document.title, document.body ? document.body.innerText : ""];
  for (const el of document.querySelectorAll("input, textarea")) {
    if (el.type !== "password" && el.type !== "hidden") parts.push(el.value);
  }
  for (const el of document.querySelectorAll("option")) parts.push(el.textContent);
  found.text = parts.join("\\n");
  return found;
}
"""

FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


@dataclass
class Findings:
    """Everything seen across the pages of one test; no ``problems`` means no XSS."""

    problems: list[str] = field(default_factory=list)
    pages: int = 0
    values: int = 0

    def summary(self) -> str:
        return f"{self.pages} pages, {self.values} values checked, {len(self.problems)} problems"

    def assert_clean(self) -> None:
        print(f"\nXSS corpus of {len(PAYLOADS)} payloads: {self.summary()}")
        assert not self.problems, f"{self.summary()}\n\n" + "\n\n".join(self.problems)


class Session:
    """A browser context signed in as one user (or no one), watching everything it sees.

    Switching user keeps the context, and so its cache of our static files.
    """

    def __init__(self, browser: Browser, base: str, findings: Findings, username: str = ""):
        self.base = base
        self.findings = findings
        self.context: BrowserContext = browser.new_context(locale="en-GB")
        self.context.set_default_timeout(15_000)
        self.context.add_init_script(INIT_SCRIPT)
        self.events: list[str] = []
        self.navigating_to = ""
        self.context.on("request", self._request)
        self.page = self.new_page()
        if username:
            self.sign_in(username)

    def new_page(self) -> Page:
        page = self.context.new_page()
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.events.append(f"page error: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        return page

    def _failed(self, request) -> None:
        if request.failure != "net::ERR_ABORTED":  # not one cut short by the next page
            self.events.append(f"request failed ({request.failure}): {request.url}")

    def _response(self, response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.events.append(f"{response.status} for {response.url}")

    def _dialog(self, dialog) -> None:
        self.events.append(f"dialog ({dialog.type}): {dialog.message}")
        with contextlib.suppress(PlaywrightError):  # its page may be gone already
            dialog.dismiss()

    def _console(self, message) -> None:
        source = message.location.get("url", "")
        if source.endswith("/favicon.ico"):
            return  # the admin has no icon, so Chromium asks for one
        if message.type == "error":
            self.events.append(f"console error: {message.text} ({source[:120]})")

    def _request(self, request) -> None:
        url = request.url
        if request.is_navigation_request() and unquote(url) == unquote(self.navigating_to):
            return  # the page we asked for, whose address may hold a payload
        local = url.startswith(self.base) or url.startswith(("data:", "about:", "blob:"))
        if not local or PROBE_PATH in url or EXTERNAL_HOST in url:
            self.events.append(f"request: {request.method} {url}")

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    def sign_in(self, username: str) -> None:
        """Through the real sign-in form, without rendering it; any earlier user signs out."""
        self.context.clear_cookies()
        login = self.url("/accounts/login/")
        answer = self.post("/accounts/login/", {"username": username, "password": PASSWORD}, login)
        assert answer.status == 302, f"signing in as {username} failed ({answer.status})"

    def post(self, path: str, form: dict, referer: str = ""):
        """A form POST with this session's CSRF token, as the page's own form sends it."""
        referer = self.url(referer or path)
        token = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', self.context.request.get(referer).text()
        )
        assert token, f"no CSRF token on {referer}"
        return self.context.request.post(
            self.url(path),
            form={**form, "csrfmiddlewaretoken": token[1]},
            headers={"Referer": referer},
            max_redirects=0,
        )

    def cookie_header(self) -> str:
        """This session's cookies, for a request made outside the browser."""
        host = self.base.split("//", 1)[1].split(":", 1)[0]
        return "; ".join(
            f"{c['name']}={c['value']}" for c in self.context.cookies() if c["domain"] == host
        )

    def download(self, path: str) -> bytes:
        answer = self.context.request.get(self.url(path))
        assert answer.ok, f"{path} answered {answer.status}"
        return answer.body()

    def visit(
        self, path: str, values: list[tuple[str, str]], *, label: str = "", status: int = 200
    ) -> None:
        self.navigating_to = self.url(path)
        response = self.page.goto(self.navigating_to)
        self.navigating_to = ""
        got = response.status if response else 0
        if got != status:
            self.events.append(f"status {got}, expected {status}")
        self.check(label or path, values, status=status)

    def check(
        self,
        label: str,
        values: list[tuple[str, str]],
        *,
        status: int = 200,
        page: Page | None = None,
        refused: int = 0,
    ) -> list[str]:
        """Look at the page as it is now; what is wrong goes to the findings (and back).

        ``status`` is the page's own; ``refused``, a status an htmx request on it should
        have had (it and htmx's console report of it are then expected).
        """
        page = page or self.page
        page.wait_for_load_state()
        problems = []
        address = page.url
        try:
            found = page.evaluate(PROBE_JS, MARKER)
        except PlaywrightError as error:  # a live <meta http-equiv=refresh>, say
            problems.append(f"the page went away by itself ({error.message.splitlines()[0]})")
            page.wait_for_load_state()
            found = page.evaluate(PROBE_JS, MARKER)
        if page.url != address:
            problems.append(f"the page went on to {page.url[:200]}")
        for event in self.events:
            failed = FAILED_LOAD.search(event)
            if failed and int(failed[1]) in (status, refused) and "console error" in event:
                continue  # answered with the status it should have had
            if refused and (
                event.startswith(f"{refused} for ") or f"Error Code {refused} from" in event
            ):
                continue
            problems.append(event)
        self.events = []
        problems += [f"CSP violation: {v}" for v in found["csp"]]
        problems += [f"dialog call: {c}" for c in found["calls"]]
        problems += [f"marker: {m}" for m in found["markers"]]
        problems += [f"live markup: {m}" for m in found["live"]]
        text = norm(found["text"])
        for what, value in values:
            self.findings.values += 1
            if norm(value) not in text:
                problems.append(f"{what} not shown as text: {value[:80]!r}")
        self.findings.pages += 1
        if problems:
            lines = "\n  ".join(p[:300] for p in problems)
            self.findings.problems.append(f"{label} ({page.url[:200]}):\n  {lines}")
        return problems

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def findings() -> Findings:
    return Findings()


@pytest.fixture
def sessions(browser: Browser, world: World, findings: Findings) -> Iterator[Callable]:
    """``sessions(username)`` opens a session; all are closed after the test."""
    opened: list[Session] = []

    def open_session(username: str = "") -> Session:
        session = Session(browser, world.base, findings, username)
        opened.append(session)
        return session

    yield open_session
    for session in opened:
        session.close()


def full_name(user) -> str:
    return user.get_full_name() or user.get_username()


def assessment_texts(carrier: Carrier) -> list[tuple[str, str]]:
    a = carrier.assessment
    return [("title", a.title), ("team name", a.team.name)]


def client_texts(carrier: Carrier) -> list[tuple[str, str]]:
    return [*assessment_texts(carrier), ("organisation", carrier.organisation.name)]


def decision_texts(carrier: Carrier) -> list[tuple[str, str]]:
    if carrier.index == 1:
        return [("decision summary", SUMMARY)]
    if carrier.index in (0, 2):
        return [("required changes", REQUIRED_CHANGES)]
    return []


# The payloads made to break out of an attribute, an element or a comment, packed into
# names (and usernames, 150 characters at most): the form pages put what was typed back
# into fields and messages.
BREAKOUTS = [p.text for p in PAYLOADS if p.context not in ("", BODY)]
BREAKOUT_CHUNKS = chunks(200 - TAG_ROOM, texts=BREAKOUTS)
BREAKOUT_USERNAMES = chunks(150 - TAG_ROOM, texts=BREAKOUTS)


# --- pages -------------------------------------------------------------------------------


@uses_the_world
def test_manager_pages_show_every_payload_as_text_and_run_none(world: World, sessions, findings):
    me = sessions()
    for carrier in world.carriers:
        carrier.refresh()
        a, org, team = carrier.assessment, carrier.organisation, carrier.team
        me.sign_in(carrier.manager.username)
        name = ("manager's name", full_name(carrier.manager))
        dashboard = [("organisation", org.name), ("team", team.name), ("title", a.title), name]
        if carrier.index == 0:
            dashboard.append(("open assessment's title", world.open_assessment.title))
        me.visit("/dashboard/", dashboard)
        roster = [
            (f"roster {what}", value)
            for entry in team.roster.all()
            for what, value in (("name", entry.name), ("e-mail", entry.email))
        ]
        me.visit(f"/teams/{team.pk}/", [("team", team.name), ("title", a.title), *roster])
        invitations = [
            (f"invitee's {what}", value)
            for i in a.invitations.all()
            for what, value in (("name", i.name), ("e-mail", i.email))
            if value
        ]
        me.visit(
            f"/assessments/{a.pk}/",
            [
                *assessment_texts(carrier),
                *invitations,
                ("comment", TEAM_COMMENTS[0]),
                ("comment", TEAM_COMMENTS[1]),
                ("assessor's name", full_name(carrier.assessor)),
                ("moderation rationale (timeline)", RATIONALE),
                *decision_texts(carrier),
                name,
            ],
        )
        me.visit(f"/assessments/{a.pk}/results/", assessment_texts(carrier))
        managers = [("manager's name", full_name(m)) for m in carrier.managers]
        managers += [("manager's e-mail", m.email) for m in carrier.managers]
        if carrier.pending_invitation:
            managers.append(("invited e-mail", carrier.pending_invitation))
        me.visit("/managers/", [("organisation", org.name), *managers])
        me.visit(
            "/organisation/consultants/",
            [("organisation", org.name)]
            + [("consultancy", c.consultancy.name) for c in world.carriers],
        )
        own = carrier.own_response
        me.visit(
            f"/responses/{own.pk}/sections/{carrier.own_section.pk}/",
            [("title", a.title), *(("own comment", comment) for comment in OWN_COMMENTS)],
        )
        me.visit(f"/responses/{own.pk}/review/", [("title", a.title)])
    findings.assert_clean()


@uses_the_world
def test_assessor_staff_and_admin_pages_show_every_payload_as_text_and_run_none(
    world: World, sessions, findings
):
    reviewer = sessions()
    for carrier in world.carriers:
        carrier.refresh()
        a = carrier.assessment
        reviewer.sign_in(carrier.assessor.username)
        assessor = ("assessor's name", full_name(carrier.assessor))
        reviewer.visit("/reviews/", [*client_texts(carrier), assessor])
        reviewer.visit(
            f"/reviews/{a.pk}/",
            [
                *client_texts(carrier),
                ("comment", TEAM_COMMENTS[0]),
                ("comment", TEAM_COMMENTS[1]),
                ("rationale", RATIONALE),
                *decision_texts(carrier),
                ("manager's name (audit)", full_name(carrier.manager)),
                ("staff name (audit)", full_name(world.staff)),
                assessor,
            ],
        )

    staff = sessions(world.staff.username)
    profiles = list(AssessorProfile.objects.select_related("user"))
    waiting = [c for c in world.carriers if c.assessment.status in ("submitted", "in_review")]
    staff.visit(
        "/staff/reviews/",
        [value for c in waiting for value in client_texts(c)]
        + [("assessor option", str(p)) for p in profiles]
        + [("assigned assessor", full_name(c.assessor)) for c in waiting],
    )
    first = world.carriers[3]
    staff.sign_in(first.manager.username)  # the manager's own choice of assessor
    staff.visit(
        f"/assessments/{first.assessment.pk}/assessor/",
        [("title", first.assessment.title)]
        + [
            (f"assessor {what}", value)
            for p in profiles
            for what, value in (("name", full_name(p.user)), ("body", p.accrediting_body))
        ],
    )
    staff.sign_in(world.staff.username)
    organisations = [("organisation", c.organisation.name) for c in world.carriers]
    teams = [("team", c.team.name) for c in world.carriers]
    staff.visit("/admin/assessment/organisation/", organisations)
    staff.visit("/admin/assessment/team/", teams + organisations)
    staff.visit(
        "/admin/assessment/assessorprofile/",
        [
            (what, value)
            for p in profiles
            for what, value in (("body", p.accrediting_body), ("number", p.accreditation_number))
        ],
    )
    titles = [("title", c.assessment.title) for c in world.carriers]
    staff.visit("/admin/assessment/moderation/", titles)
    staff.visit("/admin/assessment/decision/", titles[:3])
    staff.visit("/admin/assessment/auditevent/", [])
    people = get_user_model().objects.exclude(first_name="")
    staff.visit("/admin/auth/user/", [("person", full_name(u)) for u in people])
    # Change forms put the values in their fields: every organisation's (all payloads),
    # and one team and one assessor profile, whose fields are the same kind.
    for carrier in world.carriers:
        staff.visit(
            f"/admin/assessment/organisation/{carrier.organisation.pk}/change/",
            [("organisation", carrier.organisation.name)],
        )
    team = world.carriers[0].team
    staff.visit(f"/admin/assessment/team/{team.pk}/change/", [("team", team.name)])
    profile = profiles[0]
    staff.visit(
        f"/admin/assessment/assessorprofile/{profile.pk}/change/",
        [("body", profile.accrediting_body), ("number", profile.accreditation_number)],
    )
    findings.assert_clean()


@uses_the_world
def test_consultant_pages_and_bulk_export_show_every_payload_as_text_and_run_none(
    world: World, sessions, findings
):
    firm = sessions()
    for carrier in world.carriers:
        carrier.refresh()
        firm.sign_in(carrier.consultant.username)
        firm.visit(
            "/clients/branding/",
            [("consultancy", carrier.consultancy.name), ("name", full_name(carrier.consultant))],
        )
        if carrier.index:
            firm.visit("/clients/", client_texts(carrier))
    everything = [value for c in world.carriers for value in client_texts(c)]
    firm.sign_in(world.carriers[0].consultant.username)
    firm.visit("/clients/", everything)
    firm.visit("/clients/exports/new/", everything)

    # The export, through its form: one report is made, the others fail on purpose so
    # that the failure list shows every title.
    world.failing_reports.update(c.assessment.pk for c in world.carriers[1:])
    try:
        for box in firm.page.locator("input[name=assessments]").all():
            box.check()
        # The test's task backend runs the export inside this request: nine reports
        # rendered one after another, slower while other tests load the machine.
        firm.page.get_by_role("button", name="Export as ZIP").click(timeout=180_000)
        firm.page.wait_for_url(re.compile(r"/clients/exports/\d+/$"), timeout=180_000)
        expect(firm.page.get_by_role("link", name="Download the ZIP file")).to_be_visible()
    finally:
        world.failing_reports.clear()
    firm.check("bulk export", [("title", c.assessment.title) for c in world.carriers[1:]])
    href = firm.page.get_by_role("link", name="Download the ZIP file").get_attribute("href")
    with zipfile.ZipFile(io.BytesIO(firm.download(href))) as archive:
        names = archive.namelist()
        assert len(names) == 1
        assert re.fullmatch(r"[a-z0-9-]+\.pdf", names[0]), names
        values = report_texts(world.carriers[0], branded=False)
        findings.problems += pdf_findings("bulk report", archive.read(names[0]), values)
        findings.values += len(values)
    findings.assert_clean()


# --- PDF reports -------------------------------------------------------------------------


def report_texts(carrier: Carrier, *, branded: bool) -> list[tuple[str, str]]:
    """What a carrier's report shows of its free text (as ``report_context`` gathers it)."""
    values = [*client_texts(carrier), *(("comment", comment) for comment in TEAM_COMMENTS)]
    if branded:
        values.append(("consultancy", carrier.consultancy.name))
    if carrier.index < 3:  # decided: the review chapter, with the moderations
        values += decision_texts(carrier)
        values += [("rationale", RATIONALE), ("assessor", full_name(carrier.assessor))]
    return values


# A closing bracket counts as its opening one (mirrored glyphs in right-to-left text).
BRACKET_PAIRS = str.maketrans(">)]}", "<([{")


def in_print(value: str, text: str) -> bool:
    """Whether ``value`` is in a PDF's squeezed ``text`` as printed text.

    Zero-width spaces print as nothing. Inside a right-to-left override the layout
    engine reverses the characters and mirrors brackets, but how it orders and mirrors
    the runs around a zero-width space or a digit depends on the fonts chosen for them,
    so such a stretch must hold exactly the override's characters (a bracket either
    way round), in some order, between the literal text before and after it.
    """
    value = value.replace("\u200b", "")
    parts = re.split("\u202e(.*?)\u202c", value, flags=re.S)
    pattern = ""
    overrides = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            pattern += re.escape(squeeze(part))
        else:
            visible = squeeze(part)
            overrides.append(visible)
            pattern += f"(.{{{len(visible)}}})"
    # Each bracket resolved right-to-left is mirrored on its own: compare brackets as pairs.
    expected = [sorted(override.translate(BRACKET_PAIRS)) for override in overrides]
    return any(
        [sorted(group.translate(BRACKET_PAIRS)) for group in match.groups()] == expected
        for match in re.finditer(pattern, text, flags=re.S)
    )


def structure_text(pdf: bytes) -> str:
    """The text of the tagged PDF's structure tree, in reading order, as a screen reader
    gets it. Unlike pdftotext's layout text, it leaves out the running headers and
    footers (artifacts), keeps hyphens at line ends and never merges the one-point-wide
    text of a visually hidden caption into the lines beside it."""
    listing = _poppler("pdfinfo", pdf, "-struct-text")
    return "".join(
        line.strip()[1:-1] for line in listing.splitlines() if line.strip().startswith('"')
    )


def _poppler(tool: str, pdf: bytes, *options: str) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        output = subprocess.run(  # noqa: S603 - poppler-utils, fixed arguments
            [tool, "-enc", "UTF-8", *options, handle.name, *(["-"] if tool == "pdftotext" else [])],
            capture_output=True,
            check=True,
        )
    return output.stdout.decode()


def pdf_findings(label: str, pdf: bytes, values: list[tuple[str, str]]) -> list[str]:
    """Each value in the PDF's text, literally; no link or script in its objects."""
    problems = []
    assert pdf.startswith(b"%PDF-"), f"{label} is not a PDF"
    text = squeeze(structure_text(pdf))
    for what, value in values:
        if not in_print(value, text):
            problems.append(f"{what} not in the text: {value[:80]!r}")
    title = re.search(r"^Title:\s*(.*)$", _poppler("pdfinfo", pdf), re.MULTILINE)
    expected_title = next((v for w, v in values if w == "title"), None)
    if expected_title and (not title or squeeze(expected_title) not in squeeze(title[1])):
        problems.append(f"document title is {title[1] if title else None!r}")
    urls = _poppler("pdfinfo", pdf, "-url")
    for line in urls.splitlines()[1:]:
        if re.search(r"javascript:|example\.invalid|xss-probe|data:", line, re.I):
            problems.append(f"link in the PDF: {line}")
    scripts = _poppler("pdfinfo", pdf, "-js").strip()
    if scripts:
        problems.append(f"JavaScript in the PDF: {scripts[:200]}")
    return [f"{label}:\n  " + "\n  ".join(problems)] if problems else []


@uses_the_world
def test_pdf_reports_print_every_payload_as_text_and_fetch_nothing(
    world: World, sessions, findings
):
    world.renders.clear()
    # A bulk export of an earlier test may have cached the same consultant's report (they
    # share the cache): every report is rendered afresh here, so its fetches are seen.
    ReportCache.objects.all().delete()
    # Each report as its reader downloads it: the consultant's, branded, of every carrier,
    # and a manager's own. They are fetched and read a few at a time (each renders in a
    # process of its own); Playwright's API is not for threads, so they come by urllib.
    jobs: list[tuple[str, str, str, list[tuple[str, str]]]] = []
    reader = sessions()
    for carrier in world.carriers:
        carrier.refresh()
        reader.sign_in(carrier.consultant.username)
        path = f"/clients/assessments/{carrier.assessment.pk}/report.pdf"
        values = report_texts(carrier, branded=True)
        jobs.append((f"branded report {carrier.index}", path, reader.cookie_header(), values))
    carrier = world.carriers[1]  # decided, with the manager's self-view
    reader.sign_in(carrier.manager.username)
    path = f"/assessments/{carrier.assessment.pk}/report.pdf"
    values = report_texts(carrier, branded=False)
    jobs.append(("manager's report", path, reader.cookie_header(), values))

    def fetch_and_read(job: tuple) -> list[str]:
        # The live server's own http:// address: no other scheme can come in.
        request = urllib.request.Request(world.base + job[1], headers={"Cookie": job[2]})  # noqa: S310
        with urllib.request.urlopen(request, timeout=100) as answer:  # noqa: S310
            return pdf_findings(job[0], answer.read(), job[3])

    with ThreadPoolExecutor(max_workers=3) as pool:
        for problems in pool.map(fetch_and_read, jobs):
            findings.problems += problems
    rendered = len(jobs)
    findings.values += sum(len(job[3]) for job in jobs)
    # The renderer's fetcher refuses any URL but our own assets and records what it
    # refused: an escaped payload is text, so nothing may have been asked for.
    assert len(world.renders) == rendered
    allowed = {reports.STATIC_PREFIX + "css/report.css", reports.BRAND_CSS_URL}
    for served, refused in world.renders:
        if refused or not set(served) <= allowed:
            findings.problems.append(f"the report fetched {served}, refused {refused}")
    findings.pages += rendered
    findings.assert_clean()


# --- CSV and XLSX exports ----------------------------------------------------------------


def neutralised(value: str) -> str:
    """A text cell as the export must write it: a formula-leading one behind a quote."""
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r", "\n")) else value


def table_findings(label: str, rows: list[list], values: list[tuple[str, str]]) -> list[str]:
    problems = []
    cells = {cell for row in rows for cell in row if isinstance(cell, str)}
    for cell in cells:
        if cell.startswith(("=", "+", "-", "@", "\t", "\r", "\n")):
            problems.append(f"a cell a spreadsheet would run: {cell[:80]!r}")
    for what, value in values:
        if neutralised(value) not in cells:
            problems.append(f"{what} is not a cell of its own: {value[:80]!r}")
    return [f"{label}:\n  " + "\n  ".join(problems)] if problems else []


def csv_rows(data: bytes) -> list[list]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def xlsx_rows(data: bytes) -> tuple[list[list], list[str]]:
    """The rows, and any cell stored as a formula."""
    sheet = load_workbook(io.BytesIO(data)).active
    formulas = [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    return [list(row) for row in sheet.iter_rows(values_only=True)], formulas


@uses_the_world
def test_exports_keep_every_payload_as_text_and_neutralise_formulas(
    world: World, sessions, findings
):
    me = sessions()
    firm = sessions()
    leading = set()
    for carrier in world.carriers:
        carrier.refresh()
        a = carrier.assessment
        values = client_texts(carrier)
        leading |= {v[0] for _w, v in values}
        # XLSX drops control characters, and XML reads a carriage return as a new line.
        xlsx_values = [
            (w, ILLEGAL_CHARACTERS_RE.sub("", v).replace("\r\n", "\n").replace("\r", "\n"))
            for w, v in values
        ]
        me.sign_in(carrier.manager.username)
        firm.sign_in(carrier.consultant.username)
        downloads = {
            "scores.csv": me.download(f"/assessments/{a.pk}/scores.csv"),
            "answers.csv": me.download(f"/assessments/{a.pk}/answers.csv"),
            "scores.xlsx": me.download(f"/assessments/{a.pk}/scores.xlsx"),
            "answers.xlsx": me.download(f"/assessments/{a.pk}/answers.xlsx"),
            "client scores.xlsx": firm.download(f"/clients/assessments/{a.pk}/scores.xlsx"),
        }
        for name, data in downloads.items():
            label = f"{name} of carrier {carrier.index}"
            expected = [] if name.startswith("answers") else values
            if name.endswith(".csv"):
                findings.problems += table_findings(label, csv_rows(data), expected)
            else:
                rows, formulas = xlsx_rows(data)
                if formulas:
                    findings.problems.append(f"{label}: formula cells {formulas}")
                expected = [] if name.startswith("answers") else xlsx_values
                findings.problems += table_findings(label, rows, expected)
            findings.pages += 1
            findings.values += len(expected)
    # Every kind of formula led a cell somewhere.
    assert {"=", "+", "-", "@", "\t", "\r"} <= leading, leading
    findings.assert_clean()


def submit(page: Page, button, status: int = 200) -> None:
    """Press a submit button, without the browser's own validation (a script-less client
    skips it too), and check the page it leads to answered with ``status``."""
    target = page.get_by_role("button", name=button) if isinstance(button, str) else button
    target.evaluate("button => { if (button.form) button.form.noValidate = true; }")
    with page.expect_navigation() as navigation:
        target.click()
    answer = navigation.value
    assert answer is not None, f"pressing {button!r} loaded nothing"
    assert answer.status == status, f"pressing {button!r} answered {answer.status}"
    page.wait_for_load_state()


# --- public pages, the questionnaire and what comes back from the URL ---------------------


def _saved(page: Page, question) -> None:
    expect(question.locator(".answer-status")).to_contain_text("Saved")


@uses_the_world
def test_invitee_questionnaire_and_join_pages_show_every_payload_as_text_and_run_none(
    world: World, sessions, findings
):
    first = world.carriers[0]
    first.refresh()
    opened = world.open_assessment
    opened.refresh_from_db()

    # A manager invitation, accepted in the browser.
    joiner = sessions()
    joiner.visit(
        first.join_link,
        [
            ("organisation", first.organisation.name),
            ("invited e-mail", first.pending_invitation),
        ],
        label="join page",
    )
    joiner_name = name_value(len(NAME_CHUNKS) - 1, "j0")
    joiner.page.locator("#id_full_name").fill(joiner_name)
    joiner.page.locator("#id_username").fill("joined0")
    joiner.page.locator("#id_password1").fill(PASSWORD)
    joiner.page.locator("#id_password2").fill(PASSWORD)
    submit(joiner.page, "Create account and join")
    joiner.check(
        "dashboard after joining",
        [("organisation", first.organisation.name), ("name", joiner_name)],
    )

    # An invitee with a payload for an address answers, with autosave (htmx).
    invitee = sessions()
    address = EMAILS[0]
    invitee.visit(world.invitation_links[address], [], label="invitation start")
    invitee.page.get_by_role("button", name="Open my questionnaire").click()
    invitee.page.wait_for_url(re.compile(r"/sections/\d+/$"))
    section_url = invitee.page.url
    invitee.check("questionnaire", [("title", opened.title)])
    questions = invitee.page.locator("fieldset.question")
    texts = [COMMENTS[0], COMMENTS[1], LONG_TEXT[:2000]]
    for index, text in enumerate(texts):
        questions.nth(index).locator("textarea").fill(text)
    for index in range(len(texts)):
        _saved(invitee.page, questions.nth(index))
    invitee.check("questionnaire, saved as typed", [("typed comment", t) for t in texts])
    invitee.visit(
        section_url, [("saved comment", t) for t in texts], label="questionnaire, reloaded"
    )
    # The textareas hold exactly what was saved: nothing broke out of them.
    for index in range(len(texts)):
        shown = questions.nth(index).locator("textarea").input_value()
        if norm(shown) != norm(texts[index]):
            findings.problems.append(f"textarea {index} holds {shown[:80]!r}")

    # A second tab saves a newer answer; this tab's save is refused with the newer
    # comment shown beside it (an htmx fragment).
    other = invitee.new_page()
    other.goto(section_url)
    newer = other.locator("fieldset.question").nth(3)
    newer.locator("textarea").fill(COMMENTS[1])
    _saved(other, newer)
    invitee.check("second tab", [("comment", COMMENTS[1])], page=other)
    other.close()
    mine = questions.nth(3)
    mine.locator("textarea").fill("My own older text.")
    expect(mine.locator(".answer-status")).to_contain_text("newer answer")
    invitee.check("conflict fragment", [("newer comment", COMMENTS[1])], refused=409)

    # Without JavaScript's autosave: a comment over the limit comes back in the form.
    too_long = f"{LONG_TEXT}\n#too-long"
    invitee.page.locator("textarea").first.evaluate("(el, text) => { el.value = text; }", too_long)
    submit(
        invitee.page, invitee.page.get_by_role("button", name=re.compile("^Save and")).first, 400
    )
    invitee.check("refused page save", [("comment over the limit", too_long)], status=400)
    shown = invitee.page.locator("textarea").first.input_value()
    if norm(shown) != norm(too_long):
        findings.problems.append(f"the refused comment came back as {shown[:80]!r}")
    invitee.page.get_by_role("link", name="Review and submit").click()
    invitee.check("review page", [("title", opened.title)])

    # The invitations are plain text: names and titles come as they are, not HTML-escaped.
    for entry in first.team.roster.all():
        body = world.invitation_mails[entry.email]
        for what, value in (("name", entry.name), ("title", opened.title)):
            if value not in body:
                findings.problems.append(f"the invitation to {entry.email} mangles the {what}")
    findings.assert_clean()


@uses_the_world
def test_payloads_in_urls_are_not_reflected_into_live_markup(world: World, sessions, findings):
    """Every payload at once in each parameter a page reads, and in a path that is not found."""
    everything = quote(joined(" "), safe="")
    anyone = sessions()
    anyone.visit(f"/accounts/login/?next={everything}", [], label="sign-in with next")
    anyone.visit(f"/{everything}/", [], label="not found", status=404)
    token = quote(joined(" ").replace("/", ""), safe="")  # a link token has no slash
    # An unknown link says so on its first view (nothing to press).
    anyone.visit(f"/r/{token}/", [], label="invitation link with payloads", status=404)
    anyone.check("unknown invitation link", [], status=404)
    carrier = world.carriers[0]
    anyone.sign_in(carrier.manager.username)
    anyone.visit(f"/assessments/new/?team={everything}", [], label="new assessment")
    anyone.sign_in(carrier.assessor.username)
    anyone.visit(f"/reviews/?sort={everything}", [], label="assessor queue, sorted")
    anyone.sign_in(carrier.consultant.username)
    anyone.visit(
        f"/clients/?organisation={everything}&framework={everything}", [], label="portfolio"
    )
    findings.assert_clean()


# --- forms: what comes back after a refused or accepted submission -----------------------


@uses_the_world
def test_forms_give_every_payload_back_as_text_and_run_none(world: World, sessions, findings):
    # Signing in refused: the username comes back in its field.
    newcomer = sessions()
    newcomer.visit("/accounts/login/", [])
    for n, chunk in enumerate(BREAKOUT_USERNAMES):
        username = f"{chunk} #fu{n}"
        newcomer.page.locator("#id_username").fill(username)
        newcomer.page.locator("#id_password").fill("not the password")
        submit(newcomer.page, "Sign in")
        newcomer.check("sign-in refused", [("username", username)])

    # Signing up: refused (the passwords differ), then accepted.
    org_name, person = f"{BREAKOUT_CHUNKS[0]} #fo", name_value(0, "fn")
    newcomer.visit("/signup/", [])
    page = newcomer.page
    page.locator("#id_organisation_name").fill(org_name)
    page.locator("#id_full_name").fill(person)
    page.locator("#id_email").fill(EMAILS[1])
    page.locator("#id_username").fill("newcomer")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD + "x")
    submit(page, "Create organisation")
    newcomer.check(
        "sign-up refused", [("organisation", org_name), ("name", person), ("e-mail", EMAILS[1])]
    )
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    submit(page, "Create organisation")
    newcomer.check("dashboard after signing up", [("organisation", org_name), ("name", person)])

    # Teams, rosters and assessments, created and refused.
    fran = sessions(world.forms_manager.username)
    page = fran.page
    for n, chunk in enumerate(BREAKOUT_CHUNKS):
        name = f"{chunk} #ft{n}"
        fran.visit("/teams/new/", [])
        page.locator("#id_name").fill(name)
        submit(page, "Create team")
        fran.check("team created", [("team (message and heading)", name)])
        member, address = f"{chunk} #fm{n}", EMAILS[n % len(EMAILS)]
        page.locator("#id_name").fill(member)
        page.locator("#id_email").fill(address)
        submit(page, "Add")
        fran.check("roster entry added", [("member", member), ("e-mail", address)])
        fran.visit("/teams/new/", [])
        page.locator("#id_name").fill(name)
        submit(page, "Create team")
        fran.check("team refused (duplicate)", [("team (field and error)", name)])
        title = f"{chunk} #fa{n}"
        fran.visit("/assessments/new/", [])
        page.locator("#id_title").fill(title)
        page.locator("#id_team").select_option(label=name)
        submit(page, "Create assessment")
        fran.check("assessment refused (no framework)", [("title", title)])
    page.locator("label", has_text="Win4").first.click()
    submit(page, "Create assessment")
    fran.check("assessment created", [("title", title)])
    page.locator("#id_addresses").fill(LONG_TEXT)
    submit(page, "Add to the invitations")
    refused = parse_addresses(LONG_TEXT).invalid
    fran.check("addresses refused", [("refused address", raw) for raw in refused])
    fran.visit("/managers/", [])
    for address in EMAILS:
        page.locator("#id_email").fill(address)
        submit(page, "Send invitation")
        fran.check("manager invited", [("invited e-mail", address)])

    # Targets take levels only: a payload for a level or a section is refused.
    carrier = world.carriers[3]
    manager = sessions(carrier.manager.username)
    results_page = f"/assessments/{carrier.assessment.pk}/results/"
    for name, value in (
        (f"target-{carrier.first_section.pk}", TEXTS[0]),
        (f"target-{TEXTS[15]}", "3"),
    ):
        answer = manager.post(
            f"/assessments/{carrier.assessment.pk}/targets/", {name: value}, results_page
        )
        assert answer.status == 302
        manager.visit(results_page, [("title", carrier.assessment.title)], label="targets refused")

    # Branding refused (too light a colour, or no colour at all): both fields come back.
    firm = sessions(world.carriers[0].consultant.username)
    firm.visit("/clients/branding/", [])
    for n, chunk in enumerate(BREAKOUT_CHUNKS):
        name, colour = f"{chunk} #fc{n}", f"{chunk} #fk{n}"
        firm.page.get_by_label("Consultancy name").fill(name)
        firm.page.get_by_label("Accent colour").fill("#ffffff")
        submit(firm.page, "Save branding", 400)
        firm.check("branding refused (colour)", [("consultancy", name)], status=400)
        # The colour field allows 7 characters, but nothing stops a client sending more.
        firm.page.get_by_label("Accent colour").evaluate("(el, v) => { el.value = v; }", colour)
        submit(firm.page, "Save branding", 400)
        firm.check("branding refused (no colour)", [("colour", colour)], status=400)

    # Moderation and approval refused: the assessor's text comes back in the textarea.
    carrier.refresh()
    reviewer = sessions(carrier.assessor.username)
    review = f"/reviews/{carrier.assessment.pk}/"
    reviewer.visit(review, [])
    form = reviewer.page.locator("form.moderation-form").first
    form.get_by_label(re.compile("^Moderated score")).fill("101")
    refused_rationale = f"{LONG_TEXT}\n#refused-rationale"
    form.get_by_label("Rationale").fill(refused_rationale)
    submit(reviewer.page, form.get_by_role("button", name=re.compile("^Save moderation")), 400)
    reviewer.check("moderation refused", [("rationale", refused_rationale)], status=400)
    reviewer.visit(review, [])
    refused_summary = f"{LONG_TEXT}\n#refused-summary"
    reviewer.page.get_by_label("Summary").fill(refused_summary)
    # No level chosen (the award rule pre-selects one on version-2 frameworks): refused.
    reviewer.page.get_by_label("Awarded maturity level").select_option("")
    submit(reviewer.page, "Approve", 400)
    reviewer.check("approval refused", [("summary", refused_summary)], status=400)

    # Staff assign the assessor again: the message names the assessor and the title.
    staff = sessions(world.staff.username)
    staff.visit("/staff/reviews/", [])
    staff.page.get_by_label(f"Assessor for {norm(carrier.assessment.title)}").select_option(
        value=str(carrier.assessor.pk)
    )
    row = staff.page.locator(
        "form", has=staff.page.get_by_label(f"Assessor for {norm(carrier.assessment.title)}")
    )
    submit(staff.page, row.get_by_role("button"))
    staff.check(
        "assessor assigned",
        [("assessor", full_name(carrier.assessor)), ("title", carrier.assessment.title)],
    )
    findings.assert_clean()


# --- the canary ----------------------------------------------------------------------------


def test_the_checks_catch_every_payload_that_is_live_in_its_context(browser: Browser):
    """Inserted unescaped where it would be live, every payload that can run is caught by
    its own trace (its marker, live markup, a dialog or a request), so a clean page means
    something. Without a CSP here, the scripts really run."""
    findings = Findings()
    session = Session(browser, "http://localhost", findings)
    live = [p for p in (*PAYLOADS, *EMAIL_PAYLOADS) if p.context]
    try:
        for payload in live:
            # A page of its own: a live onfocus=alert() keeps coming back until it closes.
            page = session.new_page()
            html = f"<!doctype html><html><head></head><body>{payload.live()}</body></html>"
            page.set_content(html)
            caught = "\n".join(session.check(f"payload {payload.number}", [], page=page))
            page.close()
            own = rf"(data-xss=\"?{payload.number}\b|alert\({payload.number}\)|/{payload.number}\b)"
            assert re.search(own, caught), (
                f"payload {payload.number} ({payload.kind}) went unnoticed"
            )
    finally:
        session.close()
    assert len(PAYLOADS) >= 30
    assert len([p for p in PAYLOADS if p.context]) >= 30
