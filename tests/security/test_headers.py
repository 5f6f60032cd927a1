"""Every HTML page carries the security headers: a Content-Security-Policy whose
scripts need the request's nonce (never 'unsafe-inline' or 'unsafe-eval'), and the
rest of the set. Everything a signed-in user or an invitee receives (pages, reports,
exports, ZIP files, the logo, the admin) says ``Cache-Control: private, no-store``.
The pages are every GET the access matrix reaches, as each visitor allowed to see it,
plus the error pages and the admin."""

import re

import pytest
from django.test import Client, override_settings

from tests.security.routes import allowed_methods, routes
from tests.security.test_access_matrix import (
    MATRIX,
    SIGN_OUT,
    admin_url,
    build_context,
    visitors,
)
from tests.security.world import build_world

HEADERS = {
    "X-Content-Type-Options": {"nosniff"},
    "X-Frame-Options": {"DENY"},
    # Pages that carry a token in their address send no referrer at all.
    "Referrer-Policy": {"same-origin", "no-referrer"},
    "Cross-Origin-Opener-Policy": {"same-origin"},
}


def cache_problems(response) -> list[str]:
    """For a signed-in user or an invitee: nothing may be kept by a browser or a proxy."""
    directives = {d.strip().split("=")[0] for d in response.get("Cache-Control", "").split(",")}
    if {"private", "no-store"} <= directives and "public" not in directives:
        return []
    return [f"Cache-Control is {response.get('Cache-Control')!r}"]


def policy_problems(response) -> list[str]:
    csp = response.get("Content-Security-Policy", "")
    if not csp:
        return ["no Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    script = directives.get("script-src", directives.get("default-src", ""))
    problems = []
    if "'unsafe-inline'" in script or "'unsafe-eval'" in script:
        problems.append(f"script-src allows inline or eval: {script}")
    for directive, value in (("object-src", "'none'"), ("base-uri", "'none'")):
        if directives.get(directive) != value:
            problems.append(f"{directive} is {directives.get(directive)!r}")
    if directives.get("frame-ancestors") != "'none'":
        problems.append("frame-ancestors is not 'none'")
    problems += [
        f"{name} is {response.get(name)!r}"
        for name, value in HEADERS.items()
        if response.get(name) not in value
    ]
    # Every script element in the page must carry this response's nonce (Django adds
    # the nonce to the policy only when the page uses it).
    nonce = re.search(r"'nonce-([^']+)'", script)
    for tag in re.findall(r"<script\b[^>]*>", response.content.decode(errors="replace")):
        if nonce is None or f'nonce="{nonce.group(1)}"' not in tag:
            problems.append(f"a script without the nonce: {tag}")
    return problems


@pytest.mark.django_db
def test_every_html_page_carries_a_strict_policy_and_the_security_headers(proof):
    w = build_world()
    ctx = build_context(w)
    clients = visitors(w, ctx)
    pages: list[tuple[str, str, str]] = []
    for route in routes():
        rule = MATRIX.get(route.key)
        if route.key in SIGN_OUT or "GET" not in allowed_methods(route.callback):
            continue
        if rule is None:  # the admin, as staff
            pages.append((route.key, admin_url(route.route), "staff"))
            continue
        pages += [(route.key, rule.url(w, ctx), p) for p in sorted(rule.allowed)]
    # Error pages: not found (signed in and not), and a refused object.
    pages += [
        ("404", "/no-such-page/", "anonymous"),
        ("404 signed in", "/no-such-page/", "manager"),
        ("refused", MATRIX["assessment:detail"].url(w, ctx), "other_manager"),
    ]

    html = private = problems = 0
    failures = []
    for key, url, principal in pages:
        response = clients[principal].get(url)
        found = cache_problems(response) if principal != "anonymous" else []
        private += principal != "anonymous"
        if response.get("Content-Type", "").startswith("text/html"):
            html += 1
            found += policy_problems(response)
        problems += len(found)
        failures += [f"{key} {url} as {principal} ({response.status_code}): {p}" for p in found]
    proof(
        f"Headers: {len(pages)} GETs, {html} HTML pages checked, "
        f"{private} signed-in or invitee responses checked for no-store, {problems} problems"
    )
    assert html > 100
    assert private > 100
    assert failures == [], "\n".join(failures)


# The matrix's keys of files: reports, exports, ZIP files, the logo, QR codes and posters.
DOWNLOAD_WORDS = ("pdf", "csv", "xlsx", "zip", "download", "logo", "qr", "poster")


@pytest.mark.django_db
def test_files_signed_in_users_download_are_never_stored():
    """Reports, exports and ZIP files, as their owners download them: the matrix reaches
    them too; this names them, so that a change of route cannot drop them unseen."""
    w = build_world()
    ctx = build_context(w)
    clients = visitors(w, ctx)
    downloads = [
        (key, rule.url(w, ctx), principal)
        for key, rule in MATRIX.items()
        if any(word in key for word in DOWNLOAD_WORDS)
        for principal in sorted(rule.allowed - {"anonymous"})
    ]
    served = []
    for key, url, principal in downloads:
        response = clients[principal].get(url)
        if response.status_code == 200 and not response["Content-Type"].startswith("text/html"):
            served.append(key)
            assert cache_problems(response) == [], f"{key} {url} as {principal}"
    assert len(set(served)) >= 4, served


@pytest.mark.django_db
def test_the_public_landing_page_and_static_files_stay_cacheable():
    with override_settings(WHITENOISE_USE_FINDERS=True):
        visitor = Client()  # no session: nothing about this visitor is in the page
        landing = visitor.get("/")
        static = visitor.get("/static/css/app.css")

    assert landing.status_code == 200
    assert "no-store" not in landing.get("Cache-Control", "")
    assert static.status_code == 200
    assert "public" in static["Cache-Control"]
    assert "no-store" not in static["Cache-Control"]


def test_the_check_catches_an_inline_script_policy():
    class Fake(dict):
        content = b"<script>alert(1)</script>"

    fake = Fake({name: sorted(values)[0] for name, values in HEADERS.items()})
    fake["Content-Security-Policy"] = "script-src 'self' 'unsafe-inline'; object-src 'none'"

    problems = policy_problems(fake)

    assert any("allows inline" in p for p in problems)
    assert any("without the nonce" in p for p in problems)
    assert any("base-uri" in p for p in problems)
