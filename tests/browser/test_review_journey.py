"""The review journey end to end in Chromium: submit, assign, moderate, return,
revise, resubmit, approve, and a timeline that lists every step in order."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from assessment import services
from assessment.models import Assessment
from frameworks.models import Question
from tests.browser.test_manager_journey import sign_in
from tests.factories import (
    answer_inputs,
    make_assessor,
    make_opened_assessment,
    make_organisation,
    make_response,
    make_team,
    make_user,
)


def new_page(browser) -> Page:
    page = browser.new_context().new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # data-confirm prompts
    return page


@pytest.fixture
def setting(live_server, settings, mailoutbox):
    settings.SITE_URL = live_server.url
    organisation = make_organisation("Harbour Ltd", manager="harriet")
    team = make_team(organisation, "Help desk", members=3)
    assessment = make_opened_assessment(team, title="Winter review")
    questions = list(Question.objects.filter(version__assessments=assessment))
    for invitation in assessment.invitations.all():
        response = make_response(assessment, invitation=invitation)
        services.answers_save(
            response=response,
            answers=answer_inputs(
                questions, level=lambda q: 5 if q.section.key == "customers" else 2
            ),
        )
        services.response_complete(response=response)
    staff = make_user("stella", is_staff=True, first_name="Stella")
    assessor = make_assessor(
        "alex", last_name="Assessor", body="Institute of Service Assessors", number="ISA-1", days=90
    )
    return live_server.url, organisation, assessment, staff, assessor


@pytest.mark.django_db(transaction=True)
def test_the_review_journey_from_submission_to_approval(setting, browser):
    base, organisation, assessment, staff, assessor = setting
    detail_url = f"{base}{assessment.get_absolute_url()}"

    # The manager submits for review.
    manager = new_page(browser)
    sign_in(manager, base, organisation.manager.username)
    manager.goto(detail_url)
    manager.get_by_role("link", name="Submit for review").click()
    manager.get_by_role("button", name="Submit for review").click()
    expect(manager.get_by_text("submitted for review").first).to_be_visible()

    # Staff assign the assessor.
    staff_page = new_page(browser)
    sign_in(staff_page, base, staff.username)
    staff_page.goto(f"{base}/staff/reviews/")
    staff_page.get_by_label("Assessor for Winter review").select_option(value=str(assessor.pk))
    staff_page.get_by_role("button", name="Assign").click()
    expect(staff_page.get_by_text("now reviews Winter review")).to_be_visible()

    # The assessor moderates two sections with rationales and returns the assessment.
    reviewer = new_page(browser)
    sign_in(reviewer, base, assessor.username)
    reviewer.goto(f"{base}/reviews/")
    reviewer.get_by_role("link", name="Winter review").click()
    for name, score, why in [
        ("Customers", "70", "Complaint logs do not support the top rating."),
        ("The company", "30", "No executive sponsor for service was evidenced."),
    ]:
        form = reviewer.locator("form").filter(
            has=reviewer.get_by_role("button", name=f"Save moderation of {name}")
        )
        form.get_by_label(re.compile("^Moderated score")).fill(score)
        form.get_by_label("Rationale").fill(why)
        form.get_by_role("button", name=f"Save moderation of {name}").click()
        expect(reviewer.get_by_text(why).first).to_be_visible()
    reviewer.get_by_label("Changes required").fill("Show evidence for the customer scores.")
    reviewer.get_by_role("button", name="Return for revision").click()
    expect(reviewer.get_by_text("Returned for revision").first).to_be_visible()

    # The manager sees the required changes, reopens, the team revises, and resubmits.
    manager.goto(detail_url)
    expect(
        manager.get_by_text("Show evidence for the customer scores.", exact=True)
    ).to_be_visible()
    manager.get_by_role("button", name="Reopen for revision").click()
    expect(manager.get_by_text("The assessment is open again")).to_be_visible()

    member_mail = next(m for m in reversed(mail.outbox) if "/r/" in m.body)
    member = new_page(browser)
    member.goto(re.search(r"https?://\S+/r/\S+/", member_mail.body).group(0))
    member.get_by_role("button", name="Open my questionnaire").click()
    # Their answers from round one still count; they choose to change them.
    expect(
        member.get_by_text(re.compile("Your answers from the last round still count"))
    ).to_be_visible()
    member.get_by_role("button", name="Change my answers").click()
    first = member.locator("fieldset.question").first
    with member.expect_response(lambda r: "/questions/" in r.url and r.status == 200):
        first.locator("input[type=radio][value='4']").check()
    member.get_by_role("link", name="Review and submit").click()
    member.get_by_label(re.compile("I have finished")).check()
    member.get_by_role("button", name="Submit my answers").click()
    expect(member.get_by_text("Your answers are submitted. Thank you.")).to_be_visible()
    # The other two do nothing: their round-one answers keep counting.

    manager.goto(detail_url)
    manager.get_by_role("link", name="Submit for review").click()
    manager.get_by_role("button", name="Submit for review").click()
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.IN_REVIEW  # straight back to the assessor

    # The assessor sees what changed and approves with a level.
    reviewer.reload()
    changes = reviewer.locator(
        "section", has=reviewer.get_by_role("heading", name="What changed since the last review")
    )
    expect(changes).to_be_visible()
    expect(changes).to_contain_text("Customers")
    reviewer.get_by_label("Awarded maturity level").select_option("3")
    reviewer.get_by_label("Summary").fill("Evidence now supports the scores.")
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.get_by_text("Approved").first).to_be_visible()

    # The manager sees the approval, and the timeline lists every step in order.
    manager.goto(detail_url)
    expect(manager.get_by_text("awarded maturity level 3")).to_be_visible()
    timeline = manager.locator("section", has=manager.get_by_role("heading", name="Timeline"))
    steps = timeline.locator("li > div > strong").all_inner_texts()
    assert steps == [
        "Opened",
        "Submitted for review",
        "Assessor assigned",
        "Review started",
        "Section moderated",
        "Section moderated",
        "Returned for revision",
        "Reopened for revision",
        "Submitted for review",
        "Review started",
        "Approved",
    ]
