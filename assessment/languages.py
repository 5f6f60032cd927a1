"""Which language a page, an e-mail or a report is in: the one home for that rule.

A visitor's choice (the switcher in every page's footer, ``views.public.set_language``)
is kept in a cookie, in the session, and for a signed-in user in their
``PersonalPreference``, copied into the session at sign-in so that reading it costs no
query. Without a choice, a page about one assessment (an invitee's questionnaire, a
customer survey) is in the assessment's language, chosen by its manager; any other page
follows the browser's Accept-Language, then ``settings.LANGUAGE_CODE``.

E-mails go out in their recipient's language (``for_invitation``, ``for_user``), not
the sender's.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

SESSION_KEY = "language"


def codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def supported(code: str | None) -> str | None:
    """The shipped language ``code`` names (``de-AT`` is ``de``), or None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def chosen(request: HttpRequest) -> str | None:
    """The language this visitor chose, if they did: the session's, then the cookie's."""
    session = getattr(request, "session", None)
    if session is not None:
        code = supported(session.get(SESSION_KEY))
        if code:
            return code
    return supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))


def for_request(request: HttpRequest) -> str:
    """The language of a page: the visitor's choice, else their browser's, else ours."""
    return chosen(request) or translation.get_language_from_request(request)


def use_default(request: HttpRequest, default: str | None) -> bool:
    """A page about one assessment: without a choice of their own, the visitor reads
    it in the assessment's language. True if that changed the page's language."""
    code = supported(default)
    if not code or chosen(request) is not None or code == translation.get_language():
        return False
    translation.activate(code)
    request.LANGUAGE_CODE = code
    return True


def remember(request: HttpRequest, response: HttpResponse, code: str) -> None:
    """Keep a visitor's choice: in the session (if they have one) and in a cookie."""
    session = getattr(request, "session", None)
    if session is not None and (session.session_key or not session.is_empty()):
        session[SESSION_KEY] = code
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def for_invitation(invitation, assessment=None) -> str:
    """An invitee's language (pages and e-mails): the one they last chose, else the
    assessment's (pass ``assessment`` when it is at hand, to spare a query)."""
    assessment = assessment or invitation.assessment
    return (
        supported(invitation.language) or supported(assessment.language) or settings.LANGUAGE_CODE
    )


def for_survey(survey) -> str:
    """A customer survey's language (its page, its personal links): its assessment's."""
    assessment = survey.assessment
    return supported(assessment.language if assessment else None) or settings.LANGUAGE_CODE


def for_user(user, default: str | None = None) -> str:
    """A signed-in user's e-mails: their preference, else ``default``, else ours."""
    preference = getattr(user, "personal_preference", None) if user is not None else None
    return (
        supported(preference.language if preference else None)
        or supported(default)
        or settings.LANGUAGE_CODE
    )
