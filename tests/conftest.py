import io
import os

import pytest
from django.core.management import call_command

# Playwright's sync API runs an event loop in the test thread; the ORM calls
# made by the test itself (fixtures, assertions) are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """Real hashing is slow on purpose; tests only need it to work."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def loaded_frameworks(db):
    """The shipped frameworks, loaded through the real command."""
    call_command("load_frameworks", stdout=io.StringIO())


@pytest.fixture
def client_factory():
    """A fresh, independent browser session for each call."""
    from django.test import Client

    return Client
