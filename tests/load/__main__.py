"""The load and fault runs: ``python -m tests.load load``, ``python -m tests.load fault``
and ``python -m tests.load customers``.

``load`` runs 50 simulated respondents for 60 s against gunicorn (2 workers) three
times: on SQLite, on PostgreSQL, and on PostgreSQL as a small cluster (two gunicorn
instances with the requests spread across both, and two ``db_worker`` processes
making bulk exports at the same time); then the customer run on SQLite and on
PostgreSQL: 500 customers, each from its own address, answering a customer survey
through its public link within 60 s. ``customers`` runs only the customer run.
``fault`` stops PostgreSQL for 10 s, 30 s into 90 s of load. Each run prints requests,
failures and p50/p95 per endpoint, then checks the database against what the server
acknowledged, and the whole command exits non-zero if any check fails.

Everything lives in a temporary folder (kept, with its logs, when a check fails)
and every process started is stopped at the end, pass or fail.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from tests.load import infra, report
from tests.load.report import Outcome

USERS = 50
SPAWN_RATE = 10
DURATION = 60
FAULT_DURATION = 90
CONSULTANTS = 2
WORKERS = 2
# Enough links for every respondent to finish one questionnaire and take more.
INVITATIONS = 400
GRACE = 20  # seconds between the users' last request and the end of the locust run
LOCUSTFILE = infra.ROOT / "tests" / "load" / "locustfile.py"
# The customer run (tests/load/customers.py): this many customers send their answers
# within CUSTOMER_DURATION seconds, through a pool of CUSTOMER_USERS browsers, more than
# are ever busy at once even when answers are slow, so no customer waits for one. The app's
# minimum time from page to submission (CUSTOMER_MIN_SECONDS, 8 s in production) is
# lowered for the run, so that the customers' time on the page, and with it the number
# of simulated browsers, stays small; the check of that time runs all the same.
CUSTOMERS = 500
CUSTOMER_DURATION = 60
CUSTOMER_USERS = 150
CUSTOMER_MIN_SECONDS = 1


@dataclass
class Scenario:
    title: str
    key: str
    database_url: str
    nodes: int = 1
    workers: int = 0
    consultants: int = 0
    postgres: infra.Postgres | None = None
    outage: tuple[float, float] | None = None  # (seconds after the start, length)
    customers: int = 0  # the customer run: this many customers instead of respondents
    min_seconds: int = CUSTOMER_MIN_SECONDS
    duration: int | None = None  # seconds of load, when not the command's --duration

    @property
    def customer_run(self) -> bool:
        return self.customers > 0

    @property
    def sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


# --- steps that run inside Django (child processes with the run's environment) ----


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assessment.settings")
    import django

    django.setup()


def step_seed(args: argparse.Namespace) -> None:
    _django()
    from tests.load.seed import seed, seed_customers

    if args.customers:
        data = seed_customers(customers=args.customers)
    else:
        data = seed(invitations=args.invitations, consultants=args.consultants)
    Path(args.out).write_text(json.dumps(data))


def step_verify(args: argparse.Namespace) -> None:
    _django()
    from tests.load import verify

    events = report.read_events(Path(args.events))
    result: dict = {}
    if args.survey:
        result["customers"] = verify.customers_check(events, args.survey)
        Path(args.out).write_text(json.dumps(result, default=str))
        return
    if args.tasks:
        result["tasks_drained"] = verify.wait_for_tasks(args.wait)
        result["tasks"] = verify.tasks_check(events)
    result["answers"] = verify.answers_check(events)
    Path(args.out).write_text(json.dumps(result, default=str))


def _step(env: dict, *args: str, log: Path, timeout: float) -> None:
    with log.open("ab") as out:
        subprocess.run(  # noqa: S603 - our own command
            [sys.executable, "-m", "tests.load", *args],
            cwd=infra.ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=timeout,
        )


# --- one scenario -------------------------------------------------------------------


def run_scenario(scenario: Scenario, workdir: Path, *, users: int, duration: int) -> Outcome:
    """Set up, load, verify and judge one scenario; its processes stop whatever happens."""
    outcome = Outcome(scenario.title)
    run_dir = workdir / scenario.key
    run_dir.mkdir()
    setup_log = run_dir / "setup.log"
    processes = infra.Processes()
    ports = [infra.free_port() for _ in range(scenario.nodes)]
    env = infra.app_env(
        scenario.database_url,
        SITE_URL=f"http://127.0.0.1:{ports[0]}",
        **({"TASKS_BACKEND": "django_tasks_db.DatabaseBackend"} if scenario.workers else {}),
        # The customers' addresses come in X-Forwarded-For, as from a proxy in front.
        **(
            {"TRUSTED_PROXY_COUNT": "1", "CUSTOMER_MIN_SECONDS": str(scenario.min_seconds)}
            if scenario.customer_run
            else {}
        ),
    )
    worker_logs: list[Path] = []
    outage: dict = {}
    try:
        started = time.monotonic()
        infra.manage(env, "migrate", "--no-input", log=setup_log)
        infra.manage(env, "load_frameworks", log=setup_log)
        seed_file = run_dir / "seed.json"
        _step(
            env,
            "seed",
            f"--invitations={INVITATIONS}",
            f"--consultants={scenario.consultants}",
            f"--customers={scenario.customers}",
            f"--out={seed_file}",
            log=setup_log,
            timeout=300,
        )
        seed = json.loads(seed_file.read_text())
        if scenario.customer_run:
            print(
                f"  set up in {time.monotonic() - started:.0f} s: survey {seed['survey']} with"
                f" {seed['attributes']} attributes, {scenario.customers} customers to come"
            )
        else:
            print(f"  set up in {time.monotonic() - started:.0f} s: {len(seed['tokens'])} links")

        nodes = [infra.start_gunicorn(processes, env, port=port, workdir=run_dir) for port in ports]
        for number in range(1, scenario.workers + 1):
            worker_logs.append(
                infra.start_worker(processes, env, name=f"worker-{number}", workdir=run_dir)
            )
        pids_before = {node.url: node.pids() for node in nodes}

        events_file = run_dir / "events.jsonl"
        csv_prefix = run_dir / "locust"
        # Managers downloading reports (tests/load/downloads.py) come with the consultants.
        downloaders = len(seed.get("downloaders", []))
        classes = ["Respondent"] + (["Consultant", "Downloader"] if scenario.consultants else [])
        spawn_rate = SPAWN_RATE
        if scenario.customer_run:
            # All the browsers at once: the customers' own schedule sets the pace.
            classes, users, spawn_rate = ["Customer"], CUSTOMER_USERS, CUSTOMER_USERS
        locust_env = {
            **os.environ,
            "LOAD_HOSTS": ",".join(node.url for node in nodes),
            "LOAD_SEED": str(seed_file),
            "LOAD_EVENTS": str(events_file),
            "LOAD_CONSULTANTS": str(scenario.consultants),
            "LOAD_DURATION": str(duration),
            "LOAD_CUSTOMERS": str(scenario.customers),
            "LOAD_CUSTOMER_MIN_SECONDS": str(scenario.min_seconds),
        }
        locust = processes.start(
            "locust",
            [
                str(infra.BIN / "locust"),
                f"--locustfile={LOCUSTFILE}",
                "--headless",
                "--only-summary",
                f"--users={users + scenario.consultants + downloaders}",
                f"--spawn-rate={spawn_rate}",
                # The users stop sending after `duration`; then the requests in flight
                # get their answers before locust's own limit ends the run.
                f"--run-time={duration + GRACE}s",
                "--stop-timeout=5",
                f"--csv={csv_prefix}",
                f"--host={nodes[0].url}",
                "--exit-code-on-error=0",
                *classes,
            ],
            env=locust_env,
            log=run_dir / "locust.log",
        )
        locust_started = time.time()
        if scenario.outage:
            outage = _outage(scenario, nodes[0], locust_started)
        try:
            code = locust.wait(timeout=duration + 90)
        except subprocess.TimeoutExpired:
            processes.stop(locust)
            code = None
        outcome.check("locust ran for its time and stopped", code == 0, f"exit code {code}")
        pids_after = {node.url: node.pids() for node in nodes}
        masters_alive = all(node.process.poll() is None for node in nodes)

        verify_file = run_dir / "verify.json"
        _step(
            env,
            "verify",
            f"--events={events_file}",
            f"--out={verify_file}",
            *(["--tasks", "--wait=150"] if scenario.workers else []),
            *([f"--survey={seed['survey']}"] if scenario.customer_run else []),
            log=run_dir / "verify.log",
            timeout=240,
        )
        processes.stop_all()  # flushes the logs before they are read
        judge = _judge_customers if scenario.customer_run else _judge
        judge(
            outcome,
            scenario,
            users=users,
            duration=duration,
            run_dir=run_dir,
            csv_prefix=csv_prefix,
            events=report.read_events(events_file),
            verified=json.loads(verify_file.read_text()),
            worker_logs=worker_logs,
            pids=(pids_before, pids_after, masters_alive),
            outage=outage,
        )
    except Exception as error:  # the run could not be completed: a failed check, not a crash
        outcome.check("the run completed", False, f"{type(error).__name__}: {error}")
    finally:
        processes.stop_all()
    return outcome


def _outage(scenario: Scenario, node: infra.Gunicorn, t0: float) -> dict:
    """Stop PostgreSQL (fast) in the middle of the load, keep it down, start it again;
    meanwhile ask /health/ what the app says."""
    at, length = scenario.outage
    time.sleep(max(0.0, t0 + at - time.time()))
    pids_before = node.pids()
    stopping = time.time()
    scenario.postgres.stop("fast")
    stopped = time.time()
    health: list[tuple[float, int]] = []
    while time.time() < stopping + length:
        health.append((round(time.time() - stopping, 1), infra.http_status(f"{node.url}/health/")))
        time.sleep(0.5)
    scenario.postgres.start()
    up = time.time()
    healthy_at = None
    while time.time() < up + 30:
        if infra.http_status(f"{node.url}/health/") == 200:
            healthy_at = time.time()
            break
        time.sleep(0.2)
    return {
        "stopping": stopping,
        "stopped": stopped,
        "up": up,
        "healthy_at": healthy_at,
        "health": health,  # while PostgreSQL was down
        "pids": (sorted(pids_before), sorted(node.pids())),  # just before, and once healthy
    }


def _judge(
    outcome: Outcome,
    scenario: Scenario,
    *,
    users: int,
    duration: int,
    run_dir: Path,
    csv_prefix: Path,
    events: list[dict],
    verified: dict,
    worker_logs: list[Path],
    pids: tuple[dict, dict, bool],
    outage: dict,
) -> None:
    answers = verified["answers"]
    requests = report.request_events(events)
    server_logs = sorted(run_dir.glob("gunicorn-*.log"))
    outcome.endpoints = report.locust_stats(csv_prefix)
    total = next((r for r in outcome.endpoints if r["name"] == "All requests"), None)

    people = f"{users} respondents" + (
        f" and {scenario.consultants} consultants" if scenario.consultants else ""
    )
    setup = (
        f"{scenario.nodes} gunicorn instance{'s' if scenario.nodes > 1 else ''} (2 workers each)"
    )
    if scenario.workers:
        setup += f", {scenario.workers} db_worker processes"
    outcome.lines.append(f"{people} for {duration} s against {setup}.")
    if total:
        outcome.lines.append(
            f"{total['requests']} requests ({total['requests'] / duration:.1f}/s over the"
            f" {duration} s), {total['failures']} failures;"
            f" statuses {report.status_counts(requests)}."
        )
    if scenario.nodes > 1:
        per_host = {}
        for event in requests:
            per_host[event["host"]] = per_host.get(event["host"], 0) + 1
        outcome.lines.append(
            "Requests per instance: " + ", ".join(f"{h}: {n}" for h, n in sorted(per_host.items()))
        )
    outcome.lines.append(
        f"Questionnaires: {answers['questionnaires_opened']} opened,"
        f" {answers['questionnaires_completed']} completed"
        f" ({answers['completed_in_db']} completed in the database),"
        f" {answers['abandoned']} abandoned."
    )
    outcome.lines.append(
        f"Answers: {answers['answers_sent']} sent, {answers['answers_acknowledged']} acknowledged,"
        f" {answers['answers_saved']} in the database with the value sent last,"
        f" {answers['lost']} lost; {answers['answers_in_db']} answer rows in the database."
        f" Save attempts: {_attempts(answers['attempts'])}."
    )

    outcome.check(
        "every acknowledged answer is in the database with the value sent last",
        answers["lost"] == 0 and answers["answers_saved"] == answers["answers_acknowledged"],
        f"{answers['answers_saved']} of {answers['answers_acknowledged']}, lost {answers['lost']}"
        + (f" e.g. {answers['lost_examples'][:2]}" if answers["lost"] else ""),
    )
    outcome.check(
        "answers saved == answers sent (nothing left unsaved at the end)",
        answers["pending_at_end"] == 0
        and answers["answers_saved"] == answers["answers_sent"] == answers["answers_in_db"],
        f"sent {answers['answers_sent']}, saved {answers['answers_saved']},"
        f" rows {answers['answers_in_db']}, still unsaved {answers['pending_at_end']}",
    )
    outcome.check(
        "each save written once (revision = acknowledged saves)",
        answers["revision_mismatches"] == 0,
        f"{answers['revision_mismatches']} mismatches"
        + (f" e.g. {answers['revision_examples'][:2]}" if answers["revision_mismatches"] else ""),
    )
    outcome.check("no answer in the database that nobody sent", answers["phantom"] == 0)
    outcome.check(
        "every acknowledged submission is completed in the database",
        answers["completed_in_db"] == answers["questionnaires_completed"],
        f"{answers['completed_in_db']} of {answers['questionnaires_completed']}",
    )
    tracebacks, died = _judge_server(outcome, scenario, requests, server_logs, worker_logs, pids)

    if not scenario.outage:
        outcome.check(
            "no failed request", total is not None and total["failures"] == 0, _failures(requests)
        )
        report.save_check(outcome)
    if scenario.sqlite:
        _locked_check(outcome, server_logs, requests)
    if scenario.workers:
        _judge_tasks(outcome, verified, worker_logs)
        report.download_check(outcome)
    if scenario.outage:
        _judge_outage(outcome, requests, outage, answers, workers_died=died)
    warnings = report.count_in_logs(server_logs, "WARNING")
    outcome.lines.append(f"Server log: {warnings} WARNING lines, {tracebacks} tracebacks.")


def _judge_server(
    outcome: Outcome,
    scenario: Scenario,
    requests: list[dict],
    server_logs: list[Path],
    worker_logs: list[Path],
    pids: tuple[dict, dict, bool],
) -> tuple[int, int]:
    """The checks of the server itself; returns the tracebacks logged and the workers that
    died."""
    tracebacks = report.count_in_logs(server_logs + worker_logs, "Traceback")
    outcome.check("no Traceback in the gunicorn and worker logs", tracebacks == 0, f"{tracebacks}")
    errors_500 = sum(1 for e in requests if e["s"] >= 500 and e["s"] != 503)
    outcome.check("no 500 responses", errors_500 == 0, f"{errors_500}")
    body_tracebacks = sum(1 for e in requests if e.get("tb"))
    outcome.check("no traceback in any response body", body_tracebacks == 0, f"{body_tracebacks}")
    # Workers are recycled after about 2,000 requests (max_requests in gunicorn_conf.py);
    # any other new worker means one died (timeout, killed, crashed).
    before, after, masters_alive = pids
    extra_boots = report.count_in_logs(server_logs, "Booting worker") - 2 * scenario.nodes
    recycled = report.count_in_logs(server_logs, "Autorestarting worker")
    died = sum(
        report.count_in_logs(server_logs, needle)
        for needle in ("WORKER TIMEOUT", "SIGKILL", "exited with code")
    )
    unchanged = sum(len(before[url] & after[url]) for url in before)
    outcome.check(
        "gunicorn kept running: same masters, no worker died (only max_requests recycling)",
        masters_alive and died == 0 and extra_boots == recycled,
        f"{len(before)} master(s) alive: {masters_alive}; {died} workers died;"
        f" {recycled} recycled after max_requests; {unchanged} of"
        f" {sum(len(p) for p in before.values())} processes kept their pid",
    )
    boots = report.count_in_logs(server_logs, "Booting worker")
    warmed = report.count_in_logs(server_logs, "Worker warmed")
    outcome.check(
        "each worker warmed before its first request (assessment.warmup)",
        warmed == boots,
        f"{warmed} of {boots} workers",
    )
    return tracebacks, died


def _locked_check(outcome: Outcome, server_logs: list[Path], requests: list[dict]) -> None:
    locked = report.count_in_logs(server_logs, "database is locked") + sum(
        1 for e in requests if "locked" in e.get("body", "")
    )
    outcome.check('no "database is locked"', locked == 0, f"{locked}")


def _judge_customers(
    outcome: Outcome,
    scenario: Scenario,
    *,
    users: int,
    duration: int,
    run_dir: Path,
    csv_prefix: Path,
    events: list[dict],
    verified: dict,
    worker_logs: list[Path],
    pids: tuple[dict, dict, bool],
    outage: dict,
) -> None:
    """The customer run: every customer's submission accepted and stored as sent, none
    refused, all within the run's time, and the server unharmed."""
    found = verified["customers"]
    expected = scenario.customers
    requests = report.request_events(events)
    server_logs = sorted(run_dir.glob("gunicorn-*.log"))
    outcome.endpoints = report.locust_stats(csv_prefix)
    rows = {r["name"]: r for r in outcome.endpoints}
    total, submit = rows.get("All requests"), rows.get(report.CUSTOMER_SUBMIT)
    refused = sum(found["refused"].values())
    starts = [e["t"] for e in events if e["e"] == "customer-start"]
    late = max((e["late"] for e in events if e["e"] == "customer-start"), default=0.0)
    accepted_at = [e["t"] for e in events if e["e"] == "customer" and e["s"] == 302]
    window = max(accepted_at) - min(starts) if starts and accepted_at else None

    outcome.lines.append(
        f"{expected} customers, each from its own address (X-Forwarded-For with"
        f" TRUSTED_PROXY_COUNT=1), arriving evenly over {0.8 * duration:.0f} s through"
        f" {users} simulated browsers, against 1 gunicorn instance (2 workers)."
        f" CUSTOMER_MIN_SECONDS={scenario.min_seconds} for the run (8 in production): each"
        f" customer sends {scenario.min_seconds + 0.5:g} to {scenario.min_seconds + 3:g} s"
        f" after the page arrived."
    )
    if total:
        outcome.lines.append(
            f"{total['requests']} requests ({total['requests'] / duration:.1f}/s over the"
            f" {duration} s), {total['failures']} failures;"
            f" statuses {report.status_counts(requests)}."
        )
    outcome.lines.append(
        f"Submissions: p50 {submit['p50'] if submit else '-'} ms,"
        f" p95 {submit['p95'] if submit else '-'} ms; {found['posted']} sent,"
        f" {found['accepted']} accepted (302), {found['stored']} stored, {refused} refused"
        f" ({_attempts(found['refused'])}); from the first page to the last accepted"
        f" submission {window or float('nan'):.1f} s; stored over"
        f" {found['stored_seconds'] or float('nan'):.1f} s; the latest customer opened the"
        f" page {late:.2f} s after its time."
    )
    outcome.lines.append(
        f"Throttle: {found['throttle_rows']} address rows, at most {found['throttle_most']}"
        f" submission per address; {found['addresses']} addresses sent."
    )

    outcome.check(
        f"all {expected} customers sent their answers",
        found["customers"] == found["posted"] == expected,
        f"{found['posted']} of {expected} sent, {found['gave_up']} could not",
    )
    outcome.check(
        f"the submissions came within {duration} s",
        window is not None and window <= duration,
        f"{window or float('nan'):.1f} s from the first page to the last accepted submission",
    )
    outcome.check(
        "no failed request: no 5xx, no connection error, every page 200, every POST 302",
        total is not None
        and total["failures"] == 0
        and all(e["s"] in (200, 302) for e in requests)
        and found["statuses"] == {"302": found["posted"]},
        _failures(requests),
    )
    outcome.check(
        f"stored == accepted == {expected}",
        found["stored"] == found["accepted"] == expected,
        f"stored {found['stored']}, accepted {found['accepted']}",
    )
    outcome.check(
        "each stored row is an accepted submission, as sent",
        found["stored_not_sent"] == 0 and found["sent_not_stored"] == 0,
        f"{found['stored_not_sent']} rows nobody sent, {found['sent_not_stored']} submissions"
        " not stored",
    )
    outcome.check(
        "refused == 0 (the survey's counters)",
        refused == 0,
        f"{refused}: {_attempts(found['refused'])}",
    )
    outcome.check(
        "each customer counted under its own address (X-Forwarded-For)",
        found["addresses"] == expected and found["throttle_most"] == 1,
        f"{found['addresses']} addresses, at most {found['throttle_most']} per address",
    )
    tracebacks, _died = _judge_server(outcome, scenario, requests, server_logs, worker_logs, pids)
    if scenario.sqlite:
        _locked_check(outcome, server_logs, requests)
    warnings = report.count_in_logs(server_logs, "WARNING")
    outcome.lines.append(f"Server log: {warnings} WARNING lines, {tracebacks} tracebacks.")


def _attempts(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def _failures(requests: list[dict]) -> str:
    failed = [e for e in requests if e["s"] not in (200, 302)]
    if not failed:
        return "0"
    return f"{len(failed)}: " + report.status_counts(failed)


def _judge_tasks(outcome: Outcome, verified: dict, worker_logs: list[Path]) -> None:
    tasks = verified["tasks"]
    started = report.tasks_started(worker_logs)
    ran_once = all(started.get(task_id, 0) == 1 for task_id in tasks["task_ids"])
    outcome.lines.append(
        f"Bulk exports: {tasks['exports_acknowledged']} acknowledged to the consultants,"
        f" {tasks['exports_in_db']} in the database ({_attempts(tasks['export_status'])}),"
        f" {tasks['reports_rendered']} reports in their ZIPs; {tasks['task_rows']} task rows"
        f" ({_attempts(tasks['task_status'])});"
        f" tasks per worker: {_attempts(tasks['tasks_per_worker'])};"
        f" at most {tasks['most_at_once']} running at once."
    )
    outcome.check("the task queue drained after the load", verified["tasks_drained"])
    outcome.check(
        "every acknowledged export is in the database",
        not tasks["exports_missing"] and tasks["exports_acknowledged"] > 0,
        f"{tasks['exports_acknowledged']} acknowledged, missing {tasks['exports_missing']}",
    )
    outcome.check(
        "every export has exactly one task, claimed by exactly one worker",
        not tasks["exports_without_task"]
        and not tasks["exports_with_several_tasks"]
        and set(tasks["claims_per_task"]) == {"1"}
        and tasks["task_rows"] == tasks["exports_in_db"],
        f"claims per task {tasks['claims_per_task']}, without task {tasks['exports_without_task']},"
        f" with several {tasks['exports_with_several_tasks']}",
    )
    outcome.check(
        "each task started once (worker logs)",
        ran_once and sum(started.values()) == tasks["task_rows"],
        f"{sum(started.values())} starts for {tasks['task_rows']} tasks",
    )
    outcome.check(
        "every export finished complete (done == total, ZIP stored, task successful)",
        not tasks["exports_incomplete"]
        and tasks["task_status"].get("SUCCESSFUL", 0) == tasks["task_rows"],
        f"incomplete {tasks['exports_incomplete']}",
    )
    outcome.check(
        "both workers ran exports",
        len(tasks["tasks_per_worker"]) == WORKERS,
        _attempts(tasks["tasks_per_worker"]),
    )


def _judge_outage(
    outcome: Outcome, requests: list[dict], outage: dict, answers: dict, *, workers_died: int
) -> None:
    if not outage:
        outcome.check("PostgreSQL was stopped and started", False, "the outage did not happen")
        return
    stopping, up, healthy_at = outage["stopping"], outage["up"], outage["healthy_at"]
    during = [e for e in requests if stopping <= e["t"] <= up]
    after = [e for e in requests if e["t"] > up + 2]
    failed_during = [e for e in during if e["s"] not in (200, 302)]
    outcome.lines.append(
        f"PostgreSQL stopped (pg_ctl stop -m fast) {outage['stopped'] - stopping:.1f} s after"
        f" the call, down for {up - stopping:.1f} s; /health/ was 200 again"
        f" {(healthy_at - up) if healthy_at else float('nan'):.1f} s after pg_ctl start returned."
    )
    outcome.lines.append(
        f"During the outage: {len(during)} requests, statuses {report.status_counts(during)}."
        f" After it (from 2 s on): {len(after)} requests, statuses {report.status_counts(after)}."
    )
    outcome.lines.append(
        f"Answers whose save failed and that were saved by a later attempt:"
        f" {answers['saved_after_a_failed_attempt']}."
    )
    health = [{"s": status} for _t, status in outage["health"]]
    outcome.lines.append(f"/health/ polled during the outage: {report.status_counts(health)}.")
    outcome.check(
        "the app answered 503 during the outage",
        failed_during
        and all(e["s"] == 503 for e in failed_during)
        and all(e["s"] == 503 for e in health),
        (report.status_counts(failed_during) or "no failed request in the outage")
        + f"; /health/ {report.status_counts(health)}",
    )
    pids_before, pids_after = outage["pids"]
    outcome.check(
        "requests succeed again after PostgreSQL is back, without restarting gunicorn",
        healthy_at is not None
        and after
        and all(e["s"] in (200, 302) for e in after)
        and pids_before == pids_after
        and workers_died == 0,
        f"gunicorn pids {pids_before} before the outage, {pids_after} once healthy again;"
        f" afterwards {report.status_counts(after) or 'no request'}",
    )


# --- the commands -------------------------------------------------------------------


def _machine() -> list[str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    # Versions from the metadata: importing locust here would monkey-patch this process.
    return [
        f"Date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"Machine: {os.cpu_count()} cores ({cpu}), load average at the start"
        f" {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"Python {platform.python_version()}, Django {version('django')},"
        f" gunicorn {version('gunicorn')}, locust {version('locust')},"
        f" psycopg {version('psycopg')}, SQLite {sqlite3.sqlite_version}",
    ]


def command(args: argparse.Namespace) -> int:
    print("\n".join(_machine()))
    workdir = Path(tempfile.mkdtemp(prefix=f"sb-{args.command}-"))
    workdir.chmod(0o755)  # the postgres user keeps its cluster in here
    print(f"Working folder: {workdir}")
    outcomes: list[Outcome] = []
    postgres: infra.Postgres | None = None
    try:
        if args.command == "load":
            wanted = args.only.split(",")
        elif args.command == "customers":
            wanted = [f"customers-{database}" for database in args.only.split(",")]
        else:
            wanted = ["fault"]
        if {"postgres", "cluster", "fault", "customers-postgres"} & set(wanted):
            postgres = infra.Postgres(root=workdir / "pg", port=infra.free_port())
            postgres.init()
            print(f"PostgreSQL {postgres.version()} on 127.0.0.1:{postgres.port}")
        scenarios = []
        if "sqlite" in wanted:
            scenarios.append(Scenario("SQLite", "sqlite", f"sqlite:///{workdir / 'load.sqlite3'}"))
        if "postgres" in wanted:
            scenarios.append(
                Scenario("PostgreSQL", "postgres", postgres.create_database("load_single"))
            )
        if "cluster" in wanted:
            scenarios.append(
                Scenario(
                    "PostgreSQL cluster: 2 gunicorn instances + 2 db_workers",
                    "cluster",
                    postgres.create_database("load_cluster"),
                    nodes=2,
                    workers=WORKERS,
                    consultants=CONSULTANTS,
                )
            )
        if "fault" in wanted:
            scenarios.append(
                Scenario(
                    f"PostgreSQL fault: stopped for {args.outage:g} s after {args.outage_at:g} s",
                    "fault",
                    postgres.create_database("load_fault"),
                    postgres=postgres,
                    outage=(args.outage_at, args.outage),
                )
            )
        # The customer run: the `customers` command's options, or its defaults in `load`.
        customers = {
            "customers": getattr(args, "customers", CUSTOMERS),
            "min_seconds": getattr(args, "min_seconds", CUSTOMER_MIN_SECONDS),
            "duration": args.duration if args.command == "customers" else CUSTOMER_DURATION,
        }
        title = (
            f"Customers: {customers['customers']} submissions through the public link"
            f" within {customers['duration']} s"
        )
        if "customers-sqlite" in wanted:
            scenarios.append(
                Scenario(
                    f"{title}, SQLite",
                    "customers-sqlite",
                    f"sqlite:///{workdir / 'customers.sqlite3'}",
                    **customers,
                )
            )
        if "customers-postgres" in wanted:
            scenarios.append(
                Scenario(
                    f"{title}, PostgreSQL",
                    "customers-postgres",
                    postgres.create_database("load_customers"),
                    **customers,
                )
            )
        for scenario in scenarios:
            print(f"\n== {scenario.title} ==")
            outcome = run_scenario(
                scenario,
                workdir,
                users=CUSTOMER_USERS if scenario.customer_run else args.users,
                duration=scenario.duration or args.duration,
            )
            report.print_outcome(outcome)
            outcomes.append(outcome)
    finally:
        if postgres is not None:
            if (postgres.root / "server.log").exists():
                shutil.copy(postgres.root / "server.log", workdir / "postgres.log")
            postgres.destroy()
    ok = bool(outcomes) and all(outcome.ok for outcome in outcomes)
    print(f"\nLoad average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for outcome in outcomes:
        print(f"  {'PASS' if outcome.ok else 'FAIL'}  {outcome.title}")
    if ok and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"Logs and data kept in {workdir}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.load", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("load", "SQLite, PostgreSQL and the cluster under load, then the customer run"),
        ("fault", "PostgreSQL stopped in the middle of the load"),
        ("customers", "only the customer run: customers answering through the public link"),
    ):
        sub = commands.add_parser(name, help=help_text)
        # The fault run lasts longer: the outage delays everyone, and the respondents
        # should still get to submit after it.
        default = {"load": DURATION, "fault": FAULT_DURATION}.get(name, CUSTOMER_DURATION)
        sub.add_argument("--duration", type=int, default=default, help="seconds of load")
        sub.add_argument("--keep", action="store_true", help="keep the working folder")
        if name == "customers":
            sub.add_argument("--customers", type=int, default=CUSTOMERS)
            sub.add_argument(
                "--min-seconds",
                type=int,
                default=CUSTOMER_MIN_SECONDS,
                help="the app's CUSTOMER_MIN_SECONDS for the run",
            )
            sub.add_argument("--only", default="sqlite,postgres", help="comma-separated databases")
            continue
        sub.add_argument("--users", type=int, default=USERS)
        if name == "load":
            sub.add_argument(
                "--only",
                default="sqlite,postgres,cluster,customers-sqlite,customers-postgres",
                help="comma-separated scenarios",
            )
        else:
            sub.add_argument("--outage-at", type=float, default=30, help="seconds into the load")
            sub.add_argument("--outage", type=float, default=10, help="seconds PostgreSQL is down")
    seed = commands.add_parser("seed", help=argparse.SUPPRESS)
    seed.add_argument("--invitations", type=int, required=True)
    seed.add_argument("--consultants", type=int, default=0)
    seed.add_argument("--customers", type=int, default=0)
    seed.add_argument("--out", required=True)
    verify = commands.add_parser("verify", help=argparse.SUPPRESS)
    verify.add_argument("--events", required=True)
    verify.add_argument("--out", required=True)
    verify.add_argument("--tasks", action="store_true")
    verify.add_argument("--wait", type=float, default=120)
    verify.add_argument("--survey", type=int, default=0)
    args = parser.parse_args(argv)

    if args.command == "seed":
        step_seed(args)
        return 0
    if args.command == "verify":
        step_verify(args)
        return 0
    # A stopped run (Ctrl+C, SIGTERM) still stops its processes: finally blocks run.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    return command(args)


if __name__ == "__main__":
    sys.exit(main())
