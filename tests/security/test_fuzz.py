"""Issue 11: hostile input never gives a server error, and a refused form changes nothing.

Every URL pattern of the app that takes a POST body (the cases of
``test_mass_assignment``, which fails when one is missing) and every page that reads
GET parameters (the access matrix's pages, but for file downloads) is sent hostile
values: unicode digits (``"²".isdigit()`` is true and ``int("²")`` raises), 30-digit
and negative numbers, NUL bytes and other control characters, very long strings, dates
such as 9999-12-31 and 0001-01-01, and bodies in a wrong or unknown charset or not UTF-8
at all. Three kinds of test, in one shared world:

- a sweep: each named kind (``NAMED``) in every field or parameter at once, as the
  case's own role (POST) or as every visitor the matrix allows (GET), so the known
  traps are always tried;
- hypothesis examples: any role the matrix allows, one field or all, a field given
  twice, a field name with a hostile part, any encoding of the body, any text or integer;
- issue 12's control-character sweep: each control character (``CONTROL_CHARACTERS``)
  inside each field of each POST case, one field at a time, and in a quoted local part
  (``"a\x0bb"@x.example``, which Django's ``EmailValidator`` accepts) in each e-mail
  field. Every one must be refused (the forms' base, ``assessment/forms/base.py``), on
  SQLite and on PostgreSQL, which refuses NUL in text outright.

For each request: no 5xx. Where the form was refused (a 4xx, a page showing its form's
errors, or a redirect with an error message and no success), the whole database is as
it was before, but for what the case's ``refused`` rule accounts for: only the
customers' survey page has one (a refusal of its anti-abuse checks is counted on the
survey, never stored; ``test_mass_assignment.counted_refusal``). Each example runs in
its own transaction, rolled back after it.

Run with ``-s`` to see how many requests were sent.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import fields
from datetime import timedelta
from functools import partial
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import constants as message_levels
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.forms import BaseForm
from django.test import Client, override_settings
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from assessment.forms.customers import HONEYPOT_FIELD
from assessment.models import CustomerSurvey
from frameworks.models import Question
from tests.security.routes import allowed_methods, routes
from tests.security.test_access_matrix import MATRIX, build_context, visitors
from tests.security.test_mass_assignment import (
    CASES,
    CUSTOMER_RESPONSE,
    LINK,
    SURVEY,
    Case,
    Changes,
    assert_only,
    customer_answers,
    redeem,
    started,
)
from tests.security.world import World, build_world, db_state, diff, first_section

POST_EXAMPLES = 6  # per POST-accepting URL, beyond the sweep
GET_EXAMPLES = 3  # per page that answers GET, beyond the sweep
FUZZ = settings(
    max_examples=POST_EXAMPLES,
    deadline=None,
    database=None,
    # No shrinking: every example may cost a database snapshot, and the assertion
    # message already names the request and its values.
    phases=(Phase.explicit, Phase.generate),
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Values that broke, or could break, hand-written parsing.
HOSTILE_VALUES = [
    "²",  # a digit to str.isdigit(), not to int()
    "٣",  # ARABIC-INDIC DIGIT THREE: int() takes it
    "①",
    "9" * 30,
    "-" + "9" * 30,
    "-1",
    "0",
    "1.5",
    "1e9",
    " 3 ",
    "",
    "\x00",
    "1\x00",
    "x" * 10_000,
    "9" * 5000,  # longer than int() converts from a string
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "2026-02-30",
    "NaN",
    "-inf",
    "‮#1d4e5f",  # a right-to-left override
    "<script>",
    "'; --",
    "\x0b",
    "a\x0bb",
    "\x1b[31mred",  # a terminal escape
    "a\x7fb",
    "a\x85b",  # NEXT LINE: a C1 control character, and whitespace to str.split()
    '"a\x0bb"@x.example',  # Django's EmailValidator accepts a quoted vertical tab
]
# The kinds the issue names, each sent to every field and parameter (the sweeps); the
# hypothesis tests draw from all of the above, and from any text and integer.
NAMED = [
    "²",
    "٣",
    "9" * 30,
    "-1",
    "1\x00",
    "x" * 10_000,
    "9999-12-31",
    "0001-01-01",
    'a\x0b\x1b\x7f\x85"b"@x.example',
]
# Issue 12: control characters (Unicode category Cc) that no field may store: NUL (which
# PostgreSQL refuses in text), C0 controls, DEL and C1 controls. Line breaks and tabs are
# left out: long text keeps them.
CONTROL_CHARACTERS = ("\x00", "\x01", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f")
NOT_REACHED = {403, 404, 405, 410}  # a refusal that is not the form's
HOSTILE = st.one_of(
    st.sampled_from(HOSTILE_VALUES),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
)
# Parameter names the views read, and a few they do not.
GET_NAMES = ("team", "organisation", "framework", "sort", "order", "finish", "next", "page")
# Pages that take no parameters and answer with a file: rendering them again and again
# would only spend the time budget (their access is the access matrix's business).
DOWNLOADS = {
    "assessment:report_pdf",
    "assessment:client_report_pdf",
    "assessment:scores_csv",
    "assessment:scores_xlsx",
    "assessment:answers_csv",
    "assessment:answers_xlsx",
    "assessment:client_scores_csv",
    "assessment:client_scores_xlsx",
    "assessment:client_answers_csv",
    "assessment:client_answers_xlsx",
    "assessment:customers_csv",
    "assessment:customers_xlsx",
    "assessment:client_customers_csv",
    "assessment:client_customers_xlsx",
    # The action plan and the assessor's judgements.
    *(
        f"assessment:{prefix}{table}_{file_format}"
        for prefix in ("", "client_")
        for table in ("actions", "judgements")
        for file_format in ("csv", "xlsx")
    ),
    "assessment:bulk_download",
    "assessment:branding_logo",
    # A customer survey's QR code and poster.
    "assessment:customer_survey_qr_svg",
    "assessment:customer_survey_qr_png",
    "assessment:customer_survey_poster",
    # An organisation's calendar feed (iCalendar).
    "calendar_feed",
    # Evidence files, for each audience that may download them.
    "assessment:evidence_download",
    "assessment:response_evidence_download",
    "assessment:review_evidence_download",
}
NEVER = {"logout", "admin:logout"}  # signing out would end the visitor's session

FORM = "application/x-www-form-urlencoded"
# How a body is sent: the test client's multipart, or url-encoded in a charset that is
# right, wrong, unknown or not a charset at all, or with bytes that are not UTF-8.
ENCODINGS = ("multipart", "urlencoded", "wrong-charset", "unknown-charset", "not-utf8", "utf-16")

USERS: dict[str, Callable[[World], Any]] = {
    "manager": lambda w: w.a.manager,
    "other_manager": lambda w: w.b.manager,
    "assessor": lambda w: w.a.assessor,
    "other_assessor": lambda w: w.free_assessor,
    "consultant": lambda w: w.a.consultant,
    "other_consultant": lambda w: w.b.consultant,
    "staff": lambda w: w.staff,
}

STATE: dict[str, Any] = {}  # the world, the matrix's context and visitors (not copied per test)
SENT: Counter = Counter()  # method -> requests
STATUSES: Counter = Counter()
OUTCOMES: Counter = Counter()  # "refused, unchanged" / "accepted"
CONTROL: Counter = Counter()  # case -> control-character requests, all refused


NO_PREPARATION = next(f.default for f in fields(Case) if f.name == "prepare")
# The customers' pages, whose refusals are counted on the survey (``Case.refused``).
CUSTOMER_CASES = {
    case.url_name: case
    for case in CASES
    if case.url_name in ("customer_survey_public", "customer_survey_personal")
}


def roles_for_post(case: Case) -> list[str]:
    """The case's own role, and every signed-in role the matrix lets use the page."""
    allowed = MATRIX[case.url_name].allowed if case.url_name in MATRIX else frozenset()
    return sorted({case.who} | (allowed & USERS.keys()))


def encode(data: dict[str, Any], how: str) -> tuple[bytes | dict, str | None]:
    """The body and its content type (None: the test client's multipart)."""
    if how == "multipart":
        return data, None
    text = urlencode(data, doseq=True)
    if how == "urlencoded":
        return text.encode(), FORM
    if how == "wrong-charset":  # UTF-8 bytes, declared Latin-1
        return text.encode(), f"{FORM}; charset=latin-1"
    if how == "unknown-charset":
        return text.encode(), f"{FORM}; charset=x-no-such-charset"
    if how == "utf-16":
        return text.encode("utf-16"), f"{FORM}; charset=utf-16"
    # Not UTF-8: raw and percent-encoded bytes that do not decode.
    return text.encode() + b"&x=\xff\xfe\xc3(&%FF%FE=%C3%28", FORM


def all_fields(legit: dict[str, Any], *, value: str) -> dict[str, str]:
    """Every field of the form set to ``value`` (a form without fields gets one)."""
    return dict.fromkeys(legit or ["value"], value)


def respondent_context(w: World) -> dict[str, Any]:
    """``redeem``'s context for the matrix's respondent, whose session holds the response."""
    section = first_section(w.a.open)
    return {
        "response": STATE["ctx"]["response"],
        "section": section.pk,
        "questions": list(
            Question.objects.filter(section=section).asked_of("team").order_by("position")
        ),
    }


def with_control(value: str, char: str) -> str:
    """``char`` inside ``value``, where a field's stripping of whitespace cannot remove it
    (inside "xx" for an empty value, such as a hidden field that people leave empty)."""
    value = value or "xx"
    return value[:1] + char + (value[1:] or value)


def control_variants(legit: dict[str, Any]) -> list[tuple[str, Any]]:
    """(field, value) for each one-value field of the form and each control character: the
    character inside the field's own value and, in an e-mail field, in a quoted local part.
    In an uploaded (CSV) file: inside each cell of its content, one cell at a time."""
    variants: list[tuple[str, Any]] = []
    for name, value in sorted(legit.items()):
        if isinstance(value, list | tuple):  # multiple choices: not text
            continue
        if isinstance(value, UploadedFile):
            variants += [(name, upload) for upload in control_uploads(value)]
            continue
        for char in CONTROL_CHARACTERS:
            variants.append((name, with_control(str(value), char)))
            if "@" in str(value):
                variants.append((name, f'"a{char}b"@x.example'))
    return variants


def control_uploads(upload: UploadedFile) -> list[SimpleUploadedFile]:
    """The file with each control character inside each cell of each customer's line (the
    cells are comma-separated; a line of column names is skipped, so it is left alone),
    and in a quoted local part of each address."""
    lines = upload.read().decode("utf-8-sig").splitlines()
    variants = []
    for row, line in enumerate(lines):
        cells = line.split(",")
        if "@" not in cells[0]:
            continue
        for column, cell in enumerate(cells):
            for char in CONTROL_CHARACTERS:
                values = [with_control(cell, char)]
                if "@" in cell:
                    values.append(f'"a{char}b"@x.example')
                for value in values:
                    changed = [*cells[:column], value, *cells[column + 1 :]]
                    content = "\r\n".join([*lines[:row], ",".join(changed), *lines[row + 1 :]])
                    variants.append(
                        SimpleUploadedFile(upload.name, content.encode(), upload.content_type)
                    )
    return variants


def refused(response) -> bool:
    """The request was turned down: nothing it asked for may have happened."""
    if response.status_code >= 400:
        return True
    contexts = response.context or []
    for context in contexts if isinstance(contexts, list) else [contexts]:
        for value in context.flatten().values():
            if isinstance(value, BaseForm) and value.is_bound and value.errors:
                return True
    levels = {m.level for m in getattr(response.wsgi_request, "_messages", [])}
    return message_levels.ERROR in levels and message_levels.SUCCESS not in levels


def problem(response) -> str:
    """How a server error looked, for the assertion message."""
    exc = getattr(response, "exc_info", None)
    return (
        f"{exc[0].__name__}: {exc[1]}" if exc else response.content[:300].decode(errors="replace")
    )


class FuzzTests(TestCase):
    """One world for the module; one generated test per POST case and per GET page."""

    @classmethod
    def setUpTestData(cls) -> None:
        world = build_world()
        ctx = build_context(world)
        clients = visitors(world, ctx)  # every principal signed in; the respondent's link used
        STATE.update(world=world, ctx=ctx, clients=clients)
        STATE["cookies"] = {
            name: {key: morsel.value for key, morsel in client.cookies.items()}
            for name, client in clients.items()
        }

    @pytest.fixture(autouse=True)
    def _proof(self, proof):
        self.proof = proof

    def test_zzz_summary_requests_sent_and_no_server_error(self) -> None:
        """The figures, once every fuzz test has run: unittest runs a class's tests in
        name order, so ``test_zzz`` comes last, and the whole file runs on one worker
        (tests/conftest.py), so it counts every request."""
        self.proof(
            f"Fuzz: {sum(SENT.values())} requests sent ({dict(sorted(SENT.items()))}); "
            f"statuses {dict(sorted(STATUSES.items()))}; {dict(sorted(OUTCOMES.items()))}; "
            f"server errors: {sum(n for s, n in STATUSES.items() if s >= 500)}; "
            f"control characters: {sum(CONTROL.values())} requests to {len(CONTROL)} forms, "
            "all refused"
        )
        assert not any(status >= 500 for status in STATUSES)

    # --- helpers ------------------------------------------------------------------------

    @property
    def w(self) -> World:
        return STATE["world"]

    def sign_in(self, client: Client, role: str) -> None:
        """Sign the client in as ``role`` (anonymous: nothing to do)."""
        if role in USERS:
            user = USERS[role](self.w)
            # A copy: signing in sets last_login on the object, and the world's own must
            # stay as the database has it after each example's rollback (reset tokens).
            client.force_login(type(user).objects.get(pk=user.pk))

    def visitor(self, principal: str) -> Client:
        """The matrix's visitor, its session as it was set up (an example may have ended it)."""
        client = STATE["clients"][principal]
        client.raise_request_exception = False
        client.cookies = SimpleCookie(STATE["cookies"][principal])
        return client

    def send(self, client: Client, method: str, url: str, **kwargs) -> Any:
        if isinstance(kwargs.get("data"), bytes):  # sent as they are, whatever the charset
            response = client.generic(method, url, **kwargs)
        else:
            response = getattr(client, method.lower())(url, **kwargs)
        SENT[method] += 1
        STATUSES[response.status_code] += 1
        assert response.status_code < 500, f"{method} {url}: {problem(response)}"
        return response

    def check_unchanged_if_refused(
        self,
        response,
        before,
        label: str,
        *,
        must_refuse: bool = False,
        explain: Callable[[Changes, int], Changes] | None = None,
    ) -> None:
        """A refused request changed nothing, but for what ``explain`` (a case's ``refused``
        rule) accounts for and checks; it returns the changes it does not account for."""
        if not refused(response):
            assert not must_refuse, f"{label}: accepted ({response.status_code})"
            OUTCOMES["accepted"] += 1
            return
        # A refusal that must come from the form: a 403, 404 or 410 would mean the request
        # never reached it, and the sweep would prove nothing.
        assert not (must_refuse and response.status_code in NOT_REACHED), (
            f"{label}: {response.status_code}, the form was not reached"
        )
        changes = diff(before, db_state())
        unexplained = changes
        if explain is not None and changes:
            try:
                unexplained = explain(changes, response.status_code)
            except AssertionError as error:
                raise AssertionError(f"{label}: {error}") from error
        assert unexplained == {}, (
            f"{label}: refused ({response.status_code}) but changed {unexplained}"
        )
        OUTCOMES["refused, database unchanged" if not changes else "refused, counted"] += 1

    def baseline(self, key: str) -> Any:
        """The database as every example of this test starts (each is rolled back)."""
        cache = self.__dict__.setdefault("_baselines", {})
        if key not in cache:
            cache[key] = db_state()
        return cache[key]

    # --- POST -----------------------------------------------------------------------------

    def client_and_context(self, case: Case, role: str) -> tuple[Client, dict[str, Any]]:
        """The client that posts the case as ``role``, and the case's prepared context.

        Signed in once for the module (signing in here would change last_login); an
        anonymous visitor is a fresh client. Either way a 5xx comes back as a response.
        The questionnaire's forms are posted by the matrix's respondent: the world's one
        link was used when that respondent opened it (``setUpTestData``), so a fresh
        client could not redeem it again and would only ever get a 404.
        """
        if case.prepare is redeem and role == "anonymous":
            return self.visitor("respondent"), respondent_context(self.w)
        client = self.visitor(role) if role in USERS else Client(raise_request_exception=False)
        return client, case.prepare(self.w, client)

    def post(
        self,
        case: Case,
        role: str,
        build: Callable[[dict], dict],
        encoding: str,
        *,
        must_refuse: bool = False,
    ) -> None:
        """POST the case's form as ``role``, its data changed by ``build``."""
        client, ctx = self.client_and_context(case, role)
        posted = build(case.data(self.w, ctx))
        body, content_type = encode(posted, encoding)
        url = case.url(self.w, ctx)
        prepared = case.prepare is not NO_PREPARATION
        before = db_state() if prepared else self.baseline(f"{case.name} {role}")
        kwargs = {} if content_type is None else {"content_type": content_type}
        response = self.send(client, "POST", url, data=body, **kwargs)
        label = f"POST {url} as {role} ({encoding}): {str(posted)[:300]}"
        self.check_unchanged_if_refused(
            response,
            before,
            label,
            must_refuse=must_refuse,
            explain=partial(case.refused, self.w, ctx),
        )

    def fuzz_post(self, case: Case, data: st.DataObject) -> None:
        role = data.draw(st.sampled_from(roles_for_post(case)), label="role")
        how = data.draw(st.sampled_from(("value", "values", "name", "all")), label="how")
        encoding = data.draw(st.sampled_from(ENCODINGS), label="body")

        def build(legit: dict[str, Any]) -> dict[str, Any]:
            names = sorted(legit) or ["value"]
            posted = dict(legit)
            if how == "value":  # one field hostile, the others as the form expects
                posted[data.draw(st.sampled_from(names), label="field")] = data.draw(HOSTILE)
            elif how == "values":  # a field given twice: its own value, then a hostile one
                name = data.draw(st.sampled_from(names), label="field")
                own = posted.get(name, "")
                posted[name] = [*(own if isinstance(own, list) else [own]), data.draw(HOSTILE)]
            elif how == "name":  # a field name built like the real ones, with a hostile part
                stem = data.draw(st.sampled_from(names), label="field").rsplit("-", 1)[0]
                posted[f"{stem}-{data.draw(HOSTILE)}"] = data.draw(HOSTILE)
            else:
                posted = {name: data.draw(HOSTILE) for name in names}
            return posted

        self.post(case, role, build, encoding)

    def sweep_post(self, case: Case) -> None:
        """Every named hostile value in every field at once, as the case's own role."""
        for value in NAMED:
            with transaction.atomic():
                self.post(case, case.who, partial(all_fields, value=value), "multipart")
                transaction.set_rollback(True)

    def sweep_control(self, case: Case) -> None:
        """Each control character in each field, one at a time, as the case's own role: every
        request is refused and changes nothing (each in a transaction rolled back after it)."""
        with transaction.atomic():  # the form's fields, which may depend on the preparation
            _client, ctx = self.client_and_context(case, case.who)
            variants = control_variants(case.data(self.w, ctx))
            transaction.set_rollback(True)
        for index, (name, value) in enumerate(variants):
            with transaction.atomic():
                self.post(
                    case,
                    case.who,
                    lambda legit, name=name, value=value: {**legit, name: value},
                    # Multipart and url-encoded in turn; a file only as a file.
                    "multipart" if isinstance(value, UploadedFile) else ENCODINGS[index % 2],
                    must_refuse=True,
                )
                transaction.set_rollback(True)
            CONTROL[case.name] += 1

    # --- the customers' pages: a refusal is counted, never stored -------------------------

    def customer_post(self, case: Case, change: Callable[[dict], dict], **kwargs) -> tuple:
        """POST ``case`` (a customers' page of A's survey) as a script would: a person's
        answers, ``change``d. Before, if given: ``setup``; a person's submission from the
        same browser (``first="browser"``) or another one at the same address
        (``first="address"``). The fuzz tests' own check holds (a refusal changes nothing
        its rule does not account for). Returns the response and what it changed."""
        w = self.w
        client = Client(REMOTE_ADDR="192.0.2.7")
        with transaction.atomic():
            kwargs.get("setup", lambda: None)()
            if "first" in kwargs:
                person = client if kwargs["first"] == "browser" else Client(REMOTE_ADDR="192.0.2.7")
                first = person.post(case.url(w, {}), customer_answers(w, {}))
                assert first.status_code == case.status
            before = db_state()
            response = self.send(
                client, "POST", case.url(w, {}), data=change(customer_answers(w, {}))
            )
            changes = diff(before, db_state())
            label = f"POST {case.url_name} ({kwargs})"
            self.check_unchanged_if_refused(
                response, before, label, explain=partial(case.refused, w, {})
            )
            transaction.set_rollback(True)
        return response, changes

    def customer_refusal(
        self, case: Case, name: str, change: Callable[[dict], dict], status: int, reason: str, **kw
    ) -> None:
        """Refused with ``status``: one more ``refused_<reason>`` on the survey, no answers
        stored, no personal link spent, and nothing the case's rule does not account for."""
        response, changes = self.customer_post(case, change, **kw)
        assert response.status_code == status, (name, response.status_code)
        assert CUSTOMER_RESPONSE not in changes, name
        assert LINK not in changes, name
        survey = self.w.a.customer_survey.pk
        assert changes[SURVEY].changed == {survey: {f"refused_{reason}": (0, 1)}}, name
        assert case.refused(self.w, {}, changes, status) == {}, name

    def bot_refusals(self, case: Case) -> None:
        """What a script sends: no stamp of when the page was served, a forged one, one too
        recent, a stale one, another survey's, or the hidden field filled."""
        w = self.w
        survey = w.a.customer_survey
        minimum = django_settings.CUSTOMER_MIN_SECONDS
        assert minimum > 0
        for name, started_value in (
            ("no stamp", ""),
            ("a forged stamp", "eyJzIjoxLCJ0IjowfQ:1abc:def"),
            ("too fast", started(survey, seconds_ago=minimum / 2)),
            ("a stale stamp", started(survey, seconds_ago=13 * 3600)),
            ("B's survey's stamp", started(w.b.customer_survey, seconds_ago=minimum + 60)),
        ):
            self.customer_refusal(
                case, name, lambda data, v=started_value: {**data, "started": v}, 403, "bot"
            )
        self.customer_refusal(
            case,
            "the hidden field filled",
            lambda data: {**data, HONEYPOT_FIELD: "http://spam.example"},
            403,
            "bot",
        )
        yesterday = timezone.localdate() - timedelta(days=1)
        self.customer_refusal(
            case,
            "the survey closed",
            dict,
            410,
            "closed",
            setup=lambda: CustomerSurvey.objects.filter(pk=survey.pk).update(closes_on=yesterday),
        )

    def test_customer_refusals_are_counted_and_never_stored(self) -> None:
        case = CUSTOMER_CASES["customer_survey_public"]
        self.bot_refusals(case)
        self.customer_refusal(
            case, "a second answer from this browser", dict, 409, "repeat", first="browser"
        )
        with override_settings(CUSTOMER_ADDRESS_LIMIT=1):
            self.customer_refusal(
                case, "another browser at the same address", dict, 429, "rate", first="address"
            )

    def test_personal_link_refusals_are_counted_and_leave_the_link_unused(self) -> None:
        case = CUSTOMER_CASES["customer_survey_personal"]
        self.bot_refusals(case)
        response, changes = self.customer_post(case, dict, first="browser")
        assert response.status_code == 410  # the link was used: nothing more is written
        assert changes == {}

    def test_a_persons_customer_answers_are_stored_once(self) -> None:
        for case in CUSTOMER_CASES.values():
            response, changes = self.customer_post(case, dict)
            assert response.status_code == case.status, case.url_name
            assert_only(changes, case.allowed)
            case.check(self.w, {}, changes)

    # --- GET ------------------------------------------------------------------------------

    def get(self, key: str, principal: str, query: str) -> None:
        rule = MATRIX[key]
        url = f"{rule.url(self.w, STATE['ctx'])}?{query}"
        response = self.send(self.visitor(principal), "GET", url)
        before = self.baseline(f"GET {key} {principal}")
        self.check_unchanged_if_refused(response, before, f"GET {url} as {principal}")

    def fuzz_get(self, key: str, data: st.DataObject) -> None:
        principal = data.draw(st.sampled_from(sorted(MATRIX[key].allowed)), label="principal")
        names = data.draw(st.lists(st.sampled_from(GET_NAMES), min_size=1, max_size=4))
        if data.draw(st.booleans(), label="raw bytes"):
            query = "&".join(f"{name}=%FF%FE%C3%28{quote(data.draw(HOSTILE))}" for name in names)
        else:
            query = urlencode({name: data.draw(HOSTILE) for name in names})
        self.get(key, principal, query)

    def sweep_get(self, key: str) -> None:
        """Every named hostile value in every parameter at once, as each allowed visitor."""
        for principal in sorted(MATRIX[key].allowed):
            for value in NAMED:
                with transaction.atomic():
                    self.get(key, principal, urlencode(dict.fromkeys(GET_NAMES, value)))
                    transaction.set_rollback(True)


def _post_test(case: Case) -> Callable[[FuzzTests], None]:
    @FUZZ
    @given(data=st.data())
    def test(self: FuzzTests, data: st.DataObject) -> None:
        self.fuzz_post(case, data)

    test.__doc__ = f"POST {case.url_name} with hostile values: no 5xx; refused changes nothing."
    return test


def _post_sweep(case: Case) -> Callable[[FuzzTests], None]:
    def test(self: FuzzTests) -> None:
        self.sweep_post(case)

    test.__doc__ = f"POST {case.url_name} with each named hostile value: no 5xx."
    return test


def _control_sweep(case: Case) -> Callable[[FuzzTests], None]:
    def test(self: FuzzTests) -> None:
        self.sweep_control(case)

    test.__doc__ = (
        f"POST {case.url_name} with a control character in each field: refused, unchanged."
    )
    return test


def _get_test(key: str) -> Callable[[FuzzTests], None]:
    @settings(FUZZ, max_examples=GET_EXAMPLES)
    @given(data=st.data())
    def test(self: FuzzTests, data: st.DataObject) -> None:
        self.fuzz_get(key, data)

    test.__doc__ = f"GET {key} with hostile parameters: no 5xx."
    return test


def _get_sweep(key: str) -> Callable[[FuzzTests], None]:
    def test(self: FuzzTests) -> None:
        self.sweep_get(key)

    test.__doc__ = f"GET {key} with each named hostile value in every parameter: no 5xx."
    return test


def get_pages() -> list[str]:
    """The matrix's pages that answer GET, but for downloads and signing out."""
    keyed = {route.key: route for route in routes()}
    return sorted(
        key
        for key in MATRIX
        if key not in DOWNLOADS | NEVER and "GET" in allowed_methods(keyed[key].callback)
    )


for _case in CASES:
    setattr(FuzzTests, f"test_post_{_case.name}", _post_test(_case))
    setattr(FuzzTests, f"test_sweep_post_{_case.name}", _post_sweep(_case))
    setattr(FuzzTests, f"test_control_post_{_case.name}", _control_sweep(_case))
for _key in get_pages():
    setattr(FuzzTests, f"test_get_{_key.replace(':', '_')}", _get_test(_key))
    setattr(FuzzTests, f"test_sweep_get_{_key.replace(':', '_')}", _get_sweep(_key))


def test_every_page_with_input_is_fuzzed():
    """POST: one test per mass-assignment case, and that file's guard fails for a
    POST-accepting URL without a case. GET: every page of the app that answers GET, but
    for the file downloads and signing out."""
    tests = set(dir(FuzzTests))
    answering = {
        route.key
        for route in routes()
        if not route.is_admin and "GET" in allowed_methods(route.callback)
    }

    assert {f"test_post_{case.name}" for case in CASES} <= tests
    assert {f"test_control_post_{case.name}" for case in CASES} <= tests
    assert {
        key
        for key in answering - DOWNLOADS - NEVER
        if f"test_get_{key.replace(':', '_')}" not in tests
    } == set()
