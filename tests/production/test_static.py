"""Pages and static files under production settings (see conftest.py): hashed names
served by WhiteNoise from collectstatic's output, secure cookies and HSTS."""

import re

import pytest
from django.conf import settings
from django.core.files.storage import storages
from django.tasks import task_backends
from django.templatetags.static import static
from django.urls import reverse
from django_tasks_db import DatabaseBackend
from whitenoise.storage import CompressedManifestStaticFilesStorage

HASHED = re.compile(r"^/static/[\w/.-]+\.[0-9a-f]{12}\.\w+$")


def test_the_lane_runs_the_production_settings():
    assert settings.DEBUG is False
    assert isinstance(storages["staticfiles"], CompressedManifestStaticFilesStorage)
    assert settings.WHITENOISE_USE_FINDERS is False
    assert HASHED.match(static("css/report.css"))
    assert isinstance(task_backends["default"], DatabaseBackend)
    assert (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME) == (
        "__Host-sessionid",
        "__Host-csrftoken",
    )
    assert settings.SESSION_COOKIE_SECURE
    assert settings.CSRF_COOKIE_SECURE


@pytest.mark.django_db
def test_a_page_links_hashed_static_files_that_whitenoise_serves(client):
    page = client.get(reverse("login"), secure=True)
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)

    assert page.status_code == 200
    assert page["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = page.cookies["__Host-csrftoken"]
    assert cookie["secure"]
    assert cookie["path"] == "/"
    assert assets
    for url in assets:
        assert HASHED.match(url), url
        served = client.get(url, secure=True, headers={"Accept-Encoding": "br, gzip"})
        assert served.status_code == 200, url
        assert "immutable" in served["Cache-Control"], url
        assert served["Content-Encoding"] in ("br", "gzip"), url
        assert b"".join(served.streaming_content), url


@pytest.mark.django_db
def test_an_unknown_static_file_is_a_404_not_a_finder_lookup(client):
    # With WHITENOISE_USE_FINDERS off, only collectstatic's output is served.
    assert client.get("/static/css/report.css.map", secure=True).status_code == 404
