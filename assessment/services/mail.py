"""E-mail sent on an organisation's behalf: only once its address is confirmed, and
within its sending caps (``MAIL_CAP_PER_HOUR``, ``MAIL_CAP_PER_DAY``).

Each message is first reserved (a ``SentMail`` row, counted and written under a lock
on the organisation's row, so concurrent requests cannot both take the last place),
then handed to the mail backend outside any transaction (no database lock waits on
the mail server), and the reservation is released if the backend refuses it. So
``SentMail`` holds one row per message the backend accepted.
"""

import logging
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from assessment.models import Organisation, SentMail
from assessment.services.common import ServiceError, send_email
from assessment.validators import control_characters, is_clean

logger = logging.getLogger(__name__)

EMAIL_MAX_LENGTH = 254  # the database columns' limit (RFC 5321's practical maximum)


class Unconfirmed(ServiceError):
    """Nothing is sent for an organisation until the address it signed up with is confirmed."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Confirm your e-mail address first: follow the link we sent you when you "
                "signed up. Until then nothing can be e-mailed on your organisation's behalf."
            )
        )

    @classmethod
    def check(cls, organisation: Organisation) -> None:
        """Raise unless the organisation may have mail sent on its behalf."""
        if organisation.email_confirmed_at is None:
            raise cls()


class UnusableAddress(ServiceError):
    """An address no message can be sent to (stored before the forms refused it)."""

    def __init__(self, email: str, reason: str) -> None:
        self.email, self.reason = email, reason
        super().__init__(
            _("%(address)s cannot receive e-mail: %(reason)s.")
            % {"address": self.shown(email), "reason": reason}
        )

    @staticmethod
    def shown(email: str) -> str:
        """The address as a person can read it: control characters spelt out (``\\x0b``)."""
        hidden = set(control_characters(email))
        return "".join(
            char.encode("unicode_escape").decode("ascii") if char in hidden else char
            for char in email
        )

    @classmethod
    def reason_for(cls, email: str) -> str | None:
        """Why ``email`` cannot be sent to, or None when it can."""
        if not is_clean(email):
            return _("it contains a control character")
        if len(email) > EMAIL_MAX_LENGTH:
            return _("it is too long")
        try:
            validate_email(email)
        except ValidationError:
            return _("it is not a valid e-mail address")
        return None

    @classmethod
    def check(cls, email: str) -> None:
        reason = cls.reason_for(email)
        if reason is not None:
            raise cls(email, reason)


class SendFailed(ServiceError):
    """The mail backend did not take the message; nothing was recorded."""

    def __init__(self, email: str, reason: str) -> None:
        self.email, self.reason = email, reason
        super().__init__(
            _("The e-mail to %(email)s could not be sent (%(reason)s); please try again later.")
            % {"email": email, "reason": reason}
        )


@dataclass(frozen=True)
class Cap:
    limit: int
    window: timedelta


def _caps() -> tuple[Cap, Cap]:
    """The hourly and the daily cap, from the settings."""
    return (
        Cap(settings.MAIL_CAP_PER_HOUR, timedelta(hours=1)),
        Cap(settings.MAIL_CAP_PER_DAY, timedelta(days=1)),
    )


def _moment(when: datetime) -> str:
    """A time for a message: "14:05" today, "14:05 on 3 June" another day."""
    local = timezone.localtime(when)
    if local.date() == timezone.localdate():
        return date_format(local, "H:i")
    return _("%(time)s on %(day)s") % {
        "time": date_format(local, "H:i"),
        "day": date_format(local, "MONTH_DAY_FORMAT"),
    }


class CapReached(ServiceError):
    """The organisation has sent as much as its caps allow for now."""

    def __init__(self, *, resume_at: datetime) -> None:
        self.resume_at = resume_at
        self.resume_at_text = _moment(resume_at)
        hourly, daily = _caps()
        super().__init__(
            _(
                "Your organisation has reached its sending limit (%(hour)d e-mails an hour "
                "and %(day)d a day). Sending can resume at %(when)s."
            )
            % {"hour": hourly.limit, "day": daily.limit, "when": self.resume_at_text}
        )

    def waiting(self, *, sent: int, waiting: int, button: str = "") -> str:
        """The message for a batch that stopped here: how many went, how many wait, until
        when, and the button that sends the rest (``button``; by default the invitations')."""
        hourly, daily = _caps()
        return " ".join(
            (
                ngettext(
                    "%(count)d invitation was sent;",
                    "%(count)d invitations were sent;",
                    sent,
                )
                % {"count": sent},
                ngettext(
                    "%(count)d is waiting: your organisation's sending limit is %(hour)d "
                    "an hour and %(day)d a day.",
                    "%(count)d are waiting: your organisation's sending limit is %(hour)d "
                    "an hour and %(day)d a day.",
                    waiting,
                )
                % {"count": waiting, "hour": hourly.limit, "day": daily.limit},
                _("Sending can resume at %(when)s; then use %(button)s.")
                % {"when": self.resume_at_text, "button": button or UNSENT_INVITATIONS_BUTTON},
            )
        )


# The button that sends an assessment's invitations not yet sent (its manager page).
UNSENT_INVITATIONS_BUTTON = gettext_lazy("“Send the unsent invitations”")


class PartlySent(ServiceError):
    """Some messages of a batch were sent and some were not; the message says which and
    why. The unsent ones can be sent again."""


def send_each[T](items: Iterable[T], send_one: Callable[[T], object], *, button: str = "") -> int:
    """Send one message per item with ``send_one``, in order; return how many were sent.

    Every item is tried; each failure is named with its reason. At the sending cap the
    rest wait, unsent. Raises ``PartlySent`` if anything was not sent, naming ``button``
    (by default the invitations') as the way to send the rest.
    """
    pending = list(items)
    sent = 0
    failed: list[str] = []
    for position, item in enumerate(pending):
        try:
            send_one(item)
        except CapReached as cap:
            waiting = len(pending) - position
            raise PartlySent(
                " ".join([*failed, cap.waiting(sent=sent, waiting=waiting, button=button)])
            ) from None
        except Unconfirmed:
            raise
        except ServiceError as error:
            failed.append(str(error))
        else:
            sent += 1
    if failed:
        raise PartlySent(
            " ".join(
                [
                    *failed,
                    ngettext(
                        "%(sent)d invitation was sent; use %(button)s to try the others again.",
                        "%(sent)d invitations were sent; use %(button)s to try the others again.",
                        sent,
                    )
                    % {"sent": sent, "button": button or UNSENT_INVITATIONS_BUTTON},
                ]
            )
        )
    return sent


class ResendTooSoon(ServiceError):
    """The same invitation again within ``INVITATION_RESEND_COOLDOWN_MINUTES``."""

    def __init__(self, *, email: str, allowed_at: datetime) -> None:
        self.allowed_at = allowed_at
        minutes = settings.INVITATION_RESEND_COOLDOWN_MINUTES
        super().__init__(
            ngettext(
                "The invitation to %(email)s was sent less than %(minutes)d minute ago. "
                "You can send it again from %(when)s.",
                "The invitation to %(email)s was sent less than %(minutes)d minutes ago. "
                "You can send it again from %(when)s.",
                minutes,
            )
            % {"email": email, "minutes": minutes, "when": _moment(allowed_at)}
        )

    @classmethod
    def until(cls, sent_at: datetime | None) -> datetime | None:
        """When a message last sent at ``sent_at`` may go again; None: it may now."""
        if sent_at is None:
            return None
        allowed = sent_at + timedelta(minutes=settings.INVITATION_RESEND_COOLDOWN_MINUTES)
        return allowed if allowed > timezone.now() else None


@transaction.atomic
def mail_reserve(*, organisation: Organisation, kind: str) -> SentMail:
    """A place for one message within the organisation's caps, or ``CapReached``.

    The organisation's row is locked first (``select_for_update``; SQLite serialises
    writers anyway), so the count and the new row are one step for concurrent requests.
    """
    locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
    Unconfirmed.check(locked)
    now = timezone.now()
    hourly, daily = _caps()
    recent = SentMail.objects.filter(organisation=locked, sent_at__gt=now - daily.window).exclude(
        kind=SentMail.Kind.CONFIRMATION
    )
    counts = recent.aggregate(
        day=Count("pk"), hour=Count("pk", filter=Q(sent_at__gt=now - hourly.window))
    )
    resume = []
    for cap, count in ((hourly, counts["hour"]), (daily, counts["day"])):
        if count >= cap.limit:
            # Sending resumes once enough of the window's messages have aged out of it.
            times = recent.filter(sent_at__gt=now - cap.window).order_by("sent_at")
            oldest = times.values_list("sent_at", flat=True)[count - cap.limit]
            resume.append(oldest + cap.window)
    if resume:
        raise CapReached(resume_at=max(resume))
    return SentMail.objects.create(organisation=locked, kind=kind, sent_at=now)


def mail_send(
    *,
    organisation: Organisation,
    kind: str,
    to: str,
    subject: str,
    template: str,
    context: dict,
    html_template: str | None = None,
    language: str | None = None,
) -> None:
    """Send one message on the organisation's behalf, counted against its caps; every
    string in ``context`` is folded to one line. ``html_template``: an HTML alternative.
    ``language``: the recipient's, for the body (the caller writes the subject in it);
    a refusal's message stays in the sender's, who reads it.

    Raises ``Unconfirmed``, ``UnusableAddress``, ``CapReached`` or ``SendFailed`` (the
    backend's error: SMTP, network, or a header it refused) and then records nothing.
    """
    UnusableAddress.check(to)
    # User text (names, titles) stays on one line, inside the quotation marks the
    # templates put around it: it cannot pose as a paragraph of the service's own.
    context = {
        key: " ".join(value.split()) if isinstance(value, str) else value
        for key, value in context.items()
    }
    reservation = mail_reserve(organisation=organisation, kind=kind)
    try:
        send_email(
            to=to,
            subject=subject,
            template=template,
            context=context,
            html_template=html_template,
            language=language,
        )
    except (OSError, ValueError) as error:  # smtplib's errors are OSErrors; bad headers ValueErrors
        SentMail.objects.filter(pk=reservation.pk).delete()
        logger.exception("%s for organisation %s could not be e-mailed", kind, organisation.pk)
        raise SendFailed(to, _failure_reason(error)) from None


def _failure_reason(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return _("the mail server refused this address")
    if isinstance(error, ValueError):
        return _("the address or the message could not be put into an e-mail")
    return _("the mail server could not be reached")
