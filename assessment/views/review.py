"""Assessor pages: the queue, the review workspace, moderation and decisions.

Every view asks ``access`` first: an assessment that is not assigned to the
signed-in assessor is a 404. A refused moderation or decision re-renders the
workspace (status 400) with the assessor's text still in the form.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Case, F, IntegerField, Prefetch, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from assessment import access, selectors, services
from assessment.models import Assessment, AuditEvent, Moderation
from frameworks.models import SCALE_MAX, SCALE_MIN, FrameworkVersion, ScaleLevel, Section

# --- the queue -------------------------------------------------------------------------

# Workflow order, so "status" sorts what needs the assessor first.
_STATUS_ORDER = Case(
    When(status=Assessment.Status.IN_REVIEW, then=Value(0)),
    When(status=Assessment.Status.SUBMITTED, then=Value(1)),
    When(status=Assessment.Status.RETURNED, then=Value(2)),
    When(status=Assessment.Status.OPEN, then=Value(3)),
    When(status=Assessment.Status.APPROVED, then=Value(4)),
    default=Value(5),
    output_field=IntegerField(),
)

QUEUE_SORTS: dict[str, Any] = {
    "team": F("team__name"),
    "organisation": F("organisation__name"),
    "submitted": F("submitted_at"),
    "due": F("due_date"),
    "status": _STATUS_ORDER,
}
QUEUE_COLUMNS = [
    ("team", gettext_lazy("Team")),
    ("organisation", gettext_lazy("Organisation")),
    (None, gettext_lazy("Frameworks")),
    ("submitted", gettext_lazy("Submitted")),
    ("due", gettext_lazy("Due")),
    ("status", gettext_lazy("Status")),
]
DEFAULT_SORT = "status"


@dataclass(frozen=True)
class SortColumn:
    """A column heading: its label, and where a click sorts (and how it sorts now)."""

    label: str
    key: str | None
    link: str  # the ?sort= value a click asks for
    direction: str  # "ascending", "descending" or "" when not the sort column


def _queue_order(sort: str) -> tuple[str, list]:
    """The chosen sort (unknown values fall back to the default) and its ORDER BY."""
    key = sort.removeprefix("-")
    if key not in QUEUE_SORTS:
        sort, key = DEFAULT_SORT, DEFAULT_SORT
    expression = QUEUE_SORTS[key]
    primary = (
        expression.desc(nulls_last=True)
        if sort.startswith("-")
        else expression.asc(nulls_last=True)
    )
    # Ties (and empty dates) fall back to the most urgent first, then a stable order.
    return sort, [primary, F("due_date").asc(nulls_last=True), "submitted_at", "pk"]


def _queue_columns(sort: str) -> list[SortColumn]:
    columns = []
    for key, label in QUEUE_COLUMNS:
        if key is None:
            columns.append(SortColumn(str(label), None, "", ""))
        elif sort == key:
            columns.append(SortColumn(str(label), key, f"-{key}", "ascending"))
        elif sort == f"-{key}":
            columns.append(SortColumn(str(label), key, key, "descending"))
        else:
            columns.append(SortColumn(str(label), key, key, ""))
    return columns


def _queue(user, order: list) -> QuerySet[Assessment]:
    return (
        access.assessments_for_assessor(user)
        .select_related("team", "organisation")
        .prefetch_related(
            Prefetch(
                "framework_versions",
                queryset=FrameworkVersion.objects.order_by("framework__slug"),
            )
        )
        .order_by(*order)
    )


@require_GET
def assessor_queue(request: HttpRequest) -> HttpResponse:
    """The assessments assigned to the signed-in assessor, sortable by column."""
    sort, order = _queue_order(request.GET.get("sort", DEFAULT_SORT))
    assessments = list(_queue(request.user, order))
    return render(
        request,
        "assessment/review/assessor_queue.html",
        {
            "assessments": assessments,
            "is_assessor": bool(assessments) or access.is_assessor(request.user),
            "columns": _queue_columns(sort),
            "sort": sort,
        },
    )


# --- the review workspace --------------------------------------------------------------


@dataclass(frozen=True)
class ModerationRow:
    """One section as the moderation forms show it."""

    section_id: int
    name: str
    team_score: float | None
    moderated: float | None
    rationale: str


@dataclass(frozen=True)
class ModerationGroup:
    framework: str
    rows: list[ModerationRow]


@dataclass(frozen=True)
class AuditChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    actor: str
    changes: list[AuditChange]


AUDIT_FIELDS = {
    "status": gettext_lazy("Status"),
    "assessor": gettext_lazy("Assessor"),
    "section": gettext_lazy("Section"),
    "score": gettext_lazy("Moderated score"),
    "rationale": gettext_lazy("Rationale"),
    "round": gettext_lazy("Review round"),
    "awarded_level": gettext_lazy("Awarded level"),
    "summary": gettext_lazy("Summary"),
    "required_changes": gettext_lazy("Required changes"),
    "responses_reopened": gettext_lazy("Responses reopened"),
}


def _person(user) -> str:
    if user is None:
        return _("System")
    return user.get_full_name() or user.get_username()


def _audit_rows(assessment: Assessment, section_names: dict[str, str]) -> list[AuditRow]:
    """The assessment's audit trail, oldest first, with each change in words (two queries)."""
    events = list(assessment.audit_events.select_related("actor").order_by("created_at", "pk"))
    assessor_ids = {
        value
        for event in events
        for values in (event.before, event.after)
        if isinstance(values, dict)
        for key, value in values.items()
        if key == "assessor" and isinstance(value, int)
    }
    people = {
        user.pk: _person(user) for user in get_user_model().objects.filter(pk__in=assessor_ids)
    }
    statuses = dict(Assessment.Status.choices)

    def readable(key: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if key == "status":
            return str(statuses.get(value, value))
        if key == "assessor":
            return people.get(value, str(value))
        if key == "section":
            return section_names.get(value, str(value))
        return str(value)

    rows = []
    for event in events:
        before = event.before if isinstance(event.before, dict) else {}
        after = event.after if isinstance(event.after, dict) else {}
        changes = []
        for key in [*before, *(k for k in after if k not in before)]:
            old, new = before.get(key), after.get(key)
            if key == "section" and old == new:
                # A moderation names its section on both sides; say it once.
                changes.append(AuditChange(str(AUDIT_FIELDS["section"]), "", readable(key, new)))
                continue
            label = AUDIT_FIELDS.get(key, key.replace("_", " ").capitalize())
            changes.append(
                AuditChange(
                    str(label), readable(key, old) if key in before else "", readable(key, new)
                )
            )
        rows.append(AuditRow(event=event, actor=_person(event.actor), changes=changes))
    return rows


def _level_choices(versions) -> list[tuple[int, str]]:
    """Levels 1-5 with the scale's labels (each framework's, where they differ)."""
    labels: dict[int, list[str]] = {value: [] for value in range(SCALE_MIN, SCALE_MAX + 1)}
    for value, label in (
        ScaleLevel.objects.filter(version__in=versions)
        .order_by("version__framework__slug", "value")
        .values_list("value", "label")
    ):
        if value in labels and label not in labels[value]:
            labels[value].append(label)
    return [(value, " / ".join(names)) for value, names in labels.items()]


def _moderation_groups(
    versions, sections: list[Section], panels: list[selectors.results.FrameworkPanel], assessment
) -> list[ModerationGroup]:
    """Every section of every framework, with its team score and current moderation."""
    team_scores = {row.section_id: row.team.score for panel in panels for row in panel.rows}
    latest: dict[int, tuple[float, str]] = {}
    for section_id, score, rationale in (
        Moderation.objects.filter(assessment=assessment)
        .order_by("pk")
        .values_list("section_id", "score", "rationale")
    ):
        latest[section_id] = (float(score), rationale)  # the latest wins
    groups = []
    for version in versions:
        rows = [
            ModerationRow(
                section_id=section.pk,
                name=section.name,
                team_score=team_scores.get(section.pk),
                moderated=latest[section.pk][0] if section.pk in latest else None,
                rationale=latest[section.pk][1] if section.pk in latest else "",
            )
            for section in sections
            if section.version_id == version.pk
        ]
        groups.append(ModerationGroup(framework=version.short_name, rows=rows))
    return groups


def _render_review(
    request: HttpRequest,
    assessment: Assessment,
    *,
    submitted: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The review workspace; ``submitted`` puts a refused form's input back in place."""
    versions = selectors.manager.assessment_versions(assessment)
    outcome = selectors.results.assessment_results(
        assessment
    )  # no viewer: assessors have no self-view
    sections = list(Section.objects.filter(version__in=versions).order_by("version_id", "position"))
    in_review = assessment.status == Assessment.Status.IN_REVIEW
    last_decision, changes = (
        selectors.results.changes_since_last_review(assessment, outcome)
        if in_review
        else (None, [])
    )
    decisions = list(assessment.decisions.select_related("assessor").order_by("-round"))
    context = {
        "assessment": assessment,
        "versions": versions,
        "results": outcome,
        "team": selectors.results.team_results(assessment, versions),
        "in_review": in_review,
        "last_decision": last_decision,
        "changes": changes,
        "decisions": decisions,
        "current_decision": decisions[0] if decisions and not in_review else None,
        "audit": _audit_rows(assessment, {s.key: s.name for s in sections}),
        "moderation_groups": (
            _moderation_groups(versions, sections, outcome.panels, assessment) if in_review else []
        ),
        "level_choices": _level_choices(versions) if in_review else [],
        "levels": range(SCALE_MIN, SCALE_MAX + 1),
        "submitted": submitted or {},
    }
    return render(request, "assessment/review/review_detail.html", context, status=status)


@require_GET
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything the assessor needs to moderate and decide, and the record so far."""
    assessment = access.assessment_for_assessor(request.user, pk)
    return _render_review(request, assessment)


def _refuse(
    request: HttpRequest, assessment: Assessment, message: str, submitted: dict[str, Any]
) -> HttpResponse:
    messages.error(request, message)
    assessment.refresh_from_db(fields=["status", "submitted_at"])  # a decision made meanwhile?
    return _render_review(request, assessment, submitted=submitted, status=400)


def _snapshot(assessment: Assessment) -> dict:
    return selectors.results.scores_snapshot(selectors.results.assessment_results(assessment))


@require_POST
def moderate(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a moderated score (0-100) for one section, with the assessor's rationale."""
    assessment = access.assessment_for_assessor(request.user, pk)
    section = request.POST.get("section", "").strip()
    submitted = {
        "form": "moderate",
        "section": section,
        "score": request.POST.get("score", ""),
        "rationale": request.POST.get("rationale", ""),
    }
    if not (section.isascii() and section.isdigit() and len(section) < 10):
        return _refuse(request, assessment, _("Choose a section to moderate."), submitted)
    try:
        moderation = services.moderation_record(
            assessment=assessment,
            section_id=int(section),
            assessor=request.user,
            score=submitted["score"],
            rationale=submitted["rationale"],
        )
    except services.ServiceError as error:
        return _refuse(request, assessment, str(error), submitted)
    messages.success(
        request,
        _("Moderated score for %(section)s saved: %(score)s.")
        % {"section": moderation.section.name, "score": moderation.score},
    )
    return redirect("assessment:review_detail", pk=assessment.pk)


@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve with an awarded maturity level and a summary; the managers are told."""
    assessment = access.assessment_for_assessor(request.user, pk)
    submitted = {
        "form": "approve",
        "level": request.POST.get("level", ""),
        "summary": request.POST.get("summary", ""),
    }
    try:
        decision = services.decision_approve(
            assessment=assessment,
            assessor=request.user,
            level=submitted["level"],
            summary=submitted["summary"],
            snapshot=_snapshot(assessment),
        )
    except services.ServiceError as error:
        return _refuse(request, assessment, str(error), submitted)
    messages.success(
        request,
        _("Approved at level %(level)d. The organisation's managers have been told.")
        % {"level": decision.awarded_level},
    )
    return redirect("assessment:review_detail", pk=assessment.pk)


@require_POST
def return_for_revision(request: HttpRequest, pk: int) -> HttpResponse:
    """Return for revision with the changes required; the managers are told."""
    assessment = access.assessment_for_assessor(request.user, pk)
    submitted = {"form": "return", "required_changes": request.POST.get("required_changes", "")}
    try:
        services.decision_return(
            assessment=assessment,
            assessor=request.user,
            required_changes=submitted["required_changes"],
            snapshot=_snapshot(assessment),
        )
    except services.ServiceError as error:
        return _refuse(request, assessment, str(error), submitted)
    messages.success(
        request,
        _("Returned for revision. The organisation's managers have been told what to change."),
    )
    return redirect("assessment:review_detail", pk=assessment.pk)
