"""After a run: compare what the server acknowledged with the database (run inside Django).

For every (response, question) the simulated browsers sent, the attempts are
replayed in order. Each attempt's outcome is known from its status:

- acknowledged: an autosave batch's 200 for the questions its ``X-Answers-Saved``
  header lists, "Save and continue" 302 (the answer was written);
- refused: the other questions of an autosave batch's 200 (a conflict or a bad value,
  each that answer's own), an autosave 400/403/404, page 400/403/404 (nothing was
  written);
- unknown: anything else (5xx, no answer, or a page 409, which saves the rows
  that did not conflict): it may or may not have been written.

An answer is **lost** when the database does not hold the value of its last
acknowledged attempt (or of a later attempt whose outcome is unknown). Each
written attempt raises the answer's revision by exactly one, so the revision
must lie between the number of acknowledged attempts and that plus the unknown
ones: more would be a write run twice, fewer a write that vanished.

The customer run (``customers_check``) compares the customers' accepted submissions with
the survey's rows, and reads the survey's refusal counters and its throttle.
"""

import time
from collections import Counter, defaultdict

from django.db.models import Count, Max, Min

from assessment.models import Answer, BulkExport, CustomerResponse, CustomerSurvey, Response
from assessment.models.customers import ATTRIBUTE_SLOTS, CustomerThrottle

ACK = {"autosave": {200}, "page": {302}}
REFUSED = {"autosave": {400, 403, 404}, "page": {400, 403, 404}}
EXPORT_TASK = "assessment.tasks.make_bulk_export"


def _value(level: str, comment: str) -> tuple:
    if level == "na":
        return (None, True, comment)
    return (int(level) if level else None, False, comment)


def answers_check(events: list[dict]) -> dict:
    results = {e["id"]: e["s"] for e in events if e["e"] == "result"}
    saved_in = {e["id"]: set(e.get("saved", ())) for e in events if e["e"] == "result"}
    attempts: dict[tuple[int, int], list[tuple[tuple, str]]] = defaultdict(list)
    outcome_counts: Counter = Counter()
    for event in events:
        if event["e"] != "send":
            continue
        status = results.get(event["id"])
        via = event["via"]
        if status in ACK[via]:
            outcome = "ack"
        elif status in REFUSED[via]:
            outcome = "refused"
        else:
            outcome = "unknown"
        outcome_counts[f"{via}:{outcome}"] += 1
        for question, level, comment in event["a"]:
            mine = outcome
            if via == "autosave" and outcome == "ack" and question not in saved_in[event["id"]]:
                mine = "refused"  # this answer's own conflict or problem; the others saved
            attempts[(event["r"], question)].append((_value(level, comment), mine))

    responses = {r for r, _q in attempts}
    stored = {
        (a.response_id, a.question_id): a
        for a in Answer.objects.filter(response_id__in=responses).only(
            "response_id", "question_id", "level", "not_applicable", "comment", "revision"
        )
    }
    lost, revision_mismatch, pending, phantom = [], [], [], []
    acknowledged = saved = unknown_written = recovered = 0
    for pair, history in attempts.items():
        acks = [i for i, (_v, outcome) in enumerate(history) if outcome == "ack"]
        unknown = [i for i, (_v, outcome) in enumerate(history) if outcome == "unknown"]
        last_ack = acks[-1] if acks else -1
        candidates = {history[i][0] for i in unknown if i > last_ack}
        if acks:
            acknowledged += 1
            candidates.add(history[last_ack][0])
        if history[-1][1] != "ack":
            pending.append(pair)
        elif any(outcome != "ack" for _v, outcome in history):
            recovered += 1
        answer = stored.get(pair)
        if answer is None:
            if acks:
                lost.append({"pair": pair, "expected": history[last_ack][0], "stored": None})
            continue
        value = (answer.level, answer.not_applicable, answer.comment)
        if value not in candidates:
            if acks:
                lost.append({"pair": pair, "expected": history[last_ack][0], "stored": value})
            else:
                phantom.append({"pair": pair, "stored": value})
            continue
        if acks:
            saved += 1
        else:
            unknown_written += 1
        if not len(acks) <= answer.revision <= len(acks) + len(unknown):
            revision_mismatch.append(
                {"pair": pair, "acks": len(acks), "unknown": len(unknown), "rev": answer.revision}
            )
    not_sent = [pair for pair in stored if pair not in attempts]

    completes = {e["r"] for e in events if e["e"] == "complete" and e["s"] == 302}
    completed_in_db = set(
        Response.objects.filter(pk__in=completes, status=Response.Status.COMPLETED).values_list(
            "pk", flat=True
        )
    )
    return {
        "answers_sent": len(attempts),
        "answers_acknowledged": acknowledged,
        "answers_saved": saved,
        "answers_in_db": len(stored),
        "unknown_outcome_written": unknown_written,
        "lost": len(lost),
        "lost_examples": lost[:5],
        "revision_mismatches": len(revision_mismatch),
        "revision_examples": revision_mismatch[:5],
        "pending_at_end": len(pending),
        "saved_after_a_failed_attempt": recovered,
        "phantom": len(phantom) + len(not_sent),
        "attempts": dict(sorted(outcome_counts.items())),
        "questionnaires_opened": len({e["r"] for e in events if e["e"] == "open"}),
        "questionnaires_completed": len(completes),
        "completed_in_db": len(completed_in_db),
        "abandoned": sum(1 for e in events if e["e"] == "abandon"),
    }


def wait_for_tasks(timeout: float) -> bool:
    """Wait until no export is queued or running (the workers are still up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = BulkExport.objects.filter(
            status__in=[BulkExport.Status.QUEUED, BulkExport.Status.RUNNING]
        ).exists()
        if not busy:
            return True
        time.sleep(1)
    return False


def tasks_check(events: list[dict]) -> dict:
    """Every export the web acknowledged ran exactly once, from the database's own records:
    django_tasks_db's result row (its worker_ids list grows by one per claim) and the
    BulkExport row (done == total only after every report of one run)."""
    from django_tasks_db.models import DBTaskResult

    acknowledged = {e["pk"] for e in events if e["e"] == "export"}
    exports = {e.pk: e for e in BulkExport.objects.defer("archive")}
    with_archive = set(
        BulkExport.objects.filter(archive__isnull=False).values_list("pk", flat=True)
    )
    rows = list(DBTaskResult.objects.filter(task_path=EXPORT_TASK))
    rows_per_export: Counter = Counter()
    claims: Counter = Counter()
    per_worker: Counter = Counter()
    statuses: Counter = Counter()
    for row in rows:
        rows_per_export[row.args_kwargs["args"][0]] += 1
        claims[len(row.worker_ids)] += 1
        statuses[row.status] += 1
        for worker in row.worker_ids:
            per_worker[worker] += 1
    export_status = Counter(e.status for e in exports.values())
    incomplete = [
        pk
        for pk, e in exports.items()
        if e.status != BulkExport.Status.DONE or e.done != e.total or pk not in with_archive
    ]
    return {
        "exports_acknowledged": len(acknowledged),
        "exports_in_db": len(exports),
        "exports_missing": sorted(acknowledged - set(exports)),
        "export_status": dict(export_status),
        "exports_incomplete": incomplete,
        "reports_rendered": sum(e.done for e in exports.values()),
        "task_rows": len(rows),
        "task_status": dict(statuses),
        "exports_without_task": sorted(set(exports) - set(rows_per_export)),
        "exports_with_several_tasks": sorted(pk for pk, n in rows_per_export.items() if n > 1),
        "claims_per_task": {str(k): v for k, v in sorted(claims.items())},
        "tasks_per_worker": dict(per_worker),
        "task_ids": [str(row.id) for row in rows],
        "most_at_once": _most_at_once(rows),
    }


def _most_at_once(rows) -> int:
    """The most tasks running at the same moment (from their start and finish times)."""
    edges = []
    for row in rows:
        if row.started_at and row.finished_at:
            edges += [(row.started_at, 1), (row.finished_at, -1)]
    running = most = 0
    for _when, change in sorted(edges, key=lambda edge: (edge[0], edge[1])):
        running += change
        most = max(most, running)
    return most


# --- the customer run ---------------------------------------------------------------


def _stored_row(values: dict, comment: str, slots: int) -> tuple:
    """A submission as its row stores it: every column pair, "doesn't apply" and a question
    left out both empty (NULL), then the comment."""
    ratings = []
    for prefix in ("i", "p"):
        for n in range(1, slots + 1):
            value = values.get(f"{prefix}{n}", "")
            ratings.append(int(value) if value not in ("", "na") else None)
    return (*ratings, comment.strip())


def customers_check(events: list[dict], survey_id: int) -> dict:
    """The customers' submissions against the database. Nothing links a stored row to the
    customer who sent it (by design), so the rows are compared with the accepted
    submissions as a multiset: each row must be one accepted submission, as sent."""
    customers = [e for e in events if e["e"] == "customer"]
    accepted = [e for e in customers if e["s"] == 302]
    columns = [f"{prefix}{n}" for prefix in ("i", "p") for n in range(1, ATTRIBUTE_SLOTS + 1)]
    rows = CustomerResponse.objects.filter(survey_id=survey_id)
    stored = Counter(tuple(values) for values in rows.values_list(*columns, "comment"))
    sent = Counter(_stored_row(e["a"], e["c"], ATTRIBUTE_SLOTS) for e in accepted)
    survey = CustomerSurvey.objects.get(pk=survey_id)
    throttle = CustomerThrottle.objects.filter(survey_id=survey_id).aggregate(
        rows=Count("pk"), most=Max("count")
    )
    times = rows.aggregate(first=Min("submitted_at"), last=Max("submitted_at"))
    return {
        "customers": len(customers),
        "posted": sum(1 for e in customers if e["s"] is not None),
        "gave_up": sum(1 for e in customers if e["s"] is None),
        "accepted": len(accepted),
        "statuses": dict(Counter(str(e["s"]) for e in customers)),
        "addresses": len({e["addr"] for e in customers}),
        "stored": sum(stored.values()),
        "stored_not_sent": sum((stored - sent).values()),
        "sent_not_stored": sum((sent - stored).values()),
        "refused": {
            reason: getattr(survey, f"refused_{reason}")
            for reason in ("repeat", "rate", "bot", "closed")
        },
        "throttle_rows": throttle["rows"],
        "throttle_most": throttle["most"] or 0,
        "stored_seconds": (times["last"] - times["first"]).total_seconds()
        if times["first"]
        else None,
    }
