"""Settings come from the environment; checked in a fresh interpreter each time."""

import os
import subprocess
import sys

from django.conf import settings

PRINT_SETTING = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({k: str(getattr(s, k)) for k in %r}))"
)


def run_settings(env: dict[str, str], *names: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", PRINT_SETTING % (names,)],
        env={**clean, "DJANGO_SETTINGS_MODULE": "assessment.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_missing_secret_key_outside_development_is_a_clear_error():
    result = run_settings({}, "DEBUG")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_development_runs_without_a_secret_key():
    result = run_settings({"DEBUG": "1"}, "DEBUG")

    assert result.returncode == 0, result.stderr
    assert '"DEBUG": "True"' in result.stdout


def test_debug_is_off_and_sqlite_is_used_when_only_the_key_is_set():
    result = run_settings({"SECRET_KEY": "k", "DATABASE_URL": ""}, "DEBUG", "DATABASES")

    assert result.returncode == 0, result.stderr
    assert '"DEBUG": "False"' in result.stdout
    assert "sqlite3" in result.stdout


def test_database_url_switches_to_postgresql():
    result = run_settings(
        {"SECRET_KEY": "k", "DATABASE_URL": "postgres://u:p@db.example:5433/sb"}, "DATABASES"
    )

    assert result.returncode == 0, result.stderr
    assert "django.db.backends.postgresql" in result.stdout
    assert "db.example" in result.stdout
    assert "statement_timeout" in result.stdout


def test_a_malformed_boolean_is_refused_by_name():
    result = run_settings({"SECRET_KEY": "k", "DEBUG": "maybe"}, "DEBUG")

    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_an_smtp_host_switches_mail_to_smtp():
    result = run_settings({"SECRET_KEY": "k", "EMAIL_HOST": "smtp.example"}, "MAILERS")

    assert result.returncode == 0, result.stderr
    assert "smtp.EmailBackend" in result.stdout
    assert "smtp.example" in result.stdout
