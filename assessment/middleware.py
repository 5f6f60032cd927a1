"""Project middleware."""

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Refresh a signed-in session's expiry at most this often, so that a busy page
# (autosave) does not write the session on every request.
IDLE_REFRESH_SECONDS = 60
_TOUCHED = "_idle_touched_at"


def touch_session(session, now: int | None = None) -> None:
    """Start (or restart) the idle clock of a signed-in session."""
    session[_TOUCHED] = int(time.time()) if now is None else now
    session.set_expiry(settings.SESSION_IDLE_TIMEOUT)


class SessionIdleTimeoutMiddleware:
    """A signed-in session ends after ``SESSION_IDLE_TIMEOUT`` seconds without a request.

    Each request of a signed-in user moves the session's expiry forward (at most once
    a minute). The questionnaire's autosave is a request too, so someone answering
    is never idle; someone who comes back after the timeout finds their typed input
    still on the page and is asked to sign in again (see docs/data-safety.md).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 500:
            # Nothing to extend after a failure, and touching the session now would ask
            # a database that may be what failed (a second error, a second wait).
            return response
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            if now - request.session.get(_TOUCHED, 0) >= IDLE_REFRESH_SECONDS:
                touch_session(request.session, now)
        return response
