"""A mail backend for tests: delivers like locmem, but refuses some recipients."""

import smtplib

from django.core.mail.backends.locmem import EmailBackend


class FailForSomeBackend(EmailBackend):
    """Raises SMTPRecipientsRefused for any address containing "refused"."""

    def send_messages(self, messages):
        for message in messages:
            if any("refused" in address for address in message.recipients()):
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"No such user")})
        return super().send_messages(messages)
