"""The manager journey end to end in Chromium: with JavaScript (autosave) and without."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from assessment.models import Answer, Assessment, Invitation, Response
from frameworks.models import Question
from tests.factories import PASSWORD, make_organisation, make_team

MEMBERS = ["ana@example.com", "bo@example.com"]


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Finish the sign-in before the next step: acting on (or closing) a page in the
    # middle of a navigation is where headless Chromium can stall.
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.wait_for_load_state()


def create_and_open_assessment(page: Page, base: str, team_name: str) -> Assessment:
    page.goto(f"{base}/assessments/new/")
    page.get_by_label("Title").fill("Winter review")
    page.get_by_label("Team").select_option(label=team_name)
    # The whole card is the checkbox's label, as a person clicks it.
    page.locator("label", has_text="Holistic view of customer service").click()
    page.locator("label", has_text="Win4 sustainable customer service").click()
    page.get_by_role("button", name="Create assessment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Winter review")

    page.get_by_label("E-mail addresses").fill("\n".join(MEMBERS))
    page.get_by_role("button", name=re.compile("Add", re.I)).first.click()
    for email in MEMBERS:
        expect(page.get_by_role("cell", name=email, exact=True)).to_be_visible()
    page.get_by_role("button", name=re.compile("Open and send", re.I)).click()
    expect(page.get_by_text(re.compile("open", re.I)).first).to_be_visible()
    return Assessment.objects.get(title="Winter review")


def link_for(email: str) -> str:
    message = [m for m in mail.outbox if m.to == [email]][-1]
    return re.search(r"https?://\S+/r/\S+/", message.body).group(0)


def open_link(page: Page, email: str) -> None:
    """Open the e-mailed link and press the start button, as the invitee does."""
    page.goto(link_for(email))
    page.get_by_role("button", name="Open my questionnaire").click()


def section_links(page: Page) -> list[str]:
    return page.locator(".section-list a").evaluate_all("els => els.map(e => e.href)")


def answer_section_with_autosave(page: Page, level: int) -> None:
    questions = page.locator("fieldset.question")
    for index in range(questions.count()):
        question = questions.nth(index)
        question.locator(f"input[type=radio][value='{level}']").check()
    for index in range(questions.count()):
        expect(questions.nth(index).locator(".answer-status")).to_contain_text("Saved")


def team_questions(assessment: Assessment) -> tuple[int, int]:
    """How many questions a team member is asked, and in how many sections (frameworks v2
    leave the managers' and leadership's questions, and a section of none, out)."""
    asked = Question.objects.filter(version__assessments=assessment).asked_of("team")
    return asked.count(), len(set(asked.values_list("section_id", flat=True)))


def checked_levels(page: Page) -> list[str]:
    return page.locator("fieldset.question input[type=radio]:checked").evaluate_all(
        "els => els.map(e => e.value)"
    )


@pytest.fixture
def journey(live_server, settings, mailoutbox):
    settings.SITE_URL = live_server.url
    organisation = make_organisation("Harbour Ltd", manager="harriet")
    team = make_team(organisation, "Help desk")
    return live_server.url, organisation, team


@pytest.mark.django_db(transaction=True)
def test_a_manager_invites_and_a_member_answers_with_autosave(journey, browser, console):
    base, organisation, team = journey
    manager = browser.new_context()
    manager_page = manager.new_page()
    sign_in(manager_page, base, organisation.manager.username)
    assessment = create_and_open_assessment(manager_page, base, team.name)
    assert assessment.status == Assessment.Status.OPEN
    assert sorted(m.to[0] for m in mail.outbox) == MEMBERS

    # The member answers every section; each answer is saved as it is chosen.
    member: BrowserContext = browser.new_context()
    page = member.new_page()
    open_link(page, MEMBERS[0])
    assert "/r/" not in page.url  # the token left the address bar
    sections = section_links(page)
    questions, section_count = team_questions(assessment)
    assert len(sections) == section_count == 7  # Win4's owners section asks the team nothing
    for number, url in enumerate(sections):
        page.goto(url)
        answer_section_with_autosave(page, level=number % 5 + 1)
    with page.expect_response(lambda r: "/answers/" in r.url and r.status == 200):
        page.locator("fieldset.question textarea").first.fill("Evidence: the weekly call review.")
    member.close()

    # A new browser: the used link offers a fresh one by e-mail, and every answer is there.
    member = browser.new_context(java_script_enabled=True)
    page = member.new_page()
    Invitation.objects.update(sent_at=timezone.now() - timedelta(hours=1))  # the next day
    page.goto(link_for(MEMBERS[0]))  # a dead link says why on first view (issue 13)
    expect(page.get_by_text("already been used")).to_be_visible()
    page.get_by_role("button", name="E-mail me a fresh link").click()
    expect(page.get_by_text("Check your e-mail")).to_be_visible()
    open_link(page, MEMBERS[0])
    for number, url in enumerate(section_links(page)):
        page.goto(url)
        levels = checked_levels(page)
        assert levels == [str(number % 5 + 1)] * page.locator("fieldset.question").count()
    expect(page.locator("textarea").first).to_have_value("Evidence: the weekly call review.")

    page.get_by_role("link", name="Review and submit").click()
    expect(page.get_by_text("Every question is answered.")).to_be_visible()
    page.get_by_label(re.compile("I have finished")).check()
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_text("Your answers are submitted")).to_be_visible()

    response = Response.objects.get(invitation__email=MEMBERS[0])
    assert response.status == Response.Status.COMPLETED
    assert Answer.objects.filter(response=response, level__isnull=False).count() == questions
    assert console.errors == []
    member.close()
    manager.close()


@pytest.mark.django_db(transaction=True)
def test_the_same_journey_works_without_javascript(journey, browser):
    base, organisation, team = journey
    manager = browser.new_context(java_script_enabled=False)
    manager_page = manager.new_page()
    sign_in(manager_page, base, organisation.manager.username)
    assessment = create_and_open_assessment(manager_page, base, team.name)
    questions, section_count = team_questions(assessment)

    member = browser.new_context(java_script_enabled=False)
    page = member.new_page()
    open_link(page, MEMBERS[1])
    # Each section: "Not applicable to us" first, "Don't know" second, levels (0 too) after.
    for number in range(section_count):
        fieldsets = page.locator("fieldset.question")
        for index in range(fieldsets.count()):
            value = {0: "na", 1: "dk"}.get(index, str(number % 6))
            fieldsets.nth(index).locator(f"input[type=radio][value='{value}']").check()
        page.get_by_role("button", name=re.compile("^Save and (continue|review)$")).first.click()
    expect(page.get_by_role("heading", name="Review and submit")).to_be_visible()
    expect(page.get_by_text("Every question is answered.")).to_be_visible()
    page.get_by_label(re.compile("I have finished")).check()
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_text("Your answers are submitted")).to_be_visible()

    response = Response.objects.get(invitation__email=MEMBERS[1])
    assert response.status == Response.Status.COMPLETED
    answers = Answer.objects.filter(response=response)
    assert answers.filter(not_applicable=True, dont_know=False).count() == section_count
    assert answers.filter(dont_know=True, not_applicable=False).count() == section_count
    assert answers.filter(level__isnull=False).count() == questions - 2 * section_count
    assert answers.filter(level=0).exists()
    member.close()
    manager.close()


@pytest.mark.django_db(transaction=True)
def test_the_manager_pages_fit_a_phone_and_the_roster_keeps_input(journey, browser):
    from assessment.models import RosterEntry
    from tests.factories import make_assessment, make_response

    base, organisation, team = journey
    RosterEntry.objects.create(
        team=team, name="Long Name", email="a.very.long.address.for.a.phone@example.com"
    )
    assessment = make_assessment(team, status="submitted")
    make_response(assessment, levels=[3], status="completed")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, base, organisation.manager.username)
    for path in [
        "/",
        team.get_absolute_url(),
        "/managers/",
        assessment.get_absolute_url(),
        f"/assessments/{assessment.pk}/results/",
    ]:
        page.goto(f"{base}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path

    # An invalid address on the roster keeps both fields' input, the error beside the field.
    page.goto(f"{base}{team.get_absolute_url()}")
    page.get_by_label("Name").fill("Lin Chen")
    page.get_by_label("E-mail").fill("lin-at-example.com")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Lin Chen")
    expect(page.get_by_label("E-mail")).to_have_value("lin-at-example.com")
    assert RosterEntry.objects.filter(team=team).count() == 1
    context.close()
