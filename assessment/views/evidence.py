"""Evidence: attach, list, download and delete files, links and notes.

Three ways in, each with its own access check (``assessment.access``): an assessment's
managers, its leadership invitees through their response (their invitation link's
session), and its assigned assessor (who lists and downloads). Files are only ever served
as downloads, after the check, with the type found from their content.
"""

from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessment import access, exports, selectors, services
from assessment.forms.evidence import EvidenceForm
from assessment.models import Assessment, Evidence, Invitation, Response
from assessment.models.evidence import evidence_storage
from assessment.services.review import FieldServiceError
from assessment.views.common import attempt

# The three audiences: their URL names and the object their URLs name.
MANAGER = {"page": "evidence", "download": "evidence_download", "delete": "evidence_delete"}
LEADERSHIP = {
    "page": "response_evidence",
    "download": "response_evidence_download",
    "delete": "response_evidence_delete",
}
ASSESSOR = {"page": "review_evidence", "download": "review_evidence_download", "delete": ""}


def _page(
    request: HttpRequest,
    assessment: Assessment,
    *,
    names: dict[str, str],
    scope: int,
    form: EvidenceForm | None = None,
    invitation: Invitation | None = None,
    response: Response | None = None,
) -> HttpResponse:
    adding = names is not ASSESSOR
    audience = "assessor" if not adding else "leadership" if response else "manager"
    page = selectors.evidence.evidence_page(assessment, invitation=invitation, deletable=adding)
    if adding and form is None and page.accepts:
        form = EvidenceForm(assessment=assessment)
    return render(
        request,
        "assessment/evidence/evidence.html",
        {
            "assessment": assessment,
            "page": page,
            "form": form if adding and page.accepts else None,
            "names": names,
            "scope": scope,
            "response": response,
            "audience": audience,
            "max_total_bytes": settings.EVIDENCE_MAX_TOTAL_BYTES,
        },
    )


def _add(
    request: HttpRequest,
    assessment: Assessment,
    *,
    names: dict[str, str],
    scope: int,
    invitation: Invitation | None = None,
    response: Response | None = None,
) -> HttpResponse:
    """The page, or (POST) the evidence added; a refusal re-renders the page with the
    message beside its field, nothing stored."""
    if request.method != "POST":
        return _page(
            request, assessment, names=names, scope=scope, invitation=invitation, response=response
        )
    form = EvidenceForm(request.POST, request.FILES, assessment=assessment)
    if form.is_valid():
        by = None if invitation is not None else request.user
        try:
            services.evidence_add(
                assessment=assessment, by=by, invitation=invitation, **form.evidence()
            )
        except FieldServiceError as error:
            form.add_error(error.field, str(error))
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Evidence added. It shows your name and today's date."))
            return redirect(f"assessment:{names['page']}", scope)
    return _page(
        request,
        assessment,
        names=names,
        scope=scope,
        form=form,
        invitation=invitation,
        response=response,
    )


def _download(evidence: Evidence) -> HttpResponse:
    """The file as a download, never shown in the browser, with the type found from its
    content; links and notes have no file."""
    if evidence.kind != Evidence.Kind.FILE or not evidence.file:
        raise Http404
    # Through the configured store (STORAGES["evidence"]), read now rather than the one the
    # model field resolved when it was imported.
    with evidence_storage().open(evidence.file.name, "rb") as handle:
        content = handle.read()
    extension = evidence.file.name.rpartition(".")[2]
    stem = slugify(evidence.original_name.rpartition(".")[0] or evidence.title)[:80]
    response = exports.attachment(
        content,
        filename=f"{stem or 'evidence'}-{evidence.pk}.{extension}",
        file_format=exports.FileFormat(extension, evidence.content_type),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- managers -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def manager_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """The assessment's evidence by section, and the form that adds some."""
    assessment = access.assessment_for_manager(request.user, pk)
    return _add(request, assessment, names=MANAGER, scope=assessment.pk)


@require_GET
def manager_download(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    _assessment, evidence = access.evidence_for_manager(request.user, pk, evidence_pk)
    return _download(evidence)


@require_POST
def manager_delete(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    _assessment, evidence = access.evidence_for_manager(request.user, pk, evidence_pk)
    attempt(
        request,
        partial(services.evidence_delete, evidence=evidence, by=request.user),
        success=_("Evidence deleted. The assessment's history records who deleted it."),
    )
    return redirect(f"assessment:{MANAGER['page']}", pk)


# --- leadership invitees --------------------------------------------------------------


@login_not_required
@require_http_methods(["GET", "POST"])
def leadership_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """A leadership invitee's way to the assessment's evidence, from their response."""
    response = access.response_for_leadership(request, pk)
    return _add(
        request,
        response.assessment,
        names=LEADERSHIP,
        scope=response.pk,
        invitation=response.invitation,
        response=response,
    )


@login_not_required
@require_GET
def leadership_download(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    _response, evidence = access.evidence_for_leadership(request, pk, evidence_pk)
    return _download(evidence)


@login_not_required
@require_POST
def leadership_delete(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    response, evidence = access.evidence_for_leadership(request, pk, evidence_pk)
    attempt(
        request,
        partial(services.evidence_delete, evidence=evidence, invitation=response.invitation),
        success=_("Evidence deleted. The assessment's history records that you deleted it."),
    )
    return redirect(f"assessment:{LEADERSHIP['page']}", pk)


# --- the assessor ----------------------------------------------------------------------


@require_GET
def assessor_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """Every piece of evidence of an assessment assigned to this assessor, to download."""
    assessment = access.assessment_for_assessor(request.user, pk)
    return _page(request, assessment, names=ASSESSOR, scope=assessment.pk)


@require_GET
def assessor_download(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    _assessment, evidence = access.evidence_for_assessor(request.user, pk, evidence_pk)
    return _download(evidence)
