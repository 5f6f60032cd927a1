"""Results of closed assessments, stored so that a view does not read every answer again."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from assessment.models.assessments import Assessment


class StoredResults(models.Model):
    """Sums a closed assessment's figures are computed from, by kind: the results' section
    sums (``selectors.results``) and the shared concepts' sums (``selectors.concepts``).

    One row per assessment and kind, for the audiences whose figures may show only: never
    a row per person, never an audience withheld by the anonymity threshold. ``key``
    covers everything that can change those sums; a view whose key differs computes them
    afresh and replaces the row. Moderation, targets, settings and formulas are applied
    on every view, never stored.
    """

    class Kind(models.TextChoices):
        SECTIONS = "sections", _("Section sums")
        CONCEPTS = "concepts", _("Concept sums")

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="+", verbose_name=_("assessment")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    key = models.CharField(_("key"), max_length=64)
    sums = models.JSONField(_("sums"), default=list)
    stored_at = models.DateTimeField(_("stored at"), auto_now=True)

    class Meta:
        verbose_name = _("stored results")
        verbose_name_plural = _("stored results")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "kind"], name="stored_results_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.assessment_id}"
