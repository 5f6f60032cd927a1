import pytest
from django.urls import reverse

from frameworks.models import FrameworkVersion


@pytest.mark.django_db
def test_anyone_can_read_the_list_of_frameworks(client):
    response = client.get(reverse("frameworks:list"))

    assert response.status_code == 200
    for version in FrameworkVersion.objects.all():
        assert version.name in response.text


@pytest.mark.django_db
def test_a_framework_page_shows_its_scale_and_every_question(client):
    version = FrameworkVersion.objects.get(framework__slug="six-dimensions")

    response = client.get(reverse("frameworks:detail", kwargs={"slug": "six-dimensions"}))

    assert response.status_code == 200
    for level in version.levels.all():
        assert level.label in response.text
    for question in version.questions.all():
        assert question.text.replace("'", "&#x27;") in response.text


@pytest.mark.django_db
def test_the_framework_page_uses_a_constant_number_of_queries(client, django_assert_num_queries):
    with django_assert_num_queries(4):
        client.get(reverse("frameworks:detail", kwargs={"slug": "six-dimensions"}))


@pytest.mark.django_db
def test_an_unknown_framework_is_a_friendly_404(client):
    response = client.get(reverse("frameworks:detail", kwargs={"slug": "no-such-thing"}))

    assert response.status_code == 404
    assert "Page not found" in response.text
