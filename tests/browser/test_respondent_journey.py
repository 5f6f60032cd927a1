"""A team member's journey in Chromium (issue 13): coming back through the same link, a
dead link that says why at once, no false conflict with the tab's own autosave, and the
questionnaire on a phone."""

import re
import time
from datetime import date

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from assessment import services
from assessment.models import Answer, Assessment, Invitation, Reopening
from assessment.views import respond
from frameworks.models import Section
from tests.browser.axe import audit
from tests.factories import make_assessment, make_organisation, make_response, make_team

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def invited(live_server):
    """An open assessment with two invitations, whose links are /r/token-<pk>-<n>/."""
    organisation = make_organisation("Harbour Ltd")
    assessment = make_assessment(make_team(organisation, "Night desk"), status="open", invitees=2)
    Assessment.objects.filter(pk=assessment.pk).update(due_date=date(2031, 3, 14))
    return live_server.url, assessment


def link(base: str, assessment, n: int = 1) -> str:
    return f"{base}/r/token-{assessment.pk}-{n}/"


def start(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Open my questionnaire").click()
    expect(page.locator("fieldset.question").first).to_be_visible()


def fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


@pytest.mark.django_db(transaction=True)
def test_a_returning_member_in_the_same_browser_goes_straight_back(invited, page):
    base, assessment = invited
    page.goto(link(base, assessment))
    expect(page.get_by_text("Harbour Ltd")).to_be_visible()
    expect(page.get_by_text("Please answer by 14 March 2031.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"\d+ questions, about \d+ minutes"))).to_be_visible()
    page.get_by_role("button", name="Open my questionnaire").click()
    first = page.locator("fieldset.question").first
    first.get_by_label(re.compile(r"3 ·")).check()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("Your answers are saved.")).to_be_visible()

    # The same link again, days later, in the same browser: straight back, no button.
    page.goto(link(base, assessment))
    expect(page.locator("fieldset.question").first).to_be_visible()
    expect(page.get_by_role("button", name="Open my questionnaire")).to_have_count(0)
    expect(page.get_by_text("already been used")).to_have_count(0)

    # Without a link at all, the landing offers the questionnaire this browser holds.
    page.goto(f"{base}/r/")
    page.get_by_role("link", name="Continue my questionnaire").click()
    expect(page.locator("fieldset.question").first).to_be_visible()
    assert Answer.objects.filter(level=3).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_dead_link_says_why_on_first_view_and_offers_what_helps(invited, browser: Browser):
    base, assessment = invited
    mine = browser.new_context(locale="en-GB")
    start(mine.new_page(), link(base, assessment))
    Invitation.objects.update(sent_at=None)  # no cool-down for the fresh link

    # The used link, opened in another browser: why, and a fresh link on offer.
    other = browser.new_context(locale="en-GB").new_page()
    response = other.goto(link(base, assessment))
    assert response.status == 410
    expect(other.get_by_text("This link has already been used.")).to_be_visible()
    expect(other.get_by_role("button", name="Open my questionnaire")).to_have_count(0)
    other.get_by_role("button", name="E-mail me a fresh link").click()
    expect(other.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    # A link to a closed assessment: nothing more to do, and nothing to press.
    Assessment.objects.filter(pk=assessment.pk).update(status=Assessment.Status.SUBMITTED)
    response = other.goto(link(base, assessment, 2))
    assert response.status == 410
    expect(other.get_by_text("This assessment is closed.")).to_be_visible()
    expect(other.get_by_text("there is nothing more to do")).to_be_visible()
    expect(other.get_by_role("button", name="E-mail me a fresh link")).to_have_count(0)
    expect(other.get_by_role("button", name="Open my questionnaire")).to_have_count(0)
    mine.close()
    other.context.close()


@pytest.mark.django_db(transaction=True)
def test_save_and_continue_right_after_an_autosave_never_conflicts(invited, page, monkeypatch):
    """Must show #5: choose an answer, and while its autosave is on its way press "Save and
    continue" within 100 ms; ten times, across two sections. The autosave's answer comes
    back late (as on a slow network), after its write: the page would carry a stale
    revision if it did not wait for it."""
    base, assessment = invited
    fragment = respond._status_fragments

    def late_fragment(*args, **kwargs):
        time.sleep(0.3)
        return fragment(*args, **kwargs)

    monkeypatch.setattr(respond, "_status_fragments", late_fragment)
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status))
    start(page, link(base, assessment))
    sections = list(
        Section.objects.filter(version__assessments=assessment).order_by("position")[:2]
    )
    response_url = page.url.split("/sections/")[0]
    chosen = {}
    for section in sections:
        for index, question in enumerate(
            section.questions.asked_of("team").order_by("position")[:5]
        ):
            page.goto(f"{response_url}/sections/{section.pk}/")
            level = str(1 + (index + section.position) % 5)
            fieldset = page.locator(f"#question-{question.pk}")
            with page.expect_request(lambda r: "/answers/" in r.url):
                fieldset.locator(f"input[value='{level}']").check()
            # Within 100 ms of the autosave leaving, with a comment typed meanwhile.
            fieldset.get_by_label("Comment or evidence (optional)").fill(f"Note {index}")
            page.get_by_role("button", name="Save and continue").click()
            expect(page.get_by_text("Your answers are saved.")).to_be_visible()
            chosen[question.pk] = (int(level), f"Note {index}")

    assert 409 not in statuses, statuses
    stored = {
        a.question_id: (a.level, a.comment) for a in Answer.objects.filter(question__in=chosen)
    }
    assert stored == chosen


@pytest.mark.django_db(transaction=True)
def test_the_questionnaire_fits_a_phone_with_question_one_first(invited, browser: Browser):
    base, assessment = invited
    context = browser.new_context(locale="en-GB", viewport=PHONE)
    page = context.new_page()
    page.goto(link(base, assessment))
    fits(page)
    page.get_by_role("button", name="Open my questionnaire").click()
    question = page.locator("fieldset.question").first
    expect(question).to_be_visible()
    fits(page)
    progress = page.get_by_role("heading", name="Your progress")
    assert question.bounding_box()["y"] < progress.bounding_box()["y"]
    page.get_by_role("link", name="Your progress and all sections").click()
    expect(progress).to_be_in_viewport()

    # The section's badge follows the answers as they are saved.
    badge = page.locator(".section-list [aria-current=page] + .section-badge")
    expect(badge).to_have_text("not started")
    question.locator("input[value='2']").check()
    expect(badge).to_contain_text("1 of")
    expect(question.get_by_text("Saved")).to_be_visible()

    page.goto(page.url.split("/sections/")[0] + "/review/")
    fits(page)
    page.goto(f"{base}/r/")
    fits(page)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_member_revises_only_the_reopened_section_and_every_page_passes_axe(
    invited, browser: Browser
):
    base, assessment = invited
    sections = list(Section.objects.filter(version__assessments=assessment).order_by("position"))
    mine, theirs = (Invitation.objects.for_token(f"token-{assessment.pk}-{n}") for n in (1, 2))
    response = make_response(assessment, invitation=mine, levels=[2])
    services.response_complete(response=response)
    Assessment.objects.filter(pk=assessment.pk).update(round=2)
    reopening = Reopening.objects.create(
        assessment=assessment,
        round=2,
        note="Please look again at how you greet customers.",
        created_by=assessment.created_by,
    )
    reopening.sections.set(sections[:1])
    audits = []
    context = browser.new_context(locale="en-GB", viewport=PHONE)
    page = context.new_page()

    def check(name: str) -> None:
        fits(page)
        audits.append(audit(page, f"{name}, 390 px"))
        page.set_viewport_size({"width": 1280, "height": 900})
        audits.append(audit(page, name))
        page.set_viewport_size(PHONE)

    page.goto(link(base, assessment, 2))  # someone else's link: it was never used
    Invitation.objects.filter(pk=theirs.pk).update(revoked_at=timezone.now())
    page.goto(link(base, assessment, 2))
    check("withdrawn link")

    # The member's own link (sent again after the reopening) leads to the review page,
    # which says what was asked.
    page.goto(link(base, assessment, 1))
    page.get_by_role("button", name="Open my questionnaire").click()
    expect(page.get_by_text("Please look again at how you greet customers.")).to_be_visible()
    check("review, reopened")
    page.get_by_role("button", name="Change my answers").click()
    open_section = page.locator("fieldset.question").first
    expect(open_section.get_by_label("Comment or evidence (optional)")).to_be_enabled()
    check("open section")
    open_section.locator("input[value='5']").check()
    expect(open_section.get_by_text("Saved")).to_be_visible()
    page.goto(f"{base}/responses/{response.pk}/sections/{sections[1].pk}/")
    expect(page.get_by_text("This section is not open for changes in this round")).to_be_visible()
    locked = page.locator("fieldset.question").first
    expect(locked.get_by_label("Comment or evidence (optional)")).to_be_disabled()
    expect(locked.get_by_role("radio").first).to_be_disabled()
    check("locked section")
    context.close()

    problems = [a.describe() for a in audits if a.violations]
    assert not problems, "\n".join(problems)
