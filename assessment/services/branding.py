"""Consultancy branding: a name, an accent colour with enough contrast, and a safe logo."""

import io

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

from assessment.models import Consultancy
from assessment.models.consultants import normalise_consultancy_name, validate_accent_colour
from assessment.services.common import ServiceError
from assessment.services.reports import reports_render_branded

LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_PIXELS = 4000 * 4000
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
NAME_CONSTRAINT = "consultancy_name_unique_ci"


NAME_TAKEN = gettext_lazy("Another consultancy already uses this name. Choose another.")


class NameTaken(ServiceError):
    """Another consultancy has this name (regardless of case and spacing)."""


def clean_logo(upload: UploadedFile) -> tuple[bytes, str]:
    """Decode the upload with Pillow and re-encode it: PNG or JPEG only, at most 1 MB.

    Only the pixels survive: they are copied into a new image, saved without the
    upload's comment (JPEG COM), EXIF, ICC profile or PNG text chunks, so nothing
    hidden in the file reaches the reports. A photo's EXIF orientation is applied to
    the pixels first, so the logo still stands the right way up. SVG and every other
    format are refused with a clear message.
    """
    if upload.size is not None and upload.size > LOGO_MAX_BYTES:
        raise ServiceError(_("The logo can be at most 1 MB."))
    data = upload.read(LOGO_MAX_BYTES + 1)
    if len(data) > LOGO_MAX_BYTES:
        raise ServiceError(_("The logo can be at most 1 MB."))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > LOGO_MAX_PIXELS:
                raise ServiceError(_("The logo is too large; use at most 4000 x 4000 pixels."))
            image.load()
            if image_format not in LOGO_FORMATS:
                raise ServiceError(_("The logo must be a PNG or JPEG image (SVG is not accepted)."))
            mode = "RGB" if image_format == "JPEG" else "RGBA"
            converted = ImageOps.exif_transpose(image).convert(mode)
            pixels = Image.new(mode, converted.size)  # a new image: no info to carry over
            pixels.paste(converted)
            out = io.BytesIO()
            if image_format == "JPEG":
                pixels.save(out, format="JPEG", quality=90)
            else:
                pixels.save(out, format="PNG", optimize=True)
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
    ):
        raise ServiceError(
            _("The logo must be a PNG or JPEG image (SVG is not accepted).")
        ) from None
    encoded = out.getvalue()
    if len(encoded) > LOGO_MAX_BYTES:
        raise ServiceError(_("The logo can be at most 1 MB."))
    return encoded, LOGO_FORMATS[image_format]


@transaction.atomic
def branding_update(
    *,
    consultancy: Consultancy,
    name: str,
    accent_colour: str,
    logo: UploadedFile | None = None,
    remove_logo: bool = False,
) -> Consultancy:
    """Validate everything first, then save; bad input changes nothing.

    The name is stored normalised (``normalise_consultancy_name``). The database's
    unique constraint decides whether another firm has it, so a rename that races
    another to the same name is refused the same way: ``NameTaken``, never a 500.
    """
    name = normalise_consultancy_name(name)
    if not name:
        raise ServiceError(_("Give the consultancy a name."))
    if len(name) > 200:
        raise ServiceError(_("The name can be at most 200 characters."))
    colour = validate_accent_colour(accent_colour)
    fields = {"name": name, "accent_colour": colour}
    if logo is not None:
        fields["logo"], fields["logo_content_type"] = clean_logo(logo)
    elif remove_logo:
        fields["logo"], fields["logo_content_type"] = None, ""
    try:
        with transaction.atomic():
            Consultancy.objects.filter(pk=consultancy.pk).update(**fields)
    except IntegrityError as error:
        # Both databases name the constraint in the message; any other failure is a bug.
        if NAME_CONSTRAINT not in str(error):
            raise
        raise NameTaken(str(NAME_TAKEN)) from None
    consultancy.refresh_from_db()
    reports_render_branded(consultancy_id=consultancy.pk)
    return consultancy
