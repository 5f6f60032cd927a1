"""Shared pieces of the services: the error type, link tokens and e-mail."""

import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from assessment.models import token_digest

INVITATION_LINK_DAYS = 30
MANAGER_INVITATION_DAYS = 7


class ServiceError(Exception):
    """A refused action; ``str(error)`` is a message for the user."""


def new_token() -> str:
    """A 256-bit URL-safe secret for a link; store only ``token_digest(token)``."""
    return secrets.token_urlsafe(32)


def new_token_pair() -> tuple[str, str]:
    """A new token and the digest that is stored instead of it."""
    token = new_token()
    return token, token_digest(token)


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def send_email(*, to: str, subject: str, template: str, context: dict) -> None:
    """Send a plain-text e-mail; the subject is folded to one line (titles are user text)."""
    body = render_to_string(template, context)
    send_mail(" ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL, [to])
