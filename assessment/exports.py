"""Data exports: scores and anonymised answers as tables, written as CSV or XLSX.

The builders return ``(headers, rows)`` of plain values; the writers turn any table
into bytes. Every text cell is neutralised on the way out, so a comment such as
``=HYPERLINK(...)`` opens in a spreadsheet as text, never as a formula (OWASP's
guidance on CSV injection). Numbers stay numbers.
"""

import csv
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.http import HttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from assessment import scoring, selectors
from assessment.models import Answer, Assessment, Response

Cell = str | int | float | Decimal | None
Table = tuple[list[str], list[list[Cell]]]

# A cell starting with one of these may be read as a formula (or, for the control
# characters, lets a formula hide behind whitespace that the spreadsheet strips).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


class ResultsHidden(Exception):
    """The assessment's results are not visible yet: not submitted, or too few answers."""


def neutralise(value: Cell) -> Cell:
    """Prefix text a spreadsheet could run as a formula with "'"; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def scores_table(found: selectors.results.AssessmentResults) -> Table:
    """One row per framework and section: the team's scores as the results page shows them.

    Empty (headers only) unless the results are visible.
    """
    headers = [
        _("Organisation"),
        _("Team"),
        _("Assessment"),
        _("Framework"),
        _("Framework version"),
        _("Section key"),
        _("Section"),
        _("Score (0-100)"),
        _("Level"),
        _("Respondents"),
        _("Rated answers"),
        _("Not applicable"),
        _("Coverage (%)"),
        _("Spread (SD, points)"),
        _("Moderated score"),
        _("Target level"),
        _("Formula version"),
    ]
    assessment = found.assessment
    rows: list[list[Cell]] = [
        [
            assessment.organisation.name,
            assessment.team.name,
            assessment.title,
            panel.name,
            panel.version,
            row.key,
            row.name,
            _rounded(row.team.score),
            row.team.level,
            row.team.respondents,
            row.team.rated,
            row.team.not_applicable,
            _rounded(row.team.coverage),
            _rounded(row.team.spread),
            row.moderated,
            row.target_level,
            scoring.FORMULA_VERSION,
        ]
        for panel in (found.panels if found.visible else [])
        for row in panel.rows
    ]
    return headers, rows


def answers_table(
    assessment: Assessment, *, found: selectors.results.AssessmentResults | None = None
) -> Table:
    """Every answer of the completed member responses, respondents numbered at random.

    Raises ``ResultsHidden`` unless the results are visible (submitted, and at least
    ``settings.ANONYMITY_THRESHOLD`` completed member responses). The manager's own
    self-view is not a member response and is left out. Respondents are numbered 1..n
    in a fresh random order on every export, and rows are sorted by question, so
    neither the numbers nor the order follow response ids or the order people answered.
    ``found`` saves recomputing results the caller already has. One query beyond those.
    """
    if found is None:
        found = selectors.results.assessment_results(assessment)
    if not found.visible:
        raise ResultsHidden
    headers = [
        _("Respondent"),
        _("Framework"),
        _("Section key"),
        _("Question code"),
        _("Question"),
        _("Level"),
        _("Not applicable"),
    ]
    answers = list(
        Answer.objects.filter(
            response__in=Response.objects.members().completed().filter(assessment=assessment)
        )
        .order_by()
        .values_list(
            "response_id",
            "question__version__framework__slug",
            "question__version__name",
            "question__section__key",
            "question__section__position",
            "question__position",
            "question__code",
            "question__text",
            "level",
            "not_applicable",
        )
    )
    # Comments stay out: tied to one respondent's ratings, a recognisable comment would
    # unmask them (the report lists comments by question, apart from anyone's ratings).
    # Sections rated by fewer people than the threshold are withheld, as on screen.
    raters: dict[str, set[int]] = {}
    for answer in answers:
        if answer[8] is not None:
            raters.setdefault((answer[1], answer[3]), set()).add(answer[0])
    threshold = settings.ANONYMITY_THRESHOLD
    answers = [a for a in answers if len(raters.get((a[1], a[3]), ())) >= threshold]
    response_ids = sorted({answer[0] for answer in answers})
    secrets.SystemRandom().shuffle(response_ids)
    number = {response_id: n for n, response_id in enumerate(response_ids, start=1)}
    answers.sort(key=lambda a: (a[1], a[4], a[5], number[a[0]]))
    yes, no = _("yes"), _("no")
    rows: list[list[Cell]] = [
        [
            number[response_id],
            framework,
            section_key,
            code,
            text,
            level,
            yes if not_applicable else no,
        ]
        for (
            response_id,
            _slug,
            framework,
            section_key,
            _section_position,
            _question_position,
            code,
            text,
            level,
            not_applicable,
        ) in answers
    ]
    return headers, rows


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """UTF-8 CSV with a byte-order mark, so Excel reads the accents right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in (headers, *rows):
        writer.writerow(["" if cell is None else neutralise(cell) for cell in line])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(headers: Sequence[str], rows: Sequence[Sequence[Cell]], *, title: str = "") -> bytes:
    """One worksheet: a bold, frozen header row; text always stored as text."""
    workbook = Workbook()
    sheet = workbook.active
    if title:
        # Sheet names are at most 31 characters and may not hold []:*?/\
        sheet.title = "".join(c for c in title if c not in "[]:*?/\\")[:31] or sheet.title
    bold = Font(bold=True)
    for row_number, line in enumerate((headers, *rows), start=1):
        for column, value in enumerate(line, start=1):
            cell = sheet.cell(row=row_number, column=column)
            if isinstance(value, str):
                # Control characters make the file unreadable to Excel; drop them.
                cell.value = neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
                cell.data_type = "s"  # never "f", whatever the text looks like
            else:
                cell.value = value
            if row_number == 1:
                cell.font = bold
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class FileFormat:
    extension: str
    content_type: str


CSV = FileFormat("csv", "text/csv; charset=utf-8")
XLSX = FileFormat("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
PDF = FileFormat("pdf", "application/pdf")
ZIP = FileFormat("zip", "application/zip")
TABLE_FORMATS = {"csv": CSV, "xlsx": XLSX}


def write_table(table: Table, file_format: FileFormat, *, title: str) -> bytes:
    """The table as CSV or XLSX bytes (``title`` names the worksheet)."""
    if file_format == XLSX:
        return to_xlsx(*table, title=title)
    return to_csv(*table)


def file_name(assessment: Assessment, what: str, file_format: FileFormat) -> str:
    """``<title slug>-<what>.<ext>``: an ASCII slug, so nothing in a title can break out
    of the header or the file name."""
    name = slugify(assessment.title)[:80].strip("-") or f"assessment-{assessment.pk}"
    return f"{name}-{what}.{file_format.extension}"


def attachment(content: bytes, *, filename: str, file_format: FileFormat) -> HttpResponse:
    """A download: the browser saves it under ``filename`` and never renders it."""
    return HttpResponse(
        content,
        content_type=file_format.content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
