"""The language switcher's choices: ``{% language_choices as choices %}``."""

from django import template

from assessment.forms.public import language_choices as shipped_choices

register = template.Library()


@register.simple_tag
def language_choices() -> list[tuple[str, str]]:
    """(code, the language's own name) for each shipped language."""
    return shipped_choices()
