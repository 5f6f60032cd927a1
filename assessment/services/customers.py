"""Customer surveys: opening one, and taking (or refusing) a customer's answers.

A public submission is cheap: one transaction that locks the survey row (so the cap and
the per-survey rate hold under concurrent submissions), counts, bumps the sender's
throttle counter and INSERTs one response row. A refusal stores nothing but a counter
on the survey (docs/customer-voice.md, "Abuse resistance").
"""

import datetime
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessment import languages
from assessment.models import (
    Assessment,
    CustomerLink,
    CustomerPrediction,
    CustomerResponse,
    CustomerSurvey,
    Response,
    SentMail,
    Team,
    token_digest,
)
from assessment.models.customers import CustomerThrottle
from assessment.services.common import ServiceError, absolute_url, new_token_pair
from assessment.services.mail import Unconfirmed, mail_send, send_each
from frameworks import selectors as framework_selectors

Refusal = CustomerSurvey.Refusal


@dataclass(frozen=True)
class CustomerAnswers:
    """A customer's answers: by attribute position (1-12), (importance, performance), each
    1-5 or None for "doesn't apply" or left out; and the optional comment."""

    ratings: Mapping[int, tuple[int | None, int | None]]
    comment: str = ""


def customer_survey_create(
    *,
    team: Team,
    user,
    title: str,
    opens_on: datetime.date,
    closes_on: datetime.date,
    max_responses: int,
    allow_repeat: bool = False,
    assessment: Assessment | None = None,
) -> CustomerSurvey:
    """Open a survey of ``team``'s customers, on the newest loaded customer questionnaire."""
    version = framework_selectors.current_customer_survey()
    if version is None:
        raise ServiceError(
            _("The customer questionnaire is not loaded. Run manage.py load_frameworks.")
        )
    already = ServiceError(_("This assessment already has a customer survey."))
    if assessment is not None and CustomerSurvey.objects.filter(assessment=assessment).exists():
        raise already
    try:
        with transaction.atomic():
            return CustomerSurvey.objects.create(
                organisation=team.organisation,
                team=team,
                assessment=assessment,
                version=version,
                title=title,
                opens_on=opens_on,
                closes_on=closes_on,
                max_responses=max_responses,
                allow_repeat=allow_repeat,
                public_token=secrets.token_urlsafe(16),
                created_by=user,
            )
    except IntegrityError:  # a second click that got past the check above
        raise already from None


def customer_survey_update(
    *,
    survey: CustomerSurvey,
    title: str,
    opens_on: datetime.date,
    closes_on: datetime.date,
    max_responses: int,
    allow_repeat: bool = False,
) -> CustomerSurvey:
    """Change a survey's title, dates, cap and repeat rule. The cap may not go below the
    responses already received."""
    received = survey.responses.count()
    if max_responses < received:
        raise ServiceError(
            _("The survey already has %(count)s responses; the maximum cannot be lower.")
            % {"count": received}
        )
    CustomerSurvey.objects.filter(pk=survey.pk).update(
        title=title,
        opens_on=opens_on,
        closes_on=closes_on,
        max_responses=max_responses,
        allow_repeat=allow_repeat,
    )
    survey.refresh_from_db()
    return survey


def customer_survey_close(*, survey: CustomerSurvey) -> CustomerSurvey:
    """Stop taking answers now: the closing date becomes yesterday (and the opening date
    too, if it was later). Personal-link addresses are then erased on the next prune."""
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    if survey.closes_on <= yesterday:
        raise ServiceError(_("This survey is already closed."))
    CustomerSurvey.objects.filter(pk=survey.pk).update(
        opens_on=min(survey.opens_on, yesterday), closes_on=yesterday
    )
    survey.refresh_from_db()
    return survey


def _count_refusal(survey_id: int, reason: str) -> str:
    field = f"refused_{reason}"
    CustomerSurvey.objects.filter(pk=survey_id).update(**{field: F(field) + 1})
    return reason


def _address_tag(survey_id: int, window_start: datetime.datetime, address: str) -> str:
    """The sender's address as the throttle keeps it: a keyed hash that differs for every
    survey and every window, so it cannot be matched across them or reversed. An IPv6
    address counts by its /64 network, which one subscriber usually holds whole."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.version == 6:
        address = str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    message = f"customer-throttle|{survey_id}|{window_start.isoformat()}|{address}"
    return hmac.new(settings.SECRET_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def _window_start(now: datetime.datetime) -> datetime.datetime:
    seconds = settings.CUSTOMER_ADDRESS_WINDOW_SECONDS
    epoch = int(now.timestamp())
    return datetime.datetime.fromtimestamp(epoch - epoch % seconds, tz=datetime.UTC)


def _throttle_bump(survey_id: int, address: str, now: datetime.datetime) -> int:
    """Add one to the sender's count in the current window; return the new count. Rows of
    ended windows are deleted on the way (one indexed DELETE, usually of nothing)."""
    start = _window_start(now)
    CustomerThrottle.objects.filter(window_start__lt=start).delete()
    tag = _address_tag(survey_id, start, address)
    rows = CustomerThrottle.objects.filter(survey_id=survey_id, address_tag=tag, window_start=start)
    if not rows.update(count=F("count") + 1):
        try:
            with transaction.atomic():
                CustomerThrottle.objects.create(
                    survey_id=survey_id, address_tag=tag, window_start=start, count=1
                )
        except IntegrityError:  # another worker created it first
            rows.update(count=F("count") + 1)
    return rows.values_list("count", flat=True).get()


@transaction.atomic
def customer_response_submit(
    *,
    survey_id: int,
    answers: CustomerAnswers,
    address: str | None,
    repeat: bool = False,
    automated: bool = False,
) -> str | None:
    """Store one customer's answers, or refuse them; return the refusal's reason or None.

    Checked in this order, the first that applies refusing: the survey is not open (dates,
    cap); the submission looked automated (``automated``: the form's honeypot or its
    minimum time); this browser already answered (``repeat``) and the survey allows one
    response per browser; the sender's address or the survey as a whole is over its rate.
    A refusal is counted on the survey and nothing else is written.
    """
    if automated:  # cheap refusals first, before the survey's row is locked
        return _count_refusal(survey_id, Refusal.BOT)
    if repeat and not CustomerSurvey.objects.filter(pk=survey_id, allow_repeat=True).exists():
        return _count_refusal(survey_id, Refusal.REPEAT)
    survey = CustomerSurvey.objects.select_for_update().get(pk=survey_id)
    now = timezone.now()
    counts = survey.responses.aggregate(
        total=Count("pk"),
        last_minute=Count("pk", filter=Q(submitted_at__gt=now - datetime.timedelta(minutes=1))),
    )
    if survey.state(counts["total"]) != "open":
        return _count_refusal(survey.pk, Refusal.CLOSED)
    if counts["last_minute"] >= settings.CUSTOMER_SURVEY_LIMIT_PER_MINUTE:
        return _count_refusal(survey.pk, Refusal.RATE)
    if address and _throttle_bump(survey.pk, address, now) > settings.CUSTOMER_ADDRESS_LIMIT:
        return _count_refusal(survey.pk, Refusal.RATE)
    _insert_response(survey, answers, now)
    return None


def _insert_response(survey: CustomerSurvey, answers: CustomerAnswers, now) -> None:
    fields = {}
    for position, (importance, performance) in answers.ratings.items():
        fields[f"i{position}"] = importance
        fields[f"p{position}"] = performance
    CustomerResponse.objects.create(
        survey=survey, submitted_at=now, comment=answers.comment, **fields
    )


def customer_prediction_save(
    *, response: Response, ratings: Mapping[int, int | None]
) -> CustomerPrediction:
    """Keep a team member's prediction of what customers will say (by attribute position,
    1-5 or None for "don't know"), replacing an earlier one."""
    assessment = response.assessment
    if not CustomerPrediction.accepted_for(assessment):
        raise ServiceError(
            _("Predictions can be changed only while the assessment is open in its first round.")
        )
    if not CustomerSurvey.objects.filter(assessment=assessment).exists():
        raise ServiceError(_("This assessment has no customer survey to predict."))
    values = {f"p{position}": rating for position, rating in ratings.items()}
    prediction, _created = CustomerPrediction.objects.update_or_create(
        response=response, defaults=values
    )
    return prediction


# --- personal links ------------------------------------------------------------------


def customer_links_add(*, survey: CustomerSurvey, entries: Sequence[tuple[str, str]]) -> int:
    """Put customers (e-mail, name) on the survey's personal-link list; return how many were
    new (an address already on the list is left as it is). All or nothing."""
    try:
        return _links_insert(survey, entries)
    except IntegrityError:  # two uploads at once added the same address
        raise ServiceError(
            _("Another upload to this list was being saved at the same time. Please try again.")
        ) from None


@transaction.atomic
def _links_insert(survey: CustomerSurvey, entries: Sequence[tuple[str, str]]) -> int:
    if survey.state(survey.responses.count()) in ("closed", "full"):
        raise ServiceError(_("This survey has closed: no more links can be added."))
    known = set(
        CustomerLink.objects.filter(survey=survey).exclude(email="").values_list("email", flat=True)
    )
    listed = CustomerLink.objects.filter(survey=survey).count()
    fresh = {}
    for email, name in entries:
        if email.lower() not in {k.lower() for k in known} and email.lower() not in fresh:
            fresh[email.lower()] = (email, name)
    if listed + len(fresh) > settings.CUSTOMER_LINKS_MAX:
        raise ServiceError(
            _("A survey's list may hold at most %(limit)s customers.")
            % {"limit": settings.CUSTOMER_LINKS_MAX}
        )
    CustomerLink.objects.bulk_create(
        CustomerLink(survey=survey, email=email, name=name) for email, name in fresh.values()
    )
    return len(fresh)


def customer_links_send(*, survey: CustomerSurvey) -> int:
    """E-mail a personal link to every customer on the list not sent one yet, within the
    organisation's sending caps; return how many went. The mail goes first and the
    token's hash is stored after it, so a failed send leaves the customer unsent.
    Raises ``PartlySent`` when some could not be sent (the rest wait for a later try)."""
    if survey.state(survey.responses.count()) != "open":
        raise ServiceError(_("Links can be sent only while the survey is open."))
    Unconfirmed.check(survey.organisation)
    pending = CustomerLink.objects.filter(survey=survey, sent_at__isnull=True, erased=False)
    if not pending.exists():
        raise ServiceError(_("Every customer on the list has been sent a link already."))
    return send_each(
        list(pending),
        lambda link: _link_send(survey, link),
        button=_("“Send the links”"),
    )


def _link_send(survey: CustomerSurvey, link: CustomerLink) -> None:
    """E-mail one customer their link. The link is claimed first (a second click on
    "Send", or a second tab, finds it taken and sends nothing), released if the mail
    fails; its token's hash is kept only once the mail went."""
    now = timezone.now()
    if not CustomerLink.objects.filter(pk=link.pk, sent_at__isnull=True).update(sent_at=now):
        return
    token, digest = new_token_pair()
    try:
        _link_mail(survey, link, token)
    except ServiceError:
        CustomerLink.objects.filter(pk=link.pk).update(sent_at=None)
        raise
    CustomerLink.objects.filter(pk=link.pk).update(token_hash=digest)


def _link_mail(survey: CustomerSurvey, link: CustomerLink, token: str) -> None:
    """A customer's personal link, in the survey's language (its assessment's)."""
    language = languages.for_survey(survey)
    with translation.override(language):
        subject = _("%(organisation)s asks for your view of its service") % {
            "organisation": survey.organisation.name
        }
    mail_send(
        language=language,
        organisation=survey.organisation,
        kind=SentMail.Kind.CUSTOMER_INVITATION,
        to=link.email,
        subject=subject,
        template="assessment/email/customer_invitation.txt",
        context={
            "name": link.name,
            "organisation": survey.organisation.name,
            "link": absolute_url(reverse("customer_survey_personal", kwargs={"token": token})),
            "closes_on": survey.closes_on,
        },
    )


@transaction.atomic
def customer_link_submit(
    *, token: str, answers: CustomerAnswers, automated: bool = False
) -> str | None:
    """Store the answers given through a personal link and spend the link, or refuse them;
    return the refusal's reason or None. The link keeps no time of its use, and the
    response row does not name it."""
    link = CustomerLink.objects.select_for_update().filter(token_hash=token_digest(token)).first()
    if link is None or link.used:
        return "used"
    survey = CustomerSurvey.objects.select_for_update().get(pk=link.survey_id)
    if survey.state(survey.responses.count()) != "open":
        return _count_refusal(survey.pk, Refusal.CLOSED)
    if automated:
        return _count_refusal(survey.pk, Refusal.BOT)
    # The hash stays, so the link can say it was used; its time is not kept.
    CustomerLink.objects.filter(pk=link.pk).update(used=True)
    _insert_response(survey, answers, timezone.now())
    return None


def customer_addresses_erase(*, today: datetime.date | None = None) -> int:
    """Erase the addresses and names of the personal-link lists of surveys that closed
    more than ``CUSTOMER_ADDRESS_RETENTION_DAYS`` ago, and the throttle's rows of ended
    windows; return how many addresses were erased."""
    today = today or timezone.localdate()
    last_kept = today - datetime.timedelta(days=settings.CUSTOMER_ADDRESS_RETENTION_DAYS)
    erased = CustomerLink.objects.filter(survey__closes_on__lt=last_kept, erased=False).update(
        email="", name="", token_hash="", erased=True
    )
    CustomerThrottle.objects.filter(window_start__lt=_window_start(timezone.now())).delete()
    return erased
