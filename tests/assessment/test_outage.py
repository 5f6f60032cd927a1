"""A database that cannot be reached: a clean 503 and one log line, never a traceback.

The outage is produced where it really happens, when Django opens a connection;
the error handling under test is the app's own. `make fault` proves the same
against a real PostgreSQL server stopped in the middle of a load test.
"""

import logging
import sys
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.urls import reverse

from assessment.log_filters import DatabaseOutageFilter
from tests.factories import make_organisation, make_user

REFUSED = OperationalError('connection to server at "127.0.0.1", port 5432 failed: refused')


def database_down():
    return mock.patch.object(connection, "ensure_connection", side_effect=REFUSED)


@pytest.mark.django_db
def test_a_page_during_an_outage_is_a_clean_503_logged_once(client, caplog):
    make_organisation(manager="manager")
    client.force_login(make_user("other"))
    client.raise_request_exception = False

    with database_down() as connect:
        response = client.get(reverse("assessment:dashboard"))

    logged = [r for r in caplog.records if r.name == "django.request"]
    assert [r.levelname for r in logged] == ["WARNING"]
    assert logged[0].getMessage().startswith("Database unavailable, answered 503: GET /dashboard/")
    assert connect.call_count == 1  # nothing asked the dead database a second time

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert "Service briefly unavailable" in response.text
    assert "Traceback" not in response.text
    assert "5432" not in response.text


@pytest.mark.django_db
def test_an_ordinary_error_is_still_a_500(client, monkeypatch):
    client.raise_request_exception = False
    monkeypatch.setattr(
        "assessment.views.public.framework_selectors.current_versions",
        mock.Mock(side_effect=ValueError("a bug")),
    )

    response = client.get(reverse("home"))

    assert response.status_code == 500
    assert "Something went wrong" in response.text


@pytest.mark.django_db
def test_health_is_503_while_the_database_is_down_and_says_so_in_one_warning(client, caplog):
    with database_down():
        response = client.get(reverse("health"))

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down"}
    logged = [r for r in caplog.records if r.name == "django.request"]
    assert [(r.levelname, r.getMessage()) for r in logged] == [
        ("WARNING", f"Health check: database unavailable ({REFUSED})")
    ]


def test_an_outage_is_logged_as_one_warning_line_without_traceback():
    try:
        raise REFUSED
    except OperationalError:
        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "%s: %s", ("x", "/p"), sys.exc_info()
        )
    record.request = mock.Mock(method="POST", path="/responses/1/questions/2/")

    assert DatabaseOutageFilter().filter(record)

    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage() == (
        "Database unavailable, answered 503: POST /responses/1/questions/2/ "
        '(connection to server at "127.0.0.1", port 5432 failed: refused)'
    )


def test_other_errors_keep_their_traceback():
    try:
        raise ValueError("a bug")
    except ValueError:
        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "m", (), sys.exc_info()
        )

    assert DatabaseOutageFilter().filter(record)

    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
