"""Project middleware: how long a session lasts, who may cache a page, and its language."""

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control

from assessment import languages

# Refresh a session's expiry at most this often, so that a busy page (autosave) does
# not write the session on every request.
IDLE_REFRESH_SECONDS = 60
_TOUCHED = "_idle_touched_at"
# When the session ends however busy it is (a Unix time): the hard maximum after it
# began, or earlier for an invitee whose link expires sooner.
_ENDS = "_session_ends_at"
_CLOCK_KEYS = {_TOUCHED, _ENDS, "_session_expiry"}


def _now() -> int:
    return int(timezone.now().timestamp())


def _slide(session: SessionBase, now: int) -> None:
    """Move the idle expiry forward, never past the session's end; end it once that passed."""
    ends = session.get(_ENDS)
    if ends is None:  # a session from before the hard maximum: it begins counting now
        ends = session[_ENDS] = now + settings.SESSION_MAX_AGE
    remaining = ends - now
    if remaining <= 0:
        # set_expiry(0) would mean "until the browser closes": end the session instead.
        session.flush()
        return
    session[_TOUCHED] = now
    session.set_expiry(min(settings.SESSION_IDLE_TIMEOUT, remaining))


def touch_session(session: SessionBase, now: int | None = None) -> None:
    """Start the clocks of a session that has just signed in: the idle timeout, and the
    hard maximum (``SESSION_MAX_AGE``) counted from now."""
    now = _now() if now is None else now
    session[_ENDS] = now + settings.SESSION_MAX_AGE
    _slide(session, now)


def invitee_session_start(session: SessionBase, *, link_expires_at: datetime) -> None:
    """Start the clocks of an invitee's session, when their link has just been used.

    The session idles out after ``SESSION_IDLE_TIMEOUT`` like everyone's, and ends at
    the latest when the link would have expired or ``SESSION_MAX_AGE`` from now,
    whichever is sooner (a second link used in the same browser starts them again).

    Invitees have no password. When their session has ended, their questionnaire
    answers a 404 (an autosave says "Not saved" and keeps the input on the page); they
    reopen their e-mailed link, which is used by then, and ask for a fresh one, which
    is sent to the invitation's own address. The fresh link opens the same response,
    with everything saved before; the input still on the old page is saved with "Save
    and continue" once the new link is open in the same browser.

    Not for a signed-in user opening a link: their session keeps its own clocks, so a
    link never stretches a sign-in to the invitation's expiry.
    """
    now = _now()
    session[_ENDS] = min(now + settings.SESSION_MAX_AGE, int(link_expires_at.timestamp()))
    _slide(session, now)


def _holds_something(request: HttpRequest) -> bool:
    """A signed-in user, or a session that holds anything beyond its own clocks (an
    invitee's responses, a link's digest, a message)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    session = getattr(request, "session", None)
    # keys(): a session cannot be iterated itself.
    return session is not None and any(key not in _CLOCK_KEYS for key in session.keys())  # noqa: SIM118


class SessionIdleTimeoutMiddleware:
    """A session ends after ``SESSION_IDLE_TIMEOUT`` seconds without a request, and at the
    latest ``SESSION_MAX_AGE`` after it began (an invitee's, when their link expires).

    Each request of a signed-in user or an invitee moves the session's expiry forward
    (at most once a minute), never past its end. The questionnaire's autosave is a
    request too, so someone answering is never idle; someone who comes back after the
    timeout finds their typed input still on the page and is asked to sign in again, or,
    as an invitee, to reopen their link (see ``invitee_session_start`` and
    docs/data-safety.md).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 500:
            # Nothing to extend after a failure, and touching the session now would ask
            # a database that may be what failed (a second error, a second wait).
            return response
        if _holds_something(request):
            now = _now()
            if now - request.session.get(_TOUCHED, 0) >= IDLE_REFRESH_SECONDS:
                _slide(request.session, now)
        return response


class PrivateCacheMiddleware:
    """``Cache-Control: private, no-store`` on everything a signed-in user or an invitee
    receives: pages, reports, exports, ZIP files, the admin.

    A browser or proxy keeps none of it, so nobody finds a report in a shared
    computer's cache or a proxy's. Static files never reach this (WhiteNoise answers
    them first, cacheable), and a page for a visitor without a session, such as the
    public landing page, is left as it is. An error page (5xx) is never stored either,
    without asking the database whose failure it may report.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 500 or _holds_something(request):
            if "no-store" in response.get("Cache-Control", ""):
                patch_cache_control(response, private=True)  # never_cache said it already
            else:
                # Replaces a view's own choice (the logo's max-age), which no-store overrules.
                response["Cache-Control"] = "private, no-store"
        return response


class LanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, with the visitor's kept choice first (see
    ``assessment.languages``): the session, then the cookie, then Accept-Language. URLs
    carry no language prefix."""

    def process_request(self, request: HttpRequest) -> None:
        language = languages.for_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
