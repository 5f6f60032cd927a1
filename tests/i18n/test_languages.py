"""Choosing a language, and whose language each page, e-mail and framework text is in
(issue 19): the switcher, the kept choice, the assessment's default for invitees and
customers, e-mails in the recipient's language, and framework text with its visible
English fallback."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from assessment import services
from assessment.models import Assessment, Invitation, PersonalPreference
from frameworks.models import FrameworkVersion, Question
from frameworks.translation import FALLBACK_MARK
from tests.factories import (
    PASSWORD,
    make_assessment,
    make_invitation,
    make_opened_assessment,
    make_team,
)

pytestmark = pytest.mark.django_db


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def german(text: str) -> str:
    with translation.override("de"):
        return translation.gettext(text)


def test_the_switcher_keeps_the_choice_and_goes_back(client):
    page = client.get("/glossary/")
    assert html_lang(page) == "en-gb"
    assert 'name="language" value="de" lang="de"' in page.content.decode()

    switched = client.post(reverse("set_language"), {"language": "de", "next": "/glossary/"})

    assert switched.status_code == 302
    assert switched["Location"] == "/glossary/"
    assert switched.cookies["django_language"].value == "de"
    assert switched.cookies["django_language"]["httponly"]
    again = client.get("/glossary/")
    assert html_lang(again) == "de"
    assert again["Content-Language"] == "de"
    assert german("Glossary") in again.content.decode()


def test_an_unknown_language_is_refused_beside_the_field_and_nothing_is_kept(client):
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert "django_language" not in response.cookies


def test_a_next_page_elsewhere_goes_home_instead(client):
    response = client.post(
        reverse("set_language"), {"language": "de", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_the_browsers_language_is_the_default(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="de-AT,de;q=0.9,en;q=0.5")
    assert html_lang(page) == "de"


def test_a_signed_in_persons_choice_follows_them_to_a_new_browser(organisation):
    manager = organisation.manager
    first = Client()
    first.force_login(manager)
    first.post(reverse("set_language"), {"language": "de", "next": "/dashboard/"})
    assert PersonalPreference.objects.get(user=manager).language == "de"

    elsewhere = Client()
    signed_in = elsewhere.post(
        reverse("login"), {"username": manager.username, "password": PASSWORD}
    )
    assert signed_in.status_code == 302
    page = elsewhere.get(reverse("assessment:dashboard"))
    assert html_lang(page) == "de"
    assert german("Dashboard") in page.content.decode()


def test_a_chosen_language_costs_no_query_on_a_page(organisation):
    """The choice is read from the session at every page; the preference only at sign-in."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(client) -> int:
        client.get(reverse("assessment:dashboard"))
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("assessment:dashboard"))
        return len(captured)

    plain = Client()
    plain.force_login(organisation.manager)
    before = queries(plain)
    chosen = Client()
    chosen.force_login(organisation.manager)
    chosen.post(reverse("set_language"), {"language": "de", "next": "/"})
    assert queries(chosen) == before


def test_a_new_assessment_takes_the_chosen_language(organisation):
    team = make_team(organisation)
    client = Client()
    client.force_login(organisation.manager)
    response = client.post(
        reverse("assessment:assessment_create"),
        {"title": "Herbst", "team": team.pk, "frameworks": ["win4"], "language": "de"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert Assessment.objects.get(title="Herbst").language == "de"


def test_the_create_form_offers_the_shipped_languages_only(organisation):
    team = make_team(organisation)
    client = Client()
    client.force_login(organisation.manager)
    response = client.post(
        reverse("assessment:assessment_create"),
        {"title": "Herbst", "team": team.pk, "frameworks": ["win4"], "language": "fr"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Assessment.objects.filter(title="Herbst").exists()


def opened_in_german(organisation) -> Assessment:
    """A German assessment of a team of three, opened: its invitations are sent."""
    assessment = services.assessment_create(
        team=make_team(organisation, members=3),
        title="Herbst",
        framework_slugs=["win4"],
        due_date=None,
        by=organisation.manager,
        language="de",
    )
    services.assessment_open(assessment=assessment, by=organisation.manager)
    return assessment


def test_invitations_go_out_in_the_assessments_language(organisation, mailoutbox):
    opened_in_german(organisation)

    message = mailoutbox[0]
    assert len(mailoutbox) == 3
    assert message.subject == german("You are invited to a team assessment")
    assert message.subject != "You are invited to a team assessment"


def test_an_invitee_reads_in_the_assessments_language_until_they_switch(organisation, mailoutbox):
    assessment = opened_in_german(organisation)
    token = re.search(r"/r/([^/\s]+)/", mailoutbox[0].body).group(1)
    client = Client()
    first = client.get(reverse("assessment:invitation_open", kwargs={"token": token}))
    landing = client.post(first["Location"])
    page = client.get(landing["Location"], follow=True)
    assert html_lang(page) == "de"
    question = Question.objects.filter(version__assessments=assessment).asked_of("team").first()
    assert question.translations["de"]["text"] in page.content.decode()

    client.post(reverse("set_language"), {"language": "en-gb", "next": landing["Location"]})
    page = client.get(landing["Location"], follow=True)
    assert html_lang(page) == "en-gb"
    assert question.text in page.content.decode()
    # Their reminders follow their choice.
    assert Invitation.objects.filter(assessment=assessment, language="en-gb").count() == 1


def test_the_customer_survey_is_in_the_assessments_language(organisation):
    team = make_team(organisation)
    assessment = make_assessment(team, status="open")
    Assessment.objects.filter(pk=assessment.pk).update(language="de")
    today = timezone.localdate()
    survey = services.customer_survey_create(
        team=team,
        assessment=Assessment.objects.get(pk=assessment.pk),
        user=organisation.manager,
        title="Kundschaft",
        opens_on=today,
        closes_on=today + datetime.timedelta(days=7),
        max_responses=100,
    )
    page = Client().get(survey.public_path())
    assert html_lang(page) == "de"
    intro = survey.version.translations["de"]["intro"]
    assert intro in page.content.decode()


def test_framework_text_without_a_translation_is_english_marked_never_silent(db):
    question = Question.objects.filter(version__framework__slug="win4").first()
    Question.objects.filter(pk=question.pk).update(translations={})
    question.refresh_from_db()
    with translation.override("de"):
        assert (
            question.text == FALLBACK_MARK + Question.objects.get(pk=question.pk).__dict__["text"]
        )
    assert question.text == question.__dict__["text"]


def test_saving_under_another_language_keeps_the_english(db):
    question = Question.objects.filter(version__framework__slug="win4").first()
    english = question.text
    with translation.override("de"):
        assert question.text != english
        question.save()
    question.refresh_from_db()
    assert question.text == english


def test_a_reminder_is_in_the_invitees_own_choice(organisation, mailoutbox):
    assessment = make_opened_assessment(make_team(organisation, members=3))
    invitation = make_invitation(assessment, email="lena@example.com")
    Invitation.objects.filter(pk=invitation.pk).update(language="de")
    invitation.refresh_from_db()
    services.invitation_send(invitation=invitation)
    assert mailoutbox[-1].subject == german("You are invited to a team assessment")


def test_an_export_has_german_headers_and_words_beside_unchanged_codes(db):
    import csv
    import io

    from tests.factories import make_in_review

    assessment, _assessor = make_in_review()
    client = Client()
    client.force_login(assessment.organisation.memberships.first().user)
    client.post(reverse("set_language"), {"language": "de", "next": "/"})

    response = client.get(reverse("assessment:scores_csv", args=[assessment.pk]))

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = rows[0]
    assert german("Section key") in header
    assert german("Section") in header
    assert "Section key" not in header
    body = [dict(zip(header, row, strict=False)) for row in rows[1:] if len(row) == len(header)]
    sections = {s.key: s for s in assessment.framework_versions.first().sections.all()}
    assert {row[german("Section key")] for row in body} == set(sections)
    for row in body:
        section = sections[row[german("Section key")]]
        assert row[german("Section")] == section.translations["de"]["name"]


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "NaN", "javascript:x"])
def test_a_next_that_is_not_a_path_here_goes_home(client, target):
    response = client.post(reverse("set_language"), {"language": "de", "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_corrected_translation_reaches_the_loaded_version_without_a_new_one(db):
    import copy
    from dataclasses import replace

    from frameworks.loading import DEFAULT_DATA_DIR, load_shared, parse_framework_file
    from frameworks.services import SyncStatus, sync_frameworks

    parsed = parse_framework_file(DEFAULT_DATA_DIR / "win4.toml", shared=load_shared())
    version = FrameworkVersion.objects.filter(framework__slug="win4").order_by("-number").first()
    number, loaded_at = version.number, version.loaded_at
    corrected = copy.deepcopy(parsed.translations)
    corrected["de"]["sections.customers"]["name"] = "Die Kundschaft"

    (result,) = sync_frameworks(parsed=[replace(parsed, translations=corrected)])

    assert result.status == SyncStatus.UNCHANGED
    version.refresh_from_db()
    assert version.number == number
    assert version.loaded_at > loaded_at  # what is cached of the version is made afresh
    with translation.override("de"):
        assert version.sections.get(key="customers").name == "Die Kundschaft"
    assert FrameworkVersion.objects.filter(framework__slug="win4").count() == number


def test_a_review_decision_reaches_each_manager_in_their_own_language(
    django_capture_on_commit_callbacks, mailoutbox
):
    from tests.factories import judge_criteria, make_in_review

    assessment, assessor = make_in_review()
    manager = assessment.organisation.memberships.first().user
    PersonalPreference.objects.create(user=manager, language="de")
    judge_criteria(assessment, assessor)
    with translation.override("en-gb"), django_capture_on_commit_callbacks(execute=True):
        services.decision_approve(
            assessment=assessment,
            assessor=assessor,
            level=2,
            summary="Sound.",
            snapshot={},
            deviation_reason="Reason.",
        )
    (message,) = [m for m in mailoutbox if m.to == [manager.email]]
    with translation.override("de"):
        outcome = translation.gettext("Approved")
    assert message.subject.startswith(german("Review decision: %(outcome)s").split("%")[0])
    assert outcome in message.subject
