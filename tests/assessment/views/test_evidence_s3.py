"""Evidence in an S3-compatible object store (issue 18): with ``STORAGES["evidence"]`` set
to django-storages' S3 backend, pointed at moto's server on 127.0.0.1, a file uploaded
through the real view downloads back byte for byte, lands in the bucket under our own
name, and leaves the bucket when its evidence is deleted (after the commit)."""

import io
import socket

import pytest
from django.core.files.storage import storages
from django.urls import reverse
from PIL import Image

from assessment.models import Evidence, EvidenceBlob
from frameworks.models import Section
from tests.factories import make_assessment, make_team

pytestmark = pytest.mark.django_db

BUCKET = "service-balance-evidence"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server on 127.0.0.1, with an empty bucket; skipped where it cannot run."""
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError as error:  # pragma: no cover - a dev dependency
        pytest.skip(f"no local S3-compatible server: moto[server] is not installed ({error})")
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    try:
        server.start()
    except Exception as error:  # pragma: no cover - depends on the machine
        pytest.skip(f"moto's S3 server could not start on 127.0.0.1:{port}: {error}")
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="eu-west-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    yield endpoint, client
    server.stop()


@pytest.fixture
def s3_storage(s3_endpoint, settings):
    endpoint, client = s3_endpoint
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": endpoint,
                "region_name": "eu-west-2",
                "access_key": "testing",
                "secret_key": "testing",
                "addressing_style": "path",
                "default_acl": "private",
                "file_overwrite": False,
            },
        },
    }
    storages._storages.pop("evidence", None)  # the handler caches its backends
    yield client
    storages._storages.pop("evidence", None)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "#118844").save(out, "PNG")
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_an_upload_goes_to_s3_and_downloads_back_byte_for_byte(s3_storage, manager_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    organisation = manager_client.organisation
    assessment = make_assessment(make_team(organisation), status="open")
    section = Section.objects.filter(version__assessments=assessment).first()
    content = b"Month,Complaints\r\nMay,3\r\nJune,1\r\n"

    added = manager_client.post(
        reverse("assessment:evidence", args=[assessment.pk]),
        {
            "section": section.pk,
            "title": "Complaints log",
            "kind": "file",
            "file": SimpleUploadedFile("log.csv", content),
        },
    )
    assert added.status_code == 302
    evidence = Evidence.objects.get()
    assert EvidenceBlob.objects.count() == 0  # not in the database: in the bucket
    stored = s3_storage.get_object(Bucket=BUCKET, Key=evidence.file.name)["Body"].read()
    assert stored == content
    assert "log" not in evidence.file.name

    download = manager_client.get(
        reverse("assessment:evidence_download", args=[assessment.pk, evidence.pk])
    )
    assert download.status_code == 200
    assert download.content == content
    assert download["Content-Disposition"].startswith("attachment;")

    image = _png()
    manager_client.post(
        reverse("assessment:evidence", args=[assessment.pk]),
        {
            "section": section.pk,
            "title": "Photo",
            "kind": "file",
            "file": SimpleUploadedFile("p.png", image),
        },
    )
    photo = Evidence.objects.get(title="Photo")
    back = manager_client.get(
        reverse("assessment:evidence_download", args=[assessment.pk, photo.pk])
    ).content
    assert back == s3_storage.get_object(Bucket=BUCKET, Key=photo.file.name)["Body"].read()
    assert Image.open(io.BytesIO(back)).size == (8, 8)

    deleted = manager_client.post(
        reverse("assessment:evidence_delete", args=[assessment.pk, evidence.pk])
    )
    assert deleted.status_code == 302
    keys = [o["Key"] for o in s3_storage.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert evidence.file.name not in keys
    assert photo.file.name in keys
