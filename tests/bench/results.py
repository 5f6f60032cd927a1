"""The manager's results page of a closed assessment, at 1,000 and 5,000 respondents
(issue 16, item 3): the first view computes the sums from every answer and stores them,
later views read them back, so their time should not grow with the respondents."""

import time

from tests.bench.common import RUNS, big_assessment, median_ms

LARGER = 5000


def bench_results(bench) -> None:
    """The results page through Django's test client, signed in as the organisation's
    manager (the production middleware and templates, in this process): the first view,
    then the median of ``RUNS`` later views, at the bench's 1,000 respondents and at
    5,000. The yardstick is a raw SQL aggregate over the same answers (one GROUP BY per
    section), timed in the same run: it grows with the answers, the stored page should not."""
    larger, _questions = big_assessment(LARGER, organisation_name="Bench 5000 Ltd")
    small = _measure(bench.assessment)
    large = _measure(larger)
    for respondents, (first, median, low, high, raw, answers) in (
        (bench.respondents, small),
        (LARGER, large),
    ):
        print(
            f"results page: {respondents:,} respondents x 4 frameworks ({answers:,} answers): "
            f"first view {first:.0f} ms (computes and stores the sums), then median "
            f"{median:.1f} ms (min {low:.1f}, max {high:.1f}, {RUNS} runs); raw SQL "
            f"aggregate over the same answers {raw:.1f} ms (page {median / raw:.2f}x it)"
        )
    print(
        f"results page: {small[1]:.1f} ms at {bench.respondents:,} (target <= 100 ms); "
        f"{LARGER:,}/{bench.respondents:,} ratio {large[1] / small[1]:.2f} (target <= 1.2); "
        f"the raw aggregate's {large[4] / small[4]:.2f}"
    )


def _measure(assessment) -> tuple[float, float, float, float, float, int]:
    """(first view, median, min and max of later views, raw aggregate) in ms, and the
    number of answers."""
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from assessment.models import Answer, Membership, StoredResults

    manager = Membership.objects.filter(organisation_id=assessment.organisation_id).first().user
    # Production settings: the bench is not a test run, so the client names an allowed
    # host and asks over HTTPS, as the browser does.
    client = Client(HTTP_HOST="localhost")
    client.force_login(manager)
    url = reverse("assessment:results", kwargs={"pk": assessment.pk})

    def view() -> None:
        page = client.get(url, secure=True)
        if page.status_code != 200 or b"radar-" not in page.content:
            raise SystemExit(f"The results page did not show the results: {page.status_code}")

    StoredResults.objects.filter(assessment=assessment).delete()
    start = time.perf_counter()
    view()
    first = (time.perf_counter() - start) * 1000
    median, low, high = median_ms(view)

    def aggregate() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.section_id, COUNT(a.submitted_level), SUM(a.submitted_level) "
                "FROM assessment_answer a JOIN assessment_response r ON r.id = a.response_id "
                "WHERE r.assessment_id = %s GROUP BY a.section_id",
                [assessment.pk],
            )
            cursor.fetchall()

    raw, _low, _high = median_ms(aggregate)
    answers = Answer.objects.filter(response__assessment=assessment).count()
    return first, median, low, high, raw, answers
