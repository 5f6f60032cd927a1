"""The admin edits through the project's form base: control characters are refused there too."""

import pytest
from django.urls import reverse

from assessment.models import Team
from tests.factories import make_organisation, make_team, make_user


@pytest.fixture
def admin_client(client):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("char", ["\x00", "\x0b", "\x1b", "\x85"], ids=repr)
def test_a_team_name_with_a_control_character_is_refused_in_the_admin(admin_client, char):
    team = make_team(make_organisation())
    url = reverse("admin:assessment_team_change", args=[team.pk])

    response = admin_client.post(
        url, {"organisation": team.organisation_id, "name": f"Night{char}shift"}
    )

    assert response.status_code == 200
    assert "control character" in response.text
    team.refresh_from_db()
    assert team.name == "Front desk"


@pytest.mark.django_db
def test_a_clean_team_name_is_saved_in_the_admin(admin_client):
    team = make_team(make_organisation())
    url = reverse("admin:assessment_team_change", args=[team.pk])

    response = admin_client.post(url, {"organisation": team.organisation_id, "name": "Nights"})

    assert response.status_code == 302
    assert Team.objects.get(pk=team.pk).name == "Nights"
