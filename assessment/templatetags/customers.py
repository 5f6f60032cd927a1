"""Filters for the customers' results: a rating with its interval, a quadrant's words."""

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

from assessment.charts import quadrant_label
from assessment.scoring.formula2 import displayed

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


@register.simple_tag
def points(value, half) -> str:
    """A 0-100 figure in whole points with its 95 % margin ("62 ± 9"), or a dash."""
    if value is None:
        return "—"
    if half is None:
        return str(displayed(value))
    return _("%(value)s ± %(half)s") % {"value": displayed(value), "half": displayed(half)}


@register.simple_tag
def gap(value, beyond_noise) -> str:
    """A signed gap in whole points, bold when beyond the noise; a dash when missing."""
    if value is None:
        return "—"
    text = f"{displayed(value):+d}"
    return format_html("<strong>{}</strong>", text) if beyond_noise else text


@register.filter
def gap_sentence(row) -> str:
    """The largest gap of one quality, in words."""
    value = row.largest_gap
    size = displayed(abs(value))
    if row.largest_gap_kind == "self":
        if value > 0:
            text = _("%(name)s: the team scores itself %(points)s points higher than customers do.")
        else:
            text = _("%(name)s: the team scores itself %(points)s points lower than customers do.")
    elif value > 0:
        text = _(
            "%(name)s: the team expected customers to rate it %(points)s points higher "
            "than they did."
        )
    else:
        text = _("%(name)s: customers rated it %(points)s points higher than the team expected.")
    return text % {"name": row.name, "points": size}
