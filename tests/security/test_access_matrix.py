"""The access matrix: every URL pattern by every kind of visitor, GET and POST.

Patterns are enumerated from the resolver; a pattern the matrix does not list
fails ``test_every_url_pattern_is_in_the_matrix``. For each pattern the matrix
names who may use it. Everyone else must get no 2xx: a 404 when signed in (never
a 403 that would confirm the object exists), the sign-in page when anonymous on a
signed-in page, or a 405 for a method the view does not take. POSTs by those not
allowed must change nothing in the database. Those allowed must get a 2xx or a
redirect for GET, which shows the matrix reaches the real pages.

The admin site has its own access control (staff with permissions); its patterns
are covered by one rule: nobody in the matrix but staff gets a 2xx there.
"""

import io
import re
import sys
import types
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import get_resolver
from django.urls import path as django_path
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from PIL import Image

from assessment.models import BulkExport
from frameworks.models import Question
from tests.factories import make_export
from tests.security.routes import allowed_methods, routes
from tests.security.world import World, build_world, db_state, diff, first_section

PRINCIPALS = (
    "anonymous",
    "respondent",  # came through an invitation link of A's open assessment
    "leader",  # a leadership invitee of A's open assessment, through their link
    "manager",  # of organisation A
    "other_manager",  # of organisation B
    "assessor",  # assigned to A's assessment in review
    "other_assessor",  # accredited, assigned to nothing of A
    "consultant",  # of a consultancy A granted access
    "other_consultant",  # of a consultancy without a grant from A
    "staff",
)
EVERYONE = frozenset(PRINCIPALS)
SIGNED_IN = EVERYONE - {"anonymous", "respondent", "leader"}  # the invitees have no account
MANAGERS = frozenset({"manager", "other_manager"})
CONSULTANTS = frozenset({"consultant", "other_consultant"})


@dataclass(frozen=True)
class Rule:
    """Who may use a pattern, and how to build its URL from the world."""

    allowed: frozenset[str]
    url: Callable[[World, dict], str]
    # An object of organisation A is in the URL: every signed-in visitor not allowed
    # gets exactly 404.
    tenant_object: bool = False


def path(template: str, **values: Callable[[World, dict], Any]) -> Callable[[World, dict], str]:
    def build(w: World, ctx: dict) -> str:
        return template.format(**{key: get(w, ctx) for key, get in values.items()})

    return build


def fixed(template: str) -> Callable[[World, dict], str]:
    return lambda w, ctx: template


def a(attribute: str) -> Callable[[World, dict], Any]:
    """The pk of one of organisation A's objects (``tests.security.world.Tenant``)."""
    return lambda w, ctx: getattr(w.a, attribute).pk


def ctx(key: str) -> Callable[[World, dict], Any]:
    return lambda w, c: c[key]


def public(template: str) -> Rule:
    return Rule(EVERYONE, fixed(template))


def mine(allowed: frozenset[str] | set[str], template: str, **values) -> Rule:
    """A page about one of A's objects, for ``allowed`` only."""
    return Rule(frozenset(allowed), path(template, **values), tenant_object=True)


def survey_page(template: str) -> Rule:
    """A manager's page, action or download of A's customer survey (``{pk}``): A's manager
    only; B's manager gets a 404. A new one is one line here; a download also goes in
    ``test_fuzz.DOWNLOADS``, a URL that takes a POST gets a case in
    ``test_mass_assignment.CASES``, and ``test_tenant_canary`` asks for B's by id
    (``SURVEY_PAGES``, ``SURVEY_ACTIONS``)."""
    return mine({"manager"}, template, pk=a("customer_survey"))


def survey_link(template: str, token: Callable[[World], str] | None = None) -> Rule:
    """The customers' side of A's customer survey: open to everyone, by design. ``{token}``
    is the survey's public link (printed on posters and receipts), or ``token``'s."""
    token = token or (lambda w: w.a.customer_survey.public_token)
    return Rule(EVERYONE, path(template, token=lambda w, ctx: token(w)))


MATRIX: dict[str, Rule] = {
    # Public pages.
    "home": public("/"),
    "health": public("/health/"),
    "scoring": public("/scoring/"),
    "glossary": public("/glossary/"),
    # The language switcher (POST only): anyone may choose their language.
    "set_language": public("/language/"),
    "frameworks:list": public("/frameworks/"),
    "frameworks:detail": public("/frameworks/win4/"),
    "login": public("/accounts/login/"),
    "password_reset": public("/accounts/password_reset/"),
    "password_reset_done": public("/accounts/password_reset/done/"),
    "password_reset_confirm": Rule(
        EVERYONE, path("/accounts/reset/{uid}/{token}/", uid=ctx("uid"), token=ctx("reset_token"))
    ),
    "password_reset_complete": public("/accounts/reset/done/"),
    "assessment:signup": public("/signup/"),
    # The link that confirms a sign-up's address: a GET shows a button (or why the link
    # cannot be used), whoever opens it.
    "assessment:email_confirm": public("/confirm/not-a-signed-confirmation-token/"),
    "assessment:manager_join": Rule(EVERYONE, path("/join/{token}/", token=ctx("join_token"))),
    "assessment:manager_join_clean": public("/join/"),
    "assessment:invitation_open": Rule(EVERYONE, path("/r/{token}/", token=ctx("spare_token"))),
    "assessment:invitation_landing": public("/r/"),
    "assessment:invitation_renew": public("/r-renew/"),
    # Customers: a survey's public link, answered without an account (anyone may POST).
    "customer_survey_public": survey_link("/c/{token}/"),
    "customer_survey_thanks": survey_link("/c/{token}/thanks/"),
    # A customer's personal link (e-mailed to them; single use): open to whoever holds it.
    "customer_survey_personal": survey_link("/c/p/{token}/", lambda w: w.a.customer_link_token),
    "admin:login": public("/admin/login/"),
    # Signing out: anyone may, so it is never requested here (it would end the
    # visitor's session for the rest of the matrix).
    "logout": public("/accounts/logout/"),
    "admin:logout": public("/admin/logout/"),
    # Any signed-in account. The dashboard is where everyone lands after signing in:
    # a manager's organisation, or a pointer to the visitor's own work. The assessor
    # queue lists the visitor's own assignments, or explains how reviews are assigned.
    "assessment:dashboard": Rule(SIGNED_IN, fixed("/dashboard/")),
    "assessment:assessor_queue": Rule(SIGNED_IN, fixed("/reviews/")),
    "password_change": Rule(SIGNED_IN, fixed("/accounts/password_change/")),
    "password_change_done": Rule(SIGNED_IN, fixed("/accounts/password_change/done/")),
    # Managers, about their own organisation.
    "assessment:managers": Rule(MANAGERS, fixed("/managers/")),
    "assessment:manager_invite": Rule(MANAGERS, fixed("/managers/invite/")),
    "assessment:email_confirm_resend": Rule(MANAGERS, fixed("/confirm/resend/")),
    "assessment:team_create": Rule(MANAGERS, fixed("/teams/new/")),
    "assessment:assessment_create": Rule(MANAGERS, fixed("/assessments/new/")),
    "assessment:consultant_grants": Rule(MANAGERS, fixed("/organisation/consultants/")),
    "assessment:team_detail": mine({"manager"}, "/teams/{pk}/", pk=a("front")),
    "assessment:roster_add": mine({"manager"}, "/teams/{pk}/roster/add/", pk=a("front")),
    "assessment:roster_remove": mine(
        {"manager"}, "/teams/{team}/roster/{pk}/remove/", team=a("front"), pk=ctx("roster_entry")
    ),
    "assessment:detail": mine({"manager"}, "/assessments/{pk}/", pk=a("open")),
    "assessment:invitations_add": mine(
        {"manager"}, "/assessments/{pk}/invitations/add/", pk=a("draft")
    ),
    "assessment:open": mine({"manager"}, "/assessments/{pk}/open/", pk=a("draft")),
    "assessment:send_unsent": mine(
        {"manager"}, "/assessments/{pk}/invitations/send/", pk=a("open")
    ),
    "assessment:submit": mine({"manager"}, "/assessments/{pk}/submit/", pk=a("open")),
    "assessment:results": mine({"manager"}, "/assessments/{pk}/results/", pk=a("approved")),
    "assessment:targets": mine({"manager"}, "/assessments/{pk}/targets/", pk=a("approved")),
    "assessment:respond_as_manager": mine({"manager"}, "/assessments/{pk}/respond/", pk=a("open")),
    "assessment:reopen": mine({"manager"}, "/assessments/{pk}/reopen/", pk=a("submitted")),
    "assessment:assessor_choose": mine(
        {"manager"}, "/assessments/{pk}/assessor/", pk=a("submitted")
    ),
    "assessment:invitation_resend": mine(
        {"manager"}, "/invitations/{pk}/resend/", pk=a("respondent_invitation")
    ),
    "assessment:invitation_revoke": mine(
        {"manager"}, "/invitations/{pk}/revoke/", pk=a("respondent_invitation")
    ),
    "assessment:consultant_grant_revoke": mine(
        {"manager"}, "/organisation/consultants/{pk}/revoke/", pk=a("grant")
    ),
    "assessment:report_pdf": mine({"manager"}, "/assessments/{pk}/report.pdf", pk=a("approved")),
    "assessment:scores_csv": mine({"manager"}, "/assessments/{pk}/scores.csv", pk=a("approved")),
    "assessment:scores_xlsx": mine({"manager"}, "/assessments/{pk}/scores.xlsx", pk=a("approved")),
    "assessment:answers_csv": mine({"manager"}, "/assessments/{pk}/answers.csv", pk=a("approved")),
    "assessment:answers_xlsx": mine(
        {"manager"}, "/assessments/{pk}/answers.xlsx", pk=a("approved")
    ),
    # The action plan and the assessor's judgements.
    **{
        f"assessment:{table}_{file_format}": mine(
            {"manager"}, f"/assessments/{{pk}}/{table}.{file_format}", pk=a("approved")
        )
        for table in ("actions", "judgements")
        for file_format in ("csv", "xlsx")
    },
    # The customers' figures: of the assessment with a survey (answered past the threshold).
    **{
        f"assessment:customers_{file_format}": mine(
            {"manager"}, f"/assessments/{{pk}}/customers.{file_format}", pk=a("open")
        )
        for file_format in ("csv", "xlsx")
    },
    # Managers: customer surveys. Opening one, on an assessment that has none yet (A's open
    # assessment has one: its page would only redirect there).
    "assessment:customer_survey_create": mine(
        {"manager"}, "/assessments/{pk}/customers/new/", pk=a("draft")
    ),
    "assessment:team_survey_create": mine({"manager"}, "/teams/{pk}/customers/new/", pk=a("front")),
    "assessment:customer_survey": survey_page("/customers/{pk}/"),
    "assessment:customer_survey_edit": survey_page("/customers/{pk}/edit/"),
    "assessment:customer_survey_close": survey_page("/customers/{pk}/close/"),
    "assessment:customer_survey_qr_svg": survey_page("/customers/{pk}/qr.svg"),
    "assessment:customer_survey_qr_png": survey_page("/customers/{pk}/qr.png"),
    "assessment:customer_survey_poster": survey_page("/customers/{pk}/poster.pdf"),
    "assessment:customer_links_upload": survey_page("/customers/{pk}/links/"),
    "assessment:customer_links_send": survey_page("/customers/{pk}/links/send/"),
    # Action plans: A's manager only, for A's assessments and actions; the calendar page is
    # each manager's own organisation's. The feed itself is open to whoever holds its address.
    "assessment:action_plan": mine({"manager"}, "/assessments/{pk}/actions/", pk=a("approved")),
    "assessment:action_create": mine(
        {"manager"}, "/assessments/{pk}/actions/new/", pk=a("approved")
    ),
    "assessment:action_edit": mine({"manager"}, "/actions/{pk}/edit/", pk=a("action")),
    "assessment:action_delete": mine({"manager"}, "/actions/{pk}/delete/", pk=a("action")),
    "assessment:calendar_feeds": Rule(MANAGERS, fixed("/organisation/calendar/")),
    "assessment:calendar_feed_revoke": mine(
        {"manager"}, "/organisation/calendar/{pk}/revoke/", pk=a("calendar_feed")
    ),
    "calendar_feed": Rule(
        EVERYONE, path("/calendar/{token}.ics", token=lambda w, ctx: w.a.calendar_token)
    ),
    # Evidence of A's open assessment: its managers; its leadership invitee, through their
    # response; and A's assessment in review's assessor, who lists and downloads.
    "assessment:evidence": mine({"manager"}, "/assessments/{pk}/evidence/", pk=a("open")),
    "assessment:evidence_download": mine(
        {"manager"}, "/assessments/{pk}/evidence/{e}/file/", pk=a("open"), e=a("evidence")
    ),
    "assessment:evidence_delete": mine(
        {"manager"}, "/assessments/{pk}/evidence/{e}/delete/", pk=a("open"), e=a("evidence")
    ),
    "assessment:response_evidence": mine(
        {"leader"}, "/responses/{pk}/evidence/", pk=ctx("leader_response")
    ),
    "assessment:response_evidence_download": mine(
        {"leader"},
        "/responses/{pk}/evidence/{e}/file/",
        pk=ctx("leader_response"),
        e=a("evidence"),
    ),
    "assessment:response_evidence_delete": mine(
        {"leader"},
        "/responses/{pk}/evidence/{e}/delete/",
        pk=ctx("leader_response"),
        e=a("leader_evidence"),
    ),
    "assessment:review_evidence": mine({"assessor"}, "/reviews/{pk}/evidence/", pk=a("in_review")),
    "assessment:review_evidence_download": mine(
        {"assessor"},
        "/reviews/{pk}/evidence/{e}/file/",
        pk=a("in_review"),
        e=a("review_evidence"),
    ),
    # Consultants: their own consultancy's pages, and clients who granted access.
    "assessment:portfolio": Rule(CONSULTANTS, fixed("/clients/")),
    "assessment:branding": Rule(CONSULTANTS, fixed("/clients/branding/")),
    "assessment:branding_logo": mine({"consultant"}, "/clients/branding/logo/"),
    "assessment:bulk_new": Rule(CONSULTANTS, fixed("/clients/exports/new/")),
    "assessment:bulk_detail": mine({"consultant"}, "/clients/exports/{pk}/", pk=ctx("export")),
    "assessment:bulk_download": mine(
        {"consultant"}, "/clients/exports/{pk}/download/", pk=ctx("export")
    ),
    "assessment:client_report_pdf": mine(
        {"consultant"}, "/clients/assessments/{pk}/report.pdf", pk=a("approved")
    ),
    **{
        f"assessment:client_{table}_{file_format}": mine(
            {"consultant"},
            f"/clients/assessments/{{pk}}/{table}.{file_format}",
            pk=a("open" if table == "customers" else "approved"),
        )
        for table in ("scores", "answers", "customers", "actions", "judgements")
        for file_format in ("csv", "xlsx")
    },
    "assessment:bulk_list": Rule(CONSULTANTS, fixed("/clients/exports/")),
    # Staff: the review queue and assignments.
    "assessment:staff_queue": Rule(frozenset({"staff"}), fixed("/staff/reviews/")),
    "assessment:staff_assign": mine({"staff"}, "/staff/reviews/{pk}/assign/", pk=a("submitted")),
    # Assessors: their queue, and only what they are assigned.
    "assessment:review_detail": mine({"assessor"}, "/reviews/{pk}/", pk=a("in_review")),
    "assessment:moderate": mine({"assessor"}, "/reviews/{pk}/moderate/", pk=a("in_review")),
    "assessment:keep_moderation": mine(
        {"assessor"}, "/reviews/{pk}/moderate/keep/", pk=a("in_review")
    ),
    "assessment:approve": mine({"assessor"}, "/reviews/{pk}/approve/", pk=a("in_review")),
    "assessment:review_criteria": Rule(
        frozenset({"assessor"}),
        path(
            "/reviews/{pk}/sections/{section}/criteria/",
            pk=a("in_review"),
            section=lambda w, ctx: first_section(w.a.in_review).pk,
        ),
        tenant_object=True,
    ),
    "assessment:review_require_action": mine(
        {"assessor"}, "/reviews/{pk}/actions/", pk=a("in_review")
    ),
    "assessment:return": mine({"assessor"}, "/reviews/{pk}/return/", pk=a("in_review")),
    "assessment:review_answers_csv": mine(
        {"assessor"}, "/reviews/{pk}/answers.csv", pk=a("in_review")
    ),
    "assessment:review_answers_xlsx": mine(
        {"assessor"}, "/reviews/{pk}/answers.xlsx", pk=a("in_review")
    ),
    # Respondents: only the response their invitation link opened.
    "assessment:response_start": mine({"respondent"}, "/responses/{pk}/", pk=ctx("response")),
    "assessment:section": mine(
        {"respondent"},
        "/responses/{pk}/sections/{section}/",
        pk=ctx("response"),
        section=ctx("section"),
    ),
    "assessment:answers": mine({"respondent"}, "/responses/{pk}/answers/", pk=ctx("response")),
    "assessment:autosave": mine(
        {"respondent"},
        "/responses/{pk}/questions/{question}/",
        pk=ctx("response"),
        question=ctx("question"),
    ),
    "assessment:review": mine({"respondent"}, "/responses/{pk}/review/", pk=ctx("response")),
    "assessment:complete": mine({"respondent"}, "/responses/{pk}/complete/", pk=ctx("response")),
    "assessment:revise": mine({"respondent"}, "/responses/{pk}/revise/", pk=ctx("response")),
    # The team's prediction of what customers will say (A's open assessment has a survey).
    "assessment:customer_prediction": mine(
        {"respondent"}, "/responses/{pk}/customers/", pk=ctx("response")
    ),
}

# Placeholder values for the admin's URL parameters; the admin decides access before
# it looks anything up.
ADMIN_VALUES = {"object_id": "1", "app_label": "assessment", "content_type_id": "1", "url": "x"}


def admin_url(route: str) -> str:
    """A concrete URL for an admin route (regex or path syntax)."""
    value = lambda m: ADMIN_VALUES.get(m.group(1), "1")  # noqa: E731
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", value, route)  # regex groups: (?P<name>...)
    url = re.sub(r"<(?:\w+:)?(\w+)>", value, url)  # path converters: <int:name>
    return "/" + url.replace("^", "").replace("$", "").replace("\\", "")


# --- the world and its visitors -------------------------------------------------------


def visitors(w: World, ctx: dict) -> dict[str, Client]:
    clients = {name: Client() for name in PRINCIPALS}
    users = {
        "manager": w.a.manager,
        "other_manager": w.b.manager,
        "assessor": w.a.assessor,
        "other_assessor": w.free_assessor,
        "consultant": w.a.consultant,
        "other_consultant": w.b.consultant,
        "staff": w.staff,
    }
    for name, user in users.items():
        clients[name].force_login(user)
    # The respondent follows their link and opens the questionnaire, as a member does.
    respondent = clients["respondent"]
    landing = respondent.get(f"/r/{w.a.respondent_token}/")
    opened = respondent.post(landing["Location"])
    ctx["response"] = int(opened["Location"].strip("/").split("/")[1])
    # The leadership invitee likewise, with their own link.
    leader = clients["leader"]
    opened = leader.post(leader.get(f"/r/{w.a.leader_token}/")["Location"])
    ctx["leader_response"] = int(opened["Location"].strip("/").split("/")[1])
    return clients


def build_context(w: World) -> dict:
    """The objects of A the matrix's URLs point at, beyond those of the world."""
    export = make_export(
        w.a.consultant,
        assessments=[w.a.approved],
        status=BulkExport.Status.DONE,
        archive=b"PK\x05\x06" + b"\x00" * 18,  # an empty ZIP
    )
    logo = io.BytesIO()
    Image.new("RGB", (4, 4), "#123456").save(logo, "PNG")
    w.a.consultancy.logo, w.a.consultancy.logo_content_type = logo.getvalue(), "image/png"
    w.a.consultancy.save(update_fields=["logo", "logo_content_type"])
    section = first_section(w.a.open)
    return {
        "uid": urlsafe_base64_encode(force_bytes(w.a.manager.pk)),
        "reset_token": default_token_generator.make_token(w.a.manager),
        "join_token": w.a.manager_invitation_token,
        "spare_token": "an-unknown-token-of-the-same-shape-as-a-real-one-00",
        "export": export.pk,
        "roster_entry": w.a.front.roster.order_by("pk").first().pk,
        "section": section.pk,
        "question": Question.objects.filter(section=section).order_by("position").first().pk,
    }


# --- the checks -------------------------------------------------------------------------

SIGN_OUT = {"logout", "admin:logout"}


@dataclass
class Outcome:
    key: str
    principal: str
    method: str
    url: str
    status: int
    location: str = ""

    def __str__(self) -> str:
        where = f" -> {self.location}" if self.location else ""
        return f"{self.method} {self.url} as {self.principal}: {self.status}{where}"


def refusal_problem(outcome: Outcome, rule: Rule | None) -> str | None:
    """Why this answer to someone not allowed is wrong, or None if it is a proper refusal."""
    status, principal = outcome.status, outcome.principal
    if 200 <= status < 300:
        return "a 2xx for someone not allowed"
    if status >= 500:
        return "a server error"
    if status == 405:
        return None
    if outcome.key.startswith("admin:") or outcome.url.startswith("/admin/"):
        # The admin sends everyone who is not staff to its own sign-in page.
        to_sign_in = outcome.location.startswith(("/admin/login/", "/accounts/login/"))
        return None if status == 302 and to_sign_in else "the admin let them in"
    if principal in ("anonymous", "respondent", "leader"):
        if status == 404 or (status == 302 and outcome.location.startswith("/accounts/login/")):
            return None
        return "not a 404 or the sign-in page"
    if rule is not None and rule.tenant_object:
        return None if status == 404 else "another tenant's object is not a 404"
    return None if status == 404 else "not a 404"


def request(client: Client, method: str, url: str) -> tuple[int, str]:
    response = client.get(url) if method == "GET" else client.post(url, {})
    return response.status_code, response.get("Location", "")


@pytest.mark.django_db
def test_nobody_gets_what_they_may_not_have(proof):
    w = build_world()
    ctx = build_context(w)
    clients = visitors(w, ctx)
    keyed = {route.key: route for route in routes()}

    refused: list[Outcome] = []
    allowed: list[Outcome] = []
    before = db_state()
    for key, route in sorted(keyed.items()):
        rule = MATRIX.get(key)
        url = admin_url(route.route) if rule is None else rule.url(w, ctx)
        permitted = frozenset({"staff"}) if rule is None else rule.allowed
        for principal in PRINCIPALS:
            if principal in permitted or key in SIGN_OUT:
                continue
            for method in ("GET", "POST"):
                status, location = request(clients[principal], method, url)
                refused.append(Outcome(key, principal, method, url, status, location))
    after = db_state()
    still_themselves = {
        name: client.get("/dashboard/").status_code for name, client in clients.items()
    }

    # Those allowed reach the page (GET only: their POSTs have effects, tested elsewhere).
    for key, rule in sorted(MATRIX.items()):
        if key in SIGN_OUT or "GET" not in allowed_methods(keyed[key].callback):
            continue  # POST-only views: their effects are tested with their features
        for principal in sorted(rule.allowed):
            status, location = request(clients[principal], "GET", rule.url(w, ctx))
            allowed.append(Outcome(key, principal, "GET", rule.url(w, ctx), status, location))

    problems = [
        f"{outcome}: {problem}"
        for outcome in refused
        if (problem := refusal_problem(outcome, MATRIX.get(outcome.key)))
    ]
    unreachable = [
        str(o)
        for o in allowed
        if not (200 <= o.status < 400) or o.location.startswith("/accounts/login/")
    ]
    statuses = Counter(o.status for o in refused)
    proof(
        f"Access matrix: {len(keyed)} URL patterns ({len(MATRIX)} app, "
        f"{len(keyed) - len(MATRIX)} admin) x {len(PRINCIPALS)} principals; "
        f"{len(refused)} refused-visitor requests (GET and POST), statuses "
        f"{dict(sorted(statuses.items()))}; {len(allowed)} allowed GETs; "
        f"unauthorised 2xx: {sum(200 <= o.status < 300 for o in refused)}; "
        f"problems: {len(problems)}"
    )
    assert problems == [], "\n".join(problems)
    assert unreachable == []
    assert diff(before, after) == {}, "a refused POST changed the database"
    # Nobody was signed out along the way (which would have hidden refusals).
    assert still_themselves == dict.fromkeys(PRINCIPALS, 302) | {
        "manager": 200,
        "other_manager": 200,
    }
    assert clients["consultant"].get("/dashboard/")["Location"] == "/clients/"
    assert clients["respondent"].get("/dashboard/")["Location"].startswith("/accounts/login/")


def unlisted() -> set[str]:
    """URL patterns outside the admin that the matrix does not list."""
    return {route.key for route in routes() if not route.is_admin} - MATRIX.keys()


def test_every_url_pattern_is_in_the_matrix():
    keys = {route.key for route in routes()}

    assert unlisted() == set(), "URL patterns missing from the access matrix"
    assert MATRIX.keys() - keys == set(), "the matrix lists patterns that no longer exist"


def test_a_new_pattern_missing_from_the_matrix_is_caught(settings):
    urlconf = types.ModuleType("urls_with_a_new_page")
    urlconf.urlpatterns = [
        *get_resolver().url_patterns,
        django_path("new-page/", lambda request: None, name="new_page"),
    ]
    sys.modules[urlconf.__name__] = urlconf
    settings.ROOT_URLCONF = urlconf.__name__
    try:
        assert unlisted() == {"new_page"}
    finally:
        del sys.modules[urlconf.__name__]


def test_the_admin_rule_builds_real_admin_urls():
    admin = [route for route in routes() if route.is_admin]

    assert len(admin) > 20
    assert admin_url("admin/<path:object_id>/change/") == "/admin/1/change/"
    assert admin_url("admin/^(?P<app_label>auth|assessment)/$") == "/admin/assessment/"
