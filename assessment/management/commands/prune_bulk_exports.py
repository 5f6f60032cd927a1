"""Delete finished bulk exports (and their ZIP files) older than the retention period."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Sum
from django.db.models.functions import Coalesce, Length
from django.utils import timezone

from assessment.models import BulkExport


class Command(BaseCommand):
    help = (
        "Delete bulk exports that finished more than --days ago (default: "
        "BULK_EXPORT_RETENTION_DAYS). Exports still queued or running are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="Keep this many days.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would go, delete nothing."
        )

    def handle(self, *args: object, days: int | None, dry_run: bool, **options: object) -> None:
        days = settings.BULK_EXPORT_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1.")
        old = BulkExport.objects.filter(
            status__in=(BulkExport.Status.DONE, BulkExport.Status.FAILED),
            finished_at__lt=timezone.now() - timedelta(days=days),
        )
        count = old.count()
        size = old.aggregate(bytes=Coalesce(Sum(Length("archive")), 0))["bytes"]
        if not dry_run:
            old.delete()
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {count} bulk export(s) finished over {days} days ago "
            f"({size / 1_000_000:.1f} MB of ZIP files)."
        )
