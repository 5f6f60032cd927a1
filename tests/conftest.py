import io
import os
from collections.abc import Iterator

import pytest
from django.core.management import call_command

# Playwright's sync API runs an event loop in the test thread; the ORM calls
# made by the test itself (fixtures, assertions) are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# While the test database exists: pytest-django's blocker, to reach it between tests.
_test_database: dict[str, object] = {}


def load_shipped_frameworks() -> None:
    """The shipped frameworks, loaded through the real command."""
    call_command("load_frameworks", stdout=io.StringIO())


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """Real hashing is slow on purpose; tests only need it to work."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def source_language_after_each_test():
    """A request in another language leaves it active in this thread, as Django does
    (the next request sets its own); tests that call code directly start in English."""
    yield
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The test database with the shipped frameworks, loaded once for the whole session.

    Every test sees them: a TestCase or ``db`` test rolls back to this state, and a
    transactional test's flush is followed by a reload (``pytest_runtest_teardown``).
    """
    with django_db_blocker.unblock():
        load_shipped_frameworks()
    _test_database["blocker"] = django_db_blocker
    yield
    _test_database.clear()


def _flushes_the_database(item: pytest.Item) -> bool:
    """A transactional test, as pytest-django decides: its database is flushed after it."""
    from django.test import TestCase, TransactionTestCase

    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, TransactionTestCase):
        return not issubclass(cls, TestCase)
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return bool({"transactional_db", "live_server"} & set(fixtures))


def _uses_the_database(item: pytest.Item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    return item.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "live_server"} & fixtures
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Before a database test, outside its transaction: the frameworks are there.

    The teardown below reloads them after a flush it can foresee; this check (one small
    query) also covers one it cannot, such as a module fixture that flushes when its
    module ends, so no test depends on which file its worker happened to run before.
    """
    blocker = _test_database.get("blocker")
    if blocker is not None and _uses_the_database(item):
        from frameworks.models import Framework

        with blocker.unblock():
            if not Framework.objects.exists():
                load_shipped_frameworks()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After a transactional test's flush (its fixtures are gone by now), load the
    frameworks again, so the next test starts with them whatever the order."""
    result = yield
    blocker = _test_database.get("blocker")
    if blocker is not None and _flushes_the_database(item):
        from django.db import connections

        from frameworks.models import Framework

        with blocker.unblock():
            if not Framework.objects.exists():
                load_shipped_frameworks()
            # Leave no connection open, as the transactional test left none: with
            # Playwright's event loop, the next one may run in another context, and
            # one left here would keep PostgreSQL from dropping the test database.
            connections.close_all()
    return result


@pytest.fixture
def no_frameworks(db) -> None:
    """An empty framework table, as before ``load_frameworks`` has ever run (the
    test's transaction brings the session's frameworks back afterwards)."""
    from frameworks.models import CustomerSurveyVersion, Framework, FrameworkVersion

    FrameworkVersion.objects.all().delete()  # sections, levels and questions go with them
    Framework.objects.all().delete()
    CustomerSurveyVersion.objects.all().delete()  # the customer survey loads with them


@pytest.fixture
def organisation(db):
    """An organisation with its manager (``organisation.manager``)."""
    from tests.factories import make_organisation

    return make_organisation()


@pytest.fixture
def manager_client(client, organisation):
    """The test client, signed in as the organisation's manager (``.organisation``)."""
    client.force_login(organisation.manager)
    client.organisation = organisation
    return client


@pytest.fixture
def consultant(db):
    """A consultant of a consultancy of their own (``consultant.consultancy``)."""
    from tests.factories import make_consultant

    return make_consultant()


@pytest.fixture
def consultant_client(client, consultant):
    """The test client, signed in as the consultant."""
    client.force_login(consultant)
    return client


@pytest.fixture
def client_factory():
    """A fresh, independent browser session for each call."""
    from django.test import Client

    return Client


# --- figures the proofs report -----------------------------------------------------------
# A proof (the access matrix, the headers, the fuzz test) reports one line of figures
# through ``proof``; the lines are printed together at the end of the run, also when
# the tests ran in several xdist workers (their output is not shown, their reports are).


@pytest.fixture
def proof(record_property):
    """Report a line of figures, printed under "proof figures" at the end of the run."""
    return lambda line: record_property("proof", line)


def pytest_terminal_summary(terminalreporter):
    lines = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name == "proof"
    ]
    if lines:
        terminalreporter.section("proof figures")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_xdist_make_scheduler(config, log):
    """With xdist (``make test`` runs ``-n auto``): every browser test on one worker, one
    after another, so two Chromiums never compete for the CPU; every other test file on
    one worker, so its module state and set-up are shared as in a serial run. (xdist's
    own ``--dist loadgroup`` cannot do this under pytest 9: the group never reaches the
    node id.)"""
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "tests/browser" if path.startswith("tests/browser/") else path

    return BrowserTestsTogether(config, log)
