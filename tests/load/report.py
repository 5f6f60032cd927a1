"""Reading a run's evidence (locust's CSV, the request events, server logs) and printing it."""

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TASK_STARTED = re.compile(r"Task id=(\S+) path=(\S+) state=RUNNING")
EXPORT_TASK = "assessment.tasks.make_bulk_export"
# The report download request (tests/load/downloads.py) and its bound (issue 16): the p95
# of locust's own timing, which includes the client's side on the same cores.
DOWNLOAD_ENDPOINT = "GET /assessments/<id>/report.pdf (download)"
DOWNLOAD_P95_MS = 500
# Both ways an answer is saved, and their bound (issue 16): locust's p95 of each.
SAVE_ENDPOINTS = (
    "POST /responses/<id>/answers/ (autosave)",
    "POST /responses/<id>/sections/<id>/ (save and continue)",
)
SAVE_P95_MS = 300
# The customer run's requests (tests/load/customers.py), by the names locust reports.
CUSTOMER_PAGE = "GET /c/<token>/ (survey page)"
CUSTOMER_SUBMIT = "POST /c/<token>/ (submission)"
CUSTOMER_THANKS = "GET /c/<token>/thanks/"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Outcome:
    """What one scenario produced: the tables to print and the checks that decide it."""

    title: str
    endpoints: list[dict] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, bool(ok), detail))


def locust_stats(csv_prefix: Path) -> list[dict]:
    """One row per endpoint, then the total: requests, failures, p50 and p95 in ms."""
    path = Path(f"{csv_prefix}_stats.csv")
    if not path.exists():
        return []
    rows = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "name": row["Name"] if row["Name"] != "Aggregated" else "All requests",
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "p50": row["50%"],
                    "p95": row["95%"],
                    "rps": float(row["Requests/s"]),
                }
            )
    return rows


def endpoint_table(rows: list[dict]) -> list[str]:
    width = max((len(r["name"]) for r in rows), default=10)
    lines = [
        f"| {'endpoint':<{width}} | requests | failures | p50 ms | p95 ms |",
        f"|{'-' * (width + 2)}|---------:|---------:|-------:|-------:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']:<{width}} | {r['requests']:>8} | {r['failures']:>8} "
            f"| {r['p50']:>6} | {r['p95']:>6} |"
        )
    return lines


def read_events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def request_events(events: list[dict]) -> list[dict]:
    return [e for e in events if e["e"] == "req"]


def status_counts(requests: list[dict]) -> str:
    counts = Counter(e["s"] for e in requests)
    return ", ".join(f"{status or 'no answer'}: {n}" for status, n in sorted(counts.items()))


def count_in_logs(paths: list[Path], needle: str) -> int:
    total = 0
    for path in paths:
        if path.exists():
            total += path.read_text(errors="replace").count(needle)
    return total


def tasks_started(worker_logs: list[Path], task_path: str = EXPORT_TASK) -> Counter:
    """How often each task id of ``task_path`` (the bulk export's) was started, from the
    workers' own log lines; the workers also render reports ahead and on demand."""
    started: Counter = Counter()
    for path in worker_logs:
        if path.exists():
            started.update(
                task_id
                for task_id, path_run in TASK_STARTED.findall(path.read_text(errors="replace"))
                if path_run == task_path
            )
    return started


def download_check(outcome: Outcome) -> None:
    """The report download's p95 within its bound, on at least one download."""
    row = next((r for r in outcome.endpoints if r["name"] == DOWNLOAD_ENDPOINT), None)
    p95 = float(row["p95"]) if row and row["p95"] not in ("", "N/A") else None
    outcome.check(
        f"report downloads never hold a web worker: the download's p95 <= {DOWNLOAD_P95_MS} ms",
        row is not None and row["requests"] > 0 and p95 is not None and p95 <= DOWNLOAD_P95_MS,
        f"{row['requests']} downloads, p50 {row['p50']} ms, p95 {row['p95']} ms"
        if row
        else "no download was made",
    )


def save_check(outcome: Outcome) -> None:
    """Each way of saving answers within its p95 bound, on at least one save each."""
    rows = {r["name"]: r for r in outcome.endpoints if r["name"] in SAVE_ENDPOINTS}
    p95s = {
        name: float(rows[name]["p95"])
        for name in SAVE_ENDPOINTS
        if name in rows and rows[name]["requests"] > 0 and rows[name]["p95"] not in ("", "N/A")
    }
    outcome.check(
        f"answers are saved quickly: the p95 of each save <= {SAVE_P95_MS} ms",
        len(p95s) == len(SAVE_ENDPOINTS) and max(p95s.values()) <= SAVE_P95_MS,
        "; ".join(f"{name.split(' (')[1].rstrip(')')} {p95:.0f} ms" for name, p95 in p95s.items())
        or "no save was made",
    )


def print_outcome(outcome: Outcome) -> None:
    print(f"\n### {outcome.title}\n")
    if outcome.endpoints:
        print("\n".join(endpoint_table(outcome.endpoints)))
        print()
    for line in outcome.lines:
        print(f"- {line}")
    print()
    for check in outcome.checks:
        mark = "PASS" if check.ok else "FAIL"
        print(f"  [{mark}] {check.name}" + (f": {check.detail}" if check.detail else ""))
    print(f"\n  => {outcome.title}: {'PASS' if outcome.ok else 'FAIL'}")
