"""Filters for the customers' results: a rating with its interval, a quadrant's words."""

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from assessment.charts import quadrant_label

register = template.Library()


@register.filter
def rating(stats) -> str:
    """A mean rating on 1-5 with its 95 % interval: "4.2 (3.8 to 4.6)"; one rating has none."""
    mean = number_format(stats.mean, 1)
    if stats.half is None:
        return mean
    return _("%(mean)s (%(low)s to %(high)s)") % {
        "mean": mean,
        "low": number_format(stats.low, 1),
        "high": number_format(stats.high, 1),
    }


@register.filter
def quadrant(key) -> str:
    return quadrant_label(key)
