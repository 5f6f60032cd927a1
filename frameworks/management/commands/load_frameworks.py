from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from frameworks.loading import (
    FrameworkFileError,
    parse_directory,
    parse_framework_file,
)
from frameworks.services import SyncStatus, sync_frameworks


class Command(BaseCommand):
    help = (
        "Load questionnaire frameworks from TOML files. Every file is validated before "
        "anything is written; changed content becomes a new version."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "files",
            nargs="*",
            type=Path,
            help="Framework files to load (default: every .toml in FRAMEWORKS_DATA_DIR).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Validate the files only; write nothing.",
        )

    def handle(self, *args: object, files: list[Path], check: bool, **options: object) -> None:
        try:
            if files:
                parsed = [parse_framework_file(f) for f in files]
            else:
                parsed = parse_directory(settings.FRAMEWORKS_DATA_DIR)
        except FrameworkFileError as error:
            raise CommandError(f"Nothing was loaded. {error}") from None

        slugs = [p.slug for p in parsed]
        duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
        if duplicates:
            raise CommandError(
                f"Nothing was loaded. More than one file defines slug {duplicates[0]!r}."
            )

        if check:
            for framework in parsed:
                self.stdout.write(
                    f"{framework.slug:<20} ok   {len(framework.sections):>2} sections "
                    f"{len(framework.questions):>3} questions"
                )
            return

        results = sync_frameworks(parsed=parsed)
        for result in results:
            style = self.style.SUCCESS if result.status != SyncStatus.UNCHANGED else str
            self.stdout.write(style(result.summary_line()))
        if all(r.status == SyncStatus.UNCHANGED for r in results):
            self.stdout.write("Nothing changed: every framework is already loaded.")
