"""Bulk export: a ZIP of PDF reports for a consultancy, made by a background task."""

from collections.abc import Iterable
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessment import access
from assessment.models import Assessment, BulkExport, Consultancy
from assessment.services.common import ServiceError

BULK_EXPORT_MAX = 200


def bulk_export_start(
    *, consultancy: Consultancy, by: AbstractBaseUser, assessments: Iterable[Assessment]
) -> BulkExport:
    """Queue a ZIP of the reports of closed assessments the consultancy may see.

    The task is enqueued once the export is committed, so a worker never looks
    for a row it cannot see yet.
    """
    if not access.consultancies_for(by).filter(pk=consultancy.pk).exists():
        raise ServiceError(_("You do not work for this consultancy."))
    ids = {assessment.pk for assessment in assessments}
    if not ids:
        raise ServiceError(_("Choose at least one assessment."))
    if len(ids) > BULK_EXPORT_MAX:
        raise ServiceError(
            ngettext(
                "Choose at most %(max)d assessment.",
                "Choose at most %(max)d assessments.",
                BULK_EXPORT_MAX,
            )
            % {"max": BULK_EXPORT_MAX}
        )
    allowed = Assessment.objects.filter(
        pk__in=ids,
        organisation__in=access.organisations_shared_with(by, consultancy),
        status__in=Assessment.CLOSED_STATUSES,
    ).values_list("pk", flat=True)
    if set(allowed) != ids:
        raise ServiceError(
            _(
                "Some of the chosen assessments are not closed yet, or their organisation "
                "no longer shares them with your consultancy. Choose again."
            )
        )
    with transaction.atomic():
        export = BulkExport.objects.create(consultancy=consultancy, requested_by=by, total=len(ids))
        export.assessments.set(ids)
        # Imported here: the task module imports the report renderer (WeasyPrint).
        from assessment.tasks import make_bulk_export

        transaction.on_commit(partial(make_bulk_export.enqueue, export.pk))
    return export
