"""The manager's results page of a closed assessment, at 1,000 and 5,000 respondents
(issue 16, item 3): the first view computes the sums from every answer and stores them,
later views read them back, so their time should not grow with the respondents."""

import statistics
import time

from tests.bench.common import median_ms

LARGER = 5000
VIEWS = 15  # later views of each page, taken in turns so that both see the same machine


def bench_results(bench) -> None:
    """The results page through Django's test client, signed in as the organisation's
    manager (the production middleware and templates, in this process): the first view,
    then the median of ``VIEWS`` later views, at the bench's 1,000 respondents and at
    5,000, the two pages viewed in turns. The yardstick is a raw SQL aggregate over the
    same answers (one GROUP BY per section), timed in the same run: it grows with the
    answers; the stored page should not."""
    larger, _questions = big_assessment_of(LARGER)
    pages = {bench.respondents: _Page(bench.assessment), LARGER: _Page(larger)}
    first = {n: page.first_view() for n, page in pages.items()}
    later: dict[int, list[float]] = {n: [] for n in pages}
    for _turn in range(VIEWS):
        for n, page in pages.items():
            later[n].append(page.timed_view())
    for n, page in pages.items():
        raw, _low, _high = median_ms(page.aggregate)
        median = statistics.median(later[n])
        page.figures = (median, raw)
        print(
            f"results page: {n:,} respondents x 4 frameworks ({page.answers():,} answers): "
            f"first view {first[n]:.0f} ms (computes and stores the sums), then median "
            f"{median:.1f} ms (min {min(later[n]):.1f}, max {max(later[n]):.1f}, {VIEWS} "
            f"views); raw SQL aggregate over the same answers {raw:.1f} ms "
            f"(page {median / raw:.2f}x it)"
        )
    small, large = pages[bench.respondents].figures, pages[LARGER].figures
    print(
        f"results page: {small[0]:.1f} ms at {bench.respondents:,} (target <= 100 ms); "
        f"{LARGER:,}/{bench.respondents:,} ratio {large[0] / small[0]:.2f} (target <= 1.2); "
        f"the raw aggregate's {large[1] / small[1]:.2f}"
    )


def big_assessment_of(respondents: int):
    from tests.bench.common import big_assessment

    return big_assessment(respondents, organisation_name=f"Bench {respondents} Ltd")


class _Page:
    """One assessment's results page, viewed by its organisation's manager."""

    def __init__(self, assessment) -> None:
        from django.test import Client
        from django.urls import reverse

        from assessment.models import Membership

        self.assessment = assessment
        self.figures: tuple[float, float] = (0.0, 0.0)
        manager = Membership.objects.filter(organisation_id=assessment.organisation_id).first()
        # Production settings: the bench is not a test run, so the client names an allowed
        # host and asks over HTTPS, as the browser does.
        self.client = Client(HTTP_HOST="localhost")
        self.client.force_login(manager.user)
        self.url = reverse("assessment:results", kwargs={"pk": assessment.pk})

    def view(self) -> None:
        page = self.client.get(self.url, secure=True)
        if page.status_code != 200 or b"radar-" not in page.content:
            raise SystemExit(f"The results page did not show the results: {page.status_code}")

    def timed_view(self) -> float:
        start = time.perf_counter()
        self.view()
        return (time.perf_counter() - start) * 1000

    def first_view(self) -> float:
        """A view with nothing stored: it reads every answer and stores the sums."""
        from assessment.models import StoredResults

        StoredResults.objects.filter(assessment=self.assessment).delete()
        return self.timed_view()

    def aggregate(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.section_id, COUNT(a.submitted_level), SUM(a.submitted_level) "
                "FROM assessment_answer a JOIN assessment_response r ON r.id = a.response_id "
                "WHERE r.assessment_id = %s GROUP BY a.section_id",
                [self.assessment.pk],
            )
            cursor.fetchall()

    def answers(self) -> int:
        from assessment.models import Answer

        return Answer.objects.filter(response__assessment=self.assessment).count()
