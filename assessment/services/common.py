"""Shared pieces of the services: the error type, link tokens and e-mail."""

import logging
import secrets
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from assessment.errors import ServiceError
from assessment.models import token_digest

logger = logging.getLogger(__name__)

__all__ = [
    "ServiceError"
]  # re-exported: services raise it, views catch it as services.ServiceError

INVITATION_LINK_DAYS = 30
MANAGER_INVITATION_DAYS = 7


def new_token() -> str:
    """A 256-bit URL-safe secret for a link; store only ``token_digest(token)``."""
    return secrets.token_urlsafe(32)


def new_token_pair() -> tuple[str, str]:
    """A new token and the digest that is stored instead of it."""
    token = new_token()
    return token, token_digest(token)


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def send_email(
    *,
    to: str,
    subject: str,
    template: str,
    context: dict,
    html_template: str | None = None,
    language: str | None = None,
) -> None:
    """Send a plain-text e-mail (with an HTML alternative from ``html_template``, if
    given), its body written in ``language`` (the recipient's; None: the active one); the
    subject is folded to one line (titles are user text)."""
    with translation.override(language or translation.get_language()):
        body = render_to_string(template, context)
        html = render_to_string(html_template, context) if html_template else None
    send_mail(" ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL, [to], html_message=html)


def notify_after_commit(
    *, to: str, subject: str, template: str, context: dict, language: str | None = None
) -> None:
    """Send a notification once the change it reports is committed.

    A notification carries no secret, so a failed send only costs the message: it
    is logged, and the change stands.
    """
    if not to:
        return

    def send() -> None:
        try:
            send_email(
                to=to, subject=subject, template=template, context=context, language=language
            )
        except (OSError, smtplib.SMTPException):
            logger.exception("Notification to %s could not be sent", to)

    transaction.on_commit(send)
