import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessment.models import (
    Assessment,
    ManagerInvitation,
    Membership,
    Organisation,
    Response,
    RosterEntry,
    Team,
    token_digest,
)
from tests.factories import (
    SIGN_UP,
    make_assessment,
    make_invitation,
    make_organisation,
    make_response,
    make_team,
    make_user,
    messages_of,
)

User = get_user_model()


# --- sign-up and dashboard ----------------------------------------------------------


@pytest.mark.django_db
def test_sign_up_creates_the_organisation_and_its_first_manager_and_signs_in(client):
    response = client.post(reverse("assessment:signup"), SIGN_UP)

    assert response.status_code == 302
    assert response["Location"] == reverse("assessment:dashboard")
    user = User.objects.get(username="ada")
    assert user.get_full_name() == "Ada Lovelace"
    assert user.email == "ada@example.com"
    membership = Membership.objects.get(user=user)
    assert membership.organisation.name == "Harbour Bakery"
    assert membership.role == Membership.Role.MANAGER
    dashboard = client.get(reverse("assessment:dashboard"))
    assert "Harbour Bakery" in dashboard.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password2": "something-else-entirely"}, "The two passwords do not match."),
        ({"password1": "short", "password2": "short"}, "at least 12 characters"),
        ({"username": "taken"}, "That username is taken."),
        ({"organisation_name": ""}, "This field is required."),
    ],
)
def test_bad_sign_up_input_creates_nothing_and_says_why(client, changes, message):
    make_user("taken")

    response = client.post(reverse("assessment:signup"), SIGN_UP | changes)

    assert response.status_code == 200
    assert message in response.text
    assert not Organisation.objects.exists()
    assert not User.objects.filter(username="ada").exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_signed_in_user_visiting_sign_up_goes_to_the_dashboard(manager_client):
    response = manager_client.get(reverse("assessment:signup"))

    assert response.status_code == 302
    assert response["Location"] == reverse("assessment:dashboard")


@pytest.mark.django_db
def test_the_sign_up_page_is_public(client):
    response = client.get(reverse("assessment:signup"))

    assert response.status_code == 200
    assert "Organisation name" in response.text


@pytest.mark.django_db
def test_a_user_who_manages_nothing_gets_a_friendly_dashboard(client):
    client.force_login(make_user("loner"))

    response = client.get(reverse("assessment:dashboard"))

    assert response.status_code == 200
    assert "You do not manage an organisation yet" in response.text
    assert reverse("assessment:signup") in response.text


@pytest.mark.django_db
def test_the_dashboard_lists_teams_assessments_and_completion(manager_client, organisation):
    team = make_team(organisation, members=2)
    draft = make_assessment(team, slugs=("win4", "holistic"))
    draft.title = "Spring check"
    draft.save()
    running = make_assessment(team, status="open", invitees=3)
    running.title = "Summer check"
    running.save()
    make_response(running, invitation=running.invitations.first(), status="completed")
    revoked = running.invitations.last()
    revoked.revoked_at = timezone.now()
    revoked.save()

    response = manager_client.get(reverse("assessment:dashboard"))

    text = response.text
    assert "Front desk" in text
    assert "2 members" in text
    assert "Spring check" in text
    assert "Summer check" in text
    assert "Win4 sustainable service" in text
    assert "1 of 2" in text  # the revoked invitee does not count
    assert reverse("assessment:open", args=[draft.pk]) in text
    assert reverse("assessment:open", args=[running.pk]) not in text
    assert reverse("assessment:respond_as_manager", args=[running.pk]) in text
    assert reverse("assessment:submit", args=[running.pk]) in text
    assert reverse("assessment:team_create") in text
    assert reverse("assessment:assessment_create") in text
    assert reverse("assessment:managers") in text


@pytest.mark.django_db
def test_the_navigation_offers_the_dashboard_to_signed_in_users_only(client, organisation):
    anonymous = client.get("/")
    client.force_login(organisation.manager)
    signed_in = client.get("/")

    assert reverse("assessment:dashboard") not in anonymous.text
    assert reverse("assessment:dashboard") in signed_in.text
    assert reverse("frameworks:list") in signed_in.text


# --- managers -----------------------------------------------------------------------------


def join_path_from(mail) -> str:
    match = re.search(r"https?://[^/\s]+(/join/[^/\s]+/)", mail.body)
    assert match, mail.body
    return match.group(1)


@pytest.mark.django_db
def test_the_join_link_leaves_only_its_token_digest_in_the_session_table(
    manager_client, organisation, mailoutbox
):
    manager_client.post(reverse("assessment:manager_invite"), {"email": "grace@example.com"})
    path = join_path_from(mailoutbox[0])
    token = path.rstrip("/").rsplit("/", 1)[-1]
    newcomer = Client()
    newcomer.get(path)
    page = newcomer.get(reverse("assessment:manager_join_clean"))

    stored = [session.get_decoded() for session in Session.objects.all()]
    assert organisation.name in page.text
    assert not any(token in repr(data) for data in stored)
    assert any(token_digest(token) in repr(data) for data in stored)


@pytest.mark.django_db
def test_a_manager_invites_another_who_joins_through_a_single_use_link(
    manager_client, organisation, mailoutbox
):
    invited = manager_client.post(
        reverse("assessment:manager_invite"), {"email": "Grace@Example.com"}
    )
    path = join_path_from(mailoutbox[0])
    newcomer = Client()
    followed = newcomer.get(path)
    page = newcomer.get(followed["Location"])
    accepted = newcomer.post(
        reverse("assessment:manager_join_clean"),
        {
            "full_name": "Grace Hopper",
            "username": "grace",
            "password1": "another-long-passphrase",
            "password2": "another-long-passphrase",
        },
    )

    assert invited.status_code == 302
    assert mailoutbox[0].to == ["grace@example.com"]
    assert followed.status_code == 302
    assert followed["Location"] == reverse("assessment:manager_join_clean")
    assert "/join/" + path.split("/")[2] not in followed["Location"]
    assert organisation.name in page.text
    assert accepted.status_code == 302
    assert accepted["Location"] == reverse("assessment:dashboard")
    grace = User.objects.get(username="grace")
    assert grace.email == "grace@example.com"
    assert Membership.objects.filter(user=grace, organisation=organisation).exists()
    assert "manager_join_token_hash" not in newcomer.session
    assert organisation.name in newcomer.get(reverse("assessment:dashboard")).text

    again = Client()
    again.get(path)
    second = again.post(
        reverse("assessment:manager_join_clean"),
        {
            "full_name": "Someone Else",
            "username": "someone",
            "password1": "another-long-passphrase",
            "password2": "another-long-passphrase",
        },
    )
    assert second.status_code == 200
    assert "already been accepted" in second.text
    assert not User.objects.filter(username="someone").exists()


@pytest.mark.django_db
def test_an_expired_manager_invitation_is_refused(manager_client, mailoutbox):
    manager_client.post(reverse("assessment:manager_invite"), {"email": "late@example.com"})
    ManagerInvitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    newcomer = Client()
    newcomer.get(join_path_from(mailoutbox[0]))

    page = newcomer.get(reverse("assessment:manager_join_clean"))
    post = newcomer.post(
        reverse("assessment:manager_join_clean"),
        {
            "full_name": "Late Comer",
            "username": "late",
            "password1": "another-long-passphrase",
            "password2": "another-long-passphrase",
        },
    )

    assert "This invitation has expired" in page.text
    assert "This invitation has expired" in post.text
    assert not User.objects.filter(username="late").exists()


@pytest.mark.django_db
def test_joining_without_a_link_explains_the_problem(client):
    response = client.get(reverse("assessment:manager_join_clean"))

    assert response.status_code == 200
    assert "This invitation link is not valid" in response.text


@pytest.mark.django_db
def test_the_managers_page_lists_managers_and_pending_invitations(
    manager_client, organisation, mailoutbox
):
    manager_client.post(reverse("assessment:manager_invite"), {"email": "pending@example.com"})

    response = manager_client.get(reverse("assessment:managers"))

    assert organisation.manager.email in response.text
    assert "pending@example.com" in response.text


@pytest.mark.django_db
def test_inviting_an_existing_manager_is_refused_with_a_message(
    manager_client, organisation, mailoutbox
):
    response = manager_client.post(
        reverse("assessment:manager_invite"), {"email": organisation.manager.email}
    )

    assert response.status_code == 200
    assert "is already a manager here" in response.text
    assert mailoutbox == []


# --- teams and rosters ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_creates_a_team(manager_client, organisation):
    response = manager_client.post(reverse("assessment:team_create"), {"name": "Night shift"})

    team = Team.objects.get(organisation=organisation, name="Night shift")
    assert response["Location"] == team.get_absolute_url()


@pytest.mark.django_db
def test_a_duplicate_team_name_is_refused(manager_client, organisation):
    make_team(organisation, "Night shift")

    response = manager_client.post(reverse("assessment:team_create"), {"name": "night shift"})

    assert response.status_code == 200
    assert "There is already a team called night shift." in response.text
    assert Team.objects.count() == 1


@pytest.mark.django_db
def test_roster_members_are_added_shown_and_removed(manager_client, organisation):
    team = make_team(organisation)

    added = manager_client.post(
        reverse("assessment:roster_add", args=[team.pk]),
        {"name": "Lin Chen", "email": "Lin@Example.com"},
        follow=True,
    )
    entry = RosterEntry.objects.get(team=team)
    removed = manager_client.post(
        reverse("assessment:roster_remove", args=[team.pk, entry.pk]), follow=True
    )

    assert entry.email == "lin@example.com"
    assert "Lin Chen" in added.text
    assert "lin@example.com" in added.text
    assert not RosterEntry.objects.exists()
    assert "Lin Chen removed from the team." in messages_of(removed)


@pytest.mark.django_db
def test_a_duplicate_roster_email_is_refused_with_a_message(manager_client, organisation):
    team = make_team(organisation)
    url = reverse("assessment:roster_add", args=[team.pk])
    manager_client.post(url, {"name": "Lin Chen", "email": "lin@example.com"})

    response = manager_client.post(url, {"name": "Lin C", "email": "LIN@example.com"}, follow=True)

    # Beside the e-mail field, with the input kept.
    assert response.context["form"].errors["email"] == ["lin@example.com is already on this team."]
    assert "lin@example.com is already on this team." in response.text
    assert 'value="Lin C"' in response.text
    assert RosterEntry.objects.count() == 1


@pytest.mark.django_db
def test_a_roster_entry_with_a_bad_email_is_refused(manager_client, organisation):
    team = make_team(organisation)

    response = manager_client.post(
        reverse("assessment:roster_add", args=[team.pk]),
        {"name": "Lin", "email": "not-an-address"},
        follow=True,
    )

    # Beside the e-mail field, with the input kept and the error counted at the top.
    assert response.context["form"].errors["email"] == ["Enter a valid email address."]
    assert "Enter a valid email address." in response.text
    assert 'value="not-an-address"' in response.text
    assert "Please correct the error below." in response.text
    assert not RosterEntry.objects.exists()


@pytest.mark.django_db
def test_the_team_page_lists_the_teams_assessments(manager_client, organisation):
    team = make_team(organisation)
    make_assessment(team)

    response = manager_client.get(team.get_absolute_url())

    assert "Front desk assessment" in response.text
    assert f"{reverse('assessment:assessment_create')}?team={team.pk}" in response.text


# --- creating assessments ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_create_form_shows_framework_cards_and_preselects_the_team(
    manager_client, organisation
):
    make_team(organisation, "Another")
    team = make_team(organisation)

    response = manager_client.get(reverse("assessment:assessment_create") + f"?team={team.pk}")

    assert response.status_code == 200
    assert 'type="checkbox" name="frameworks" value="win4"' in response.text
    assert "Win4 sustainable customer service" in response.text
    # The newest version (v2, format 2): its size, and who is asked how many questions.
    assert "4 sections, 27 questions" in response.text
    assert "Questions for the team: 11, for managers: 8, for leadership: 8." in response.text
    assert f'<option value="{team.pk}" selected>' in response.text
    assert 'type="date"' in response.text


@pytest.mark.django_db
def test_creating_an_assessment_pins_current_versions_and_invites_the_roster(
    manager_client, organisation
):
    team = make_team(organisation, members=3)
    due = timezone.localdate() + timedelta(days=14)

    response = manager_client.post(
        reverse("assessment:assessment_create"),
        {
            "title": "Autumn check",
            "team": team.pk,
            "frameworks": ["win4", "holistic"],
            "due_date": due.isoformat(),
        },
    )

    assessment = Assessment.objects.get()
    assert response["Location"] == assessment.get_absolute_url()
    assert assessment.title == "Autumn check"
    assert assessment.status == Assessment.Status.DRAFT
    assert assessment.due_date == due
    assert assessment.created_by == organisation.manager
    assert sorted(v.framework.slug for v in assessment.framework_versions.all()) == [
        "holistic",
        "win4",
    ]
    for version in assessment.framework_versions.all():
        assert version == version.framework.latest_version()
    assert assessment.invitations.count() == 3


@pytest.mark.django_db
def test_an_assessment_without_frameworks_is_refused_and_nothing_is_created(
    manager_client, organisation
):
    team = make_team(organisation)

    response = manager_client.post(
        reverse("assessment:assessment_create"), {"title": "Empty", "team": team.pk}
    )

    assert response.status_code == 200
    assert "Choose at least one framework." in response.text
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_an_assessment_for_another_organisations_team_is_refused(manager_client):
    foreign = make_team(make_organisation("Rival plc"), "Their team")

    response = manager_client.post(
        reverse("assessment:assessment_create"),
        {"title": "Sneaky", "team": foreign.pk, "frameworks": ["win4"]},
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_a_due_date_in_the_past_is_refused(manager_client, organisation):
    team = make_team(organisation)
    yesterday = timezone.localdate() - timedelta(days=1)

    response = manager_client.post(
        reverse("assessment:assessment_create"),
        {
            "title": "Late",
            "team": team.pk,
            "frameworks": ["win4"],
            "due_date": yesterday.isoformat(),
        },
    )

    assert response.status_code == 200
    assert "The due date cannot be in the past." in response.text
    assert 'value="win4"' in response.text
    assert not Assessment.objects.exists()


# --- invitations --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pasted_addresses_are_invited_and_duplicates_skipped(manager_client, organisation):
    assessment = make_assessment(make_team(organisation))
    make_invitation(assessment, email="b@example.com")

    response = manager_client.post(
        reverse("assessment:invitations_add", args=[assessment.pk]),
        {"addresses": "a@example.com, A@example.com\nb@example.com c@example.com"},
        follow=True,
    )

    assert sorted(assessment.invitations.values_list("email", flat=True)) == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    assert "2 people invited. 1 was already invited." in messages_of(response)


@pytest.mark.django_db
def test_an_invalid_pasted_address_invites_nobody_and_keeps_the_text(manager_client, organisation):
    assessment = make_assessment(make_team(organisation))
    pasted = "a@example.com, bad-address\nc@example.com"

    response = manager_client.post(
        reverse("assessment:invitations_add", args=[assessment.pk]), {"addresses": pasted}
    )

    # Beside the field, naming the address, with everything pasted kept; nobody invited.
    assert response.status_code == 200
    assert response.context["addresses_form"].errors["addresses"] == [
        "“bad-address” is not a valid e-mail address. Correct it or remove it; nobody "
        "was invited yet."
    ]
    assert "a@example.com, bad-address\nc@example.com</textarea>" in response.text
    assert "Please correct the error below." in response.text
    assert not assessment.invitations.exists()


@pytest.mark.django_db
def test_opening_sends_one_email_per_invitee_with_a_private_link(
    manager_client, organisation, mailoutbox
):
    assessment = make_assessment(make_team(organisation), invitees=3)

    response = manager_client.post(reverse("assessment:open", args=[assessment.pk]), follow=True)

    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.OPEN
    assert len(mailoutbox) == 3
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted(
        assessment.invitations.values_list("email", flat=True)
    )
    assert all("/r/" in mail.body for mail in mailoutbox)
    assert "The assessment is open and the invitations are sent." in messages_of(response)
    assert "Sent once" in response.text


@pytest.mark.django_db
def test_opening_without_invitees_is_refused_with_a_message(manager_client, organisation):
    assessment = make_assessment(make_team(organisation))

    response = manager_client.post(reverse("assessment:open", args=[assessment.pk]), follow=True)

    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.DRAFT
    assert "Invite at least one team member" in messages_of(response)[0]


@pytest.mark.django_db
def test_resending_sends_a_fresh_link(manager_client, organisation, mailoutbox, settings):
    assessment = make_assessment(make_team(organisation), invitees=1)
    manager_client.post(reverse("assessment:open", args=[assessment.pk]))
    invitation = assessment.invitations.get()
    cooled_down = timezone.now() - timedelta(minutes=settings.INVITATION_RESEND_COOLDOWN_MINUTES)
    assessment.invitations.update(sent_at=cooled_down)  # a resend waits for the cool-down

    manager_client.post(reverse("assessment:invitation_resend", args=[invitation.pk]))

    invitation.refresh_from_db()
    assert len(mailoutbox) == 2
    assert invitation.send_count == 2
    assert mailoutbox[0].body != mailoutbox[1].body


@pytest.mark.django_db
def test_revoking_withdraws_the_invitation(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), status="open", invitees=1)
    invitation = assessment.invitations.get()
    make_response(assessment, invitation=invitation)

    response = manager_client.post(
        reverse("assessment:invitation_revoke", args=[invitation.pk]), follow=True
    )

    invitation.refresh_from_db()
    assert invitation.is_revoked
    assert invitation.response.status == Response.Status.CLOSED
    assert "Revoked" in response.text


@pytest.mark.django_db
def test_a_completed_invitation_cannot_be_revoked(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), status="open", invitees=1)
    invitation = assessment.invitations.get()
    make_response(assessment, invitation=invitation, status="completed")

    response = manager_client.post(
        reverse("assessment:invitation_revoke", args=[invitation.pk]), follow=True
    )

    invitation.refresh_from_db()
    assert not invitation.is_revoked
    assert "This person has already completed their answers." in messages_of(response)


@pytest.mark.django_db
def test_the_invitation_table_shows_progress_never_answers(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), status="open", invitees=3)
    first, second, _third = assessment.invitations.order_by("email")
    done = make_response(assessment, invitation=first, levels=[4], status="completed")
    done.answers.update(comment="Our rota is a secret mess")
    make_response(assessment, invitation=second, levels=[2])

    response = manager_client.get(assessment.get_absolute_url())

    assert "Completed" in response.text
    assert "In progress" in response.text
    assert "Not sent" in response.text
    assert "Our rota is a secret mess" not in response.text


# --- submitting and answering --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_submit_page_asks_for_confirmation(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), status="open")

    response = manager_client.get(reverse("assessment:submit", args=[assessment.pk]))

    assessment.refresh_from_db()
    assert response.status_code == 200
    assert "unfinished responses are closed" in response.text
    assert 'method="post"' in response.text
    assert assessment.status == Assessment.Status.OPEN


@pytest.mark.django_db
def test_submitting_without_completed_responses_is_refused_with_a_clear_message(
    manager_client, organisation
):
    assessment = make_assessment(make_team(organisation), status="open")
    make_response(assessment)

    response = manager_client.post(reverse("assessment:submit", args=[assessment.pk]), follow=True)

    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.OPEN
    assert "Nobody has completed their answers yet." in messages_of(response)[0]


@pytest.mark.django_db
def test_submitting_closes_unfinished_responses_and_a_second_submit_is_harmless(
    manager_client, organisation
):
    assessment = make_assessment(make_team(organisation), status="open")
    for _ in range(3):  # the anonymity minimum: team results can show
        make_response(assessment, status="completed")
    unfinished = make_response(assessment)
    url = reverse("assessment:submit", args=[assessment.pk])

    first = manager_client.post(url, follow=True)
    submitted_at = Assessment.objects.get(pk=assessment.pk).submitted_at
    second = manager_client.post(url, follow=True)

    assessment.refresh_from_db()
    unfinished.refresh_from_db()
    assert assessment.status == Assessment.Status.SUBMITTED
    assert assessment.submitted_at == submitted_at
    assert unfinished.status == Response.Status.CLOSED
    assert "The assessment was submitted for review." in messages_of(first)
    assert second.status_code == 200
    assert "This assessment has already been submitted." in messages_of(second)


@pytest.mark.django_db
def test_answering_yourself_starts_the_managers_own_response(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), status="open")

    response = manager_client.post(reverse("assessment:respond_as_manager", args=[assessment.pk]))

    own = Response.objects.get(assessment=assessment, user=organisation.manager)
    assert own.is_manager_view
    assert response["Location"] == reverse("assessment:response_start", kwargs={"pk": own.pk})


@pytest.mark.django_db
def test_answering_yourself_before_opening_is_refused(manager_client, organisation):
    assessment = make_assessment(make_team(organisation))

    response = manager_client.post(
        reverse("assessment:respond_as_manager", args=[assessment.pk]), follow=True
    )

    assert not Response.objects.exists()
    assert "You can answer once the assessment is open." in messages_of(response)


@pytest.mark.django_db
def test_adding_addresses_after_a_draft_revocation_still_invites_them(
    manager_client, organisation, mailoutbox
):
    assessment = make_assessment(make_team(organisation), invitees=2)
    withdrawn = assessment.invitations.first()
    manager_client.post(reverse("assessment:invitation_revoke", args=[withdrawn.pk]))
    manager_client.post(reverse("assessment:open", args=[assessment.pk]))

    response = manager_client.post(
        reverse("assessment:invitations_add", args=[assessment.pk]),
        {"addresses": "late@example.com"},
        follow=True,
    )

    assert "1 person invited." in messages_of(response)
    assert [mail.to for mail in mailoutbox][-1] == ["late@example.com"]


@pytest.mark.django_db
def test_invitations_of_a_submitted_assessment_cannot_be_revoked(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), status="submitted", invitees=1)
    invitation = assessment.invitations.get()

    response = manager_client.post(
        reverse("assessment:invitation_revoke", args=[invitation.pk]), follow=True
    )

    assert any("can no longer change" in m for m in messages_of(response))
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


@pytest.mark.django_db
def test_the_sign_up_service_refuses_a_taken_username_with_a_message():
    from assessment import services

    services.organisation_sign_up(
        organisation_name="One",
        full_name="A B",
        email="a@example.com",
        username="same",
        password="a-long-test-password",
    )
    with pytest.raises(services.ServiceError, match="username is taken"):
        services.organisation_sign_up(
            organisation_name="Two",
            full_name="C D",
            email="c@example.com",
            username="SAME",
            password="a-long-test-password",
        )


@pytest.mark.django_db
def test_an_address_too_long_for_the_database_is_reported_not_a_500(manager_client, organisation):
    assessment = make_assessment(make_team(organisation))
    long_address = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".example"

    response = manager_client.post(
        reverse("assessment:invitations_add", args=[assessment.pk]),
        {"addresses": long_address},
        follow=True,
    )

    assert response.status_code == 200
    assert (
        "is not a valid e-mail address" in response.context["addresses_form"].errors["addresses"][0]
    )
    assert not assessment.invitations.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["²", "٣", "9" * 30, "-1", "x\x00", "1" * 5000])
def test_a_malformed_team_in_the_create_link_preselects_nothing(
    manager_client, organisation, value
):
    team = make_team(organisation)

    response = manager_client.get(reverse("assessment:assessment_create"), {"team": value})

    assert response.status_code == 200
    assert f'<option value="{team.pk}">' in response.text
    assert f'<option value="{team.pk}" selected>' not in response.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("due", "message"),
    [
        ("0001-01-01", "The due date cannot be in the past."),
        ("9999-12-31", "Choose a due date within the next two years."),
        ("10000-01-01", "Enter a valid date."),
        ("²", "Enter a valid date."),
    ],
)
def test_a_due_date_out_of_bounds_is_refused_beside_the_field(
    manager_client, organisation, due, message
):
    team = make_team(organisation)

    response = manager_client.post(
        reverse("assessment:assessment_create"),
        {"title": "Far off", "team": team.pk, "frameworks": ["win4"], "due_date": due},
    )

    assert response.status_code == 200
    assert message in response.text
    assert "Please correct the error below." in response.text
    assert 'value="Far off"' in response.text  # the input stays in the form
    assert not Assessment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("pasted", ["", "   ", "a@example.com\x00"])
def test_pasting_nothing_usable_shows_the_reason_beside_the_field(
    manager_client, organisation, pasted
):
    assessment = make_assessment(make_team(organisation))

    response = manager_client.post(
        reverse("assessment:invitations_add", args=[assessment.pk]), {"addresses": pasted}
    )

    assert response.status_code == 200
    assert response.context["addresses_form"].errors["addresses"]
    assert "Please correct the error below." in response.text
    assert not assessment.invitations.exists()
