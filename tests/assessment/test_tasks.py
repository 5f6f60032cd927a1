"""The bulk export task (``assessment.tasks``): what goes into the ZIP. Starting, progress
and failures are tested with the pages in tests/assessment/views/test_bulk.py."""

import io
import zipfile

import pytest

from assessment import reports, services
from tests.factories import (
    make_assessment,
    make_consultancy,
    make_consultant,
    make_grant,
    make_organisation,
    make_response,
    make_team,
)
from tests.pdf import pdf_info, pdf_pages


@pytest.mark.django_db
def test_the_zip_carries_the_branding_of_the_consultancy_that_asked(
    django_capture_on_commit_callbacks,
):
    firm = make_consultancy("Northwind Advisory", accent_colour="#0b5563")
    consultant = make_consultant("cora", consultancy=firm)
    organisation = make_organisation("Harbour Ltd")
    make_grant(organisation, consultant.consultancy)
    assessment = make_assessment(make_team(organisation, "Help desk"), status="submitted")
    for levels in ([5, 1, 4, 2], [4, 2, 4, 3], [3, 1, 3, 2]):
        make_response(assessment, levels=levels, status="completed")

    with django_capture_on_commit_callbacks(execute=True):
        export = services.bulk_export_start(
            consultancy=consultant.consultancy, by=consultant, assessments=[assessment]
        )

    export.refresh_from_db()
    with zipfile.ZipFile(io.BytesIO(bytes(export.archive))) as archive:
        [pdf] = [archive.read(name) for name in archive.namelist()]
    pages = pdf_pages(pdf)
    assert pdf_info(pdf)["Author"] == "Northwind Advisory"
    assert "NORTHWIND ADVISORY" in pages[0]  # the cover's brand line
    assert all("Northwind Advisory" in page.strip().splitlines()[-1] for page in pages[1:])
    # Rendered as the consultant's own download is, which now comes from the cache.
    download = reports.render_report(
        assessment,
        viewer_id=consultant.pk,
        consultancy=reports.branding_for(assessment, consultant),
    )
    assert download.cached
    assert download.pdf == pdf
