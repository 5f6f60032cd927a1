import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def csp_directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/frameworks/", "/accounts/login/", "/no-such-page/"])
def test_every_page_carries_a_strict_content_security_policy(client, url):
    response = client.get(url)
    directives = csp_directives(response)

    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "'nonce-" in directives["script-src"]
    assert directives["style-src"] == "'self'"


@pytest.mark.django_db
def test_every_script_tag_carries_the_request_nonce(client):
    response = client.get("/")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    tags = re.findall(r"<script\b[^>]*>", response.text)

    assert tags
    for tag in tags:
        assert f'nonce="{nonce}"' in tag
        assert " src=" in tag


@pytest.mark.django_db
def test_other_security_headers_are_set(client):
    response = client.get("/")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_template_has_inline_script_or_style():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path}: inline <script>")
        if re.search(r"\sstyle\s*=", text) or "<style" in text:
            offenders.append(f"{path}: inline style")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path}: inline event handler")
    assert offenders == []


@pytest.mark.django_db
def test_user_supplied_text_is_escaped(client):
    response = client.get(reverse("login") + '?next="><script>alert(1)</script>')

    assert "<script>alert(1)</script>" not in response.text
