"""Benchmarks, run by `make bench` (not part of the test suite). Each line states a figure.

Speed is measured here, on real databases, rather than asserted in timed unit tests; each
figure is a ratio to a yardstick measured in the same run (absolute times on a shared
machine are noise), with the absolute numbers for context.
"""

import argparse
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.bench.autosave import bench_autosave
from tests.bench.common import (
    LONG_SLUG,
    RUNS,
    big_assessment,
    long_section_framework,
    median_ms,
    setup_django,
)
from tests.bench.customers import bench_customers
from tests.bench.pages import bench_pages
from tests.bench.report import bench_report
from tests.bench.results import bench_results


@dataclass(frozen=True)
class Bench:
    """What every part gets: the bench's folder, its SQLite file, and the closed assessment
    of ``respondents`` complete responses to the four shipped frameworks."""

    folder: Path
    database: Path
    assessment: object
    respondents: int
    questions: int


def bench_scoring(bench: Bench) -> None:
    from assessment.selectors.results import assessment_results

    scored = assessment_results(bench.assessment)
    if not scored.visible or len(scored.panels) != 4:
        raise SystemExit("The benchmark assessment shows no results: nothing would be scored.")
    from assessment.models import StoredResults

    def computed() -> None:  # every answer read: the stored sums dropped first
        StoredResults.objects.filter(assessment=bench.assessment).delete()
        assessment_results(bench.assessment)

    median, low, high = median_ms(computed)
    print(
        f"scoring: {bench.respondents:,} respondents x 4 frameworks ({bench.questions} "
        f"questions, {bench.respondents * bench.questions:,} answers) on SQLite, computed "
        f"from every answer and stored (a later view reads the store: see results page): median "
        f"{median:.1f} ms (min {low:.1f}, max {high:.1f}, {RUNS} runs; target <= 100 ms)"
    )


# Each part prints its own figures; they run in this order on one seeded database.
PARTS = {
    "scoring": bench_scoring,
    "report": lambda bench: bench_report(bench.assessment),
    "pages": lambda bench: bench_pages(bench.database, bench.folder),
    "autosave": lambda bench: bench_autosave(bench.database, bench.folder),
    "results": bench_results,
    "customers": bench_customers,
}
# The parts that seed nothing of their own: they need the closed assessment.
NEED_ASSESSMENT = {"scoring", "report", "results"}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument(
        "parts",
        nargs="*",
        metavar="PART",
        help=f"run only these parts, in this order ({', '.join(PARTS)}); all by default",
    )
    chosen = parser.parse_args().parts or list(PARTS)
    unknown = [part for part in chosen if part not in PARTS]
    if unknown:
        parser.error(f"no part {unknown[0]!r}; the parts are {', '.join(PARTS)}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        setup_django(folder / "bench.sqlite3")
        from django.conf import settings
        from django.core.management import call_command

        from frameworks.loading import framework_files

        call_command("migrate", verbosity=0)
        long_section = folder / f"{LONG_SLUG}.toml"
        long_section.write_text(long_section_framework(), encoding="utf-8")
        shipped = framework_files(settings.FRAMEWORKS_DATA_DIR)
        call_command("load_frameworks", *map(str, [*shipped, long_section]), stdout=io.StringIO())
        respondents = 1000
        assessment, questions = None, 0
        if NEED_ASSESSMENT & set(chosen):
            assessment, questions = big_assessment(respondents)
        bench = Bench(folder, folder / "bench.sqlite3", assessment, respondents, questions)
        for part in chosen:
            PARTS[part](bench)


if __name__ == "__main__":
    main()
