"""Writes of the frameworks app: the sync step of loading framework files and the
customer survey (``sync``); the parse step before it is ``frameworks.loading``, and reads
are ``frameworks.selectors``."""

from frameworks.services.sync import (
    ArchivedEditionError,
    SurveySyncResult,
    SyncResult,
    SyncStatus,
    sync_customer_surveys,
    sync_frameworks,
)

__all__ = [
    "ArchivedEditionError",
    "SurveySyncResult",
    "SyncResult",
    "SyncStatus",
    "sync_customer_surveys",
    "sync_frameworks",
]
