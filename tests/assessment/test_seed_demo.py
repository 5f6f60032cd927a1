import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_seed_demo_prints_logins_and_is_idempotent(settings):
    settings.DEBUG = True
    first, second = io.StringIO(), io.StringIO()

    call_command("seed_demo", stdout=first)
    count = get_user_model().objects.count()
    call_command("seed_demo", stdout=second)

    assert "admin" in first.getvalue()
    assert "password:" in first.getvalue()
    assert get_user_model().objects.count() == count
    assert get_user_model().objects.get(username="admin").is_superuser


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_without_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("seed_demo", stdout=io.StringIO())

    assert get_user_model().objects.count() == 0
