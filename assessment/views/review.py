"""Assessor pages: the queue, the review workspace, moderation and decisions.

Every view asks ``access`` first: an assessment that is not assigned to the
signed-in assessor is a 404. A refused moderation or decision re-renders the
workspace (status 400) with the assessor's text still in the form, each error
beside its field and all of them summarised at the top (``#errors``); a saved
one returns to the part of the page it came from.
"""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessment import access, selectors, services
from assessment.forms.review import (
    ApprovalForm,
    JudgementForm,
    KeepModerationForm,
    ModerationForm,
    QueueSortForm,
    RequiredActionForm,
    ReturnForm,
    moderation_forms,
)
from assessment.models import Assessment


@require_GET
def assessor_queue(request: HttpRequest) -> HttpResponse:
    """The assessments assigned to the signed-in assessor, sortable by column."""
    sort = QueueSortForm(request.GET).chosen()
    queue = selectors.review.assessor_queue(request.user, sort=sort)
    return render(
        request,
        "assessment/review/assessor_queue.html",
        {
            "assessments": queue.assessments,
            "is_assessor": queue.is_assessor,
            "columns": queue.columns,
            "sort": queue.sort,
        },
    )


def _error_summary(form: forms.Form | None) -> list[tuple[str, str]]:
    """The refused form's errors for the summary at the top of the workspace: each with
    the fragment of the field (or form) it belongs to, in the form's order."""
    if form is None or not form.errors:
        return []
    if isinstance(form, ModerationForm | KeepModerationForm):
        section = form.cleaned_data.get("section")
        sid = section.pk if section is not None else None
        anchors = {"score": f"#score-{sid}", "rationale": f"#rationale-{sid}"} if sid else {}
        default = f"#moderate-{sid}" if sid is not None else "#moderation"
        prefix = f"{section.name}: " if section is not None else ""
    elif isinstance(form, RequiredActionForm):
        anchors = {"title": "#required-title", "section": "#required-section"}
        default, prefix = "#required-actions", ""
    elif isinstance(form, ApprovalForm):
        anchors = {
            "level": "#approve-level",
            "summary": "#approve-summary",
            "deviation_reason": "#approve-deviation",
        }
        default, prefix = "#approve-form", ""
    else:
        anchors = {"required_changes": "#return-changes", "sections": "#return-sections"}
        default, prefix = "#return-form", ""
    return [
        (anchors.get(field, default), f"{prefix}{message}")
        for field, messages_ in form.errors.items()
        for message in messages_
    ]


def _return_groups(groups: list) -> list:
    """The return form's checkboxes, grouped per framework like the moderation forms."""
    return [
        (group.framework, [(row.section_id, row.name) for row in group.rows]) for group in groups
    ]


def _render_review(
    request: HttpRequest,
    assessment: Assessment,
    *,
    bound: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    """The review workspace; ``bound`` is a refused form, shown in place with its errors
    and summarised at the top (``#errors``, where the forms' actions point)."""
    context = selectors.review.review_workspace(assessment)
    refused = bound if isinstance(bound, ModerationForm | KeepModerationForm) else None
    context["refused_moderation"] = refused
    context["error_summary"] = _error_summary(bound)
    context["return_groups"] = _return_groups(context["moderation_groups"])
    context["moderation_groups"] = moderation_forms(
        assessment,
        context["moderation_groups"],
        refused=refused if isinstance(refused, ModerationForm) else None,
    )
    rule = context["award_rule"]
    approval = (
        bound
        if isinstance(bound, ApprovalForm)
        # The rule's level pre-selected (format 2); choosing another asks for a reason.
        else ApprovalForm(
            levels=context["levels"],
            initial={"level": rule.level} if rule is not None and rule.level is not None else {},
        )
    )
    approval.fields["level"].choices = context["level_choices"]  # the scale's names, to show
    context["approval_form"] = approval
    context["return_form"] = (
        bound if isinstance(bound, ReturnForm) else ReturnForm(assessment=assessment)
    )
    context["required_action_form"] = (
        bound
        if isinstance(bound, RequiredActionForm)
        else RequiredActionForm(assessment=assessment)
    )
    return render(request, "assessment/review/review_detail.html", context, status=status)


def _workspace(assessment: Assessment, fragment: str) -> HttpResponse:
    """Back to the workspace, at the part of the page that was just used."""
    return redirect(reverse("assessment:review_detail", args=[assessment.pk]) + fragment)


@require_GET
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything the assessor needs to moderate and decide, and the record so far."""
    assessment = access.assessment_for_assessor(request.user, pk)
    return _render_review(request, assessment)


def _refuse(
    request: HttpRequest,
    assessment: Assessment,
    form: forms.Form,
    error: services.ServiceError | None = None,
) -> HttpResponse:
    """The workspace again (400) with the form's errors beside its fields and summarised
    at the top; a service's refusal (the assessment is no longer in review...) is one of
    them, as the form's own error."""
    if error is not None:
        # Beside its field when the service names one the form has (the reason for
        # another level than the rule's), else the form's own error.
        field = getattr(error, "field", None)
        form.add_error(field if field in form.fields else None, str(error))
    assessment.refresh_from_db(fields=["status", "submitted_at", "round"])  # decided meanwhile?
    return _render_review(request, assessment, bound=form, status=400)


@require_POST
def moderate(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a moderated score (0-100) for one section, with the assessor's rationale."""
    assessment = access.assessment_for_assessor(request.user, pk)
    form = ModerationForm(request.POST, assessment=assessment)
    if not form.is_valid():
        return _refuse(request, assessment, form)
    try:
        moderation = services.moderation_record(
            assessment=assessment,
            section_id=form.cleaned_data["section"].pk,
            assessor=request.user,
            score=form.cleaned_data["score"],
            rationale=form.cleaned_data["rationale"],
        )
    except services.ServiceError as error:
        return _refuse(request, assessment, form, error)
    messages.success(
        request,
        _("Moderated score for %(section)s saved: %(score)s.")
        % {"section": moderation.section.name, "score": moderation.score},
    )
    return _workspace(assessment, f"#moderate-{moderation.section_id}")


@require_POST
def keep_moderation(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep a moderation from an earlier round as it is, recorded again in this one."""
    assessment = access.assessment_for_assessor(request.user, pk)
    form = KeepModerationForm(request.POST, assessment=assessment)
    if not form.is_valid():
        return _refuse(request, assessment, form)
    try:
        moderation = services.moderation_keep(
            assessment=assessment,
            section_id=form.cleaned_data["section"].pk,
            assessor=request.user,
        )
    except services.ServiceError as error:
        return _refuse(request, assessment, form, error)
    messages.success(
        request,
        _("Moderated score for %(section)s kept for this round: %(score)s.")
        % {"section": moderation.section.name, "score": moderation.score},
    )
    return _workspace(assessment, f"#moderate-{moderation.section_id}")


@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve with an awarded maturity level and a summary; the managers are told."""
    assessment = access.assessment_for_assessor(request.user, pk)
    form = ApprovalForm(request.POST, levels=selectors.review.awarded_levels(assessment))
    if not form.is_valid():
        return _refuse(request, assessment, form)
    try:
        decision = services.decision_approve(
            assessment=assessment,
            assessor=request.user,
            level=form.cleaned_data["level"],
            summary=form.cleaned_data["summary"],
            deviation_reason=form.cleaned_data["deviation_reason"],
            snapshot=selectors.review.decision_snapshot(assessment),
        )
    except services.ServiceError as error:
        return _refuse(request, assessment, form, error)
    messages.success(
        request,
        _("Approved at level %(level)d. The organisation's managers have been told.")
        % {"level": decision.awarded_level},
    )
    return _workspace(assessment, "#decision")


@require_POST
def return_for_revision(request: HttpRequest, pk: int) -> HttpResponse:
    """Return for revision with the changes required and the sections to look at again;
    the managers are told."""
    assessment = access.assessment_for_assessor(request.user, pk)
    form = ReturnForm(request.POST, assessment=assessment)
    if not form.is_valid():
        return _refuse(request, assessment, form)
    try:
        services.decision_return(
            assessment=assessment,
            assessor=request.user,
            required_changes=form.cleaned_data["required_changes"],
            sections=list(form.cleaned_data["sections"]),
            snapshot=selectors.review.decision_snapshot(assessment),
        )
    except services.ServiceError as error:
        return _refuse(request, assessment, form, error)
    messages.success(
        request,
        _("Returned for revision. The organisation's managers have been told what to change."),
    )
    return _workspace(assessment, "#decision")


def _criteria_render(
    request: HttpRequest, assessment: Assessment, section, form: JudgementForm | None = None
) -> HttpResponse:
    context = selectors.review.criteria_page(assessment, section)
    if form is None:
        form = JudgementForm(
            questions=[row.question for row in context["rows"]],
            current={row.question.pk: (row.verdict, row.note) for row in context["rows"]},
        )
    context["form"] = form
    context["items"] = [
        (row, form.verdict_field(row.question), form.note_field(row.question))
        for row in context["rows"]
    ]
    return render(
        request,
        "assessment/review/criteria.html",
        context,
        status=400 if form.is_bound and form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def criteria(request: HttpRequest, pk: int, section_pk: int) -> HttpResponse:
    """Judge one section's criteria on the evidence: met, partly met, not met or not
    evidenced, with a note, question by question. A refusal keeps every choice made."""
    assessment, section = access.format_2_section_for_assessor(request.user, pk, section_pk)
    if request.method == "GET":
        return _criteria_render(request, assessment, section)
    rows = selectors.review.criteria_form_rows(assessment, section)
    form = JudgementForm(
        request.POST,
        questions=[row.question for row in rows],
        current={row.question.pk: (row.verdict, row.note) for row in rows},
    )
    if not form.is_valid():
        return _criteria_render(request, assessment, section, form)
    try:
        recorded = services.judgements_record(
            assessment=assessment,
            section_id=section.pk,
            assessor=request.user,
            judgements=form.judgements(),
        )
    except services.ServiceError as error:
        form.add_error(None, str(error))
        return _criteria_render(request, assessment, section, form)
    messages.success(
        request,
        ngettext(
            "%(n)d judgement saved for %(section)s.",
            "%(n)d judgements saved for %(section)s.",
            len(recorded),
        )
        % {"n": len(recorded), "section": section.name},
    )
    return _workspace(assessment, "#criteria")


@require_POST
def require_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Require an action as a condition of approval: the manager gives it an owner and a
    date; the team's action plan lists it first."""
    assessment = access.assessment_for_assessor(request.user, pk)
    form = RequiredActionForm(request.POST, assessment=assessment)
    if not form.is_valid():
        return _refuse(request, assessment, form)
    section = form.cleaned_data["section"]
    try:
        action = services.action_require_in_review(
            assessment=assessment,
            assessor=request.user,
            title=form.cleaned_data["title"],
            section_id=section.pk if section is not None else None,
        )
    except services.ServiceError as error:
        return _refuse(request, assessment, form, error)
    messages.success(
        request,
        _("Action required: %(title)s. The managers see it in their action plan.")
        % {"title": action.title},
    )
    return _workspace(assessment, "#required-actions")
