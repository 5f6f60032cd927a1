import pytest
from django.urls import reverse

from frameworks.models import Concept, FrameworkVersion, Question
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
@pytest.mark.parametrize("number", [1, 2])
def test_a_loaded_version_can_be_viewed_but_not_edited(admin_client, number):
    version = FrameworkVersion.objects.get(framework__slug="win4", number=number)
    url = reverse("admin:frameworks_frameworkversion_change", args=[version.pk])

    page = admin_client.get(url)
    attempt = admin_client.post(url, {"name": "Renamed", "short_name": "Renamed"})

    assert page.status_code == 200
    assert "Save" not in page.text
    assert version.questions.first().code in page.text
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


@pytest.mark.django_db
def test_a_format_2_question_shows_its_audience_anchors_criteria_and_evidence(admin_client):
    question = Question.objects.filter(version__format=2, reversed=True).first()

    page = admin_client.get(reverse("admin:frameworks_question_change", args=[question.pk]))

    assert page.status_code == 200
    assert question.get_audience_display() in page.text
    assert question.anchors[0].replace("'", "&#x27;") in page.text
    assert question.criteria.replace("'", "&#x27;") in page.text
    assert question.evidence[0].replace("'", "&#x27;") in page.text
    for concept in question.concepts.all():
        assert concept.name in page.text


@pytest.mark.django_db
def test_the_concept_registry_can_be_browsed_but_not_edited(admin_client):
    concept = Concept.objects.get(key="scope")

    listing = admin_client.get(reverse("admin:frameworks_concept_changelist"))
    change = admin_client.post(
        reverse("admin:frameworks_concept_change", args=[concept.pk]), {"name": "Changed"}
    )

    assert listing.status_code == 200
    assert concept.name in listing.text
    assert change.status_code == 403
    concept.refresh_from_db()
    assert concept.name != "Changed"


@pytest.mark.django_db
def test_questions_can_be_filtered_by_audience(admin_client):
    url = reverse("admin:frameworks_question_changelist")

    page = admin_client.get(url, {"audience__exact": "leadership"})

    assert page.status_code == 200
    leadership = Question.objects.filter(audience="leadership", version__format=2)
    team = Question.objects.filter(audience="team", version__format=2)
    assert leadership.first().code in page.text
    assert team.first().code not in page.text
