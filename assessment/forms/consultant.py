"""Forms for the consultant pages: the portfolio's filters, bulk exports and branding."""

from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from assessment import access, selectors
from assessment.errors import ServiceError
from assessment.forms import base
from assessment.models import Assessment, BulkExport
from assessment.models.consultants import (
    HEX_COLOUR,
    Consultancy,
    contrast_with_white,
    normalise_consultancy_name,
    validate_accent_colour,
)
from assessment.services.branding import NAME_TAKEN, clean_logo
from frameworks.models import Framework


class PortfolioFilterForm(base.Form):
    """``?organisation=`` and ``?framework=``: a client of the user's, a framework, or all."""

    organisation = base.ChoiceByIdField(
        label=_("Organisation"),
        queryset=None,
        required=False,
        empty_label=_("All organisations"),
    )
    framework = base.ChoiceByIdField(
        label=_("Framework"),
        queryset=Framework.objects.order_by("slug"),
        to_field_name="slug",
        required=False,
        empty_label=_("All frameworks"),
    )

    def __init__(self, *args: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = access.client_organisations(user)

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.consultant.consultant_portfolio``.

        A filter that is not valid is left out: the page shows everything, with the error.
        """
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})  # none on an unbound form
        organisation, framework = cleaned.get("organisation"), cleaned.get("framework")
        return {
            "organisation_pk": organisation.pk if organisation else None,
            "framework_slug": framework.slug if framework else "",
        }


class BulkExportForm(base.Form):
    """Some of the closed assessments the consultant may export (``bulk_exportable``)."""

    assessments = base.ChoicesByIdField(
        label=_("Assessments"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one assessment."),
            "invalid_choice": _("Select a valid choice. Choose from the assessments listed."),
            "invalid_pk_value": _("Select a valid choice. Choose from the assessments listed."),
        },
    )

    def __init__(self, *args: Any, exportable: QuerySet[Assessment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assessments"].queryset = exportable

    def chosen(self) -> set[str]:
        """The boxes the user ticked, as posted, to tick them again on a refused export."""
        return {str(value) for value in self["assessments"].value() or []}


class ExportSeenForm(base.Form):
    """``?done=&status=``: the progress an export's page showed last (its polling sends them
    back), so the live region is told only what changed."""

    done = forms.IntegerField(min_value=0, max_value=100_000, required=False)
    status = forms.ChoiceField(choices=BulkExport.Status.choices, required=False)

    def changed(self, export: BulkExport) -> bool:
        """Whether ``export`` has moved on from what the page showed (or it said nothing)."""
        if not self.is_bound or not self.is_valid():
            return True
        seen = (self.cleaned_data["done"], self.cleaned_data["status"])
        return seen != (export.done, export.status)


class BrandingForm(base.Form):
    """The consultancy's name, accent colour and logo; the logo is checked by decoding it."""

    name = forms.CharField(
        label=_("Consultancy name"),
        max_length=200,
        error_messages={
            "required": _("Give the consultancy a name."),
            "max_length": _("The name can be at most 200 characters."),
        },
    )
    accent_colour = forms.CharField(label=_("Accent colour"))  # validate_accent_colour bounds it
    logo = forms.FileField(label=_("Logo"), required=False)
    remove_logo = base.CheckboxField(label=_("Remove the logo"), required=False)

    def __init__(self, *args: Any, consultancy: Consultancy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consultancy = consultancy

    def clean_name(self) -> str:
        # Checked here too, so that a taken name shows with every other error at once; the
        # database's constraint stays the last word (the service turns a race into NameTaken).
        name = normalise_consultancy_name(self.cleaned_data["name"])
        if selectors.consultant.consultancy_name_taken(name, other_than=self.consultancy):
            raise ValidationError(NAME_TAKEN, code="taken")
        return name

    def preview(self) -> tuple[str, float, bool]:
        """The colour to preview, its contrast with white, and whether it is the saved one:
        the colour typed, when it is a well-formed hex colour (good enough or not);
        otherwise the saved colour. Never anything else, as it goes into an SVG attribute."""
        typed = (self.data.get("accent_colour") or "").strip() if self.is_bound else ""
        colour = typed.lower() if HEX_COLOUR.fullmatch(typed) else self.consultancy.accent_colour
        return colour, contrast_with_white(colour), colour == self.consultancy.accent_colour

    def clean_accent_colour(self) -> str:
        try:
            return validate_accent_colour(self.cleaned_data["accent_colour"])
        except ServiceError as error:
            raise ValidationError(str(error), code="colour") from None

    def clean_logo(self) -> Any:
        upload = self.cleaned_data.get("logo")
        if upload:
            try:
                clean_logo(upload)
            except ServiceError as error:
                raise ValidationError(str(error), code="logo") from None
            upload.seek(0)  # the service reads it again when it saves
        return upload
