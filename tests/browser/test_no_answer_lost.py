"""Failures during autosave keep the user's input and say so; nothing typed is lost."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone
from playwright.sync_api import expect

from assessment.models import Answer
from frameworks.models import Question
from tests.browser.test_manager_journey import sign_in
from tests.factories import make_assessment, make_organisation, make_team


@pytest.fixture
def manager_answering(live_server, browser):
    organisation = make_organisation("Harbour Ltd", manager="harriet")
    assessment = make_assessment(make_team(organisation), status="open", invitees=1)
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, live_server.url, organisation.manager.username)
    page.goto(f"{live_server.url}{assessment.get_absolute_url()}")
    # Frameworks v2: the manager answers the manager questions (format 1: everything).
    page.get_by_role("button", name=re.compile("^Answer (yourself|the manager questions)$")).click()
    expect(page.locator("fieldset.question").first).to_be_visible()
    yield live_server.url, organisation, page
    context.close()


def idle_timeout(page) -> None:
    """The session idles out on the server, as SESSION_IDLE_TIMEOUT ends it."""
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))


def cookies_cleared(page) -> None:
    """The browser drops the session (closed, cleared, or expired on its side)."""
    page.context.clear_cookies()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("expire", [idle_timeout, cookies_cleared])
def test_an_expired_sign_in_keeps_the_input_and_a_resave_after_sign_in_loses_nothing(
    manager_answering, expire
):
    base, organisation, page = manager_answering
    question = page.locator("fieldset.question").first
    expire(page)  # the session ends while the page is open

    question.locator("input[value='4']").check()
    question.locator("textarea").fill("Typed while signed out.")

    expect(question.locator(".answer-status")).to_contain_text("session has expired")
    expect(question.locator("input[value='4']")).to_be_checked()
    expect(question.locator("textarea")).to_have_value("Typed while signed out.")
    assert not Answer.objects.exists()

    # Sign in again in another tab, come back and save the page: nothing was lost.
    other = page.context.new_page()
    sign_in(other, base, organisation.manager.username)
    page.bring_to_front()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("Your answers are saved.")).to_be_visible()

    answer = Answer.objects.get(level=4)
    assert answer.comment == "Typed while signed out."


@pytest.mark.django_db(transaction=True)
def test_a_csrf_failure_during_autosave_keeps_the_input_and_says_so(manager_answering):
    _base, _organisation, page = manager_answering
    question = page.locator("fieldset.question").first
    page.context.clear_cookies(name=settings.CSRF_COOKIE_NAME)
    page.evaluate("document.querySelector('input[name=csrfmiddlewaretoken]').value = 'stale'")

    question.locator("input[value='2']").check()

    expect(question.locator(".answer-status")).to_contain_text("Not saved")
    expect(question.locator("input[value='2']")).to_be_checked()
    assert not Answer.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_progress_count_follows_the_answers_on_the_page(manager_answering):
    _base, organisation, page = manager_answering
    total = (
        Question.objects.filter(version__assessments__organisation=organisation)
        .asked_of("manager")
        .count()
    )
    label = page.locator("label[for=overall-progress]")
    expect(label).to_contain_text(f"0 of {total} questions")

    page.locator("fieldset.question").nth(0).locator("input[type=radio][value='0']").check()
    expect(label).to_contain_text(f"1 of {total} questions")
    page.locator("fieldset.question").nth(1).locator("input[value='na']").check()
    page.locator("fieldset.question").nth(2).locator("input[value='dk']").check()

    # Level 0, "not applicable to us" and "don't know" each count as answered.
    expect(label).to_contain_text(f"3 of {total} questions")
