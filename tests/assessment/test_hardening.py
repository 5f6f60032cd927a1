"""Production hardening: cookies, HSTS, the session idle timeout, sign-in throttling,
and the security log. The settings under test are the ones the suite runs with
(DEBUG off, so HTTPS on), plus fresh interpreters for the environment switches."""

import logging
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from assessment.client_ip import client_ip
from assessment.middleware import IDLE_REFRESH_SECONDS
from assessment.signals import log_failed_sign_in
from tests.assessment.test_settings import run_settings
from tests.factories import PASSWORD, make_assessment, make_organisation, make_team, make_user

LOGIN = "/accounts/login/"


def sign_in(client, username, password=PASSWORD, ip="192.0.2.10", **headers):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **headers
    )


# --- cookies and headers ---------------------------------------------------------


@pytest.mark.django_db
def test_the_session_cookie_is_host_bound_secure_and_not_readable_by_scripts(client):
    make_user("ana", password=PASSWORD)

    response = sign_in(client, "ana")

    cookie = response.cookies["__Host-sessionid"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["path"] == "/"
    assert cookie["domain"] == ""
    assert cookie["samesite"] == "Lax"


@pytest.mark.django_db
def test_the_csrf_cookie_carries_the_host_prefix(client):
    response = client.get(LOGIN)

    cookie = response.cookies["__Host-csrftoken"]
    assert cookie["secure"] is True
    assert cookie["path"] == "/"


@pytest.mark.django_db
def test_https_responses_carry_hsts_and_a_referrer_policy(client):
    response = client.get("/", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_https_off_gives_plain_cookie_names_for_trying_it_over_http():
    result = run_settings(
        {"SECRET_KEY": "k", "HTTPS": "0"},
        "SESSION_COOKIE_NAME",
        "SESSION_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
    )

    assert result.returncode == 0, result.stderr
    assert '"SESSION_COOKIE_NAME": "sessionid"' in result.stdout
    assert '"SESSION_COOKIE_SECURE": "False"' in result.stdout
    assert '"SECURE_HSTS_SECONDS": "0"' in result.stdout


def test_check_deploy_reports_no_issues_with_the_documented_production_settings():
    env = {
        "SECRET_KEY": "x" * 60 + "-not-a-real-key-but-long-and-varied-0123456789",
        "SECURE_SSL_REDIRECT": "1",
        "ALLOWED_HOSTS": "balance.example.org",
        "DATABASE_URL": "",
        "EMAIL_HOST": "smtp.example.org",
    }
    ignored = {"DEBUG", "HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE"}  # the test run's own
    clean = {k: v for k, v in os.environ.items() if k not in ignored}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={**clean, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


# --- the session idle timeout ----------------------------------------------------


@pytest.mark.django_db
def test_signing_in_starts_the_idle_clock(client):
    make_user("ana", password=PASSWORD)

    sign_in(client, "ana")

    assert client.session.get_expiry_age() == settings.SESSION_IDLE_TIMEOUT
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60


@pytest.mark.django_db
def test_activity_moves_the_expiry_forward_at_most_once_a_minute(client):
    make_organisation(manager="ana")
    client.force_login(make_user("bo"))
    session = Session.objects.get()
    client.get(reverse("assessment:dashboard"))
    assert Session.objects.get().expire_date == session.expire_date  # within the minute

    # A minute later the next request slides the expiry.
    stored = client.session
    stored["_idle_touched_at"] -= IDLE_REFRESH_SECONDS
    stored.save()
    before = timezone.now()
    client.get(reverse("assessment:dashboard"))

    expiry = Session.objects.get().expire_date
    assert expiry >= before + timedelta(seconds=settings.SESSION_IDLE_TIMEOUT - 1)


@pytest.mark.django_db
def test_an_idle_session_has_ended(client):
    make_organisation(manager="ana")
    client.force_login(make_user("ana"))
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))

    response = client.get(reverse("assessment:dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# An invitee's session, the hard maximum and links opened while signed in:
# tests/assessment/test_sessions.py.


# --- sign-in throttling ------------------------------------------------------------


def fail(client, username, times, ip="192.0.2.66", **headers):
    for _ in range(times):
        sign_in(client, username, "wrong-password-123", ip=ip, **headers)


@pytest.mark.django_db
def test_repeated_failures_lock_that_username_from_that_address(client):
    make_user("ana", password=PASSWORD)
    fail(client, "ana", settings.AXES_FAILURE_LIMIT)

    response = sign_in(client, "ana", ip="192.0.2.66")

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    assert "15 minutes" in response.text
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_an_attacker_cannot_lock_the_real_user_out(client_factory):
    make_user("ana", password=PASSWORD)
    fail(client_factory(), "ana", settings.AXES_FAILURE_LIMIT + 3, ip="198.51.100.7")

    real_user = client_factory()
    response = sign_in(real_user, "ana", ip="192.0.2.10")

    assert response.status_code == 302
    assert real_user.session["_auth_user_id"]


@pytest.mark.django_db
def test_other_usernames_from_the_same_address_are_not_locked(client):
    make_user("ana", password=PASSWORD)
    make_user("bo", password=PASSWORD)
    fail(client, "ana", settings.AXES_FAILURE_LIMIT, ip="192.0.2.66")

    response = sign_in(client, "bo", ip="192.0.2.66")

    assert response.status_code == 302


@pytest.mark.django_db
def test_without_trusted_proxies_a_forged_forwarded_for_header_changes_nothing(client):
    make_user("ana", password=PASSWORD)
    for n in range(settings.AXES_FAILURE_LIMIT):
        fail(client, "ana", 1, ip="192.0.2.66", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    response = sign_in(client, "ana", ip="192.0.2.66", HTTP_X_FORWARDED_FOR="203.0.113.200")

    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.66"}


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_the_client_address_comes_from_forwarded_for(client):
    make_user("ana", password=PASSWORD)
    proxy = "10.0.0.2"
    for n in range(settings.AXES_FAILURE_LIMIT):
        # What the client forges on the left is ignored; the proxy appends the truth.
        fail(client, "ana", 1, ip=proxy, HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 203.0.113.9")

    locked = sign_in(client, "ana", ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9")
    elsewhere = sign_in(client, "ana", ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")

    assert locked.status_code == 429
    assert elsewhere.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.2"),
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.1", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.2"),  # fewer hops than proxies: not trusted
        (1, "", "10.0.0.2"),
    ],
)
def test_the_client_address_counts_trusted_proxies_from_the_right(
    rf, settings, count, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = count
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_the_proxy_count_is_read_from_the_environment():
    result = run_settings({"SECRET_KEY": "k", "TRUSTED_PROXY_COUNT": "2"}, "TRUSTED_PROXY_COUNT")

    assert result.returncode == 0, result.stderr
    assert '"TRUSTED_PROXY_COUNT": "2"' in result.stdout


# --- the security log ---------------------------------------------------------------


@pytest.mark.django_db
def test_failed_sign_ins_and_lockouts_are_logged(client, caplog):
    make_user("ana", password=PASSWORD)
    caplog.set_level(logging.INFO, logger="assessment.security")

    forged = sign_in(client, "ana\nforged line", "wrong-password-123", ip="192.0.2.66")
    fail(client, "ana", settings.AXES_FAILURE_LIMIT)
    # The sign-in form refuses a line break beside the field (the forms' base refuses
    # control characters), so it never reaches authenticate(); any other caller's failure
    # is still logged on one line.
    log_failed_sign_in(sender=None, credentials={"username": "ana\nforged line"})

    assert "control character" in forged.text
    messages = [r.getMessage() for r in caplog.records if r.name == "assessment.security"]
    assert "Sign-in failed: username='ana\\nforged line' from -" in messages
    assert not any("forged" in m and "192.0.2.66" in m for m in messages)
    assert "Sign-in locked: username='ana' from 192.0.2.66" in messages


@pytest.mark.django_db
def test_a_refused_authorisation_is_logged_and_a_missing_object_is_not(client, caplog):
    mine = make_organisation("Mine Ltd", manager="ana")
    theirs = make_organisation("Theirs Ltd", manager="bo")
    other = make_assessment(make_team(theirs))
    client.force_login(mine.manager)
    caplog.set_level(logging.WARNING, logger="assessment.access")

    refused = client.get(reverse("assessment:detail", args=[other.pk]))
    missing = client.get(reverse("assessment:detail", args=[other.pk + 1000]))

    assert refused.status_code == missing.status_code == 404
    access = [r.getMessage() for r in caplog.records if r.name == "assessment.access"]
    assert access == [f"Access refused: user {mine.manager.pk} may not open assessment {other.pk}"]


# --- gunicorn's access log ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GET /r/Abc_123-xyz/ HTTP/1.1", "GET /r/[redacted]/ HTTP/1.1"),
        ("GET /join/Tok3n/ HTTP/1.1", "GET /join/[redacted]/ HTTP/1.1"),
        (
            "GET /accounts/reset/MQ/cz-abc123/ HTTP/1.1",
            "GET /accounts/reset/MQ/[redacted]/ HTTP/1.1",
        ),
        ("POST /r/ HTTP/1.1", "POST /r/ HTTP/1.1"),
        ("POST /c/p/Pers0nal-tok/ HTTP/1.1", "POST /c/p/[redacted]/ HTTP/1.1"),
        # A survey's public link is printed on posters: not a secret, kept as it is.
        ("GET /c/PublicTok/ HTTP/1.1", "GET /c/PublicTok/ HTTP/1.1"),
        ("GET /responses/4/ HTTP/1.1", "GET /responses/4/ HTTP/1.1"),
    ],
)
def test_the_access_log_never_shows_a_link_token(line, expected):
    from assessment.gunicorn_conf import redact

    assert redact(line) == expected


def test_gunicorn_uses_the_redacting_logger():
    from gunicorn.config import Config

    config = Config()
    config.set("logger_class", "assessment.gunicorn_conf.RedactingLogger")
    logger = config.logger_class(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/r/secret-token/",
        "PATH_INFO": "/r/secret-token/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "https://balance.example.org/r/secret-token/",
    }
    response = type("Response", (), {"status": "302 Found", "sent": 0, "headers": []})()
    request = type("Request", (), {"headers": []})()
    from datetime import timedelta as elapsed

    atoms = logger.atoms(response, request, environ, elapsed(milliseconds=3))

    assert "secret-token" not in repr(atoms)
    assert atoms["r"] == "GET /r/[redacted]/ HTTP/1.1"
