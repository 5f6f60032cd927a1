"""Customer surveys (issue 17): the customers' results at 10,000 responses, through the
selector and through the manager's survey page, and the number of queries each takes,
which must not grow with the responses."""

import datetime
import random
import statistics
import time

from tests.bench.common import median_ms

LARGER = 10_000
SMALLER = 10  # from the threshold (5), so both surveys show their figures
VIEWS = 15  # timed calls of each, after the warm-up, taken in turns
WARM_UP = 2
TARGET_MS = 100  # the selector at 10,000 responses
SUBMISSIONS = 9  # timed submissions through the service, at each size (context)
BATCH = 2000
NOT_APPLICABLE = 0.08  # "doesn't apply", or a question left out: stored as NULL
COMMENT = 0.2
# Customers rate how much an attribute matters mostly high, how well it was done spread
# around 3 and 4 (weights of the ratings 1 to 5).
IMPORTANCE = (1, 2, 5, 10, 12)
PERFORMANCE = (2, 4, 8, 10, 6)


def bench_customers(bench) -> None:
    """``selectors.customers.customer_results`` on a survey of 10,000 responses, the
    median of ``VIEWS`` calls after ``WARM_UP``, against its bound; the yardstick is a raw
    SQL aggregate over the same rows (counts, sums and sums of squares per column, one
    query), timed in the same run, as for the results page. Then the manager's survey
    page (``/customers/<pk>/``) end to end through Django's test client, signed in as the
    organisation's manager. Both are also timed at 10 responses, and the query count of
    each must be the same at 10 and at 10,000."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assessment.selectors.customers import customer_results

    _load_customer_questionnaire()
    surveys = _surveys()
    sizes = (SMALLER, LARGER)
    pages = {n: _Page(surveys[n]) for n in sizes}
    for n in sizes:
        for _ in range(WARM_UP):
            if not customer_results(surveys[n]).visible:
                raise SystemExit(f"The survey of {n} responses shows no results.")
            pages[n].view()

    selector: dict[int, list[float]] = {n: [] for n in sizes}
    page: dict[int, list[float]] = {n: [] for n in sizes}
    for _turn in range(VIEWS):
        for n in sizes:
            start = time.perf_counter()
            customer_results(surveys[n])
            selector[n].append((time.perf_counter() - start) * 1000)
            page[n].append(pages[n].timed_view())
    queries: dict[str, dict[int, list[str]]] = {"selector": {}, "page": {}}
    for n in sizes:
        with CaptureQueriesContext(connection) as captured:
            customer_results(surveys[n])
        queries["selector"][n] = [q["sql"] for q in captured.captured_queries]
        with CaptureQueriesContext(connection) as captured:
            pages[n].view()
        queries["page"][n] = [q["sql"] for q in captured.captured_queries]
    raw, _low, _high = median_ms(lambda: _raw_aggregate(surveys[LARGER]), VIEWS)
    submit = {n: _submission_ms(surveys[n]) for n in sizes}  # last: it adds responses

    for what, counts in queries.items():
        if len(counts[SMALLER]) != len(counts[LARGER]):
            listing = "\n".join(f"  {sql[:160]}" for sql in counts[LARGER])
            raise SystemExit(
                f"customer results: the {what} took {len(counts[SMALLER])} queries at"
                f" {SMALLER} responses and {len(counts[LARGER])} at {LARGER:,}:\n{listing}"
            )
    median = statistics.median(selector[LARGER])
    verdict = "met" if median <= TARGET_MS else "NOT met"
    print(
        f"customer results: {LARGER:,} customer responses ({_attributes(surveys[LARGER])}"
        f" attributes): selectors.customers.customer_results {median:.1f} ms (min"
        f" {min(selector[LARGER]):.1f}, max {max(selector[LARGER]):.1f}, median of {VIEWS} after"
        f" {WARM_UP} warm-up; target <= {TARGET_MS} ms, {verdict}) = {median / raw:.2f}x the"
        f" raw SQL aggregate over the same rows ({raw:.1f} ms); at {SMALLER} responses"
        f" {statistics.median(selector[SMALLER]):.1f} ms; {len(queries['selector'][LARGER])}"
        f" queries at {SMALLER} and at {LARGER:,} (constant)"
    )
    big, small = statistics.median(page[LARGER]), statistics.median(page[SMALLER])
    print(
        f"customer survey page (/customers/<pk>/, the manager, test client, end to end):"
        f" {big:.1f} ms at {LARGER:,} responses (min {min(page[LARGER]):.1f}, max"
        f" {max(page[LARGER]):.1f}, median of {VIEWS}), {small:.1f} ms at {SMALLER}"
        f" ({big / small:.2f}x); {len(queries['page'][LARGER])} queries at {SMALLER} and at"
        f" {LARGER:,} (constant); a customer's submission through the service"
        f" {submit[SMALLER]:.1f} ms at {SMALLER} responses and {submit[LARGER]:.1f} ms at"
        f" {LARGER:,} (median of {SUBMISSIONS}, context)"
    )


def _load_customer_questionnaire() -> None:
    """The bench loads the frameworks by file, which leaves the customer questionnaire
    out; load it as ``load_frameworks`` does with no arguments."""
    import io

    from django.conf import settings
    from django.core.management import call_command

    from frameworks import selectors
    from frameworks.loading import customer_survey_files

    if selectors.current_customer_survey() is None:
        files = customer_survey_files(settings.FRAMEWORKS_DATA_DIR)
        call_command("load_frameworks", *map(str, files), stdout=io.StringIO())


def _surveys() -> dict:
    """Two surveys of one team's open assessment, each in an organisation of its own, with
    ``SMALLER`` and ``LARGER`` responses (bulk_create)."""
    from django.utils import timezone

    from assessment import services
    from assessment.forms.customers import MAX_RESPONSES_LIMIT
    from tests.factories import make_assessment, make_organisation, make_team

    rng = random.Random(17)  # noqa: S311 - benchmark data
    surveys = {}
    today = timezone.localdate()
    for n in (SMALLER, LARGER):
        organisation = make_organisation(f"Customers {n} Ltd")
        team = make_team(organisation, "Front desk")
        survey = services.customer_survey_create(
            team=team,
            assessment=make_assessment(team, status="open"),
            user=organisation.manager,
            title=f"Bench: {n} customers",
            opens_on=today - datetime.timedelta(days=28),
            closes_on=today + datetime.timedelta(days=7),
            max_responses=MAX_RESPONSES_LIMIT,
        )
        _respond(survey, n, rng)
        surveys[n] = survey
    return surveys


def _respond(survey, count: int, rng: random.Random) -> None:
    from django.utils import timezone

    from assessment.models import CustomerResponse

    positions = list(survey.version.attributes.values_list("position", flat=True))
    now = timezone.now()

    def rating(weights: tuple[int, ...]) -> int | None:
        if rng.random() < NOT_APPLICABLE:
            return None
        return rng.choices(range(1, 6), weights=weights)[0]

    def response(number: int) -> CustomerResponse:
        fields = {}
        for n in positions:
            fields[f"i{n}"] = rating(IMPORTANCE)
            fields[f"p{n}"] = rating(PERFORMANCE)
        comment = f"Comment {number}: {rng.choice(('quick', 'late', 'kind'))}"
        return CustomerResponse(
            survey=survey,
            submitted_at=now - datetime.timedelta(seconds=rng.uniform(0, 28 * 24 * 3600)),
            comment=comment if rng.random() < COMMENT else "",
            **fields,
        )

    for start in range(0, count, BATCH):
        CustomerResponse.objects.bulk_create(
            response(number) for number in range(start, min(count, start + BATCH))
        )


def _attributes(survey) -> int:
    return survey.version.attributes.count()


def _raw_aggregate(survey) -> None:
    """What any results page must at least ask: one pass over the survey's rows, with the
    count, sum and sum of squares of every rating column."""
    from django.db import connection

    positions = list(survey.version.attributes.values_list("position", flat=True))
    columns = [f"{prefix}{n}" for n in positions for prefix in ("i", "p")]
    selects = ", ".join(f"COUNT({c}), SUM({c}), SUM({c} * {c})" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COUNT(CASE WHEN comment <> '' THEN 1 END), {selects} "  # noqa: S608 - our column names
            "FROM assessment_customerresponse WHERE survey_id = %s",
            [survey.pk],
        )
        cursor.fetchall()


def _submission_ms(survey) -> float:
    """A customer's submission through the service (the survey's lock, its counts, the
    throttle, the INSERT), each from an address of its own: the median of
    ``SUBMISSIONS``."""
    from assessment import services
    from assessment.services.customers import CustomerAnswers

    positions = list(survey.version.attributes.values_list("position", flat=True))
    answers = CustomerAnswers(ratings=dict.fromkeys(positions, (4, 3)))
    timings = []
    for number in range(SUBMISSIONS):
        start = time.perf_counter()
        refused = services.customer_response_submit(
            survey_id=survey.pk, answers=answers, address=f"198.18.1.{number + 1}"
        )
        timings.append((time.perf_counter() - start) * 1000)
        if refused:
            raise SystemExit(f"The bench's customer submission was refused: {refused}")
    return statistics.median(timings)


class _Page:
    """One survey's page, viewed by its organisation's manager."""

    def __init__(self, survey) -> None:
        from django.test import Client

        from assessment.models import Membership

        manager = Membership.objects.filter(organisation_id=survey.organisation_id).first()
        # Production settings: the client names an allowed host and asks over HTTPS.
        self.client = Client(HTTP_HOST="localhost")
        self.client.force_login(manager.user)
        self.url = survey.get_absolute_url()

    def view(self) -> None:
        page = self.client.get(self.url, secure=True)
        if page.status_code != 200 or b'class="ipa-chart"' not in page.content:
            raise SystemExit(f"The customer survey page showed no chart: {page.status_code}")

    def timed_view(self) -> float:
        start = time.perf_counter()
        self.view()
        return (time.perf_counter() - start) * 1000
