"""Simulated respondents (and consultants) for `make load` and `make fault`; the customers
of the customer run are in ``customers.py``, the managers downloading reports in
``downloads.py``, both imported at the end.

A respondent does what the browser does: follows an invitation link, opens the
questionnaire, chooses an answer per question, sometimes changes its mind, then presses
"Save and continue" on each page, reviews and submits; then it takes the next invitation.
Its autosave is app.js's: the questions changed since their last save are posted together
(each with its ``revision``, the CSRF token from the cookie in the body and the header)
to the form's ``data-autosave`` address once ``AUTOSAVE_PAUSE`` passed without a change,
and at once on leaving a comment typed in. A failed save keeps the answers changed, and
the next batch sends them again, as app.js does.

Everything sent, and what came back, is appended to ``LOAD_EVENTS`` (JSON lines),
so the driver can compare what the server acknowledged with the database.

Set by the driver (``python -m tests.load``):
  LOAD_HOSTS    comma-separated base URLs; requests go round-robin across them, like a
                load balancer without sticky sessions
  LOAD_SEED     JSON from the seed step: invitation tokens, consultant logins
  LOAD_EVENTS   the JSON-lines file to append to
  LOAD_CONSULTANTS  how many consultant users (the cluster run), 0 otherwise
  LOAD_DURATION how many seconds the users act; locust's own --run-time is a little
                longer, so every request sent gets its answer before locust stops
  LOAD_CUSTOMERS, LOAD_CUSTOMER_MIN_SECONDS  the customer run's customers and the
                app's minimum time (customers.py)
"""

import itertools
import json
import os
import random
import re
import time
from collections.abc import Callable, Generator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from locust import FastHttpUser, task

HOSTS = [host.rstrip("/") for host in os.environ.get("LOAD_HOSTS", "").split(",") if host]
SEED = json.loads(Path(os.environ["LOAD_SEED"]).read_text()) if "LOAD_SEED" in os.environ else {}
TOKENS: list[str] = list(reversed(SEED.get("tokens", [])))
LOGINS: list[dict[str, str]] = list(SEED.get("consultants", []))
EVENTS = open(os.environ.get("LOAD_EVENTS", os.devnull), "a", buffering=1)  # noqa: SIM115
# Users stop sending at this moment, between requests. Locust's --run-time cuts off
# requests in flight when it ends, which would leave saves with no known outcome.
DEADLINE = time.time() + float(os.environ.get("LOAD_DURATION", "60"))

# Seconds a person takes per answer, and how often they change their mind about the
# answer they just gave or type a comment.
ANSWER_PAUSE = (0.6, 1.2)
READ_PAUSE = (0.8, 2.0)
CHANGE_MIND = 0.15
COMMENT = 0.2
AUTOSAVE_PAUSE = 1.5  # app.js sends the changed questions after this long without a change

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
QUESTION = re.compile(r'data-question="(\d+)"')
AUTOSAVE_URL = re.compile(r'class="questionnaire"[^>]* data-autosave="([^"]+)"')
REVISION = re.compile(r'name="q(\d+)-revision" value="(\d+)"')
FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)" class="questionnaire"')
RESPONSE_PK = re.compile(r"/responses/(\d+)/")
EXPORT_PK = re.compile(r"/clients/exports/(\d+)/")
EXPORT_CHOICE = re.compile(r'name="assessments" value="(\d+)"')
TRACEBACK = re.compile(r'Traceback \(most recent call last\)|File "/|psycopg|OperationalError')

_ids = itertools.count(1)

Steps = Generator[float, None, object]


class TimeUp(Exception):
    """The run's time is over: the user sends nothing more."""


def before_deadline() -> None:
    if time.time() >= DEADLINE:
        raise TimeUp


def record(**fields: object) -> None:
    fields["t"] = round(time.time(), 3)
    EVENTS.write(json.dumps(fields, separators=(",", ":")) + "\n")


def pause(low: float, high: float) -> float:
    return random.uniform(low, high)  # noqa: S311 - simulated people, not security


class Browser(FastHttpUser):
    """One person's browser: a cookie jar, and requests spread over the web nodes."""

    abstract = True
    host = HOSTS[0] if HOSTS else "http://127.0.0.1:8000"

    def on_start(self) -> None:
        hosts = HOSTS or [self.host]
        start = random.randrange(len(hosts))  # noqa: S311
        self.hosts = itertools.cycle(hosts[start:] + hosts[:start])
        self.plan = self.journey()
        self.pause = 0.0

    def wait_time(self) -> float:
        return self.pause

    @task
    def step(self) -> None:
        """One request (or a few) of the journey; locust waits ``self.pause`` after it, and
        a stopping run stops here, between requests, so every request sent gets its answer."""
        try:
            self.pause = next(self.plan)
        except (StopIteration, TimeUp):
            self.pause = 3600  # idle until locust ends the run

    def journey(self) -> Steps:
        raise NotImplementedError

    def sign_in(self, login: dict) -> Steps:
        """Through the sign-in form, as a person does; the POST's response (302: signed in)."""
        page = yield from self.until("GET", "/accounts/login/", "GET /accounts/login/", ok=(200,))
        return (
            yield from self.until(
                "POST",
                "/accounts/login/",
                "POST /accounts/login/",
                ok=(302,),
                data=lambda: [
                    ("csrfmiddlewaretoken", self.csrf_token(page.text or "")),
                    ("username", login["username"]),
                    ("password", login["password"]),
                ],
            )
        )

    def csrf_token(self, page: str = "") -> str:
        """What app.js sends: the token from the cookie (the page's own as a fallback)."""
        cookies = {cookie.name: cookie.value for cookie in self.client.cookiejar}
        token = cookies.get("__Host-csrftoken") or cookies.get("csrftoken")
        if token:
            return token
        match = CSRF_FIELD.search(page)
        return match.group(1) if match else ""

    def call(
        self,
        method: str,
        path: str,
        name: str,
        *,
        ok: tuple[int, ...],
        data: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        before_deadline()
        host = next(self.hosts)
        headers = dict(headers or {})
        body = None
        if method == "POST":
            headers["Origin"] = host  # browsers send it with every POST
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(data or [])
        with self.client.request(
            method,
            host + path,
            name=name,
            data=body,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            status = response.status_code or 0
            text = (response.text or "") if status else ""
            if status in ok:
                response.success()
            else:
                response.failure(f"HTTP {status}" if status else f"no answer: {response.error}")
        event = {"e": "req", "n": name, "s": status, "host": host}
        if status not in ok:
            event["tb"] = bool(TRACEBACK.search(text))
            event["body"] = text[:300]
        record(**event)
        return response

    def until(
        self,
        method: str,
        path: str,
        name: str,
        *,
        ok: tuple[int, ...],
        give_up: tuple[int, ...] = (),
        data: Callable[[], list[tuple[str, str]]] | None = None,
        headers: dict[str, str] | None = None,
        attempts: int = 40,
    ) -> Steps:
        """Send until it works, as a person reloads or presses again after a moment."""
        for _attempt in range(attempts):
            response = self.call(
                method, path, name, ok=ok, data=data() if data else None, headers=headers
            )
            if response.status_code in ok or response.status_code in give_up:
                return response
            yield pause(2.0, 4.0)
        return response


class Page:
    """A questionnaire page as the browser holds it: the inputs, their revisions, and the
    questions changed since their last save ("dirty")."""

    def __init__(self, url: str, html: str) -> None:
        self.url = url
        self.order = [int(pk) for pk in QUESTION.findall(html)]
        self.revision = {int(pk): rev for pk, rev in REVISION.findall(html)}
        action = FORM_ACTION.search(html)
        self.action = action.group(1) if action else urlsplit(url).path
        autosave = AUTOSAVE_URL.search(html)
        self.autosave_url = autosave.group(1) if autosave else ""
        self.level: dict[int, str] = {}
        self.comment: dict[int, str] = dict.fromkeys(self.order, "")
        self.dirty: set[int] = set()

    def choose(self, question: int) -> bool:
        """A new answer to the question; True when a comment was typed too."""
        previous = self.level.get(question)
        options = [v for v in ("1", "2", "3", "4", "5", "na") if v != previous]
        self.level[question] = random.choice(options)  # noqa: S311
        self.dirty.add(question)
        if random.random() < COMMENT:  # noqa: S311
            self.comment[question] = f"Note {random.randrange(10_000)} on {question}"  # noqa: S311
            return True
        return False

    def fields(self, question: int) -> list[tuple[str, str]]:
        """One question's fields, as the page names them."""
        fields = []
        if question in self.level:
            fields.append((f"q{question}-level", self.level[question]))
        fields.append((f"q{question}-comment", self.comment[question]))
        fields.append((f"q{question}-revision", self.revision.get(question, "0")))
        return fields

    def form(self, csrf: str) -> list[tuple[str, str]]:
        """The whole form, in page order, as the browser sends it ("Save and continue")."""
        return [("csrfmiddlewaretoken", csrf), *(f for q in self.order for f in self.fields(q))]

    def answer(self, question: int) -> list:
        return [question, self.level.get(question, ""), self.comment[question]]

    def update_revisions(self, html: str) -> None:
        for pk, rev in REVISION.findall(html):
            self.revision[int(pk)] = rev


class Respondent(Browser):
    """A team member answering through invitation links, one after another."""

    def journey(self) -> Steps:
        while TOKENS:
            yield from self.respond(TOKENS.pop())
        record(e="idle")

    def respond(self, token: str) -> Steps:
        self.client.cookiejar.clear()  # a new person, a new browser
        yield from self.until("GET", f"/r/{token}/", "GET /r/<token>/ (invitation link)", ok=(302,))
        start = yield from self.until("GET", "/r/", "GET /r/ (start page)", ok=(200,))
        yield pause(*READ_PAUSE)
        opened = yield from self.until(
            "POST",
            "/r/",
            "POST /r/ (open questionnaire)",
            ok=(302,),
            give_up=(404, 410),
            data=lambda: [("csrfmiddlewaretoken", self.csrf_token(start.text or ""))],
        )
        if opened.status_code != 302:
            record(e="abandon", token=token[:8], s=opened.status_code)
            return
        location = opened.headers["location"]
        response_pk = int(RESPONSE_PK.search(location).group(1))
        record(e="open", r=response_pk)
        # Opening the questionnaire leads straight to its first section.
        while "/sections/" in location:
            location = yield from self.answer_section(response_pk, location)
            if location is None:
                record(e="abandon", r=response_pk)
                return
        review = f"/responses/{response_pk}/review/"
        page = yield from self.until("GET", review, "GET /responses/<id>/review/", ok=(200,))
        yield pause(*READ_PAUSE)
        done = yield from self.until(
            "POST",
            f"/responses/{response_pk}/complete/",
            "POST /responses/<id>/complete/",
            ok=(302,),
            data=lambda: [
                ("csrfmiddlewaretoken", self.csrf_token(page.text or "")),
                ("confirm", "yes"),
            ],
        )
        record(e="complete", r=response_pk, s=done.status_code)
        yield from self.until("GET", review, "GET /responses/<id>/review/", ok=(200,))
        yield pause(*READ_PAUSE)

    def answer_section(self, response_pk: int, url: str) -> Steps:
        loaded = yield from self.until("GET", url, "GET /responses/<id>/sections/<id>/", ok=(200,))
        if loaded.status_code != 200:
            return None
        page = Page(url, loaded.text or "")
        yield pause(*READ_PAUSE)
        for question in page.order:
            typed = page.choose(question)
            if typed:  # leaving the comment sends the batch at once
                self.autosave(response_pk, page)
            yield from self.think(response_pk, page)
            if random.random() < CHANGE_MIND:  # noqa: S311
                page.choose(question)
                yield from self.think(response_pk, page)
        # "Save and continue" sends the whole page; the batch in flight (none here: a
        # locust user sends one request at a time) would be waited for.
        return (yield from self.save_page(response_pk, page))

    def think(self, response_pk: int, page: Page) -> Steps:
        """The pause before the next answer; the script's pause timer fires within it when
        it is longer than ``AUTOSAVE_PAUSE``."""
        wait = pause(*ANSWER_PAUSE)
        if wait >= AUTOSAVE_PAUSE and page.dirty:
            yield AUTOSAVE_PAUSE
            self.autosave(response_pk, page)
            wait -= AUTOSAVE_PAUSE
        yield wait

    def autosave(self, response_pk: int, page: Page) -> None:
        """app.js's batch: the changed questions' fields, in one POST."""
        if not page.dirty or not page.autosave_url:
            return
        before_deadline()
        csrf = self.csrf_token()
        batch = [q for q in page.order if q in page.dirty]
        send_id = next(_ids)
        record(
            e="send", id=send_id, r=response_pk, via="autosave", a=[page.answer(q) for q in batch]
        )
        response = self.call(
            "POST",
            page.autosave_url,
            "POST /responses/<id>/answers/ (autosave)",
            ok=(200,),
            data=[("csrfmiddlewaretoken", csrf), *(f for q in batch for f in page.fields(q))],
            headers={"X-CSRFToken": csrf},
        )
        status = response.status_code or 0
        saved = []
        if status in (200, 400):
            # Each question's status fragment comes back with its current revision; after
            # a conflict, saving again deliberately replaces the newer answer.
            page.update_revisions(response.text or "")
            saved = [int(pk) for pk in (response.headers.get("X-Answers-Saved") or "").split()]
        page.dirty -= set(saved)  # the others stay changed: the next batch sends them
        record(e="result", id=send_id, s=status, saved=saved)

    def save_page(self, response_pk: int, page: Page) -> Steps:
        """ "Save and continue": the whole page; returns where it redirects to."""
        for _attempt in range(40):
            before_deadline()
            csrf = self.csrf_token()
            send_id = next(_ids)
            record(
                e="send",
                id=send_id,
                r=response_pk,
                via="page",
                a=[page.answer(q) for q in page.order if q in page.level],
            )
            response = self.call(
                "POST",
                page.action,
                "POST /responses/<id>/sections/<id>/ (save and continue)",
                ok=(302,),
                data=page.form(csrf),
            )
            status = response.status_code or 0
            record(e="result", id=send_id, s=status)
            if status == 302:
                page.dirty.clear()
                return response.headers.get("location", "")
            if status == 409:
                # The page comes back with the newer revisions and our input; save again.
                page.update_revisions(response.text or "")
                yield pause(*READ_PAUSE)
            else:
                yield pause(2.0, 4.0)
        return None


class Consultant(Browser):
    """A consultant ordering bulk PDF exports (the cluster run): the worker's load."""

    fixed_count = int(os.environ.get("LOAD_CONSULTANTS", "0") or 0)

    def journey(self) -> Steps:
        login = LOGINS.pop()
        signed_in = yield from self.sign_in(login)
        if signed_in.status_code != 302:
            record(e="consultant-login-failed", s=signed_in.status_code)
            return
        while True:
            form = yield from self.until(
                "GET", "/clients/exports/new/", "GET /clients/exports/new/", ok=(200,)
            )
            choices = EXPORT_CHOICE.findall(form.text or "")
            chosen = random.sample(choices, k=min(2, len(choices)))
            record(e="export-send", assessments=chosen)
            started = yield from self.until(
                "POST",
                "/clients/exports/new/",
                "POST /clients/exports/new/ (bulk export)",
                ok=(302,),
                data=lambda chosen=chosen, form=form: [
                    ("csrfmiddlewaretoken", self.csrf_token(form.text or "")),
                    *(("assessments", pk) for pk in chosen),
                ],
            )
            if started.status_code == 302:
                location = started.headers["location"]
                record(e="export", pk=int(EXPORT_PK.search(location).group(1)))
                for _poll in range(3):  # the page polls its progress fragment
                    yield pause(1.5, 2.5)
                    self.call(
                        "GET",
                        location,
                        "GET /clients/exports/<id>/ (progress, htmx)",
                        ok=(200,),
                        headers={"HX-Request": "true"},
                    )
            yield pause(3.0, 6.0)


from tests.load.customers import Customer  # noqa: E402, F401 - customers answering a survey
from tests.load.downloads import Downloader  # noqa: E402, F401 - managers downloading reports
