"""Results of closed assessments, stored so that a view does not read every answer again."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from assessment.models.assessments import Assessment


class StoredResults(models.Model):
    """The sums a closed assessment's results are scored from (``selectors.results``).

    One row per assessment: per (assessment, audience, section), the sums the totals
    query gives, for the team and leadership groups whose figures may show only: never
    a row per person, never an audience withheld by the anonymity threshold. ``key``
    covers everything that can change those sums; a view whose key differs computes
    them afresh and replaces the row. Moderation, targets, settings and formulas are
    applied on every view, never stored.
    """

    assessment = models.OneToOneField(
        Assessment, on_delete=models.CASCADE, related_name="+", verbose_name=_("assessment")
    )
    key = models.CharField(_("key"), max_length=64)
    rows = models.JSONField(_("section sums"), default=list)
    stored_at = models.DateTimeField(_("stored at"), auto_now=True)

    class Meta:
        verbose_name = _("stored results")
        verbose_name_plural = _("stored results")

    def __str__(self) -> str:
        return f"Results of {self.assessment_id}"
