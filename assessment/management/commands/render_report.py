"""Render an assessment's PDF report to a file, for scripting."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessment import reports
from assessment.models import Assessment


class Command(BaseCommand):
    help = "Render the PDF report of one assessment: render_report <assessment-id> -o report.pdf"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("assessment_id", type=int)
        parser.add_argument("-o", "--output", type=Path, required=True, help="Where to write.")

    def handle(self, *args: object, assessment_id: int, output: Path, **options: object) -> None:
        assessment = (
            Assessment.objects.select_related("team", "organisation")
            .filter(pk=assessment_id)
            .first()
        )
        if assessment is None:
            raise CommandError(f"There is no assessment {assessment_id}.")
        report = reports.render_report(assessment)
        output.write_bytes(report.pdf)
        origin = "from the cache" if report.cached else "rendered"
        self.stdout.write(f"{output}: {len(report.pdf):,} bytes, {origin}.")
