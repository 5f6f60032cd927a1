"""The shared report cache: rendered PDFs kept in the database for every node."""

from django.db import transaction

from assessment.models import Assessment, ReportCache


@transaction.atomic
def report_cache_store(*, assessment: Assessment, key: str, pdf: bytes) -> None:
    """Keep ``pdf`` under ``key``, dropping the assessment's older renderings. Two nodes
    rendering the same report at once both succeed; the first copy is kept."""
    ReportCache.objects.filter(assessment=assessment).exclude(key=key).delete()
    ReportCache.objects.get_or_create(key=key, defaults={"assessment": assessment, "pdf": pdf})
