"""Evidence, criterion-based review and an action plan in Chromium (issue 18, "Must show" 1).

A manager attaches a real PDF (rendered by WeasyPrint) to Customers and a real PNG photo
(drawn with Pillow) to The company on the evidence page, reached from the assessment's
page; both show the manager's name. The assessor opens each section's criteria page from
the workspace's "Criteria and evidence" table, sees that evidence there, and judges every
criterion of Win4 with the radio buttons: all "Met" but one "Partly met" (with a note) in
Customers and one "Not evidenced" in The company. Shareholders and owners has no team
questions, so the assessor moderates it (60, level 3) for the rule to give a level. The
assessor requires an action, and the Approve form comes with the rule's level chosen:
every section at level 3 from its score, Customers lowered to 2 and The company held at 1,
so the award is level 2 (all but one section reach 2, that one a level below). The test
computes it from ``formula2`` on its own and from ``assessment_award_rule``; they and the
decision agree. The manager then gives the required action an owner (a member) and a
due date, adds an action for a person without an account, and downloads the PDF report
from the results page; ``pdftotext`` finds the titles, owners, evidence, "Partly met" and
the level.

The evidence page, a criteria page and the action plan are checked at 390 px (no wider
than the phone) and 1280 px, with axe-core (no violation of any impact); full-page
screenshots go to shots18/ in the system's temporary directory (outside the repository)
for a person to look at.
"""

import datetime
import io
import re
import tempfile
from pathlib import Path

import pytest
import weasyprint
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, BrowserContext, Page, expect

from assessment.models import Action, Evidence, Judgement
from assessment.scoring import SCALE_V2, formula2, level_to_score
from assessment.selectors.review import assessment_award_rule
from frameworks.models import Question, Section
from tests.browser.axe import Audit, audit
from tests.browser.conftest import ConsoleWatch
from tests.browser.test_layout_sweep import DESKTOP, OVERFLOW, PHONE, WIDTH
from tests.browser.test_manager_journey import sign_in
from tests.factories import make_in_review, make_membership, make_user
from tests.pdf import poppler

SHOTS = Path(tempfile.gettempdir()) / "shots18"  # for a person to look at; not kept

TEAM_LEVEL = 3  # every team answer: each team-answered section scores 60, level 3
OWNERS_SCORE = "60"  # the assessor's moderation of the section the team is not asked
PARTLY = ("customers", "W4-CUS-2", "The log covers only spring; no trend of complaint reasons.")
NOT_EVIDENCED = ("company", "W4-CO-4")
PDF_TITLE = "Complaint log summary, spring"
PNG_TITLE = "Photo of the service charter at the counter"
REQUIRED = "Publish a staffing plan for peak weeks"
OWN_ACTION = "Train new starters on the service charter"
NO_ACCOUNT = "Pat Newcomer"


def flat(text: str) -> str:
    return " ".join(text.split())


def person(browser: Browser) -> tuple[BrowserContext, Page, ConsoleWatch]:
    """A browser of one's own, at desk width; data-confirm prompts are accepted."""
    context = browser.new_context(locale="en-GB", viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    return context, page, ConsoleWatch(page)


def small_pdf(path: Path) -> Path:
    html = (
        "<h1>Complaint log, March to May</h1><p>41 complaints; 38 answered within two "
        "working days.</p>"
    )
    path.write_bytes(weasyprint.HTML(string=html).write_pdf())
    assert path.read_bytes().startswith(b"%PDF-")
    return path


def small_photo(path: Path) -> Path:
    image = Image.new("RGB", (320, 240), (226, 232, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 30, 280, 210), fill=(255, 255, 255), outline=(30, 64, 120), width=6)
    for y in range(60, 200, 24):
        draw.line((64, y, 256, y), fill=(90, 90, 90), width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


class Checks:
    """Width, axe and a screenshot of one page at 1280 px and at 390 px."""

    def __init__(self) -> None:
        self.widths: dict[str, dict[int, tuple[int, list[str]]]] = {}
        self.audits: list[Audit] = []

    def page(self, page: Page, name: str) -> None:
        for size in (DESKTOP, PHONE):
            page.set_viewport_size(size)
            width = size["width"]
            scroll = page.evaluate(WIDTH)
            sticking = page.evaluate(OVERFLOW) if scroll > width else []
            self.widths.setdefault(name, {})[width] = (scroll, sticking)
            self.audits.append(audit(page, f"{name} at {width} px"))
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        page.set_viewport_size(DESKTOP)

    def too_wide(self) -> dict[str, tuple[int, list[str]]]:
        return {
            name: widths[PHONE["width"]]
            for name, widths in self.widths.items()
            if widths[PHONE["width"]][0] > PHONE["width"]
        }


@pytest.fixture
def world(live_server, settings):
    """Win4 in review with alex: three team members answered every question at level 3.
    The manager is Harriet Hughes; Olga Owner is another member of the organisation."""
    settings.SITE_URL = live_server.url
    assessment, assessor = make_in_review(levels=(TEAM_LEVEL,))
    organisation = assessment.organisation
    manager = organisation.memberships.get().user
    manager.first_name, manager.last_name = "Harriet", "Hughes"
    manager.save(update_fields=["first_name", "last_name"])
    owner = make_user("olga", first_name="Olga", last_name="Owner")
    make_membership(organisation, owner)
    SHOTS.mkdir(exist_ok=True)
    return {
        "base": live_server.url,
        "assessment": assessment,
        "assessor": assessor,
        "manager": manager,
        "owner": owner,
    }


def expected_level() -> tuple[int, dict[str, int]]:
    """The award from formula 2 alone, from the judgements this test makes."""
    scored = formula2.band(level_to_score(TEAM_LEVEL, SCALE_V2), SCALE_V2)
    assert scored == formula2.band(float(OWNERS_SCORE), SCALE_V2) == 3
    sections = {}
    for key in ("customers", "employees", "company", "owners"):
        verdicts = ["met"] * 3
        if key == PARTLY[0]:
            verdicts.append("partly")
        if key == NOT_EVIDENCED[0]:
            verdicts.append("not_evidenced")
        sections[key] = formula2.evidenced_level(scored, verdicts, SCALE_V2)
    assert sections == {"customers": 2, "employees": 3, "company": 1, "owners": 3}
    return formula2.awarded_level(sections, SCALE_V2), sections


@pytest.mark.django_db(transaction=True)
def test_evidence_judgements_award_and_action_plan_end_to_end(world, browser, tmp_path):
    base = world["base"]
    assessment = world["assessment"]
    sections = {
        s.key: s for s in Section.objects.filter(version__assessments=assessment).order_by("pk")
    }
    criteria = list(Question.objects.filter(version__assessments=assessment, version__format=2))
    assert len(sections) == 4
    assert len(criteria) == 27
    framework = sections["customers"].version.short_name  # "Win4 sustainable service"
    pdf = small_pdf(tmp_path / "complaint-log.pdf")
    photo = small_photo(tmp_path / "service-charter.png")
    checks = Checks()
    consoles: list[ConsoleWatch] = []

    # 1. The manager attaches a PDF to Customers and a photo to The company.
    manager_context, manager, console = person(browser)
    consoles.append(console)
    try:
        sign_in(manager, base, world["manager"].username)
        manager.goto(f"{base}{assessment.get_absolute_url()}")
        manager.locator(
            "section", has=manager.get_by_role("heading", name="Evidence", exact=True)
        ).get_by_role("link", name="Evidence", exact=True).click()
        expect(manager.get_by_role("heading", level=1)).to_have_text("Evidence")
        expect(manager.get_by_text("Evidence is named.")).to_be_visible()
        for section, title, path in (
            ("Customers", PDF_TITLE, pdf),
            ("The company", PNG_TITLE, photo),
        ):
            form = manager.locator("form", has=manager.get_by_role("button", name="Add evidence"))
            form.get_by_label("Section").select_option(label=section)
            form.get_by_label("Title").fill(title)
            form.get_by_role("radio", name="File").check()
            form.locator("input[type=file]").set_input_files(str(path))
            form.get_by_role("button", name="Add evidence").click()
            expect(manager.get_by_text("Evidence added.")).to_be_visible()
        for section, title in (("Customers", PDF_TITLE), ("The company", PNG_TITLE)):
            block = manager.get_by_role("region", name=section, exact=True)
            item = block.get_by_role("listitem").filter(has_text=title)
            expect(item).to_contain_text("Added by Harriet Hughes on")
            expect(item.get_by_role("link", name=re.compile("^Download"))).to_be_visible()
        stored = {
            e.title: (e.section.key, e.kind, e.content_type, e.added_by_name)
            for e in Evidence.objects.filter(assessment=assessment)
        }
        assert stored == {
            PDF_TITLE: ("customers", "file", "application/pdf", "Harriet Hughes"),
            PNG_TITLE: ("company", "file", "image/png", "Harriet Hughes"),
        }
        checks.page(manager, "evidence")
    finally:
        manager_context.close()

    # 2. The assessor judges every criterion, section by section, beside the evidence.
    reviewer_context, reviewer, console = person(browser)
    consoles.append(console)
    try:
        sign_in(reviewer, base, world["assessor"].username)
        reviewer.goto(f"{base}/reviews/")
        reviewer.get_by_role("link", name=assessment.title).click()
        expect(reviewer).to_have_url(re.compile(rf"/reviews/{assessment.pk}/"))

        # The owners' section has no team questions: its level comes from a moderation.
        owners_name = sections["owners"].name
        form = reviewer.locator("form").filter(
            has=reviewer.get_by_role("button", name=f"Save moderation of {owners_name}")
        )
        form.get_by_label(re.compile("^Moderated score")).fill(OWNERS_SCORE)
        form.get_by_label("Rationale").fill("Board minutes show service on every agenda.")
        form.get_by_role("button", name=f"Save moderation of {owners_name}").click()
        expect(reviewer.get_by_text("Board minutes show service").first).to_be_visible()

        table = reviewer.get_by_role("region", name="Criteria judged, per section")
        expect(table).to_be_visible()
        evidence_on = {"customers": PDF_TITLE, "company": PNG_TITLE}
        judged_codes = []
        for key in ("customers", "employees", "company", "owners"):
            name = sections[key].name
            reviewer.get_by_role("region", name="Criteria judged, per section").get_by_role(
                "link", name=f"Judge: {name}", exact=True
            ).click()
            expect(reviewer.get_by_role("heading", level=1)).to_have_text(f"Criteria: {name}")
            attached = reviewer.locator("#evidence")
            if key in evidence_on:
                expect(attached).to_contain_text(evidence_on[key])
                expect(attached).to_contain_text("added by Harriet Hughes")
            else:
                expect(attached).to_contain_text("The organisation has attached no evidence")
            codes = reviewer.locator("li.criterion .badge").all_inner_texts()
            assert codes, f"no criteria on the page of {name}"
            for code in codes:
                verdict = "Met"
                if (key, code) == PARTLY[:2]:
                    verdict = "Partly met"
                elif (key, code) == NOT_EVIDENCED:
                    verdict = "Not evidenced"
                group = reviewer.get_by_role("group", name=f"Your judgement of {code}")
                group.get_by_label(verdict, exact=True).check()
                if verdict == "Partly met":
                    reviewer.get_by_label(f"Note on {code} (what you saw or missed)").fill(
                        PARTLY[2]
                    )
            judged_codes += codes
            if key == "customers":
                checks.page(reviewer, "criteria")  # with the choices made, before saving
            reviewer.get_by_role("button", name="Save the judgements").click()
            expect(
                reviewer.get_by_text(re.compile(rf"\d+ judgements? saved for {re.escape(name)}"))
            ).to_be_visible()
        assert sorted(judged_codes) == sorted(q.code for q in criteria)
        verdicts = dict(
            Judgement.objects.filter(assessment=assessment).values_list("question__code", "verdict")
        )
        assert len(verdicts) == len(criteria)
        assert {code: v for code, v in verdicts.items() if v != "met"} == {
            PARTLY[1]: "partly",
            NOT_EVIDENCED[1]: "not_evidenced",
        }

        # 3. An action required for approval.
        required = reviewer.locator("#required-form")
        required.get_by_label("Action required").fill(REQUIRED)
        required.get_by_label("Section it answers (optional)").select_option(
            label=f"{framework}, {sections['employees'].name}"
        )
        required.get_by_role("button", name="Require").click()
        expect(
            reviewer.locator("#required-actions").get_by_role("cell", name=REQUIRED)
        ).to_be_visible()

        # 4. The level: formula 2 alone, the rule as the product runs it, the form.
        expected, levels = expected_level()
        rule = assessment_award_rule(assessment)
        assert rule is not None
        assert rule.unjudged == 0
        keys = {section.pk: key for key, section in sections.items()}
        assert {keys[s.section_id]: s.level for s in rule.sections} == levels
        assert rule.level == expected == 2
        approve = reviewer.locator("#approve-form")
        expect(approve.locator("#approve-unjudged")).to_have_count(0)
        expect(approve.get_by_label("Awarded maturity level")).to_have_value(str(expected))
        expect(approve.locator("#approve-rule")).to_contain_text(f"The rule gives level {expected}")
        approve.get_by_label("Summary").fill(
            "Good evidence of customer focus; complaint trends and staffing need work."
        )
        approve.get_by_role("button", name="Approve").click()
        expect(reviewer.get_by_text("Approved").first).to_be_visible()
    finally:
        reviewer_context.close()
    decision = assessment.decisions.get()
    assert decision.outcome == "approved"
    assert decision.awarded_level == decision.rule_level == expected

    # 5. The manager gives the required action an owner and a date, and adds their own.
    due = timezone.localdate() + datetime.timedelta(days=60)
    manager_context, manager, console = person(browser)
    consoles.append(console)
    try:
        sign_in(manager, base, world["manager"].username)
        manager.goto(f"{base}{assessment.get_absolute_url()}")
        expect(manager.get_by_text(f"awarded maturity level {expected}")).to_be_visible()
        manager.get_by_role("link", name="Results", exact=True).click()
        manager.get_by_role("link", name="Action plan", exact=True).click()
        expect(manager.get_by_role("heading", level=1)).to_contain_text("Action plan")
        row = manager.get_by_role("row").filter(has_text=REQUIRED)
        expect(row).to_contain_text("Required by the assessor")
        expect(row).to_contain_text("Nobody yet")
        row.get_by_role("link", name=re.compile(rf"^Change\s+{re.escape(REQUIRED)}$")).click()
        expect(manager.get_by_text("Required by the assessor").first).to_be_visible()
        manager.get_by_label("Owner: a member of your organisation").select_option(
            label="Olga Owner"
        )
        manager.get_by_label("Due date (optional)").fill(due.isoformat())
        manager.get_by_role("button", name="Save").click()
        row = manager.get_by_role("row").filter(has_text=REQUIRED)
        expect(row).to_contain_text("Olga Owner")
        expect(row).to_contain_text(f"{due.day} {due:%b %Y}")

        manager.get_by_role("link", name="Add an action").click()
        manager.get_by_label("Title").fill(OWN_ACTION)
        manager.get_by_label("Section").select_option(
            label=f"{framework}: {sections['customers'].name}"
        )
        manager.get_by_label("Or: the owner's name, for someone without an account").fill(
            NO_ACCOUNT
        )
        manager.get_by_role("button", name="Add the action").click()
        row = manager.get_by_role("row").filter(has_text=OWN_ACTION)
        expect(row).to_contain_text(NO_ACCOUNT)
        expect(row).not_to_contain_text("Required by the assessor")
        checks.page(manager, "action-plan")

        # 6. The PDF report, downloaded from the results page.
        manager.get_by_role("link", name="Results and priorities").click()
        with manager.expect_download(timeout=90_000) as download:
            # The download is a small form: the report's language beside its button.
            manager.get_by_role("button", name="PDF report").click()
        report = Path(download.value.path()).read_bytes()
    finally:
        manager_context.close()

    actions = {
        a.title: (a.is_required, a.owner_label, a.due_date)
        for a in Action.objects.filter(assessment=assessment)
    }
    assert actions == {
        REQUIRED: (True, "Olga Owner", due),
        OWN_ACTION: (False, NO_ACCOUNT, None),
    }
    assert report.startswith(b"%PDF-")
    text = flat(poppler("pdftotext", report))
    missing = [
        words
        for words in (
            REQUIRED,
            OWN_ACTION,
            "Olga Owner",
            NO_ACCOUNT,
            PDF_TITLE,
            PNG_TITLE,
            "Partly met",
            PARTLY[2],
            "Not evidenced",
            f"awarded maturity level {expected}",
            f"The awarded level follows the rule: every section reaches level {expected}",
        )
        if words not in text
    ]
    assert missing == [], f"the report lacks {missing}"

    # 7. The three pages fit a phone, and axe finds nothing on them.
    print(f"\nwidths: {checks.widths}\nscreenshots in {SHOTS}")
    assert checks.too_wide() == {}
    assert [a.describe() for a in checks.audits if a.violations] == []
    assert [e for c in consoles for e in c.errors] == []
