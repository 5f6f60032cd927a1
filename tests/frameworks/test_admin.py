import pytest
from django.urls import reverse

from frameworks.models import FrameworkVersion, Question
from tests.factories import make_user


@pytest.fixture
def admin_client(client):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.django_db
def test_the_admin_lists_every_framework(admin_client):
    response = admin_client.get(reverse("admin:frameworks_framework_changelist"))

    assert response.status_code == 200
    for slug in ["holistic", "win4", "six-dimensions", "service-definition"]:
        assert slug in response.text


@pytest.mark.django_db
def test_a_loaded_version_can_be_viewed_but_not_edited(admin_client):
    version = FrameworkVersion.objects.get(framework__slug="win4")
    url = reverse("admin:frameworks_frameworkversion_change", args=[version.pk])

    page = admin_client.get(url)
    attempt = admin_client.post(url, {"name": "Renamed", "short_name": "Renamed"})

    assert page.status_code == 200
    assert "Save" not in page.text
    assert attempt.status_code == 403
    version.refresh_from_db()
    assert version.name != "Renamed"


@pytest.mark.django_db
def test_questions_cannot_be_added_changed_or_deleted_in_the_admin(admin_client):
    question = Question.objects.first()

    add = admin_client.post(reverse("admin:frameworks_question_add"), {"code": "NEW"})
    change = admin_client.post(
        reverse("admin:frameworks_question_change", args=[question.pk]), {"text": "Changed"}
    )
    delete = admin_client.post(
        reverse("admin:frameworks_question_delete", args=[question.pk]), {"post": "yes"}
    )

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    question.refresh_from_db()
    assert question.text != "Changed"


@pytest.mark.django_db
def test_staff_without_superuser_rights_cannot_open_the_admin_pages(client):
    client.force_login(make_user("clerk", is_staff=True))

    response = client.get(reverse("admin:frameworks_framework_changelist"))

    assert response.status_code == 403
