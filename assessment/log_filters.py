"""Logging filters.

A database outage is an operational event, not a bug: each request it fails is
logged as one warning line, without a traceback, so the log stays readable and
the alerting on ERROR tracebacks stays meaningful.
"""

import logging

from django.db import InterfaceError, OperationalError


def is_database_outage(exception: BaseException | None) -> bool:
    """True for errors that mean "the database cannot be reached or is busy right now"."""
    return isinstance(exception, OperationalError | InterfaceError)


def first_line(error: BaseException) -> str:
    """The first line of an error's message (drivers add detail lines), or its kind."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class DatabaseOutageFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exception = record.exc_info[1] if record.exc_info else None
        if is_database_outage(exception):
            request = getattr(record, "request", None)
            record.msg = "Database unavailable, answered 503: %s %s (%s)"
            record.args = (
                getattr(request, "method", "-"),
                getattr(request, "path", "-"),
                first_line(exception),
            )
            record.exc_info = None
            record.exc_text = None
            record.levelno = logging.WARNING
            record.levelname = logging.getLevelName(logging.WARNING)
        return True
