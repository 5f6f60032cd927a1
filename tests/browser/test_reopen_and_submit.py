"""The manager's reopen-by-section and safe-submit journeys in Chromium, by visible labels
(issue 13): reopening two sections keeps every completion and e-mails the members the
sections; closing below the anonymity minimum is refused unless chosen explicitly."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from assessment import services
from assessment.models import Assessment, Invitation, Reopening, Response
from frameworks.models import Question, Section
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

PHONE = {"width": 390, "height": 844}


def complete(assessment: Assessment, invitations: list[Invitation]) -> None:
    questions = list(Question.objects.filter(version__assessments=assessment).asked_of("team"))
    for invitation in invitations:
        response = make_response(assessment, invitation=invitation)
        services.answers_save(response=response, answers=answer_inputs(questions, level=3))
        services.response_complete(response=response)


def fits(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.fixture
def world(live_server, settings, mailoutbox):
    settings.SITE_URL = live_server.url
    organisation = make_organisation("Harbour Ltd", manager="harriet")
    team = make_team(organisation, "Help desk", members=4)
    assessment = make_opened_assessment(team, title="Winter review")
    return live_server.url, organisation, assessment


@pytest.mark.django_db(transaction=True)
def test_reopening_two_sections_keeps_every_completion_and_mails_them(world, browser):
    base, organisation, assessment = world
    invitations = list(assessment.invitations.order_by("email"))
    complete(assessment, invitations[:3])
    services.assessment_submit(assessment=assessment, by=organisation.manager)
    assessor = make_assessor("alex")
    services.assessor_assign(
        assessment=assessment, assessor=assessor, by=make_user("stella", is_staff=True)
    )
    services.decision_return(
        assessment=assessment,
        assessor=assessor,
        required_changes="Ask the owners about complaints.",
        snapshot={},
    )
    Invitation.objects.update(sent_at=timezone.now() - timedelta(hours=1))  # past the cool-down
    mail.outbox.clear()
    first, second = Section.objects.filter(version__assessments=assessment).order_by("position")[
        1:3
    ]

    page = browser.new_context(viewport=PHONE).new_page()
    sign_in(page, base, organisation.manager.username)
    page.goto(f"{base}{assessment.get_absolute_url()}")
    page.get_by_role("link", name="Reopen for revision").click()
    # Waits for the reopening page (measuring during the navigation finds no document).
    expect(page.get_by_label("Note to the team")).to_have_value("Ask the owners about complaints.")
    assert fits(page)
    page.get_by_label(first.name).check()
    page.get_by_label(second.name).check()
    page.get_by_label("Note to the team").fill("Look again at complaints and at the owners.")
    page.get_by_role("button", name="Reopen and e-mail the team").click()
    expect(page.get_by_text("The assessment is open again.")).to_be_visible()
    assert fits(page)

    assessment.refresh_from_db()
    assert (assessment.status, assessment.round) == (Assessment.Status.OPEN, 2)
    reopening = Reopening.objects.get(assessment=assessment)
    assert set(reopening.sections.all()) == {first, second}
    # Every completion kept: the three who completed still count.
    assert Response.objects.members().completed().filter(assessment=assessment).count() == 3
    # Each member's e-mail names the two sections and carries the note.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(i.email for i in invitations)
    for message in mail.outbox:
        assert first.name in message.body
        assert second.name in message.body
        assert "> Look again at complaints and at the owners." in message.body
    page.context.close()


@pytest.mark.django_db(transaction=True)
def test_closing_below_the_minimum_is_refused_unless_chosen(world, browser):
    base, organisation, assessment = world
    complete(assessment, list(assessment.invitations.order_by("email")[:2]))

    page = browser.new_context(viewport=PHONE).new_page()
    sign_in(page, base, organisation.manager.username)
    page.goto(f"{base}{assessment.get_absolute_url()}")
    assert fits(page)
    page.get_by_role("link", name="Submit for review").click()
    expect(
        page.get_by_text("2 team members completed · your self-assessment not completed")
    ).to_be_visible()
    expect(page.get_by_text("Its team results would never be shown")).to_be_visible()
    assert fits(page)

    page.get_by_role("button", name="Submit for review").click()
    expect(
        page.get_by_text(
            re.compile("Only 2 team members have completed their answers; team results need")
        )
    ).to_be_visible()
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.OPEN

    page.get_by_label("Close without results").check()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("The assessment was submitted for review.")).to_be_visible()
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.SUBMITTED

    page.get_by_role("link", name="Results").click()
    expect(page.get_by_text("Team results will not be shown for this assessment")).to_be_visible()
    assert fits(page)
    page.context.close()
