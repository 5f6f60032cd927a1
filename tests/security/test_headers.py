"""Every HTML page carries the security headers: a Content-Security-Policy whose
scripts need the request's nonce (never 'unsafe-inline' or 'unsafe-eval'), and the
rest of the set. The pages are every GET the access matrix reaches, as each
visitor allowed to see it, plus the error pages and the admin."""

import re

import pytest
from django.test import Client

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
    pages: list[tuple[str, str, Client]] = []
    for route in routes():
        rule = MATRIX.get(route.key)
        if route.key in SIGN_OUT or "GET" not in allowed_methods(route.callback):
            continue
        if rule is None:  # the admin, as staff
            pages.append((route.key, admin_url(route.route), clients["staff"]))
            continue
        pages += [(route.key, rule.url(w, ctx), clients[p]) for p in sorted(rule.allowed)]
    # Error pages: not found (signed in and not), and a refused object.
    pages += [
        ("404", "/no-such-page/", clients["anonymous"]),
        ("404 signed in", "/no-such-page/", clients["manager"]),
        ("refused", MATRIX["assessment:detail"].url(w, ctx), clients["other_manager"]),
    ]

    html = problems = 0
    failures = []
    for key, url, client in pages:
        response = client.get(url)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        html += 1
        for problem in policy_problems(response):
            problems += 1
            failures.append(f"{key} {url} ({response.status_code}): {problem}")
    proof(f"Headers: {len(pages)} GETs, {html} HTML pages checked, {problems} problems")
    assert html > 100
    assert failures == [], "\n".join(failures)


def test_the_check_catches_an_inline_script_policy():
    class Fake(dict):
        content = b"<script>alert(1)</script>"

    fake = Fake({name: sorted(values)[0] for name, values in HEADERS.items()})
    fake["Content-Security-Policy"] = "script-src 'self' 'unsafe-inline'; object-src 'none'"

    problems = policy_problems(fake)

    assert any("allows inline" in p for p in problems)
    assert any("without the nonce" in p for p in problems)
    assert any("base-uri" in p for p in problems)
