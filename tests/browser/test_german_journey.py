"""The whole first journey in German (issue 19, "Must show" 2), in Chromium: switch to
German on the landing page, sign up, confirm the address, create a team and an
assessment, answer as an invitee; no page shows English from our own catalogue.

"English from our catalogue" is every message of the English catalogue (the msgids of
assessment/locale/de) whose German differs: phrases of two words or more anywhere in a
page's visible text, single words of five letters or more as whole words.
"""

import re
from functools import cache
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core import mail
from django.utils import translation
from playwright.sync_api import Page, expect

from assessment.models import Answer, Assessment, Response
from tests.browser.conftest import ConsoleWatch

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|<[^>]+>|&\w+;|[“”„\"]")


def tr(text: str) -> str:
    with translation.override("de"):
        return translation.gettext(text)


@cache
def english_catalogue() -> tuple[list[str], list[re.Pattern]]:
    """Our English messages that read differently in German: phrases and long words."""
    po = polib.pofile(str(Path(settings.BASE_DIR) / "assessment/locale/de/LC_MESSAGES/django.po"))
    phrases: set[str] = set()
    words: set[str] = set()
    for entry in po.translated_entries():
        if entry.msgstr == entry.msgid:
            continue
        for fragment in PLACEHOLDER.split(entry.msgid):
            fragment = " ".join(fragment.split()).strip(" .,:;()\u2014\u2013-\u00b7")
            if len(fragment.split()) >= 2 and len(fragment) >= 8:
                phrases.add(fragment)
            elif re.fullmatch(r"[A-Za-z]{5,}", fragment) and fragment not in entry.msgstr:
                words.add(fragment)
    return sorted(phrases), [re.compile(rf"\b{re.escape(w)}\b") for w in sorted(words)]


# The visible text, without what is marked as another language (the switcher names
# English in English) and without the product's own name.
VISIBLE_GERMAN = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('[lang]:not([lang|="de"])').forEach((el) => el.remove());
  copy.querySelectorAll("script, style, template, [hidden]").forEach((el) => el.remove());
  return copy.textContent;
}"""


def english_on(page: Page) -> list[str]:
    text = " ".join(page.evaluate(VISIBLE_GERMAN).replace("Service Balance", " ").split())
    phrases, words = english_catalogue()
    found = [p for p in phrases if p in text]
    found += [w.pattern for w in words if w.search(text)]
    return found


@pytest.fixture
def base(live_server, settings, mailoutbox):
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.mark.django_db(transaction=True)
def test_the_first_journey_in_german_shows_no_english_of_ours(base, browser):
    context = browser.new_context(locale="en-GB")  # an English browser: German is chosen
    context.set_default_timeout(15_000)
    page = context.new_page()
    console = ConsoleWatch(page)
    seen: dict[str, list[str]] = {}

    def check(name: str) -> None:
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "de", name
        seen[name] = english_on(page)

    page.goto(f"{base}/")
    assert page.locator("html").get_attribute("lang") == "en-gb"
    # The check sees English where there is English: dozens of our messages on this page.
    assert len(english_on(page)) > 20
    page.get_by_role("button", name="Deutsch").click()
    check("landing")
    assert page.get_by_role("heading", level=1).inner_text() != ""

    page.get_by_role("link", name=tr("Sign up your organisation")).first.click()
    check("sign-up")
    for name, value in {
        "organisation_name": "Hafen GmbH",
        "full_name": "Hanna Hafner",
        "email": "hanna@example.com",
        "username": "hanna",
        "password1": "Leuchtturm-am-Kai-2026",
        "password2": "Leuchtturm-am-Kai-2026",
    }.items():
        page.locator(f"[name={name}]").fill(value)
    page.get_by_role("button", name=tr("Create organisation")).click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    check("dashboard")

    (confirmation,) = [m for m in mail.outbox if m.to == ["hanna@example.com"]]
    # Written in the language the person signed up in.
    assert confirmation.subject == tr("Confirm your e-mail address for Service Balance")
    link = re.search(r"https?://\S+/confirm/\S+/", confirmation.body).group(0)
    page.goto(link)
    check("confirm address")
    page.get_by_role("button", name=tr("Confirm my address")).click()
    check("address confirmed")

    page.goto(f"{base}/teams/new/")
    check("new team")
    page.get_by_label(tr("Team name")).fill("Kundendienst")
    page.get_by_role("button").filter(has_text=re.compile(tr("Create team"))).first.click()
    check("team")

    page.goto(f"{base}/assessments/new/")
    check("new assessment")
    assert page.get_by_label(tr("Language")).input_value() == "de"
    page.get_by_label(tr("Title")).fill("Herbstbewertung")
    page.get_by_label(tr("Team")).select_option(label="Kundendienst")
    page.locator("label", has_text="Win4 \u2013 nachhaltiger Kundenservice").click()
    page.get_by_role("button", name=tr("Create assessment")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Herbstbewertung")
    check("assessment")
    members = ["ana@example.com", "bo@example.com", "cem@example.com"]
    page.get_by_label(tr("E-mail addresses")).fill("\n".join(members))
    page.get_by_role("button", name=tr("Add to the invitations")).click()
    page.get_by_role("button", name=tr("Open and send invitations")).click()
    check("assessment open")
    assessment = Assessment.objects.get(title="Herbstbewertung")
    assert assessment.language == "de"
    context.close()

    # The invitee: a fresh English browser; the link opens in the assessment's language.
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    console_invitee = ConsoleWatch(page)
    (invitation,) = [m for m in mail.outbox if m.to == ["ana@example.com"]]
    assert invitation.subject == tr("You are invited to a team assessment")
    page.goto(re.search(r"https?://\S+/r/\S+/", invitation.body).group(0))
    check("invitation")
    page.get_by_role("button", name=tr("Open my questionnaire")).click()
    check("questionnaire")
    questions = page.locator("fieldset.question")
    for index in range(questions.count()):
        questions.nth(index).locator("input[type=radio][value='3']").check()
    for index in range(questions.count()):
        expect(questions.nth(index).locator(".answer-status")).to_contain_text(tr("Saved"))
    check("questionnaire, answers saved")
    page.get_by_role("link", name=tr("Review and submit")).first.click()
    check("review")
    context.close()

    assert Answer.objects.filter(response__assessment=assessment, level=3).exists()
    assert Response.objects.filter(assessment=assessment).count() == 1
    assert console.errors == []
    assert console_invitee.errors == []
    english = {name: found for name, found in seen.items() if found}
    assert english == {}, english
