"""Mail backends and helpers for tests: deliver like locmem, but refuse some recipients
or everyone; find the link in a message."""

import re
import smtplib

from django.core.mail.backends.locmem import EmailBackend


class FailForSomeBackend(EmailBackend):
    """Raises SMTPRecipientsRefused for any address containing "refused"."""

    def send_messages(self, messages):
        for message in messages:
            if any("refused" in address for address in message.recipients()):
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"No such user")})
        return super().send_messages(messages)


class DownBackend(EmailBackend):
    """A mail server that cannot be reached: every send fails as smtplib's would."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def refusing_everyone(settings) -> None:
    """Make the mail server unreachable (pytest-django's ``settings`` fixture)."""
    settings.MAILERS = {"default": {"BACKEND": "tests.mail.DownBackend"}}


def delivering_again(settings) -> None:
    """Deliver into ``mail.outbox`` again, after ``refusing_everyone``."""
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def links_in(message) -> list[str]:
    """Every http(s) link in a message's body, in order."""
    return re.findall(r"https?://\S+", message.body)
