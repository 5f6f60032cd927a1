"""The questionnaire's question blocks, rendered once per question and language.

A question's block (its statement and help, its levels with their anchors, the
"not applicable" and "don't know" options, the comment box and the status line) is the
same for everyone who answers that framework version in that language, whatever they
chose: only the chosen option, the comment and the answer's revision are their own. So the
block is rendered once, with a marker in each of those places, and kept in the process; a
page then fills in each person's own values (the comment escaped as the template would) in
one pass over the text. A framework version never changes once loaded (the key carries its
pk and load time). A row with an error or a conflict says more than the others and is
rendered in full; the same template serves both.
"""

import re
import threading
from types import SimpleNamespace
from typing import TYPE_CHECKING

from django import template
from django.template.loader import get_template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

if TYPE_CHECKING:
    from frameworks.selectors import AskedContent

register = template.Library()

TEMPLATE = "assessment/respond/includes/question.html"
CHECKED = " checked"
# Private-use characters: escaping leaves them as they are, and no framework text uses them.
_CHOICE_MARK = "\ue000{}\ue000"  # around an option's value: " checked" when it is chosen
_COMMENT_MARK = "\ue001"
_REVISION_MARK = "\ue002"
_HOLES = re.compile("(\ue000[0-9a-z]+\ue000|\ue001|\ue002)")

# A block as its text split at the holes: text, hole, text, hole, ..., text.
_BLOCKS: dict[tuple, tuple[str, ...]] = {}
_BLOCKS_MAX = 8192  # questions x languages x (editable or not); a few MB at most
_LOCK = threading.Lock()


def _render(context: dict, marks: dict[str, str]) -> str:
    row = context["row"]
    return get_template(TEMPLATE).render(
        {
            **context,
            "options": [(choice, marks[choice.value]) for choice in row.choices],
            "na_mark": marks["na"],
            "dk_mark": marks["dk"],
        }
    )


@register.simple_tag(takes_context=True)
def question_block(context, row, number: int, editable: bool) -> SafeString:
    """The fieldset of ``row`` (an ``assessment.selectors.respondent.QuestionRow``),
    numbered ``number`` on its page."""
    page = context["page"]
    fixed = {
        "row": row,
        "number": number,
        "editable": editable,
        "has_audiences": page.has_audiences,
        "comment_max_length": context["comment_max_length"],
    }
    if row.error or row.conflict:
        marks = {value: CHECKED if value == row.level else "" for value in _values(row)}
        # The template's own output: already escaped, and a SafeString.
        return _render({**fixed, "comment": row.comment, "revision": row.revision}, marks)
    question = row.question
    key = (
        question.pk,
        question.version.loaded_at,
        get_language(),
        number,
        editable,
        fixed["has_audiences"],
        fixed["comment_max_length"],
    )
    pieces = _BLOCKS.get(key)
    if pieces is None:
        marks = {value: _CHOICE_MARK.format(value) for value in _values(row)}
        block = _render({**fixed, "comment": _COMMENT_MARK, "revision": _REVISION_MARK}, marks)
        pieces = tuple(_HOLES.split(block))
        with _LOCK:
            if len(_BLOCKS) >= _BLOCKS_MAX:
                _BLOCKS.clear()
            _BLOCKS[key] = pieces

    chosen = _CHOICE_MARK.format(row.level)
    out = list(pieces)
    for index in range(1, len(out), 2):  # the holes
        hole = out[index]
        if hole == _COMMENT_MARK:
            out[index] = escape(row.comment)
        elif hole == _REVISION_MARK:
            out[index] = str(row.revision)
        else:
            out[index] = CHECKED if hole == chosen else ""
    # The pieces are the template's escaped output; each hole became " checked", "", the
    # escaped comment or a whole number.
    return mark_safe("".join(out))  # noqa: S308


def _values(row) -> list[str]:
    """Every value the question's radios carry: its levels, then "na" and "dk"."""
    return [choice.value for choice in row.choices] + ["na", "dk"]


def warm(content: "AskedContent", comment_max_length: int) -> int:
    """Render and keep the blocks of every question of ``content`` in the active language,
    numbered and editable as its section's page shows them: the blocks a respondent's first
    page would otherwise render (``assessment.warmup``). The number of blocks it rendered."""
    from assessment.selectors.respondent import QuestionRow

    page = SimpleNamespace(has_audiences=content.version.has_audiences)
    context = {"page": page, "comment_max_length": comment_max_length}
    before = len(_BLOCKS)
    for section in content.sections:
        for number, question in enumerate(content.questions[section.pk], start=1):
            question_block(context, QuestionRow(question, levels=content.levels), number, True)
    return len(_BLOCKS) - before
