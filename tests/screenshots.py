"""Screenshots of the demo for docs/images (``make screenshots``).

From the demo data (``seed_demo``) on a throwaway SQLite database, under production-like
settings (DEBUG=0, no debug toolbar or debug static serving: whitenoise serves the static
files), it writes:

- ``results.png``: the manager's results page, its first framework (chart and table);
- ``assessor-workspace.png``: the assessor's review workspace at desktop width;
- ``report-summary.png`` and ``report-chart.png``: two pages of the PDF report
  (``pdftoppm``): the executive summary and the first framework's chapter with its chart.

Chromium is Debian's (``/usr/bin/chromium`` or on PATH), launched with the flags of
tests/browser/conftest.py. Run: ``python -m tests.screenshots [output-directory]``.
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 1280


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(directory: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "assessment.settings",
        "DATABASE_URL": f"sqlite:///{directory / 'demo.sqlite3'}",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "HTTPS": "0",  # plain HTTP on this machine; everything else as in production
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        # Static files from the source tree through whitenoise, without a collectstatic
        # into the working tree.
        "STATICFILES_MANIFEST": "0",
        "WHITENOISE_USE_FINDERS": "1",
    }


def _wait_for(url: str, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("The demo server stopped before it answered.")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own server
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"The demo server did not answer at {url}.")


def _sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.wait_for_load_state()


def _pdf_page_png(pdf: Path, page_number: int, target: Path) -> None:
    stem = target.with_suffix("")
    subprocess.run(  # noqa: S603 - poppler on our own file
        [
            shutil.which("pdftoppm"),
            "-png",
            "-r",
            "96",
            "-singlefile",
            "-f",
            str(page_number),
            "-l",
            str(page_number),
            str(pdf),
            str(stem),
        ],
        check=True,
    )


def main(output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sb-screenshots-") as name:
        directory = Path(name)
        port = _free_port()
        env = _environment(directory, port)
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        call_command("load_frameworks", verbosity=0)
        call_command("seed_demo", allow_without_debug=True, stdout=open(os.devnull, "w"))  # noqa: SIM115

        from assessment import reports
        from assessment.management.commands.seed_demo import DEMO_PASSWORD
        from assessment.models import Assessment
        from tests.pdf import pdf_pages

        spring = Assessment.objects.get(title="Spring service review")
        server = subprocess.Popen(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(f"{base}/health/", server)
            _browser_shots(base, spring.pk, DEMO_PASSWORD, output)
        finally:
            server.terminate()
            server.wait(timeout=10)

        report = reports.render_report(spring)
        pdf = directory / "report.pdf"
        pdf.write_bytes(report.pdf)
        if os.environ.get("SCREENSHOTS_KEEP_PDF"):  # for a closer look
            shutil.copy(pdf, os.environ["SCREENSHOTS_KEEP_PDF"])
        pages = pdf_pages(report.pdf)
        summary = next(
            i for i, text in enumerate(pages, 1) if "Executive summary" in text and i > 2
        )
        chart = next(i for i, text in enumerate(pages, 1) if "Rings: levels" in text)
        _pdf_page_png(pdf, summary, output / "report-summary.png")
        _pdf_page_png(pdf, chart, output / "report-chart.png")
    for name in ("results", "assessor-workspace", "report-summary", "report-chart"):
        print(output / f"{name}.png")


def _browser_shots(base: str, spring_pk: int, password: str, output: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(locale="en-GB", viewport={"width": WIDTH, "height": 900})
            page = context.new_page()
            _sign_in(page, base, "manager", password)
            page.goto(f"{base}/assessments/{spring_pk}/results/")
            page.locator(".results-panel").first.screenshot(path=str(output / "results.png"))
            context.close()

            context = browser.new_context(locale="en-GB", viewport={"width": WIDTH, "height": 1400})
            page = context.new_page()
            _sign_in(page, base, "assessor", password)
            page.goto(f"{base}/reviews/{spring_pk}/")
            page.screenshot(path=str(output / "assessor-workspace.png"), full_page=False)
            context.close()
        finally:
            browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images")
