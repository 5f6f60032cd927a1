"""Customer surveys (issue 17): what customers themselves say of the service.

A survey belongs to a team, and usually to one of its assessments. Customers answer
through the survey's public link (printed as a QR code); nobody signs in and nothing
identifies them. A response is one row with a fixed column pair per attribute, so a
submission is one INSERT and results are aggregate SQL (docs/customer-voice.md).

What is kept, and for how long, is stated on the survey page and in docs/privacy.md:
the ratings and the optional comment, the time of the submission, and, for the rate
limit only, a keyed hash of the sender's address that is deleted when its window ends.
Refused submissions are counted on the survey, never stored.
"""

import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessment.models.assessments import Assessment
from assessment.models.organisations import Organisation, Team, TokenQuerySet
from assessment.models.responses import Response
from frameworks.models import CustomerSurveyVersion

RATING_MIN = 1
RATING_MAX = 5
# One column pair per attribute (frameworks.models.CustomerAttribute.position).
ATTRIBUTE_SLOTS = 12
CUSTOMER_COMMENT_MAX_LENGTH = 1000


class CustomerSurvey(models.Model):
    """A team's survey of its customers, open between two dates, up to a cap."""

    class Refusal(models.TextChoices):
        """Why a public submission was refused; each has a counter on the survey."""

        REPEAT = "repeat", _("already answered from this browser")
        RATE = "rate", _("too many from one address, or from everyone at once")
        BOT = "bot", _("looked automated (a hidden field filled, or far too fast)")
        CLOSED = "closed", _("arrived when the survey was closed or full")

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="customer_surveys",
        verbose_name=_("organisation"),
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="customer_surveys", verbose_name=_("team")
    )
    assessment = models.OneToOneField(
        Assessment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="customer_survey",
        verbose_name=_("assessment"),
    )
    version = models.ForeignKey(
        CustomerSurveyVersion,
        on_delete=models.PROTECT,
        related_name="surveys",
        verbose_name=_("questionnaire"),
    )
    title = models.CharField(_("title"), max_length=200)
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    max_responses = models.PositiveIntegerField(_("maximum number of responses"))
    allow_repeat = models.BooleanField(_("allow more than one response per browser"), default=False)
    # The public link is printed on posters and receipts: it is an address, not a
    # secret, so it is kept as it is (a personal link's token is kept only as a hash).
    public_token = models.CharField(_("public link token"), max_length=32, unique=True)
    refused_repeat = models.PositiveIntegerField(_("refused: repeat"), default=0)
    refused_rate = models.PositiveIntegerField(_("refused: rate limit"), default=0)
    refused_bot = models.PositiveIntegerField(_("refused: automated"), default=0)
    refused_closed = models.PositiveIntegerField(_("refused: closed"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer survey")
        verbose_name_plural = _("customer surveys")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_on__gte=models.F("opens_on")),
                name="customersurvey_closes_after_opening",
            ),
            models.CheckConstraint(
                condition=models.Q(max_responses__gte=1), name="customersurvey_cap_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("assessment:customer_survey", kwargs={"pk": self.pk})

    def public_path(self) -> str:
        return reverse("customer_survey_public", kwargs={"token": self.public_token})

    # What a refused customer reads, by reason: polite, and never a hint for a script.
    REFUSAL_MESSAGES = {
        Refusal.REPEAT: _("Thank you, but this browser has already sent answers to this survey."),
        Refusal.RATE: _(
            "We are receiving a lot of answers right now and could not take yours. "
            "Please try again in a few minutes."
        ),
        Refusal.BOT: _(
            "We could not accept these answers. If you are a person, please go back, "
            "take your time over the questions and send them again."
        ),
        Refusal.CLOSED: _(
            "This survey is not taking answers at the moment. Thank you for your time."
        ),
    }

    @classmethod
    def refusal_message(cls, reason: str) -> str:
        return str(cls.REFUSAL_MESSAGES[cls.Refusal(reason)])

    @property
    def refused_total(self) -> int:
        return self.refused_repeat + self.refused_rate + self.refused_bot + self.refused_closed

    def is_open_on(self, day: datetime.date | None = None) -> bool:
        """Whether the dates admit answers on ``day`` (today, in the site's time zone)."""
        day = day or timezone.localdate()
        return self.opens_on <= day <= self.closes_on

    def state(self, response_count: int, day: datetime.date | None = None) -> str:
        """ "not-yet", "open", "full" or "closed": the one rule for whether answers are taken."""
        day = day or timezone.localdate()
        if day < self.opens_on:
            return "not-yet"
        if day > self.closes_on:
            return "closed"
        if response_count >= self.max_responses:
            return "full"
        return "open"


class CustomerResponse(models.Model):
    """One customer's answers: ``i<n>`` how much attribute n matters (1-5), ``p<n>`` how
    well it was done (1-5); empty for "doesn't apply" or an attribute the survey's
    version does not have. Nothing links a response to a person or a link."""

    survey = models.ForeignKey(
        CustomerSurvey,
        on_delete=models.CASCADE,
        related_name="responses",
        verbose_name=_("customer survey"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    comment = models.TextField(_("comment"), blank=True, max_length=CUSTOMER_COMMENT_MAX_LENGTH)
    i1 = models.PositiveSmallIntegerField(_("importance 1"), null=True, blank=True)
    i2 = models.PositiveSmallIntegerField(_("importance 2"), null=True, blank=True)
    i3 = models.PositiveSmallIntegerField(_("importance 3"), null=True, blank=True)
    i4 = models.PositiveSmallIntegerField(_("importance 4"), null=True, blank=True)
    i5 = models.PositiveSmallIntegerField(_("importance 5"), null=True, blank=True)
    i6 = models.PositiveSmallIntegerField(_("importance 6"), null=True, blank=True)
    i7 = models.PositiveSmallIntegerField(_("importance 7"), null=True, blank=True)
    i8 = models.PositiveSmallIntegerField(_("importance 8"), null=True, blank=True)
    i9 = models.PositiveSmallIntegerField(_("importance 9"), null=True, blank=True)
    i10 = models.PositiveSmallIntegerField(_("importance 10"), null=True, blank=True)
    i11 = models.PositiveSmallIntegerField(_("importance 11"), null=True, blank=True)
    i12 = models.PositiveSmallIntegerField(_("importance 12"), null=True, blank=True)
    p1 = models.PositiveSmallIntegerField(_("performance 1"), null=True, blank=True)
    p2 = models.PositiveSmallIntegerField(_("performance 2"), null=True, blank=True)
    p3 = models.PositiveSmallIntegerField(_("performance 3"), null=True, blank=True)
    p4 = models.PositiveSmallIntegerField(_("performance 4"), null=True, blank=True)
    p5 = models.PositiveSmallIntegerField(_("performance 5"), null=True, blank=True)
    p6 = models.PositiveSmallIntegerField(_("performance 6"), null=True, blank=True)
    p7 = models.PositiveSmallIntegerField(_("performance 7"), null=True, blank=True)
    p8 = models.PositiveSmallIntegerField(_("performance 8"), null=True, blank=True)
    p9 = models.PositiveSmallIntegerField(_("performance 9"), null=True, blank=True)
    p10 = models.PositiveSmallIntegerField(_("performance 10"), null=True, blank=True)
    p11 = models.PositiveSmallIntegerField(_("performance 11"), null=True, blank=True)
    p12 = models.PositiveSmallIntegerField(_("performance 12"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer response")
        verbose_name_plural = _("customer responses")
        ordering = ["survey", "submitted_at"]
        indexes = [models.Index(fields=["survey", "submitted_at"], name="customerresp_survey_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(**{f"{prefix}{n}__range": (RATING_MIN, RATING_MAX)})
                | models.Q(**{f"{prefix}{n}__isnull": True}),
                name=f"customerresponse_{prefix}{n}_in_range",
            )
            for prefix in ("i", "p")
            for n in range(1, ATTRIBUTE_SLOTS + 1)
        ]

    def __str__(self) -> str:
        return f"{self.survey} #{self.pk}"


class CustomerThrottle(models.Model):
    """How many submissions one address made to one survey in one window: the per-address
    rate limit. The address is kept only as a keyed hash that changes with every window,
    and rows are deleted once their window has passed."""

    survey = models.ForeignKey(
        CustomerSurvey, on_delete=models.CASCADE, related_name="+", verbose_name=_("survey")
    )
    address_tag = models.CharField(_("address tag"), max_length=64)
    window_start = models.DateTimeField(_("window start"))
    count = models.PositiveIntegerField(_("submissions"), default=0)

    class Meta:
        verbose_name = _("customer survey throttle")
        verbose_name_plural = _("customer survey throttles")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "address_tag", "window_start"], name="customerthrottle_unique"
            )
        ]
        indexes = [models.Index(fields=["window_start"], name="customerthrottle_window")]

    def __str__(self) -> str:
        return f"{self.survey_id} {self.window_start:%Y-%m-%d %H:%M} {self.count}"


class CustomerPrediction(models.Model):
    """A team member's prediction of what customers will say: for attribute n of the
    survey's version, how well customers would say the team did it (``p<n>``, 1-5, empty
    for "don't know"). One row per response; only ever shown pooled, from the anonymity
    threshold, once the team's results show (docs/customer-voice.md)."""

    response = models.OneToOneField(
        Response,
        on_delete=models.CASCADE,
        related_name="customer_prediction",
        verbose_name=_("response"),
    )
    p1 = models.PositiveSmallIntegerField(_("prediction 1"), null=True, blank=True)
    p2 = models.PositiveSmallIntegerField(_("prediction 2"), null=True, blank=True)
    p3 = models.PositiveSmallIntegerField(_("prediction 3"), null=True, blank=True)
    p4 = models.PositiveSmallIntegerField(_("prediction 4"), null=True, blank=True)
    p5 = models.PositiveSmallIntegerField(_("prediction 5"), null=True, blank=True)
    p6 = models.PositiveSmallIntegerField(_("prediction 6"), null=True, blank=True)
    p7 = models.PositiveSmallIntegerField(_("prediction 7"), null=True, blank=True)
    p8 = models.PositiveSmallIntegerField(_("prediction 8"), null=True, blank=True)
    p9 = models.PositiveSmallIntegerField(_("prediction 9"), null=True, blank=True)
    p10 = models.PositiveSmallIntegerField(_("prediction 10"), null=True, blank=True)
    p11 = models.PositiveSmallIntegerField(_("prediction 11"), null=True, blank=True)
    p12 = models.PositiveSmallIntegerField(_("prediction 12"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer prediction")
        verbose_name_plural = _("customer predictions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(**{f"p{n}__range": (RATING_MIN, RATING_MAX)})
                | models.Q(**{f"p{n}__isnull": True}),
                name=f"customerprediction_p{n}_in_range",
            )
            for n in range(1, ATTRIBUTE_SLOTS + 1)
        ]

    def __str__(self) -> str:
        return f"prediction of response {self.response_id}"

    @staticmethod
    def accepted_for(assessment: Assessment) -> bool:
        """Whether predictions may be given or changed: while the assessment is open, in its
        first round only. The pooled prediction shows once the assessment closes; a change
        in a later round would move it by one person's change, which would give it away."""
        return assessment.is_open and assessment.round == 1


class CustomerLink(models.Model):
    """A personal link to a survey, for one customer on an uploaded list: single use. Its
    token is kept only as a hash. The address (and name) are kept only to send the link
    and are erased once the survey has closed (``CUSTOMER_ADDRESS_RETENTION_DAYS`` after
    its closing date, by ``manage.py prune_customer_data``). Whether it was used is a
    yes or no, with no time: nothing ties a link, or its customer, to a response."""

    survey = models.ForeignKey(
        CustomerSurvey,
        on_delete=models.CASCADE,
        related_name="links",
        verbose_name=_("customer survey"),
    )
    email = models.EmailField(_("e-mail"), blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    # Empty until the link is sent, and again once the address is erased.
    token_hash = models.CharField(_("token hash"), max_length=64, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    used = models.BooleanField(_("used"), default=False)
    erased = models.BooleanField(_("address erased"), default=False)

    objects = TokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal customer link")
        verbose_name_plural = _("personal customer links")
        ordering = ["survey", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "email"],
                condition=~models.Q(email=""),
                name="customerlink_unique_email",
            ),
            models.UniqueConstraint(
                fields=["token_hash"],
                condition=~models.Q(token_hash=""),
                name="customerlink_unique_token",
            ),
        ]

    def __str__(self) -> str:
        return self.email or str(_("(address erased)"))
