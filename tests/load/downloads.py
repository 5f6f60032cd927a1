"""Managers downloading PDF reports under load (the cluster run, issue 16): the download
request must never hold a web worker, whether the report is in the cache or not.

A ``Downloader`` signs in as one of the seed's extra managers (``seed["downloaders"]``) and
downloads the reports of the seed's submitted assessments (``seed["exportable"]``), as the
browser does: the download answers with the PDF (200) or with the progress page (202);
the page's htmx polls it every 2 s until it is ready, then asks once more with
``HX-Trigger: report-download`` and is answered with ``HX-Redirect`` to the PDF, which the
browser fetches (the download again, now from the cache). Every request of the first
kind is named ``DOWNLOAD``, so the printed table's p95 for that row is the figure
(``report.download_check`` judges it).

Imported at the end of ``locustfile.py``; it shares that module's browser and event log.
"""

import os
import random

from locustfile import SEED, Browser, Steps, pause, record

DOWNLOAD = "GET /assessments/<id>/report.pdf (download)"
POLL = "GET /assessments/<id>/report.pdf (progress, htmx)"
START = "GET /assessments/<id>/report.pdf (ready, htmx: HX-Redirect)"
DOWNLOADERS: list[dict[str, str]] = list(SEED.get("downloaders", []))
ASSESSMENTS: list[int] = list(SEED.get("exportable", []))
POLLS = 60  # two minutes of polling at most, as a person would give up


class Downloader(Browser):
    """A manager downloading the team reports (the cluster run, beside the consultants)."""

    fixed_count = len(DOWNLOADERS) if os.environ.get("LOAD_CONSULTANTS", "0") != "0" else 0

    def journey(self) -> Steps:
        login = DOWNLOADERS.pop()
        signed_in = yield from self.sign_in(login)
        if signed_in.status_code != 302:
            record(e="downloader-login-failed", s=signed_in.status_code)
            return
        while True:
            yield from self.download(random.choice(ASSESSMENTS))  # noqa: S311 - simulated people
            yield pause(3.0, 6.0)

    def download(self, pk: int) -> Steps:
        url = f"/assessments/{pk}/report.pdf"
        first = self.call("GET", url, DOWNLOAD, ok=(200, 202))
        record(e="report", pk=pk, s=first.status_code, cached=first.status_code == 200)
        if first.status_code != 202:
            return
        for _poll in range(POLLS):
            yield pause(1.8, 2.2)  # hx-trigger="every 2s"
            polled = self.call(
                "GET",
                url,
                POLL,
                ok=(200, 202),
                headers={"HX-Request": "true", "HX-Trigger": "report-progress"},
            )
            if polled.status_code != 202:
                break
        else:
            record(e="report-gave-up", pk=pk)
            return
        if 'id="report-download"' not in (polled.text or ""):
            record(e="report-failed", pk=pk)  # the page says the render failed or stopped
            return
        started = self.call(
            "GET",
            url,
            START,
            ok=(204,),
            headers={"HX-Request": "true", "HX-Trigger": "report-download"},
        )
        if started.status_code == 204:
            pdf = self.call("GET", started.headers.get("HX-Redirect", url), DOWNLOAD, ok=(200,))
            record(e="report", pk=pk, s=pdf.status_code, cached=True, after_progress=True)
