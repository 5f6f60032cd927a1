"""Customer surveys over HTTP: the customers' public page, its abuse resistance, and the
manager's pages (issue 17). Real database, real forms, real signed cookies and stamps."""

import datetime
import re
import time

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from assessment import services
from assessment.forms.customers import HONEYPOT_FIELD, STARTED_SALT
from assessment.models import CustomerLink, CustomerResponse, CustomerSurvey
from assessment.models.customers import CustomerThrottle
from frameworks.models import CustomerSurveyVersion
from tests.factories import make_assessment, make_organisation, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(organisation) -> CustomerSurvey:
    team = make_team(organisation)
    today = timezone.localdate()
    return services.customer_survey_create(
        team=team,
        assessment=make_assessment(team, status="open"),
        user=organisation.manager,
        title="Counter customers",
        opens_on=today,
        closes_on=today + datetime.timedelta(days=7),
        max_responses=1000,
    )


@pytest.fixture
def no_minimum_time(settings):
    settings.CUSTOMER_MIN_SECONDS = 0


def _stamp(survey: CustomerSurvey, seconds_ago: float = 60) -> str:
    return signing.dumps(
        {"s": survey.pk, "t": time.time() - seconds_ago}, salt=STARTED_SALT, compress=False
    )


def answers(survey: CustomerSurvey, *, seconds_ago: float = 60, **extra) -> dict[str, str]:
    """A complete, plausible submission: every attribute rated, a stamp a minute old."""
    data = {"started": _stamp(survey, seconds_ago), "comment": ""}
    for position in range(1, survey.version.attributes.count() + 1):
        data[f"i{position}"] = str(1 + position % 5)
        data[f"p{position}"] = str(1 + (position * 2) % 5)
    data.update(extra)
    return data


def submit(survey: CustomerSurvey, data: dict, *, address: str = "192.0.2.1", client=None):
    client = client or Client(REMOTE_ADDR=address)
    return client.post(survey.public_path(), data, REMOTE_ADDR=address)


# --- the public page -----------------------------------------------------------------


def test_public_page_asks_every_attribute_and_starts_no_session(client, survey):
    response = client.get(survey.public_path())
    assert response.status_code == 200
    page = response.content.decode()
    version = CustomerSurveyVersion.objects.get(pk=survey.version_id)
    for attribute in version.attributes.all():
        assert attribute.statement in page
    assert survey.organisation.name in page  # who runs it
    assert "What is kept" in page
    assert "sessionid" not in "".join(response.cookies)
    assert "<script" not in page  # works, and is the same, without JavaScript
    # Every rating is a labelled radio: one fieldset legend per question.
    assert page.count('type="radio"') == version.attributes.count() * 2 * 6


def test_answers_are_one_row_and_set_the_answered_cookie(survey):
    client = Client()
    response = submit(survey, answers(survey, comment="Lovely staff"), client=client)
    assert response.status_code == 302
    assert response["Location"].endswith("/thanks/")
    row = CustomerResponse.objects.get(survey=survey)
    assert (row.i1, row.p1, row.comment) == (2, 3, "Lovely staff")
    assert f"answered-{survey.pk}" in response.cookies
    assert client.get(response["Location"]).status_code == 200


def test_doesnt_apply_is_stored_as_no_rating(survey):
    submit(survey, answers(survey, i1="na", p1="na"))
    row = CustomerResponse.objects.get(survey=survey)
    assert row.i1 is None
    assert row.p1 is None
    assert row.i2 is not None


@pytest.mark.parametrize(
    ("field", "value"), [("i1", "7"), ("p2", "0"), ("i3", "'; DROP TABLE x"), ("p1", "2.5")]
)
def test_bad_rating_is_a_message_beside_it_and_nothing_is_stored(survey, field, value):
    response = submit(survey, answers(survey, **{field: value}))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not CustomerResponse.objects.exists()


def test_empty_submission_asks_for_an_answer(survey):
    data = {"started": _stamp(survey)}
    response = submit(survey, data)
    assert response.status_code == 400
    assert "answer at least one question" in response.content.decode()
    assert not CustomerResponse.objects.exists()


def test_too_long_comment_is_refused_beside_it(survey):
    response = submit(survey, answers(survey, comment="x" * 1001))
    assert response.status_code == 400
    assert not CustomerResponse.objects.exists()


def test_unknown_link_is_404(client, db):
    assert client.get("/c/not-a-survey/").status_code == 404


# --- abuse resistance (must show 2) ------------------------------------------------------


def _counters(survey: CustomerSurvey) -> tuple[int, int, int, int]:
    survey.refresh_from_db()
    return (survey.refused_repeat, survey.refused_rate, survey.refused_bot, survey.refused_closed)


def test_same_browser_twice_is_refused_politely_and_counted(survey):
    browser = Client()
    assert submit(survey, answers(survey), client=browser).status_code == 302
    again = submit(survey, answers(survey), client=browser, address="198.51.100.7")
    assert again.status_code == 409
    assert "already sent answers" in again.content.decode()
    assert CustomerResponse.objects.filter(survey=survey).count() == 1
    assert _counters(survey) == (1, 0, 0, 0)
    # Opening the page again says so before anyone answers.
    page = browser.get(survey.public_path())
    assert "already sent answers" in page.content.decode()


def test_a_survey_for_shared_devices_takes_a_browser_again(survey):
    survey.allow_repeat = True
    survey.save(update_fields=["allow_repeat"])
    browser = Client()
    assert submit(survey, answers(survey), client=browser).status_code == 302
    assert submit(survey, answers(survey), client=browser).status_code == 302
    assert CustomerResponse.objects.filter(survey=survey).count() == 2


def test_a_forged_answered_cookie_is_ignored(survey):
    browser = Client()
    browser.cookies[f"answered-{survey.pk}"] = "1"  # not signed by us
    assert submit(survey, answers(survey), client=browser).status_code == 302


def test_one_address_sending_100_in_a_minute_is_limited(survey, settings, proof):
    statuses = [
        submit(survey, answers(survey), address="203.0.113.9").status_code for _ in range(100)
    ]
    accepted = statuses.count(302)
    assert accepted == settings.CUSTOMER_ADDRESS_LIMIT
    assert statuses.count(429) == 100 - accepted
    assert not [s for s in statuses if s >= 500]
    assert CustomerResponse.objects.filter(survey=survey).count() == accepted
    assert _counters(survey) == (0, 100 - accepted, 0, 0)
    # Another address is not held back by it.
    assert submit(survey, answers(survey), address="203.0.113.10").status_code == 302
    proof(
        f"customer abuse: 100 from one address -> {accepted} stored, {100 - accepted} refused (429)"
    )


def test_the_throttle_keeps_no_address(survey):
    submit(survey, answers(survey), address="203.0.113.9")
    row = CustomerThrottle.objects.get()
    assert "203.0.113.9" not in row.address_tag
    assert len(row.address_tag) == 64


def test_the_survey_wide_rate_limit(survey, settings):
    settings.CUSTOMER_SURVEY_LIMIT_PER_MINUTE = 3
    statuses = [
        submit(survey, answers(survey), address=f"192.0.2.{n}").status_code for n in range(5)
    ]
    assert statuses == [302, 302, 302, 429, 429]


def test_filled_honeypot_is_refused_and_nothing_stored(survey):
    response = submit(survey, answers(survey, **{HONEYPOT_FIELD: "http://spam.example"}))
    assert response.status_code == 403
    assert "take your time" in response.content.decode()
    assert not CustomerResponse.objects.exists()
    assert _counters(survey) == (0, 0, 1, 0)


def test_two_second_completion_is_refused(survey, settings):
    assert settings.CUSTOMER_MIN_SECONDS > 2
    response = submit(survey, answers(survey, seconds_ago=2))
    assert response.status_code == 403
    assert not CustomerResponse.objects.exists()
    assert _counters(survey) == (0, 0, 1, 0)


@pytest.mark.parametrize("stamp", ["", "forged", "stale", "other-survey"])
def test_missing_or_forged_start_stamp_counts_as_automated(survey, stamp):
    value = {
        "": "",
        "forged": "eyJzIjoxLCJ0IjowfQ:1abc:def",
        "stale": _stamp(survey, seconds_ago=13 * 3600),
        "other-survey": signing.dumps(
            {"s": survey.pk + 1, "t": time.time() - 60}, salt=STARTED_SALT, compress=False
        ),
    }[stamp]
    response = submit(survey, answers(survey, started=value))
    assert response.status_code == 403
    assert not CustomerResponse.objects.exists()


def test_closed_and_full_surveys_take_nothing(survey):
    survey.max_responses = 1
    survey.save(update_fields=["max_responses"])
    assert submit(survey, answers(survey), address="192.0.2.1").status_code == 302
    full = submit(survey, answers(survey), address="192.0.2.2")
    assert full.status_code == 410
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    CustomerSurvey.objects.filter(pk=survey.pk).update(
        max_responses=10, opens_on=yesterday - datetime.timedelta(days=3), closes_on=yesterday
    )
    assert submit(survey, answers(survey), address="192.0.2.3").status_code == 410
    assert CustomerResponse.objects.filter(survey=survey).count() == 1
    assert _counters(survey) == (0, 0, 0, 2)


def test_a_survey_not_yet_open_says_when_it_opens(client, survey):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    CustomerSurvey.objects.filter(pk=survey.pk).update(
        opens_on=tomorrow, closes_on=tomorrow + datetime.timedelta(days=3)
    )
    page = client.get(survey.public_path()).content.decode()
    assert "This survey opens on" in page
    assert 'type="radio"' not in page


# --- the manager's pages ---------------------------------------------------------------


def test_manager_opens_a_survey_for_an_assessment(manager_client):
    team = make_team(manager_client.organisation)
    assessment = make_assessment(team, status="open")
    url = f"/assessments/{assessment.pk}/customers/new/"
    assert manager_client.get(url).status_code == 200
    today = timezone.localdate()
    bad = manager_client.post(
        url,
        {
            "title": "Customers",
            "opens_on": today,
            "closes_on": today - datetime.timedelta(days=1),
            "max_responses": "0",
        },
    )
    assert bad.status_code == 400
    assert not CustomerSurvey.objects.exists()
    good = manager_client.post(
        url,
        {
            "title": "Customers",
            "opens_on": today,
            "closes_on": today + datetime.timedelta(days=14),
            "max_responses": "300",
        },
    )
    survey = CustomerSurvey.objects.get(assessment=assessment)
    assert good["Location"] == survey.get_absolute_url()
    assert len(survey.public_token) >= 20
    # A second visit goes to the survey rather than opening another.
    assert manager_client.get(url)["Location"] == survey.get_absolute_url()


def test_another_organisations_survey_is_404(manager_client, db):
    other = make_organisation("Other Ltd", manager="other")
    team = make_team(other)
    today = timezone.localdate()
    survey = services.customer_survey_create(
        team=team,
        user=other.manager,
        title="Theirs",
        opens_on=today,
        closes_on=today,
        max_responses=5,
    )
    for path in ("", "qr.svg", "qr.png"):
        assert manager_client.get(f"/customers/{survey.pk}/{path}").status_code == 404


def test_qr_codes_carry_the_public_link(manager_client, survey):
    svg = manager_client.get(f"/customers/{survey.pk}/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg.content.startswith(b"<svg")
    png = manager_client.get(f"/customers/{survey.pk}/qr.png")
    assert png.content.startswith(b"\x89PNG")


def test_results_show_only_from_the_threshold(client, survey, settings, no_minimum_time):
    client.force_login(survey.organisation.manager)
    for n in range(settings.CUSTOMER_THRESHOLD - 1):
        submit(survey, answers(survey), address=f"192.0.2.{n}")
    page = client.get(survey.get_absolute_url()).content.decode()
    assert "ipa-chart" not in page
    assert re.search(r"Customer figures appear from \d+ responses", page)
    submit(survey, answers(survey), address="192.0.2.200")
    page = client.get(survey.get_absolute_url()).content.decode()
    assert "ipa-chart" in page
    for attribute in survey.version.attributes.all():
        assert attribute.name in page


def test_the_assessment_page_offers_the_survey(manager_client):
    team = make_team(manager_client.organisation)
    assessment = make_assessment(team, status="open")
    page = manager_client.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "Ask your customers" in page


# --- personal links --------------------------------------------------------------------


def _upload(client, survey, text: str, name: str = "customers.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(f"/customers/{survey.pk}/links/", {"file": upload})


def test_a_customer_list_is_checked_whole_before_anything_is_kept(manager_client, survey):
    bad = _upload(manager_client, survey, "email,name\na@example.com,Ann\nnot-an-address,Bo\n")
    assert bad.status_code == 400
    assert "Line 3" in bad.content.decode()
    assert not CustomerLink.objects.exists()
    good = _upload(
        manager_client, survey, "email,name\na@example.com,Ann\nb@example.com\nA@example.com,x\n"
    )
    assert good.status_code == 302
    assert CustomerLink.objects.filter(survey=survey).count() == 2  # one address twice


def test_personal_links_are_sent_used_once_and_name_no_response(
    manager_client, survey, mailoutbox, no_minimum_time
):
    from tests.mail import links_in

    _upload(manager_client, survey, "a@example.com,Ann\nb@example.com,Bo\n")
    sent = manager_client.post(f"/customers/{survey.pk}/links/send/")
    assert sent.status_code == 302
    assert len(mailoutbox) == 2
    assert all(link.token_hash and link.sent_at for link in CustomerLink.objects.all())
    link_url = next(u for u in links_in(mailoutbox[0]) if "/c/p/" in u)
    path = link_url.split("://", 1)[1].split("/", 1)[1]
    customer = Client()
    assert customer.get(f"/{path}").status_code == 200
    done = customer.post(f"/{path}", answers(survey))
    assert done.status_code == 200
    assert "Thank you" in done.content.decode()
    assert CustomerResponse.objects.filter(survey=survey).count() == 1
    used = CustomerLink.objects.get(email="a@example.com")
    assert used.used
    # Nothing on a response points at a link or a person.
    names = {f.name for f in CustomerResponse._meta.get_fields()}
    assert not names & {"link", "email", "name", "address", "customer_link"}
    again = customer.post(f"/{path}", answers(survey))
    assert again.status_code == 410
    assert CustomerResponse.objects.filter(survey=survey).count() == 1
    page = manager_client.get(survey.get_absolute_url()).content.decode()
    assert "Response rate: 50 %" in page


def test_links_are_sent_within_the_mail_caps(manager_client, survey, mailoutbox, settings):
    settings.MAIL_CAP_PER_HOUR = 2
    _upload(manager_client, survey, "a@example.com\nb@example.com\nc@example.com\n")
    response = manager_client.post(f"/customers/{survey.pk}/links/send/", follow=True)
    assert len(mailoutbox) == 2
    assert "1 is waiting" in response.content.decode()
    assert CustomerLink.objects.filter(sent_at__isnull=True).count() == 1


def test_addresses_are_erased_once_the_survey_closes(manager_client, survey, settings):
    from io import StringIO

    from django.core.management import call_command

    _upload(manager_client, survey, "a@example.com,Ann\n")
    services.customer_addresses_erase()
    assert CustomerLink.objects.get().email == "a@example.com"  # still open: kept
    CustomerSurvey.objects.filter(pk=survey.pk).update(
        opens_on=timezone.localdate() - datetime.timedelta(days=9),
        closes_on=timezone.localdate() - datetime.timedelta(days=2),
    )
    settings.CUSTOMER_ADDRESS_RETENTION_DAYS = 1
    out = StringIO()
    call_command("prune_customer_data", stdout=out)
    assert "Erased 1" in out.getvalue()
    link = CustomerLink.objects.get()
    assert (link.email, link.name, link.erased) == ("", "", True)


def test_an_unknown_personal_link_is_404(client, db):
    assert client.get("/c/p/not-a-token/").status_code == 404


def test_the_a4_poster_carries_the_link(manager_client, survey):
    from tests.pdf import pdf_info, pdf_text

    response = manager_client.get(f"/customers/{survey.pk}/poster.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(response.content).split())
    assert "How did we do?" in text
    assert survey.public_path() in text
    info = pdf_info(response.content)
    assert info["Pages"] == "1"
    assert "(A4)" in info["Page size"]


def test_a_team_survey_on_its_own(manager_client):
    team = make_team(manager_client.organisation)
    url = f"/teams/{team.pk}/customers/new/"
    assert manager_client.get(url).status_code == 200
    today = timezone.localdate()
    response = manager_client.post(
        url,
        {
            "title": "Walk-in customers",
            "opens_on": today,
            "closes_on": today + datetime.timedelta(days=7),
            "max_responses": "100",
        },
    )
    survey = CustomerSurvey.objects.get(team=team)
    assert survey.assessment is None
    assert response["Location"] == survey.get_absolute_url()
    page = manager_client.get(survey.get_absolute_url())
    assert page.status_code == 200
    assert "Walk-in customers" in manager_client.get(f"/teams/{team.pk}/").content.decode()


def test_the_manager_changes_dates_and_limits(manager_client, survey):
    url = f"/customers/{survey.pk}/edit/"
    assert manager_client.get(url).status_code == 200
    submit(survey, answers(survey), address="192.0.2.1")
    submit(survey, answers(survey), address="192.0.2.2")
    today = timezone.localdate()
    form = {
        "title": "Renamed",
        "opens_on": survey.opens_on,
        "closes_on": today + datetime.timedelta(days=30),
        "max_responses": "1",
    }
    too_low = manager_client.post(url, form)
    assert too_low.status_code == 400
    assert "already has 2 responses" in too_low.content.decode()
    form["max_responses"] = "2"
    assert manager_client.post(url, form).status_code == 302
    survey.refresh_from_db()
    assert (survey.title, survey.max_responses, survey.state(2)) == ("Renamed", 2, "full")
    form["closes_on"] = today - datetime.timedelta(days=5)
    assert manager_client.post(url, form).status_code == 400
    # Closing now: no more answers, whatever the dates were.
    assert manager_client.post(f"/customers/{survey.pk}/close/").status_code == 302
    survey.refresh_from_db()
    assert survey.state(0) == "closed"
    assert submit(survey, answers(survey), address="192.0.2.9").status_code == 410
