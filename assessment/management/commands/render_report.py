"""Render an assessment's PDF report to a file, for scripting."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessment import reports
from assessment.models import Assessment, Consultancy


class Command(BaseCommand):
    help = (
        "Render the PDF report of one assessment: render_report <assessment-id> -o report.pdf "
        "[--consultancy <id>] (branded as that consultancy)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("assessment_id", type=int)
        parser.add_argument("-o", "--output", type=Path, required=True, help="Where to write.")
        parser.add_argument(
            "--consultancy", type=int, help="Brand the report as this consultancy (its id)."
        )

    def handle(
        self,
        *args: object,
        assessment_id: int,
        output: Path,
        consultancy: int | None = None,
        **options: object,
    ) -> None:
        assessment = (
            Assessment.objects.select_related("team", "organisation")
            .filter(pk=assessment_id)
            .first()
        )
        if assessment is None:
            raise CommandError(f"There is no assessment {assessment_id}.")
        brand = None
        if consultancy is not None:
            brand = Consultancy.objects.filter(pk=consultancy).first()
            if brand is None:
                raise CommandError(f"There is no consultancy {consultancy}.")
        report = reports.render_report(assessment, consultancy=brand)
        output.write_bytes(report.pdf)
        origin = "from the cache" if report.cached else "rendered"
        self.stdout.write(f"{output}: {len(report.pdf):,} bytes, {origin}.")
