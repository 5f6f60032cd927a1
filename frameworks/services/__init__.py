"""Writes of the frameworks app. The only one is the sync step of loading framework
files (``sync``); the parse step before it is ``frameworks.loading``, and reads are
``frameworks.selectors``."""

from frameworks.services.sync import (
    ArchivedEditionError,
    SyncResult,
    SyncStatus,
    sync_frameworks,
)

__all__ = ["ArchivedEditionError", "SyncResult", "SyncStatus", "sync_frameworks"]
