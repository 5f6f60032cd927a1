"""The production lane: the settings production runs, inside the test suite.

Every test under ``tests/production/`` carries the ``production`` marker (``make
test-production`` runs them alone; ``make test`` runs them with the rest) and runs with:

- ``DEBUG=0``;
- hashed, compressed static files (``CompressedManifestStaticFilesStorage``) after a real
  ``collectstatic`` into a temporary ``STATIC_ROOT``, served by WhiteNoise from there
  (``WHITENOISE_USE_FINDERS=False``), as on a production node;
- ``HTTPS=1``: ``Secure`` cookies with ``__Host-`` names and HSTS (tests send their
  requests with ``secure=True``);
- the database task backend (``django_tasks_db.DatabaseBackend``), whose queued tasks a
  test runs with the real worker (``manage.py db_worker --batch``).

How: ``assessment/settings.py`` computes these values from the environment when it is
imported, once per process, and the rest of the suite imports it with development
values (``STATICFILES_MANIFEST=0``, the immediate task backend). So the lane imports the
settings module a second time, with a production environment (``production_settings``:
``DEBUG=0``, ``TASKS_BACKEND`` set and nothing else forced), and applies the values that
import computed with ``override_settings``. The values therefore come from the same
code a production node runs, not from a copy written here; Django's ``setting_changed``
signal then resets the static files storage, the finders and the task backends, and
every test client builds its middleware (WhiteNoise included) afresh under them.
"""

import os
import runpy
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import override_settings

import assessment.settings

HERE = Path(__file__).parent

# What a production node's environment says (docs/deploy.md), apart from the database,
# which stays the suite's own (SQLite, or PostgreSQL under .ci/with-postgres).
PRODUCTION_ENVIRONMENT = {
    "DEBUG": "0",
    "SECRET_KEY": "insecure-test-only-key-for-the-production-lane",
    "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
}
# Development switches the suite's own environment sets; production leaves them unset.
DEVELOPMENT_SWITCHES = ("STATICFILES_MANIFEST", "WHITENOISE_USE_FINDERS", "HTTPS")
# The settings the lane takes from that import.
PRODUCTION_SETTINGS = (
    "DEBUG",
    "STORAGES",
    "WHITENOISE_USE_FINDERS",
    "TASKS",
    "HTTPS",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_NAME",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT",
)


def production_settings() -> dict[str, object]:
    """The settings module's values under a production environment, by name."""
    environment = {
        name: value for name, value in os.environ.items() if name not in DEVELOPMENT_SWITCHES
    }
    environment.update(PRODUCTION_ENVIRONMENT)
    with mock.patch.dict(os.environ, environment, clear=True):
        values = runpy.run_path(assessment.settings.__file__)
    return {name: values[name] for name in PRODUCTION_SETTINGS}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test of this folder is in the lane."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.production)


@pytest.fixture(scope="session")
def production_static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A STATIC_ROOT filled by a real ``collectstatic`` under the production storage
    (hashed names, a manifest, compressed copies), once per test session."""
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(**production_settings(), STATIC_ROOT=root):
        call_command("collectstatic", "--no-input", verbosity=0)
    return root


@pytest.fixture(autouse=True)
def production(production_static_root: Path) -> Iterator[dict[str, object]]:
    """Production settings for the test, with the collected static files."""
    values = production_settings()
    with override_settings(**values, STATIC_ROOT=production_static_root):
        yield values
