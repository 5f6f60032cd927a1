"""Benchmarks, run by `make bench` (not part of the test suite). Each line states a figure.

Speed is measured here, on real databases, rather than asserted in timed unit tests.
"""

import io
import os
import statistics
import tempfile
import time
from pathlib import Path

RUNS = 7


def _setup_django(database: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assessment.settings")
    import django

    django.setup()


def _median_ms(action, runs: int = RUNS) -> tuple[float, float, float]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings), min(timings), max(timings)


def _big_assessment(respondents: int):
    """One assessment with all four frameworks and ``respondents`` complete responses."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from assessment.models import Answer, Assessment, Invitation, Response, token_digest
    from frameworks.models import Framework, Question
    from tests.factories import make_organisation, make_team

    organisation = make_organisation("Bench Ltd")
    team = make_team(organisation, "Everyone")
    assessment = Assessment.objects.create(
        organisation=organisation,
        team=team,
        title="Benchmark",
        # Submitted: team results (and so the scoring) only run for closed assessments.
        status=Assessment.Status.SUBMITTED,
        created_by=organisation.manager,
    )
    # The newest version of each framework, as a new assessment gets: format 2, scored by
    # formula 2 (intervals, agreement and distributions from the same SQL sums).
    assessment.framework_versions.set(
        Framework.objects.get(slug=slug).latest_version()
        for slug in Framework.objects.values_list("slug", flat=True)
    )
    expiry = timezone.now() + timedelta(days=30)
    invitations = Invitation.objects.bulk_create(
        Invitation(
            assessment=assessment,
            email=f"person{n}@bench.example",
            token_hash=token_digest(f"bench-{n}"),
            token_expires_at=expiry,
        )
        for n in range(respondents)
    )
    responses = Response.objects.bulk_create(
        Response(
            assessment=assessment,
            invitation=i,
            status=Response.Status.COMPLETED,
            completed_round=1,
        )
        for i in invitations
    )
    questions = list(Question.objects.filter(version__assessments=assessment).asked_of("team"))
    rng = random.Random(1)  # noqa: S311 - benchmark data
    answers = (
        Answer(
            response=r,
            question=q,
            section_id=q.section_id,
            level=None if rng.random() < 0.05 else rng.randint(0, 5),
            not_applicable=False,
        )
        for r in responses
        for q in questions
    )
    batch: list[Answer] = []
    for answer in answers:
        answer.not_applicable = answer.level is None
        # Completed answers: the submitted copy is what team figures count.
        answer.submitted_level = answer.level
        answer.submitted_not_applicable = answer.not_applicable
        batch.append(answer)
        if len(batch) == 5000:
            Answer.objects.bulk_create(batch)
            batch = []
    Answer.objects.bulk_create(batch)
    return assessment, len(questions)


PAGE_CLIENTS = 4  # requests in flight at once (c=4)
PAGE_SECONDS = 5.0


def _open_respondents(count: int) -> tuple[list[str], int]:
    """An open six-dimensions assessment (its newest version) with ``count`` invitations:
    their tokens, and the section with the most questions the team is asked."""
    from datetime import timedelta

    from django.db.models import Count, Q
    from django.utils import timezone

    from assessment.models import Assessment, Invitation, token_digest
    from frameworks.models import Framework
    from tests.factories import make_organisation, make_team

    version = Framework.objects.get(slug="six-dimensions").latest_version()
    team = make_team(make_organisation("Pages Ltd"), "Pages")
    assessment = Assessment.objects.create(
        organisation=team.organisation,
        team=team,
        title="Pages",
        status=Assessment.Status.OPEN,
        created_by=team.organisation.manager,
        opened_at=timezone.now(),
    )
    assessment.framework_versions.set([version])
    tokens = [f"bench-page-{n}" for n in range(count)]
    Invitation.objects.bulk_create(
        Invitation(
            assessment=assessment,
            email=f"page{n}@bench.example",
            token_hash=token_digest(token),
            token_expires_at=timezone.now() + timedelta(days=30),
        )
        for n, token in enumerate(tokens)
    )
    section = (
        version.sections.annotate(team=Count("questions", filter=Q(questions__audience="team")))
        .order_by("-team", "position")
        .first()
    )
    return tokens, section.pk


def _bench_pages(database: Path, workdir: Path) -> None:
    """Page throughput over HTTP, as ratios to the hello-world page in the same run:
    gunicorn with two workers and the production settings (tests.benchsite adds only the
    hello-world page), ``PAGE_CLIENTS`` requests in flight."""
    from tests.benchsite.client import Client, throughput
    from tests.load import infra

    tokens, section_pk = _open_respondents(PAGE_CLIENTS)
    env = infra.app_env(f"sqlite:///{database}", DJANGO_SETTINGS_MODULE="tests.benchsite.settings")
    processes = infra.Processes()
    try:
        port = infra.free_port()
        # Each request's own time in the server (microseconds), whatever the client costs.
        infra.start_gunicorn(
            processes, env, port=port, workdir=workdir, extra=("--access-logformat=%(U)s %(D)s",)
        )
        clients = [Client("127.0.0.1", port) for _ in range(PAGE_CLIENTS)]
        sections = []
        for client, token in zip(clients, tokens, strict=True):
            client.get(f"/r/{token}/")
            start = client.get("/r/")
            opened = client.post("/r/", [], page=start.text)
            if opened.status != 302:
                raise SystemExit(
                    f"The bench respondent could not open the questionnaire: {opened.status}"
                )
            response = opened.location.rstrip("/").split("/")[-1]
            sections.append(f"/responses/{response}/sections/{section_pk}/")
        hello = throughput(clients, lambda i: "/bench/hello/", seconds=PAGE_SECONDS)
        section = throughput(clients, lambda i: sections[i], seconds=PAGE_SECONDS)
        hello_again = throughput(clients, lambda i: "/bench/hello/", seconds=PAGE_SECONDS)
        for client in clients:
            client.close()
    finally:
        processes.stop_all()
    served = _server_times(workdir / f"access-{port}.log")
    hello_us = statistics.median(served["/bench/hello/"])
    section_us = statistics.median(
        t for path, times in served.items() if "/sections/" in path for t in times
    )
    print(
        f"section page (six dimensions' largest team section), c={PAGE_CLIENTS}: the server "
        f"spends {section_us / 1000:.1f} ms on it against {hello_us / 1000:.2f} ms on the "
        f"hello-world page: {100 * hello_us / section_us:.1f} % of hello-world's rate "
        f"(target >= 10 %); client-side {section:.0f} req/s against {hello:.0f} and "
        f"{hello_again:.0f} (gunicorn, 2 workers, production settings, SQLite; medians)"
    )


def _server_times(access_log: Path) -> dict[str, list[int]]:
    """Path -> the server's time for each request (microseconds), from the access log
    written as "%(U)s %(D)s"."""
    times: dict[str, list[int]] = {}
    for line in access_log.read_text().splitlines():
        path, _, micros = line.rpartition(" ")
        if micros.isdigit():
            times.setdefault(path, []).append(int(micros))
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        _setup_django(Path(folder) / "bench.sqlite3")
        from django.core.management import call_command

        from assessment.selectors.results import assessment_results

        call_command("migrate", verbosity=0)
        call_command("load_frameworks", stdout=io.StringIO())
        respondents = 1000
        assessment, questions = _big_assessment(respondents)

        scored = assessment_results(assessment)
        if not scored.visible or len(scored.panels) != 4:
            raise SystemExit("The benchmark assessment shows no results: nothing would be scored.")
        median, low, high = _median_ms(lambda: assessment_results(assessment))
        print(
            f"scoring: {respondents:,} respondents x 4 frameworks ({questions} questions, "
            f"{respondents * questions:,} answers) on SQLite: median {median:.1f} ms "
            f"(min {low:.1f}, max {high:.1f}, {RUNS} runs; target <= 100 ms)"
        )
        _bench_report(assessment)
        _bench_pages(Path(folder) / "bench.sqlite3", Path(folder))


def _bench_report(assessment) -> None:
    """Full report export against bare WeasyPrint on the same HTML, and the cached export."""
    from django.conf import settings
    from weasyprint import HTML

    from assessment import reports
    from assessment.models import ReportCache

    runs = 5

    def full() -> None:
        ReportCache.objects.all().delete()
        reports.render_report(assessment)

    # The same HTML, its stylesheet read straight from static/ by WeasyPrint's own fetcher.
    html = reports.report_html(assessment, viewer_id=None).replace(
        reports.STYLESHEET_URL, (settings.BASE_DIR / "static/css/report.css").as_uri()
    )

    def bare() -> None:
        HTML(string=html).write_pdf(pdf_variant=reports.PDF_VARIANT)

    full_ms, full_low, full_high = _median_ms(full, runs)
    bare_ms, bare_low, bare_high = _median_ms(bare, runs)
    reports.render_report(assessment)
    cached_ms, _low, _high = _median_ms(lambda: reports.render_report(assessment))
    print(
        f"report: full export {full_ms:.0f} ms (min {full_low:.0f}, max {full_high:.0f}); "
        f"bare WeasyPrint on the same HTML {bare_ms:.0f} ms (min {bare_low:.0f}, "
        f"max {bare_high:.0f}); ratio {full_ms / bare_ms:.2f} (target <= 1.3); "
        f"cached export {cached_ms:.1f} ms (target <= 50 ms); median of {runs} runs"
    )


if __name__ == "__main__":
    main()
