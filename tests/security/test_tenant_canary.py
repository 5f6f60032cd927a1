"""Issue 7: seed organisation B with unique strings, crawl every page and export as
organisation A, and find zero occurrences.

Every free-text value of B carries ``CANARY-B-<n>-<random>`` (see ``world.py``). Each
principal of A (its manager, a team member who came through an invitation link, someone
holding a link to become A's manager, the assessor assigned to A's assessments only, and
a consultant whose consultancy only A shares with now) crawls from the pages they can
reach: a real crawler with a visited set, GET only, following every same-site link,
redirect and GET form of every HTML page, and opening every download: CSV, XLSX (cell
values, with openpyxl), PDF (text and metadata, with poppler's pdftotext and pdfinfo)
and ZIP (every member). No response body, header or file may contain a B canary. A's own
marks (``MARK-A-...``) must be found, which shows the crawl did reach A's data and could
read each kind of file.

Staff are left out: the staff review queue lists every organisation's submitted
assessments, by design.

Run with ``-s`` to see how many pages and files each crawl checked.
"""

import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

from django.db import models
from django.test import Client, TestCase
from django.urls import reverse
from openpyxl import load_workbook

from assessment import reports
from assessment.models import (
    Answer,
    Assessment,
    CustomerLink,
    CustomerResponse,
    CustomerSurvey,
    Decision,
    Evidence,
    Invitation,
    ManagerInvitation,
    Moderation,
    Organisation,
    Response,
    RosterEntry,
    Team,
)
from assessment.models.actions import Action
from frameworks.models import Question, Section
from tests.security.world import Tenant, World, build_world, db_state, diff, first_section

CANARY = re.compile(r"canary-?b", re.IGNORECASE)
MARK = re.compile(r"mark-?a", re.IGNORECASE)
WHITESPACE = re.compile(r"\s+")
SKIPPED_PREFIXES = ("/static/", "/admin/", "/accounts/logout/")
MAX_REQUESTS = 800
ANONYMOUS = ("respondent", "invited_manager")  # principals without an account
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PageLinks(HTMLParser):
    """Every URL an HTML page leads to with a GET: links, sources, htmx GETs, GET forms."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        for name in ("href", "src", "hx-get"):
            if found.get(name):
                self.urls.append(found[name])
        if tag == "form" and found.get("method", "get").lower() == "get":
            self._form = {"action": found.get("action", ""), "pairs": []}
        elif self._form is not None:
            if tag == "select":
                self._select = found.get("name")
            elif tag == "option" and self._select and "value" in found:
                self._form["pairs"].append((self._select, found["value"]))
            elif tag == "input" and found.get("name") and found.get("value"):
                self._form["pairs"].append((found["name"], found["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form" and self._form is not None:
            action = self._form["action"]
            self.urls.append(action or "?")
            self.urls += [f"{action}?{urlencode([pair])}" for pair in self._form["pairs"]]
            self._form = None


@dataclass
class Leak:
    url: str
    where: str
    excerpt: str


@dataclass
class Crawl:
    """A GET-only crawler for one signed-in (or link-holding) test client."""

    client: Client
    visited: set[str] = field(default_factory=set)
    pages: int = 0
    files: Counter = field(default_factory=Counter)  # by kind, ZIP members included
    marked: Counter = field(default_factory=Counter)  # by kind: files with A's marks
    statuses: Counter = field(default_factory=Counter)
    leaks: list[Leak] = field(default_factory=list)

    def run(self, seeds: list[str]) -> "Crawl":
        queue = list(seeds)
        while queue:
            url = queue.pop(0)
            if url in self.visited:
                continue
            self.visited.add(url)
            assert len(self.visited) < MAX_REQUESTS, "the crawl does not end"
            queue += self.fetch(url)
        return self

    def fetch(self, url: str) -> list[str]:
        response = self.client.get(url)
        self.statuses[response.status_code] += 1
        assert response.status_code < 500, f"{url}: {response.status_code}"
        for name, value in response.headers.items():
            self.search(url, f"header {name}", value)
        self.search(url, "cookies", response.cookies.output())
        if response.status_code in (301, 302, 303, 307, 308):
            return [link for link in [self.same_site(url, response["Location"])] if link]
        content_type = response.get("Content-Type", "").split(";")[0]
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if content_type == "text/html":
            self.pages += 1
            text = body.decode()
            self.search(url, "page", text)
            if MARK.search(text):
                self.marked["page"] += 1
            parser = PageLinks()
            parser.feed(text)
            return [link for link in (self.same_site(url, u) for u in parser.urls) if link]
        self.inspect_file(url, content_type, response.get("Content-Disposition", ""), body)
        return []

    @staticmethod
    def same_site(base: str, link: str) -> str:
        """The link as a path (and query) on this site, or "" to leave it alone."""
        parts = urlsplit(urljoin(f"http://testserver{base}", link))
        if parts.scheme not in ("http", "https") or parts.netloc != "testserver":
            return ""
        if parts.path.startswith(SKIPPED_PREFIXES):
            return ""
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def inspect_file(self, url: str, content_type: str, disposition: str, body: bytes) -> None:
        name = disposition.rpartition("filename=")[2].strip('"')
        self.inspect(url, name or url, content_type, body)

    def inspect(self, url: str, name: str, content_type: str, body: bytes) -> None:
        kind = self.kind(name, content_type)
        self.files[kind] += 1
        self.search(url, f"{kind} name", name)
        if kind == "pdf":
            text = pdf_text(body)
        elif kind == "xlsx":
            text = xlsx_text(body)
        elif kind == "zip":
            text = ""
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                for member in archive.namelist():
                    self.inspect(url, member, "", archive.read(member))
        elif kind in ("csv", "text", "json"):
            text = body.decode("utf-8-sig")
        else:
            text = body.decode("latin-1")  # images and the like: any canary bytes show
        self.search(url, f"{kind} {name}", text)
        if MARK.search(text):
            self.marked[kind] += 1

    @staticmethod
    def kind(name: str, content_type: str) -> str:
        extension = name.rpartition(".")[2].lower()
        by_type = {
            "application/pdf": "pdf",
            XLSX: "xlsx",
            "application/zip": "zip",
            "text/csv": "csv",
            "application/json": "json",
            "text/plain": "text",
        }
        return by_type.get(content_type) or (
            extension if extension in ("pdf", "xlsx", "zip", "csv") else "other"
        )

    def search(self, url: str, where: str, text: str) -> None:
        for candidate in (text, WHITESPACE.sub("", text)):
            for match in CANARY.finditer(candidate):
                start = max(0, match.start() - 60)
                self.leaks.append(Leak(url, where, candidate[start : match.end() + 40]))
            if CANARY.search(candidate):
                return

    def report(self, principal: str) -> str:
        return (
            f"{principal}: {self.pages} pages crawled, {sum(self.files.values())} files checked "
            f"({dict(self.files)}), {len(self.visited)} URLs, statuses {dict(self.statuses)}, "
            f"{len(self.leaks)} occurrences of a B canary"
        )


def pdf_text(pdf: bytes) -> str:
    """The PDF's text (pdftotext) and its metadata (pdfinfo): title, author, subject."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        outputs = [
            subprocess.run(  # noqa: S603 - poppler-utils on a file we wrote
                [shutil.which(command) or command, "-enc", "UTF-8", handle.name, *extra],
                capture_output=True,
                check=True,
                text=True,
            ).stdout
            for command, extra in (("pdftotext", ["-"]), ("pdfinfo", []))
        ]
    return "\n".join(outputs)


def xlsx_text(content: bytes) -> str:
    """Every cell value of every sheet (read by openpyxl), the sheet names and document
    properties, and the raw XML of every part, for anything openpyxl does not show."""
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    parts = [str(value) for value in vars(workbook.properties).values() if value]
    for sheet in workbook.worksheets:
        parts.append(sheet.title)
        for row in sheet.iter_rows(values_only=True):
            parts += [str(value) for value in row if value is not None]
    workbook.close()
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        parts += [package.read(name).decode("utf-8", "replace") for name in package.namelist()]
    return "\n".join(parts)


def assessment_urls(assessment: Assessment) -> list[str]:
    """Every manager page and download of one assessment."""
    names = ["detail", "results", "submit", "assessor_choose", "customer_survey_create"]
    names += ["report_pdf", "scores_csv", "scores_xlsx", "answers_csv", "answers_xlsx"]
    names += ["customers_csv", "customers_xlsx", "evidence"]
    names += ["action_plan", "action_create"]
    names += ["actions_csv", "actions_xlsx", "judgements_csv", "judgements_xlsx"]
    return [reverse(f"assessment:{name}", args=[assessment.pk]) for name in names]


# A customer survey's pages and downloads for its managers, and its actions (POST).
SURVEY_PAGES = ("customer_survey", "customer_survey_qr_svg", "customer_survey_qr_png")
SURVEY_PAGES += ("customer_survey_poster", "customer_survey_edit")
SURVEY_ACTIONS = ("customer_survey_edit", "customer_survey_close")
SURVEY_ACTIONS += ("customer_links_upload", "customer_links_send")


def survey_urls(survey: CustomerSurvey, names: tuple[str, ...] = SURVEY_PAGES) -> list[str]:
    return [reverse(f"assessment:{name}", args=[survey.pk]) for name in names]


def respondent_urls(response: Response) -> list[str]:
    section = first_section(response.assessment)
    return [
        reverse("assessment:response_start", args=[response.pk]),
        reverse("assessment:section", args=[response.pk, section.pk]),
        reverse("assessment:review", args=[response.pk]),
        reverse("assessment:customer_prediction", args=[response.pk]),
    ]


def evidence_urls(b: Tenant) -> list[str]:
    """B's evidence, by id, as each audience's URLs name it (B's responses are a team
    member's: B's leader never used their link)."""
    return [
        reverse("assessment:evidence_download", args=[b.open.pk, b.evidence.pk]),
        reverse("assessment:review_evidence", args=[b.in_review.pk]),
        reverse("assessment:review_evidence_download", args=[b.in_review.pk, b.review_evidence.pk]),
        reverse("assessment:response_evidence", args=[b.open_response.pk]),
        reverse("assessment:response_evidence_download", args=[b.open_response.pk, b.evidence.pk]),
    ]


def b_get_urls(b: Tenant) -> list[str]:
    """Pages and downloads of B's objects, by id."""
    urls = [reverse("assessment:team_detail", args=[team.pk]) for team in (b.front, b.back)]
    urls += [reverse("assessment:team_survey_create", args=[team.pk]) for team in (b.front, b.back)]
    for assessment in b.assessments:
        urls += assessment_urls(assessment)
        for name in (
            "review_detail",
            "review_answers_csv",
            "review_answers_xlsx",
            "client_report_pdf",
            "client_scores_csv",
            "client_scores_xlsx",
            "client_answers_csv",
            "client_answers_xlsx",
            "client_customers_csv",
            "client_customers_xlsx",
            "client_actions_csv",
            "client_judgements_csv",
        ):
            urls.append(reverse(f"assessment:{name}", args=[assessment.pk]))
        for section in Section.objects.filter(version__assessments=assessment)[:1]:
            urls.append(reverse("assessment:review_criteria", args=[assessment.pk, section.pk]))
    urls += survey_urls(b.customer_survey)
    urls += evidence_urls(b)
    urls += [reverse("assessment:action_edit", args=[b.action.pk])]
    urls += [reverse("assessment:action_edit", args=[b.required_action.pk])]
    for export in b.exports:
        urls.append(reverse("assessment:bulk_detail", args=[export.pk]))
        urls.append(reverse("assessment:bulk_download", args=[export.pk]))
    for response in (b.completed_response, b.open_response, b.self_response):
        urls += respondent_urls(response)
    return urls


def b_post_urls(b: Tenant) -> list[str]:
    """Actions on B's objects, by id."""
    invitation = b.open_response.invitation
    question = Question.objects.filter(section=first_section(b.open)).first()
    entry = b.front.roster.first()
    return [
        reverse("assessment:roster_add", args=[b.front.pk]),
        reverse("assessment:roster_remove", args=[b.front.pk, entry.pk]),
        reverse("assessment:invitations_add", args=[b.draft.pk]),
        reverse("assessment:open", args=[b.draft.pk]),
        reverse("assessment:send_unsent", args=[b.open.pk]),
        reverse("assessment:submit", args=[b.open.pk]),
        reverse("assessment:targets", args=[b.in_review.pk]),
        reverse("assessment:respond_as_manager", args=[b.open.pk]),
        reverse("assessment:invitation_resend", args=[invitation.pk]),
        reverse("assessment:invitation_revoke", args=[invitation.pk]),
        reverse("assessment:reopen", args=[b.returned.pk]),
        reverse("assessment:assessor_choose", args=[b.submitted.pk]),
        reverse("assessment:consultant_grant_revoke", args=[b.grant.pk]),
        reverse("assessment:moderate", args=[b.in_review.pk]),
        reverse("assessment:keep_moderation", args=[b.in_review.pk]),
        reverse("assessment:approve", args=[b.in_review.pk]),
        reverse("assessment:return", args=[b.in_review.pk]),
        reverse("assessment:section", args=[b.open_response.pk, question.section_id]),
        reverse("assessment:autosave", args=[b.open_response.pk, question.pk]),
        reverse("assessment:complete", args=[b.open_response.pk]),
        reverse("assessment:revise", args=[b.completed_response.pk]),
        reverse("assessment:customer_survey_create", args=[b.draft.pk]),
        reverse("assessment:team_survey_create", args=[b.back.pk]),
        reverse("assessment:customer_prediction", args=[b.open_response.pk]),
        *survey_urls(b.customer_survey, SURVEY_ACTIONS),
        reverse("assessment:evidence", args=[b.open.pk]),
        reverse("assessment:evidence_delete", args=[b.open.pk, b.evidence.pk]),
        reverse("assessment:response_evidence", args=[b.open_response.pk]),
        reverse(
            "assessment:response_evidence_delete", args=[b.open_response.pk, b.leader_evidence.pk]
        ),
        reverse("assessment:action_create", args=[b.approved.pk]),
        reverse("assessment:action_edit", args=[b.action.pk]),
        reverse("assessment:action_delete", args=[b.action.pk]),
        reverse("assessment:action_delete", args=[b.required_action.pk]),
        reverse("assessment:calendar_feed_revoke", args=[b.calendar_feed.pk]),
    ]


# Hashes and tokens: not free text (a survey's public token is its link's address).
SECRETS = ("token_hash", "password", "public_token")
# An evidence file's type, found from its content; a language code, checked by its form.
NOT_TEXT = ("content_type", "language")


class TenantCanaryTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.world: World = build_world(exports=True)

    # --- the principals of A, each with the pages they start from

    def manager(self) -> tuple[Client, list[str]]:
        a = self.world.a
        client = Client()
        client.force_login(a.manager)
        seeds = [reverse("home"), reverse("assessment:dashboard")]
        for assessment in a.assessments:
            seeds += assessment_urls(assessment)
            # As the task worker leaves them: the download serves the PDF, not its progress.
            reports.render_in_worker(
                assessment,
                viewer_id=a.manager.pk,
                consultancy=reports.branding_for(assessment, a.manager),
            )
        return client, seeds + respondent_urls(a.self_response)

    def respondent(self) -> tuple[Client, list[str]]:
        """A team member of A, signed in by their invitation link (no account)."""
        a = self.world.a
        client = Client()
        client.get(reverse("assessment:invitation_open", args=[a.respondent_token]))
        started = client.post(reverse("assessment:invitation_landing"))
        assert started.status_code == 302
        response = Response.objects.get(invitation=a.respondent_invitation)
        return client, [reverse("home"), *respondent_urls(response)]

    def invited_manager(self) -> tuple[Client, list[str]]:
        """Someone invited to manage A, holding the e-mailed link (no account yet)."""
        token = self.world.a.manager_invitation_token
        return Client(), [reverse("assessment:manager_join", args=[token])]

    def assessor(self) -> tuple[Client, list[str]]:
        a = self.world.a
        client = Client()
        client.force_login(a.assessor)
        seeds = [reverse("home"), reverse("assessment:assessor_queue")]
        for assessment in (a.in_review, a.returned, a.approved):
            seeds.append(reverse("assessment:review_detail", args=[assessment.pk]))
            seeds.append(reverse("assessment:review_evidence", args=[assessment.pk]))
        return client, seeds

    def consultant(self) -> tuple[Client, list[str]]:
        a = self.world.a
        client = Client()
        client.force_login(a.consultant)
        seeds = [reverse("home"), reverse("assessment:portfolio")]
        seeds += [reverse("assessment:branding"), reverse("assessment:bulk_new")]
        for export in a.exports:
            seeds.append(reverse("assessment:bulk_detail", args=[export.pk]))
        return client, seeds

    def crawl(self, principal: str) -> Crawl:
        client, seeds = getattr(self, principal)()
        crawl = Crawl(client).run(seeds)
        print(crawl.report(principal))
        assert crawl.leaks == [], "\n".join(
            f"{leak.url} [{leak.where}]: …{leak.excerpt}…" for leak in crawl.leaks
        )
        assert crawl.marked, f"{principal}: the crawl found none of A's own data"
        return crawl

    # --- the crawls

    def test_a_manager_of_a_finds_nothing_of_b_on_any_page_or_export(self):
        crawl = self.crawl("manager")
        # Each kind of download was read, and A's own data found in it.
        assert crawl.files["pdf"] >= len(self.world.a.assessments)
        assert {"pdf", "xlsx", "csv"} <= set(crawl.marked)

    def test_a_respondent_of_a_finds_nothing_of_b(self):
        crawl = self.crawl("respondent")
        assert crawl.pages >= 3

    def test_someone_invited_to_manage_a_finds_nothing_of_b(self):
        crawl = self.crawl("invited_manager")
        assert crawl.pages >= 2

    def test_an_assessor_of_a_finds_nothing_of_b(self):
        crawl = self.crawl("assessor")
        assert crawl.pages >= 4
        # The per-person answers, the assessor's alone, were downloaded and read.
        assert {"csv", "xlsx"} <= set(crawl.files)

    def test_a_consultant_of_a_finds_nothing_of_b_in_pages_reports_and_bulk_exports(self):
        crawl = self.crawl("consultant")
        assert {"pdf", "xlsx", "zip"} <= set(crawl.files)
        assert {"pdf", "xlsx"} <= set(crawl.marked)

    # --- B's objects by id

    def test_b_objects_are_404_for_every_principal_of_a(self):
        b = self.world.b
        gets, posts = b_get_urls(b), b_post_urls(b)
        # A's consultancy exported a report of B while B shared with it; B has since
        # withdrawn, so that export's file is B's data too.
        gets.append(reverse("assessment:bulk_download", args=[self.world.a.exports[0].pk]))
        refused = Counter()
        principals = ("manager", "respondent", "invited_manager", "assessor", "consultant")
        clients = {principal: getattr(self, principal)()[0] for principal in principals}
        before = db_state()
        for principal, client in clients.items():
            for method, urls in (("get", gets), ("post", posts)):
                for url in urls:
                    response = getattr(client, method)(url)
                    body = response.content.decode("utf-8", "replace")
                    assert not CANARY.search(body), (principal, method, url)
                    if principal in ANONYMOUS and response.status_code == 302:
                        # No account: the signed-in pages ask to sign in first.
                        assert response["Location"].startswith(reverse("login")), url
                    else:
                        assert response.status_code == 404, (principal, method, url)
                    refused[principal] += 1
        print(f"B's objects by id: {dict(refused)} requests refused")
        assert diff(before, db_state()) == {}

    # --- the seeding itself

    def test_every_free_text_value_of_b_carries_a_canary(self):
        b = self.world.b
        rows = [
            *Organisation.objects.filter(pk=b.organisation.pk),
            *Team.objects.filter(organisation=b.organisation),
            *RosterEntry.objects.filter(team__organisation=b.organisation),
            *Assessment.objects.filter(organisation=b.organisation),
            *Invitation.objects.filter(assessment__organisation=b.organisation),
            *ManagerInvitation.objects.filter(organisation=b.organisation),
            *Answer.objects.filter(response__assessment__organisation=b.organisation),
            *Moderation.objects.filter(assessment__organisation=b.organisation),
            *Decision.objects.filter(assessment__organisation=b.organisation),
            *CustomerSurvey.objects.filter(organisation=b.organisation),
            *CustomerResponse.objects.filter(survey__organisation=b.organisation),
            *CustomerLink.objects.filter(survey__organisation=b.organisation),
            *Evidence.objects.filter(assessment__organisation=b.organisation),
            *Action.objects.filter(assessment__organisation=b.organisation),
            b.manager,
            b.manager2,
            b.consultant,
        ]
        checked, missing = 0, []
        for row in rows:
            for model_field in row._meta.concrete_fields:
                if not isinstance(model_field, models.CharField | models.TextField):
                    continue
                if model_field.choices or model_field.name in SECRETS + NOT_TEXT:
                    continue
                value = getattr(row, model_field.attname)
                if value == "" and model_field.blank:
                    continue  # e.g. an answer without a comment
                checked += 1
                if not CANARY.search(value):
                    missing.append(f"{row._meta.label} {row.pk} {model_field.name}: {value!r}")
        assert missing == []
        assert checked > 100
        assert (
            Answer.objects.filter(
                response__assessment__organisation=b.organisation, comment__icontains="canary-b"
            ).count()
            >= 20
        )
