"""Stored results: the sums a closed assessment's results are scored from."""

from assessment.models import Assessment, StoredResults


def results_store(*, assessment: Assessment, key: str, rows: list) -> None:
    """Keep ``rows`` as the assessment's stored sums under ``key``, in place of any
    stored before. One statement (an insert that replaces), so two views storing at
    once both succeed and the row is always one whole set of sums under its own key."""
    StoredResults.objects.bulk_create(
        [StoredResults(assessment=assessment, key=key, rows=rows)],
        update_conflicts=True,
        unique_fields=["assessment"],
        update_fields=["key", "rows", "stored_at"],
    )
