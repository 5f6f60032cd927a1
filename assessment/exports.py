"""Data exports: scores and answers as tables, written as CSV or XLSX.

Managers and consultants get the team's answers only as counts per question
(``answers_by_question_table``); the assigned assessor also gets them one row per
answer with anonymous respondent numbers (``answers_table``). See docs/privacy.md.

The builders return ``(headers, rows)`` of plain values; the writers turn any table
into bytes. Every text cell is neutralised on the way out, so a comment such as
``=HYPERLINK(...)`` opens in a spreadsheet as text, never as a formula (OWASP's
guidance on CSV injection). Numbers stay numbers.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Q
from django.http import HttpResponse
from django.utils.crypto import salted_hmac
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from assessment import charts, scoring, selectors
from assessment.models import Answer, Assessment, Response
from frameworks.models import SCALE_MAX, SCALE_MIN, FrameworkVersion, Question
from frameworks.translation import localise

LEADERSHIP = Question.Audience.LEADERSHIP

Cell = str | int | float | Decimal | None
Table = tuple[list[str], list[list[Cell]]]

# A cell starting with one of these may be read as a formula (or, for the control
# characters, lets a formula hide behind whitespace that the spreadsheet strips).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


LEVELS = range(SCALE_MIN, SCALE_MAX + 1)  # format 1's; a format-2 version adds level 0

# Stable machine codes in the format-2 columns (never translated): who a question is asked
# of (Question.Audience), and why a score is or is not given.
SCORED, TOO_FEW_ANSWERS, MOSTLY_DONT_KNOW = "scored", "too_few_answers", "mostly_dont_know"
NOT_ASKED, WITHHELD = "not_asked", "withheld"
AUDIENCE_HEADERS = {
    "team": (_lazy("Team score"), _lazy("Team respondents"), _lazy("Team status")),
    "manager": (_lazy("Managers score"), _lazy("Managers respondents"), _lazy("Managers status")),
    "leadership": (
        _lazy("Leadership score"),
        _lazy("Leadership respondents"),
        _lazy("Leadership status"),
    ),
}


# Formula 2's figures per section (format 2 only; empty in a format-1 framework's rows):
# the 95 % interval, the agreement and its flag, the distribution of answers, and the
# official score (the assessor's moderated one where set, else the team's) with the
# framework's official overall, balance and verdict beside each of its rows.
FORMULA_2_HEADERS = (
    _lazy("Interval low (95 %)"),
    _lazy("Interval high (95 %)"),
    _lazy("Agreement (rwg)"),
    _lazy("Divided team"),
    _lazy("Average answer (0-5)"),
    _lazy("Share at the next level or above (%)"),
    _lazy("Next level"),
    _lazy("Official score"),
    _lazy("Official overall"),
    _lazy("Official balance"),
    _lazy("Official verdict"),
)


def formula_2_cells(row, panel) -> list[Cell]:
    """A format-2 row's ``FORMULA_2_HEADERS`` cells (all empty for a format-1 framework).
    The verdict as its machine code (``Verdict.code``), empty where the framework has none."""
    if not panel.audiences:
        return [None] * len(FORMULA_2_HEADERS)
    stats = row.stats
    headline = panel.headline
    verdict = headline.verdict
    return [
        _rounded(stats.low) if stats else None,
        _rounded(stats.high) if stats else None,
        round(stats.agreement, 2) if stats and stats.agreement is not None else None,
        (1 if stats.divided else 0) if stats else None,
        round(stats.average_level, 2) if stats else None,
        stats.share_percent if stats else None,
        stats.level_above if stats else None,
        _rounded(row.official),
        _rounded(headline.overall),
        _rounded(headline.balance),
        verdict.code if verdict else None,
    ]


class ResultsHidden(Exception):
    """The assessment's results are not visible yet: not submitted, or too few answers."""


def neutralise(value: Cell) -> Cell:
    """Prefix text a spreadsheet could run as a formula with "'"; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def score_status(score: scoring.SectionScore) -> str:
    """Why a section has a score or not, as a stable code: ``scored``, ``mostly_dont_know``
    (format 2: more than half the answers were "don't know") or ``too_few_answers``."""
    if score.mostly_dont_know:
        return MOSTLY_DONT_KNOW
    return SCORED if score.sufficient else TOO_FEW_ANSWERS


def audience_cells(cell: "selectors.results.AudienceCell") -> list[Cell]:
    """One audience's score, respondents and status code in one section (format 2)."""
    if not cell.asked:
        return [None, None, NOT_ASKED]
    if cell.withheld:
        return [None, None, WITHHELD]
    if cell.score is None:
        return [None, cell.respondents, TOO_FEW_ANSWERS]
    return [_rounded(cell.score.score), cell.score.respondents, score_status(cell.score)]


def scores_table(found: selectors.results.AssessmentResults) -> Table:
    """One row per framework and section: the scores as the results page shows them, with
    the scoring rules version of each framework's result.

    Once a framework of the assessment is in format 2, columns follow the format-1 ones
    (which keep their places): "don't know" answers, the section's status code (see
    ``score_status``) and, per audience, its own score, respondents and status code
    (``not_asked``, ``withheld`` and the section codes); empty in a format-1 framework's
    rows, whose "not applicable" also counts its merged "don't know". An assessment in
    format 1 only exports exactly as before. Empty (headers only) unless the results are
    visible.
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
    panels = found.panels if found.visible else []
    format_2 = any(panel.audiences for panel in panels)
    if format_2:
        headers += [
            _("Don't know"),
            _("Score status"),
            *[str(header) for headers_ in AUDIENCE_HEADERS.values() for header in headers_],
            *[str(header) for header in FORMULA_2_HEADERS],
        ]
    assessment = found.assessment
    rows: list[list[Cell]] = []
    for panel in panels:
        audiences = {row.key: row.cells for row in panel.audiences}
        for row in panel.rows:
            line: list[Cell] = [
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
                panel.team.formula_version,
            ]
            if format_2:
                cells = {cell.audience: cell for cell in audiences.get(row.key, [])}
                line += [
                    row.team.dont_know if cells else None,
                    score_status(row.team),
                    *(
                        value
                        for audience in AUDIENCE_HEADERS
                        for value in (
                            audience_cells(cells[audience]) if cells else [None, None, None]
                        )
                    ),
                    *formula_2_cells(row, panel),
                ]
            rows.append(line)
    return headers, rows


def customers_table(voice: "selectors.customers.CustomerVoice") -> Table:
    """The customers' figures, one row per attribute of the survey (docs/customer-voice.md):
    importance and performance (mean, 95 % interval, n), the quadrant and whether it is
    settled; then, for attributes matching a service-definition quality, the team's own
    score, its prediction and the gaps, each with its margin. Empty (headers only) below
    the customers' threshold; the team's columns are empty until its results show."""
    headers = [
        _("Organisation"),
        _("Team"),
        _("Survey"),
        _("Survey version"),
        _("Responses"),
        _("Responses counted"),
        _("Attribute key"),
        _("Attribute"),
        _("Service-definition attribute"),
        _("Importance (mean, 1-5)"),
        _("Importance low"),
        _("Importance high"),
        _("Importance ratings"),
        _("Performance (mean, 1-5)"),
        _("Performance low"),
        _("Performance high"),
        _("Performance ratings"),
        _("Quadrant"),
        _("Quadrant settled"),
        _("Team's own score (0-100)"),
        _("Team's own score margin"),
        _("Team's prediction (0-100)"),
        _("Team's prediction margin"),
        _("Customers' score (0-100)"),
        _("Customers' score margin"),
        _("Own score minus customers"),
        _("Beyond the noise (own score)"),
        _("Prediction minus customers"),
        _("Beyond the noise (prediction)"),
        _("Customer formula version"),
    ]
    results = voice.results
    if not results.visible:
        return headers, []
    survey = voice.survey
    overlay = {row.slug: row for row in voice.overlay.rows} if voice.overlay else {}
    rows: list[list[Cell]] = []
    for attribute in survey.version.attributes.all():
        point = results.grid.point(attribute.key)
        row = overlay.get(attribute.key)
        line: list[Cell] = [
            survey.organisation.name,
            survey.team.name,
            survey.title,
            survey.version.number,
            results.responses,
            results.counted,
            attribute.key,
            attribute.name,
            attribute.service_attribute or None,
        ]
        for stats in (None, None) if point is None else (point.importance, point.performance):
            line += (
                [None, None, None, None]
                if stats is None
                else [round(stats.mean, 2), round(stats.low, 2), round(stats.high, 2), stats.n]
            )
        line += [
            None
            if point is None or point.quadrant is None
            else charts.quadrant_label(point.quadrant),
            None if point is None or point.quadrant is None else point.settled,
        ]
        if row is None:
            line += [None] * 10
        else:
            line += [
                _rounded(row.team),
                _rounded(row.team_half),
                _rounded(row.predicted),
                _rounded(row.predicted_half),
                _rounded(row.customers),
                _rounded(row.customers_half),
                _rounded(row.self_gap),
                row.self_gap_beyond_noise if row.self_gap is not None else None,
                _rounded(row.misjudged),
                row.misjudged_beyond_noise if row.misjudged is not None else None,
            ]
        line.append(voice.formula_version)
        rows.append(line)
    return headers, rows


def actions_table(assessment: Assessment, actions: Sequence) -> Table:
    """The action plan, one row per action: what, which section or question, who owns it,
    by when, its status (a stable code beside its words) and whether the assessor required
    it. Owners are named: an action plan names its people, unlike answers."""
    headers = [
        _("Organisation"),
        _("Team"),
        _("Assessment"),
        _("Action"),
        _("Framework"),
        _("Section key"),
        _("Section"),
        _("Question code"),
        _("Owner"),
        _("Owner has an account"),
        _("Due date"),
        _("Status code"),
        _("Status"),
        _("Required by the assessor"),
        _("Notes"),
        _("Created"),
        _("Last changed"),
    ]
    rows = [
        [
            assessment.organisation.name,
            assessment.team.name,
            assessment.title,
            action.title,
            action.section.version.framework.slug if action.section else None,
            action.section.key if action.section else None,
            action.section.name if action.section else None,
            action.question.code if action.question else None,
            action.owner_label or None,
            action.owner_id is not None,
            action.due_date.isoformat() if action.due_date else None,
            action.status,
            str(action.get_status_display()),
            action.is_required,
            action.notes or None,
            action.created_at.date().isoformat(),
            action.updated_at.date().isoformat(),
        ]
        for action in actions
    ]
    return headers, rows


def judgements_table(assessment: Assessment, sections: Sequence) -> Table:
    """The assessor's judgements, one row per question of a section with evidence or
    judgements (``selectors.review.evidence_and_judgements``): the verdict as a stable
    code beside its words, the note, the section's level from its score and the level the
    criteria leave it, and how much evidence the section has. Never the criteria text."""
    headers = [
        _("Organisation"),
        _("Team"),
        _("Assessment"),
        _("Framework"),
        _("Section"),
        _("Question code"),
        _("Question"),
        _("Judgement code"),
        _("Judgement"),
        _("Note"),
        _("Section level from the score"),
        _("Section level the criteria support"),
        _("Evidence items in the section"),
    ]
    rows = []
    for section in sections:
        judged = section.judged
        for row in section.criteria:
            rows.append(
                [
                    assessment.organisation.name,
                    assessment.team.name,
                    assessment.title,
                    section.framework,
                    section.name,
                    row.code,
                    row.text,
                    row.verdict or None,
                    row.verdict_label,
                    row.note or None,
                    judged.scored_level if judged else None,
                    judged.level if judged else None,
                    len(section.evidence),
                ]
            )
    return headers, rows


def answers_by_question_table(
    assessment: Assessment, *, found: selectors.results.AssessmentResults | None = None
) -> Table:
    """Per question, how it was answered: how many chose each level, "not applicable"
    (format 1: "not applicable / don't know"), how many answered, out of how many
    respondents. For managers and consultants, who never receive one person's answers as
    a row.

    A question counts the submitted answers of the people it is asked of, among the
    responses that count (``selectors.results.counted_responses``): a format-1 question
    and a format-2 team question the team members', a manager question the managers' own,
    a leadership question the leadership invitees' once as many of them as
    ``settings.ANONYMITY_THRESHOLD`` have completed. Raises ``ResultsHidden`` unless the
    results are visible. Sections rated by fewer of an anonymous audience than the
    threshold are left out, as on screen; a question rated by fewer keeps its counts of
    answers but not of levels. Comments stay out: the report lists them by question.

    Once a framework is in format 2 the table has a column per level of any version
    (level 0 is empty in a format-1 question's row), "don't know" apart, and the
    question's audience as a machine code (``team``, ``manager``, ``leadership``); an
    assessment in format 1 only exports exactly as before. Four queries beyond ``found``.
    """
    if found is None:
        found = selectors.results.assessment_results(assessment)
    if not found.visible:
        raise ResultsHidden
    threshold = settings.ANONYMITY_THRESHOLD
    counted = selectors.results.counted_responses(assessment)
    respondents = dict(  # query 1
        counted.order_by().values("audience").annotate(n=Count("pk")).values_list("audience", "n")
    )
    # Leadership counts only from the threshold, as in the results.
    if not selectors.results.audience_counts(LEADERSHIP, respondents.get(LEADERSHIP, 0), threshold):
        respondents.pop(LEADERSHIP, None)
    # Each answer counts where its person is asked the question (format 1: the team).
    answers = Answer.objects.filter(
        response__in=counted,
        response__audience=F("question__audience"),
        response__audience__in=list(respondents),
    ).order_by()
    rated = Q(submitted_level__isnull=False)
    section_raters = {  # query 2
        (section_id, audience): raters
        for section_id, audience, raters in answers.values("section_id", "response__audience")
        .annotate(raters=Count("response_id", distinct=True, filter=rated))
        .values_list("section_id", "response__audience", "raters")
    }
    questions = list(  # query 3
        Question.objects.filter(version__assessments=assessment)
        .select_related("version__framework", "section")
        .order_by("version__framework__slug", "section__position", "position")
    )
    format_2 = any(q.version.has_audiences for q in questions)
    levels = range(min(q.version.level_range.start for q in questions), SCALE_MAX + 1)
    per_question = {  # query 4
        row["question_id"]: row
        for row in answers.values("question_id").annotate(
            answered=Count(
                "pk",
                filter=rated | Q(submitted_not_applicable=True) | Q(submitted_dont_know=True),
            ),
            not_applicable=Count("pk", filter=Q(submitted_not_applicable=True)),
            dont_know=Count("pk", filter=Q(submitted_dont_know=True)),
            raters=Count("pk", filter=rated),
            **{f"level_{n}": Count("pk", filter=Q(submitted_level=n)) for n in levels},
        )
    }
    if format_2:
        headers = [
            _("Framework"),
            _("Section key"),
            _("Section"),
            _("Question code"),
            _("Audience"),
            _("Question"),
            *[_("Level %(level)d") % {"level": n} for n in levels],
            _("Not applicable"),
            _("Don't know"),
            _("Answered"),
            _("Respondents"),
            _("Note"),
        ]
    else:
        headers = [
            _("Framework"),
            _("Section key"),
            _("Section"),
            _("Question code"),
            _("Question"),
            *[_("Level %(level)d") % {"level": n} for n in levels],
            _("Not applicable / don't know"),
            _("Answered"),
            _("Respondents"),
            _("Note"),
        ]
    withheld = ngettext(
        "Rated by fewer than %(threshold)d person: levels withheld.",
        "Rated by fewer than %(threshold)d people: levels withheld.",
        threshold,
    ) % {"threshold": threshold}
    rows: list[list[Cell]] = []
    for question in questions:
        audience = question.audience
        needed = threshold if selectors.results.is_anonymous(audience) else 1
        if audience not in respondents:
            continue  # nobody of this audience counts (yet)
        if section_raters.get((question.section_id, audience), 0) < needed:
            continue
        counts = per_question.get(question.pk, {})
        shown = counts.get("raters", 0) >= needed
        own_levels = question.version.level_range
        level_cells = [
            counts.get(f"level_{n}", 0) if shown and n in own_levels else None for n in levels
        ]
        if format_2:
            rows.append(
                [
                    question.version.name,
                    question.section.key,
                    question.section.name,
                    question.code,
                    audience,
                    question.text,
                    *level_cells,
                    counts.get("not_applicable", 0),
                    counts.get("dont_know", 0) if question.version.has_audiences else None,
                    counts.get("answered", 0),
                    respondents[audience],
                    "" if shown else withheld,
                ]
            )
        else:
            rows.append(
                [
                    question.version.name,
                    question.section.key,
                    question.section.name,
                    question.code,
                    question.text,
                    *level_cells,
                    counts.get("not_applicable", 0),
                    counts.get("answered", 0),
                    respondents[audience],
                    "" if shown else withheld,
                ]
            )
    return headers, rows


def respondent_numbers(
    *, assessment_id: int, round_number: int, response_ids: Iterable[int]
) -> dict[int, int]:
    """Number the responses 1..n in an order that looks random but is fixed for one
    assessment and review round: downloads in one round agree, and rounds do not line up.

    The order comes from a keyed hash (``SECRET_KEY``) of the assessment, the round and the
    response, so it follows neither response ids nor the order people answered, and
    someone without the key cannot recompute it.
    """

    def key(response_id: int) -> str:
        return salted_hmac(
            "assessment.exports.respondent_numbers",
            f"{assessment_id}:{round_number}:{response_id}",
            algorithm="sha256",
        ).hexdigest()

    ordered = sorted(set(response_ids), key=key)
    return {response_id: n for n, response_id in enumerate(ordered, start=1)}


def answers_table(
    assessment: Assessment, *, found: selectors.results.AssessmentResults | None = None
) -> Table:
    """Every submitted answer of the counted member responses, one row per answer with its
    respondent's number: for the assigned assessor only (managers and consultants get
    ``answers_by_question_table``).

    Raises ``ResultsHidden`` unless the results are visible (submitted, and at least
    ``settings.ANONYMITY_THRESHOLD`` counted member responses). The manager's own
    self-view is not a member response and is left out. Respondents are numbered by
    ``respondent_numbers``, fixed within a review round and different in the next, and
    rows are sorted by question, so neither the numbers nor the order follow response
    ids or the order people answered. ``found`` saves recomputing results the caller
    already has. Once a framework is in format 2, a last column says whether the answer
    was "don't know" (format 2 keeps it apart from "not applicable"; empty in a format-1
    question's row). One query beyond those.
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
    format_2 = any(panel.audiences for panel in found.panels)
    if format_2:
        headers.append(_("Don't know"))
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
            "submitted_level",
            "submitted_not_applicable",
            "submitted_dont_know",
            "question__version__format",
            "question__version__translations",
            "question__translations",
        )
    )
    # Read past the models, so the framework's name and the question in the reader's
    # language here; the codes beside them stay as they are.
    answers = [
        (
            *a[:2],
            localise(a[2], a[12], "name"),
            *a[3:7],
            localise(a[7], a[13], "text"),
            *a[8:12],
        )
        for a in answers
    ]
    # Comments stay out: tied to one respondent's ratings, a recognisable comment would
    # unmask them (the report lists comments by question, apart from anyone's ratings).
    # Sections rated by fewer people than the threshold are withheld, as on screen.
    raters: dict[str, set[int]] = {}
    for answer in answers:
        if answer[8] is not None:
            raters.setdefault((answer[1], answer[3]), set()).add(answer[0])
    threshold = settings.ANONYMITY_THRESHOLD
    answers = [a for a in answers if len(raters.get((a[1], a[3]), ())) >= threshold]
    number = respondent_numbers(
        assessment_id=assessment.pk,
        round_number=assessment.round,
        response_ids=[answer[0] for answer in answers],
    )
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
            *(
                []
                if not format_2
                else [
                    (yes if dont_know else no)
                    if version_format == FrameworkVersion.Format.V2
                    else None
                ]
            ),
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
            dont_know,
            version_format,
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
SVG = FileFormat("svg", "image/svg+xml")
PNG = FileFormat("png", "image/png")
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
