"""Assessor pages: the queue, the review workspace, moderation and decisions.

Every view asks ``access`` first: an assessment that is not assigned to the
signed-in assessor is a 404. A refused moderation or decision re-renders the
workspace (status 400) with the assessor's text still in the form and each
error beside its field.
"""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assessment import access, selectors, services
from assessment.forms.review import (
    ApprovalForm,
    ModerationForm,
    QueueSortForm,
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


def _render_review(
    request: HttpRequest,
    assessment: Assessment,
    *,
    bound: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    """The review workspace; ``bound`` is a refused form, shown in place with its errors."""
    context = selectors.review.review_workspace(assessment)
    refused = bound if isinstance(bound, ModerationForm) else None
    context["refused_moderation"] = refused
    context["moderation_groups"] = moderation_forms(
        assessment, context["moderation_groups"], refused=refused
    )
    approval = bound if isinstance(bound, ApprovalForm) else ApprovalForm()
    approval.fields["level"].choices = context["level_choices"]  # the scale's names, to show
    context["approval_form"] = approval
    context["return_form"] = bound if isinstance(bound, ReturnForm) else ReturnForm()
    return render(request, "assessment/review/review_detail.html", context, status=status)


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
    """The workspace again (400): the form's errors beside its fields, or the service's
    refusal (the assessment is no longer in review...) as a message."""
    if error is not None:
        messages.error(request, str(error))
    assessment.refresh_from_db(fields=["status", "submitted_at"])  # a decision made meanwhile?
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
    return redirect("assessment:review_detail", pk=assessment.pk)


@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve with an awarded maturity level and a summary; the managers are told."""
    assessment = access.assessment_for_assessor(request.user, pk)
    form = ApprovalForm(request.POST)
    if not form.is_valid():
        return _refuse(request, assessment, form)
    try:
        decision = services.decision_approve(
            assessment=assessment,
            assessor=request.user,
            level=form.cleaned_data["level"],
            summary=form.cleaned_data["summary"],
            snapshot=selectors.review.decision_snapshot(assessment),
        )
    except services.ServiceError as error:
        return _refuse(request, assessment, form, error)
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
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _refuse(request, assessment, form)
    try:
        services.decision_return(
            assessment=assessment,
            assessor=request.user,
            required_changes=form.cleaned_data["required_changes"],
            snapshot=selectors.review.decision_snapshot(assessment),
        )
    except services.ServiceError as error:
        return _refuse(request, assessment, form, error)
    messages.success(
        request,
        _("Returned for revision. The organisation's managers have been told what to change."),
    )
    return redirect("assessment:review_detail", pk=assessment.pk)
