"""Customers answering a survey through its public link (the customer run, issue 17).

A ``Customer`` is one of a pool of browsers at a counter: each time it takes the next
customer from a shared list, and that customer arrives at its own moment of a fixed
schedule (``LOAD_CUSTOMERS`` customers spread evenly over ``ARRIVAL_SHARE`` of
``LOAD_DURATION``), so the submissions come at a known, steady rate whatever the
server's speed. The driver starts more browsers than are ever busy at once, so a slow
server delays no arrival (each ``customer-start`` event records how late it was). A
customer:

- opens the link with a new browser (no cookies): ``GET /c/<token>/``, which serves the
  form with its signed ``started`` stamp and sets the CSRF cookie;
- fills it in for ``FILL`` seconds after the page arrived (at least the run's
  ``CUSTOMER_MIN_SECONDS``, ``LOAD_CUSTOMER_MIN_SECONDS`` here): for each attribute
  on the page how much it matters and how well it was done, mostly a rating, sometimes
  "doesn't apply" or nothing, and a comment now and then; the hidden honeypot stays empty;
- sends it once (``POST /c/<token>/``, no retry: a second POST would be a second
  submission) and, on the 302, follows it to the thanks page as the browser does.

Every request carries ``X-Forwarded-For: <the customer's own address>``, as the proxy in
front would add it (the run sets ``TRUSTED_PROXY_COUNT=1``), from 198.18.0.0/15, the
range set aside for benchmarks. What each customer sent and what came back goes to the
event log (``customer`` events) for the verify step, which compares it with the database.

Imported at the end of ``locustfile.py``; it shares that module's browser and event log.
"""

import ipaddress
import itertools
import os
import random
import re
import time

from locustfile import SEED, Browser, Steps, pause, record

from tests.load.report import CUSTOMER_PAGE as PAGE
from tests.load.report import CUSTOMER_SUBMIT as SUBMIT
from tests.load.report import CUSTOMER_THANKS as THANKS

TOKEN: str = SEED.get("survey_token", "")
CUSTOMERS = int(os.environ.get("LOAD_CUSTOMERS", "0") or 0)
MIN_SECONDS = float(os.environ.get("LOAD_CUSTOMER_MIN_SECONDS", "1") or 1)
DURATION = float(os.environ.get("LOAD_DURATION", "60"))
# The customers arrive over this share of the run, so the last has time to fill in and
# send before the run's time is up.
ARRIVAL_SHARE = 0.8
# Seconds a customer spends on the form after it arrived, beyond the minimum time.
FILL = (0.5, 3.0)
NOT_APPLICABLE = 0.08  # "doesn't apply"
LEFT_OUT = 0.04  # a question left unanswered (allowed: at least one answer is needed)
COMMENT = 0.25
FIRST_ADDRESS = ipaddress.IPv4Address("198.18.0.1")

STARTED = re.compile(r'name="started" value="([^"]+)"')
RATING = re.compile(r'name="([ip]\d+)" value="([^"]+)"')

_next = itertools.count()
_schedule: dict[str, float] = {}


def _arrival(number: int) -> float:
    """When customer ``number`` (0-based) opens the link: evenly spaced from the moment
    the first customer was taken."""
    start = _schedule.setdefault("start", time.time())
    return start + number * (ARRIVAL_SHARE * DURATION) / max(CUSTOMERS, 1)


def _rating(prefix: str) -> str:
    """A plausible answer: importance leans high, performance spreads around 3-4."""
    draw = random.random()  # noqa: S311 - simulated customers, not security
    if draw < LEFT_OUT:
        return ""
    if draw < LEFT_OUT + NOT_APPLICABLE:
        return "na"
    weights = (1, 2, 5, 10, 12) if prefix == "i" else (2, 4, 8, 10, 6)
    return str(random.choices(range(1, 6), weights=weights)[0])  # noqa: S311


def answers_for(page: str) -> dict[str, str]:
    """The customer's ratings, by field name, for the questions the page asks."""
    names = list(dict.fromkeys(name for name, _value in RATING.findall(page)))
    answers = {name: _rating(name[0]) for name in names}
    if names and not any(answers.values()):
        answers[names[0]] = "3"  # the form asks for at least one answer
    return answers


class Customer(Browser):
    """A browser at the counter, used by one customer after another."""

    def journey(self) -> Steps:
        while (number := next(_next)) < CUSTOMERS:
            arrival = _arrival(number)
            if arrival > time.time():
                yield arrival - time.time()
            yield from self.customer(number, late=time.time() - arrival)
        record(e="idle")

    def customer(self, number: int, *, late: float) -> Steps:
        self.client.cookiejar.clear()  # a new customer, a new browser
        address = str(FIRST_ADDRESS + number)
        headers = {"X-Forwarded-For": address}
        path = f"/c/{TOKEN}/"
        record(e="customer-start", k=number, addr=address, late=round(late, 3))
        page = self.call("GET", path, PAGE, ok=(200,), headers=headers)
        text = page.text or ""
        started = STARTED.search(text)
        if page.status_code != 200 or started is None:
            record(e="customer", k=number, addr=address, s=None, gave_up=page.status_code)
            return
        answers = answers_for(text)
        comment = ""
        if random.random() < COMMENT:  # noqa: S311
            comment = f"Customer {number}: {random.choice(('quick', 'late', 'kind', 'unclear'))}"  # noqa: S311
        yield MIN_SECONDS + pause(*FILL)
        form = [
            ("csrfmiddlewaretoken", self.csrf_token(text)),
            ("started", started.group(1)),
            *answers.items(),
            ("comment", comment),
            ("website", ""),  # the honeypot: hidden from people, left empty
        ]
        sent = self.call("POST", path, SUBMIT, ok=(302,), data=form, headers=headers)
        status = sent.status_code or 0
        record(e="customer", k=number, addr=address, s=status, a=answers, c=comment)
        if status == 302:
            self.call("GET", sent.headers.get("location", ""), THANKS, ok=(200,), headers=headers)
