"""Consultancy branding: a name, an accent colour with enough contrast, and a safe logo."""

import io

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from assessment.models import Consultancy
from assessment.models.consultants import validate_accent_colour
from assessment.services.common import ServiceError

LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_PIXELS = 4000 * 4000
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


def clean_logo(upload: UploadedFile) -> tuple[bytes, str]:
    """Decode the upload with Pillow and re-encode it: PNG or JPEG only, at most 1 MB.

    Re-encoding keeps only pixels, so nothing else hidden in the file survives.
    SVG and every other format are refused with a clear message.
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
            out = io.BytesIO()
            if image_format == "JPEG":
                image.convert("RGB").save(out, format="JPEG", quality=90)
            else:
                image.convert("RGBA").save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
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
    """Validate everything first, then save; bad input changes nothing."""
    name = (name or "").strip()
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
    Consultancy.objects.filter(pk=consultancy.pk).update(**fields)
    consultancy.refresh_from_db()
    return consultancy
