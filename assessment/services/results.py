"""Stored results: the sums a closed assessment's figures are computed from."""

from typing import Any

from assessment.models import Assessment, StoredResults


def results_store(*, assessment: Assessment, kind: str, key: str, sums: Any) -> None:
    """Keep ``sums`` as the assessment's stored sums of ``kind`` under ``key``, in place
    of any stored before. One statement (an insert that replaces), so two views storing
    at once both succeed and the row is always one whole set of sums under its own key."""
    StoredResults.objects.bulk_create(
        [StoredResults(assessment=assessment, kind=kind, key=key, sums=sums)],
        update_conflicts=True,
        unique_fields=["assessment", "kind"],
        update_fields=["key", "sums", "stored_at"],
    )
