"""A complete 70-answer response with JavaScript in a real browser, as a multiple of the
hello-world page's server time (issue 16, must-show 2).

Chromium (Debian's, through Playwright, with the browser tests' flags) opens an invitation
link to the bench's generated framework (``LONG_SLUG``: 70 team questions in 3 sections)
on the bench's gunicorn site, answers every question by clicking its option like a person
(a pause of 0.3-1.1 s between answers, a comment typed on every fifteenth question, a
longer look at the page midway through each section), saves each section, reviews and
completes. Every request the browser sends is counted, static files and redirects
included; the server's time for them is summed from gunicorn's access log (written as
"%(m)s %(U)s %(D)s": method, path, microseconds). The bench site serves static files
through WhiteNoise's finders (``infra.app_env``), cacheable for 60 s and not hashed, so a
response that takes longer fetches each of them twice, where production's hashed,
immutable files are fetched once.
"""

import random
import re
import shutil
import statistics
import time
from pathlib import Path

from tests.bench.common import LONG_SLUG, open_respondents, server_times

HELLO = "/bench/hello/"
HELLO_REQUESTS = 300
REQUEST_TARGET = 25
RATIO_TARGET = 400
PEER_RATIO = 790  # django-survey-and-report's complete response, in the same terms
# A person's pace (seconds): between two answers, and a longer look midway through a section.
PAUSE = (0.3, 1.1)
LOOK = 2.5
COMMENT_EVERY = 15


def bench_autosave(database: Path, workdir: Path) -> None:
    """Print the request count and the summed server time of one complete response."""
    from playwright.sync_api import sync_playwright

    from tests.benchsite.client import Client
    from tests.browser.conftest import CHROMIUM_ARGS
    from tests.load import infra

    tokens, _section_pk = open_respondents(1, LONG_SLUG)
    env = infra.app_env(f"sqlite:///{database}", DJANGO_SETTINGS_MODULE="tests.benchsite.settings")
    processes = infra.Processes()
    sent: list[str] = []
    try:
        port = infra.free_port()
        log_format = "--access-logformat=%(m)s %(U)s %(D)s"
        infra.start_gunicorn(processes, env, port=port, workdir=workdir, extra=(log_format,))
        base = f"http://127.0.0.1:{port}"
        hello = Client("127.0.0.1", port)
        for _ in range(HELLO_REQUESTS):
            hello.get(HELLO)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(locale="en-GB")
            context.on("request", lambda request: sent.append(request.url))
            started = time.monotonic()
            answered = respond(context.new_page(), f"{base}/r/{tokens[0]}/")
            took = time.monotonic() - started
            browser.close()
        for _ in range(HELLO_REQUESTS):
            hello.get(HELLO)
        hello.close()
    finally:
        processes.stop_all()
    served = server_times(workdir / f"access-{port}.log")
    hello_us = statistics.median(served.pop(f"GET {HELLO}"))
    served.pop("GET /health/", None)  # gunicorn's readiness check
    # What reached the server: the browser's memory cache answers some requests itself.
    requests = sum(len(times) for times in served.values())
    total_us = sum(sum(times) for times in served.values())
    autosaves = sum(len(times) for path, times in served.items() if path.endswith("/answers/"))
    statics = sum(len(times) for path, times in served.items() if "/static/" in path)
    ratio = total_us / hello_us
    print(
        f"complete response with JavaScript ({answered} answers in {LONG_SLUG}'s 3 sections, "
        f"Chromium, {took:.0f} s of clicking): {requests} requests to the server "
        f"(target <= {REQUEST_TARGET}): {autosaves} autosaves, {statics} static files, the "
        f"rest pages and redirects; {len(sent)} requests in the browser with its cache's "
        f"answers; {total_us / 1000:.0f} ms in the server = {ratio:.0f}x the hello-world "
        f"page's {hello_us / 1000:.2f} ms (target <= {RATIO_TARGET}x; the peer's about "
        f"{PEER_RATIO}x)"
    )
    for path, times in sorted(served.items(), key=lambda item: -sum(item[1])):
        print(f"  {path}: {len(times)} x {statistics.mean(times) / 1000:.1f} ms")
    if answered != 70:
        raise SystemExit(f"The bench answered {answered} questions, not 70.")


def respond(page, link: str) -> int:
    """Open the link, answer every section, review and complete; the number answered."""
    from playwright.sync_api import expect

    pace = random.Random(16)  # noqa: S311 - the same pace every run, not a secret
    page.goto(link)
    page.get_by_role("button", name="Open my questionnaire").click()
    answered = 0
    while True:
        questions = page.locator("fieldset.question")
        expect(questions.first).to_be_visible()
        count = questions.count()
        for index in range(count):
            question = questions.nth(index)
            options = question.locator("label.form-check-label")
            options.nth(pace.randrange(options.count())).click()
            answered += 1
            if answered % COMMENT_EVERY == 0:
                question.locator("textarea").click()
                page.keyboard.type("Checked against last month's call log.", delay=35)
            page.wait_for_timeout(1000 * pace.uniform(*PAUSE))
            if index == count // 2:
                page.wait_for_timeout(1000 * LOOK)
        save = page.get_by_role("button", name="Save and continue")
        last = save.count() == 0
        with page.expect_navigation():
            (page.get_by_role("button", name="Save and review") if last else save).click()
        if last:
            break
    page.get_by_label(re.compile("^I have finished")).check()
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_text("Your answers are submitted. Thank you.")).to_be_visible()
    return answered
