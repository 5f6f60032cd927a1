"""Security events written to the log (logger ``assessment.security``), and what a
sign-in sets up in the session (its clocks, the person's own language).

Failed sign-ins and lockouts are logged with the username tried and the client
address, as django-axes resolves it (see TRUSTED_PROXY_COUNT). The username is
logged with repr() so a crafted name cannot forge extra log lines.
"""

import logging

from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from assessment import languages
from assessment.middleware import touch_session
from assessment.models import PersonalPreference

log = logging.getLogger("assessment.security")


def _address(request) -> str:
    return (get_client_ip_address(request) if request is not None else None) or "-"


@receiver(user_login_failed)
def log_failed_sign_in(sender, credentials, request=None, **kwargs) -> None:
    log.warning(
        "Sign-in failed: username=%r from %s", credentials.get("username", ""), _address(request)
    )


@receiver(user_locked_out)
def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    log.warning("Sign-in locked: username=%r from %s", username or "", ip_address or "-")


@receiver(user_logged_in)
def on_sign_in(sender, request, user, **kwargs) -> None:
    log.info("Signed in: user %s from %s", user.pk, _address(request))
    if request is not None and hasattr(request, "session"):
        touch_session(request.session)
        # Their own language from now on (a query here saves one on every page).
        preference = PersonalPreference.objects.filter(user=user).first()
        if preference is not None and languages.supported(preference.language):
            request.session[languages.SESSION_KEY] = preference.language
