import pytest
from django.urls import reverse

from assessment.models import Assessment, Invitation, RosterEntry
from tests.factories import make_assessment, make_organisation, make_team, make_user

# (URL name, method, which object's pk the URL takes)
OBJECT_VIEWS = [
    ("assessment:team_detail", "get", "team"),
    ("assessment:roster_add", "post", "team"),
    ("assessment:roster_remove", "post", "entry"),
    ("assessment:detail", "get", "assessment"),
    ("assessment:invitations_add", "post", "assessment"),
    ("assessment:open", "post", "assessment"),
    ("assessment:submit", "get", "assessment"),
    ("assessment:submit", "post", "assessment"),
    ("assessment:respond_as_manager", "post", "assessment"),
    ("assessment:invitation_resend", "post", "invitation"),
    ("assessment:invitation_revoke", "post", "invitation"),
    ("assessment:results", "get", "assessment"),
    ("assessment:targets", "post", "assessment"),
    ("assessment:reopen", "post", "assessment"),
    ("assessment:assessor_choose", "get", "assessment"),
    ("assessment:assessor_choose", "post", "assessment"),
]

MANAGER_PAGES = [
    "assessment:dashboard",
    "assessment:managers",
    "assessment:team_create",
    "assessment:assessment_create",
]


@pytest.fixture
def victim(db):
    """Another organisation's team, roster entry, open assessment and invitation."""
    organisation = make_organisation("Victim Ltd")
    team = make_team(organisation, members=1)
    assessment = make_assessment(team, status="open", invitees=1)
    return {
        "team": team,
        "entry": team.roster.get(),
        "assessment": assessment,
        "invitation": assessment.invitations.get(),
    }


def url_for(name: str, target: str, objects: dict) -> str:
    if target == "entry":
        entry = objects["entry"]
        return reverse(name, kwargs={"team_pk": entry.team_id, "pk": entry.pk})
    return reverse(name, kwargs={"pk": objects[target].pk})


POST_DATA = {"name": "Intruder", "email": "intruder@example.com", "addresses": "x@example.com"}


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "target"), OBJECT_VIEWS)
def test_a_manager_of_another_organisation_gets_404_and_changes_nothing(
    client, victim, name, method, target
):
    client.force_login(make_organisation("Rival plc").manager)

    response = getattr(client, method)(url_for(name, target, victim), POST_DATA)

    assert response.status_code == 404
    assert RosterEntry.objects.filter(pk=victim["entry"].pk).exists()
    assert RosterEntry.objects.count() == 1
    assert Invitation.objects.count() == 1
    invitation = Invitation.objects.get()
    assert invitation.revoked_at is None
    assert invitation.send_count == 0
    assert Assessment.objects.get().status == Assessment.Status.OPEN
    assert not victim["assessment"].responses.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "target"), OBJECT_VIEWS)
def test_a_signed_in_user_without_membership_gets_404(client, victim, name, method, target):
    client.force_login(make_user("outsider"))

    response = getattr(client, method)(url_for(name, target, victim), POST_DATA)

    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "target"), OBJECT_VIEWS)
def test_an_anonymous_visitor_is_sent_to_sign_in_for_object_pages(
    client, victim, name, method, target
):
    response = getattr(client, method)(url_for(name, target, victim), POST_DATA)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", MANAGER_PAGES)
def test_an_anonymous_visitor_is_sent_to_sign_in_for_manager_pages(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["assessment:managers", "assessment:team_create", "assessment:assessment_create"]
)
def test_a_signed_in_user_without_membership_gets_404_on_manager_pages(client, name):
    client.force_login(make_user("outsider"))

    response = client.get(reverse(name))

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_non_manager_cannot_invite_managers(client, mailoutbox):
    client.force_login(make_user("outsider"))

    response = client.post(reverse("assessment:manager_invite"), {"email": "x@example.com"})

    assert response.status_code == 404
    assert mailoutbox == []


@pytest.mark.django_db
def test_the_dashboard_never_shows_another_organisations_data(client, victim):
    client.force_login(make_organisation("Rival plc").manager)

    response = client.get(reverse("assessment:dashboard"))

    assert response.status_code == 200
    assert victim["assessment"].title not in response.text
    assert victim["team"].name not in response.text


@pytest.mark.django_db
def test_the_create_form_offers_only_the_managers_own_teams(client, victim):
    rival = make_organisation("Rival plc")
    make_team(rival, "Our own team")
    client.force_login(rival.manager)

    response = client.get(reverse("assessment:assessment_create") + f"?team={victim['team'].pk}")

    assert "Our own team" in response.text
    assert victim["team"].name not in response.text
    assert f'value="{victim["team"].pk}"' not in response.text


@pytest.mark.django_db
def test_the_manager_pages_are_public_where_they_must_be(client):
    assert client.get(reverse("assessment:signup")).status_code == 200
    assert client.get(reverse("assessment:manager_join_clean")).status_code == 200
    assert client.get(reverse("assessment:manager_join", args=["abc"])).status_code == 302
