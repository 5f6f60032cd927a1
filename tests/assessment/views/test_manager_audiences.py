"""The manager's assessment page with audiences (frameworks v2): the leadership list
beside the team's, the warning when nobody is on it, the manager's own questions, the
leadership invitation e-mail, and targets on each version's scale."""

import re

import pytest
from django.urls import reverse

from assessment.models import Assessment, Invitation, SectionTarget
from frameworks.models import Section
from tests.factories import (
    make_assessment,
    make_invitation,
    make_organisation,
    make_response,
    make_team,
    messages_of,
)

# What the shipped Win4 asks each audience: version 2 (format 2) and version 1 (format 1).
WIN4_V2 = {"team": 11, "manager": 8, "leadership": 8}
WIN4_V1_QUESTIONS = 24


def add_url(assessment: Assessment) -> str:
    return reverse("assessment:invitations_add", args=[assessment.pk])


def detail(client, assessment: Assessment):
    return client.get(reverse("assessment:detail", args=[assessment.pk]))


def section_html(text: str, heading_id: str) -> str:
    """The page from one list's heading to the next h3 (that list's sentence and table)."""
    start = text.index(f'id="{heading_id}"')
    end = text.find("<h3", start)
    return text[start:end]


# --- the leadership list --------------------------------------------------------------


@pytest.mark.django_db
def test_leadership_is_invited_onto_its_own_list_beside_the_team(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), invitees=1)

    response = manager_client.post(
        add_url(assessment),
        {"addresses": "cfo@example.com\nowner@example.com", "audience": "leadership"},
        follow=True,
    )

    assert "2 people invited." in messages_of(response)
    assert sorted(
        assessment.invitations.filter(audience="leadership").values_list("email", flat=True)
    ) == ["cfo@example.com", "owner@example.com"]
    assert assessment.invitations.filter(audience="team").count() == 1
    page = detail(manager_client, assessment).text
    leadership = section_html(page, "leadership-invitees-heading")
    team = section_html(page, "team-invitees-heading")
    assert "cfo@example.com" in leadership
    assert "owner@example.com" in leadership
    assert "cfo@example.com" not in team
    assert "Executives, finance and owners" in leadership
    assert f"Each answers {WIN4_V2['leadership']} leadership questions." in leadership
    assert f"answers the team's {WIN4_V2['team']} questions" in team


@pytest.mark.django_db
def test_pasted_addresses_go_to_the_team_list_unless_leadership_is_chosen(
    manager_client, organisation
):
    assessment = make_assessment(make_team(organisation))

    manager_client.post(add_url(assessment), {"addresses": "a@example.com"})
    manager_client.post(add_url(assessment), {"addresses": "b@example.com", "audience": "team"})

    assert list(assessment.invitations.values_list("audience", flat=True)) == ["team", "team"]


@pytest.mark.django_db
def test_the_form_offers_the_lists_with_what_each_is_asked(manager_client, organisation):
    assessment = make_assessment(make_team(organisation))

    page = detail(manager_client, assessment).text

    assert re.search(r'type="radio"[^>]* name="audience" value="team"[^>]* checked', page)
    assert re.search(r'type="radio"[^>]* name="audience" value="leadership"', page)
    assert "<legend" in page  # the choice is a labelled group (a fieldset)
    assert f"Team members: they answer the team&#x27;s {WIN4_V2['team']} questions" in page
    assert (
        "Leadership (executives, finance, owners): they answer the "
        f"{WIN4_V2['leadership']} leadership questions"
    ) in page


@pytest.mark.django_db
def test_a_leadership_invitees_status_shows_like_a_team_members(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), status="open", invitees=1)
    make_response(assessment, status="completed", audience="leadership")
    make_invitation(assessment, email="ceo@example.com", audience="leadership")

    page = detail(manager_client, assessment).text

    leadership = section_html(page, "leadership-invitees-heading")
    assert "Completed" in leadership
    assert "ceo@example.com" in leadership
    assert "Not sent" in leadership
    assert "Completed" not in section_html(page, "team-invitees-heading")


@pytest.mark.django_db
def test_a_format_1_assessment_refuses_leadership_beside_the_field(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), version=1)
    plain = detail(manager_client, assessment).text
    assert 'name="audience"' not in plain  # nothing to choose: no leadership questions
    assert "leadership-invitees-heading" not in plain

    response = manager_client.post(
        add_url(assessment), {"addresses": "cfo@example.com", "audience": "leadership"}
    )

    assert response.status_code == 200
    errors = response.context["addresses_form"].errors
    assert list(errors) == ["audience"]
    assert "None of this assessment's frameworks asks leadership questions" in errors["audience"][0]
    assert "Please correct the error below." in response.text
    assert 'name="audience"' in response.text  # the field shows, with its message beside it
    assert "Leadership (executives, finance, owners): not asked in this assessment" in response.text
    # The error summary's link lands on the choice.
    assert '<a href="#id_audience_0">Invite them as</a>' in response.text
    assert 'id="id_audience_0"' in response.text
    assert "cfo@example.com</textarea>" in response.text
    assert not assessment.invitations.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["manager", "Leadership", "boss", "team\x00", "²"])
def test_an_unknown_list_is_refused_beside_the_field(manager_client, organisation, value):
    assessment = make_assessment(make_team(organisation))

    response = manager_client.post(
        add_url(assessment), {"addresses": "a@example.com", "audience": value}
    )

    assert response.status_code == 200
    assert "audience" in response.context["addresses_form"].errors
    assert not assessment.invitations.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "then", "other"),
    [("team", "leadership", "team"), ("leadership", "team", "leadership")],
)
def test_an_address_on_one_list_cannot_join_the_other(
    manager_client, organisation, first, then, other
):
    assessment = make_assessment(make_team(organisation))
    make_invitation(assessment, email="pat@example.com", audience=first)

    response = manager_client.post(
        add_url(assessment),
        {"addresses": "new@example.com, PAT@example.com", "audience": then},
    )

    assert response.status_code == 200
    assert response.context["addresses_form"].errors["addresses"] == [
        f"pat@example.com is already on the {other} list, and an address can be on one list "
        "only. Remove it from what you pasted; nobody was invited yet."
    ]
    # Nobody of the batch was invited, and the one invitation stays as it was.
    assert list(assessment.invitations.values_list("email", "audience")) == [
        ("pat@example.com", first)
    ]


@pytest.mark.django_db
def test_leadership_added_to_an_open_assessment_is_sent_at_once(
    manager_client, organisation, mailoutbox
):
    assessment = make_assessment(make_team(organisation), status="open")

    manager_client.post(
        add_url(assessment), {"addresses": "cfo@example.com", "audience": "leadership"}
    )

    assert [mail.to for mail in mailoutbox] == [["cfo@example.com"]]
    assert f"a short set of {WIN4_V2['leadership']} leadership questions" in " ".join(
        mailoutbox[0].body.split()
    )


@pytest.mark.django_db
def test_leadership_cannot_be_added_to_another_organisations_assessment(manager_client):
    other = make_assessment(make_team(make_organisation("Other Ltd", manager="olga")))

    response = manager_client.post(
        add_url(other), {"addresses": "cfo@example.com", "audience": "leadership"}
    )

    assert response.status_code == 404
    assert not Invitation.objects.filter(assessment=other).exists()


@pytest.mark.django_db
def test_the_dashboard_counts_team_members_of_the_team_list_only(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), status="open", invitees=2)
    make_response(assessment, status="completed", audience="leadership")
    make_invitation(assessment, email="ceo@example.com", audience="leadership")

    page = manager_client.get(reverse("assessment:dashboard")).text

    assert re.search(r'data-label="Team members completed">\s*0 of 2\s*<', page)


# --- opening --------------------------------------------------------------------------


@pytest.mark.django_db
def test_opening_without_leadership_opens_and_warns_that_their_questions_go_unanswered(
    manager_client, organisation
):
    assessment = make_assessment(make_team(organisation), invitees=1)
    draft_page = detail(manager_client, assessment).text
    assert "Nobody is on the leadership list" in draft_page
    assert "You can still open the assessment without them." in draft_page

    response = manager_client.post(reverse("assessment:open", args=[assessment.pk]), follow=True)

    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.OPEN
    warning = (
        f"Nobody is on the leadership list, so its {WIN4_V2['leadership']} leadership questions "
        "will go unanswered and the sections that ask them rest on fewer answers."
    )
    assert any(message.startswith(warning) for message in messages_of(response))
    open_page = detail(manager_client, assessment).text
    assert warning in open_page
    # What it costs: withheld means withheld (scoring rules version 2).
    assert "its framework has no overall score, balance or verdict" in open_page
    assert "You can still open the assessment without them." not in open_page


@pytest.mark.django_db
@pytest.mark.parametrize("version", [None, 1])
def test_no_warning_when_leadership_is_listed_or_has_no_questions(
    manager_client, organisation, version
):
    assessment = make_assessment(make_team(organisation), invitees=1, version=version)
    if version is None:
        make_invitation(assessment, email="cfo@example.com", audience="leadership")

    response = manager_client.post(reverse("assessment:open", args=[assessment.pk]), follow=True)

    assert messages_of(response) == ["The assessment is open and the invitations are sent."]
    assert "Nobody is on the leadership list" not in response.text


@pytest.mark.django_db
def test_a_revoked_leadership_invitee_does_not_count_as_listed(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), invitees=1)
    cfo = make_invitation(assessment, email="cfo@example.com", audience="leadership")
    manager_client.post(reverse("assessment:invitation_revoke", args=[cfo.pk]))

    assert "Nobody is on the leadership list" in detail(manager_client, assessment).text


@pytest.mark.django_db
def test_leadership_alone_cannot_open_an_assessment(manager_client, organisation, mailoutbox):
    assessment = make_assessment(make_team(organisation))
    make_invitation(assessment, email="cfo@example.com", audience="leadership")

    response = manager_client.post(reverse("assessment:open", args=[assessment.pk]), follow=True)

    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.DRAFT
    assert "Invite at least one team member" in messages_of(response)[0]
    assert not mailoutbox


@pytest.mark.django_db
def test_the_leadership_email_says_what_they_are_asked_and_the_team_email_does_not(
    manager_client, organisation, mailoutbox, settings
):
    settings.ANONYMITY_THRESHOLD = 3
    assessment = make_assessment(make_team(organisation))
    make_invitation(assessment, email="member@example.com")
    make_invitation(assessment, email="cfo@example.com", audience="leadership")

    manager_client.post(reverse("assessment:open", args=[assessment.pk]))

    mails = {mail.to[0]: mail for mail in mailoutbox}
    assert {mail.subject for mail in mailoutbox} == {"You are invited to a team assessment"}
    leadership = " ".join(mails["cfo@example.com"].body.split())
    team = " ".join(mails["member@example.com"].body.split())
    assert (
        "You are invited as one of its leadership (executives, finance, owners): you are asked "
        f"a short set of {WIN4_V2['leadership']} leadership questions, about what front-line "
        "staff cannot see."
    ) in leadership
    assert "count only once at least 3 of the leadership invited have completed" in leadership
    assert "leadership" not in team.lower()
    assert "/r/" in leadership or "http" in leadership  # the private link is there


# --- the manager's own questions --------------------------------------------------------


@pytest.mark.django_db
def test_the_page_says_the_manager_questions_are_the_managers_to_answer(
    manager_client, organisation
):
    assessment = make_assessment(make_team(organisation), status="open", invitees=1)

    page = detail(manager_client, assessment).text

    assert f"{WIN4_V2['manager']} questions are yours to answer, as a manager" in page
    assert "not anonymous" in page
    button = re.search(
        r'<form method="post" action="([^"]+)">\s*<input[^>]+>\s*'
        r'<button type="submit"[^>]*>Answer the manager questions</button>',
        page,
    )
    assert button
    assert button[1] == reverse("assessment:respond_as_manager", args=[assessment.pk])


@pytest.mark.django_db
def test_a_format_1_assessment_keeps_the_managers_self_view(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), status="open", invitees=1, version=1)

    page = detail(manager_client, assessment).text

    assert ">Answer yourself</button>" in page
    assert "Answer the manager questions" not in page
    assert "questions are yours to answer" not in page


@pytest.mark.django_db
def test_the_draft_page_says_the_manager_questions_wait_for_the_opening(
    manager_client, organisation
):
    assessment = make_assessment(make_team(organisation))

    page = detail(manager_client, assessment).text

    assert f"{WIN4_V2['manager']} questions are yours to answer" in page
    assert "You can answer them once the assessment is open." in page


# --- targets ----------------------------------------------------------------------------


def targets_url(assessment: Assessment) -> str:
    return reverse("assessment:targets", kwargs={"pk": assessment.pk})


@pytest.mark.django_db
@pytest.mark.parametrize("version", [None, 1])
def test_a_target_from_1_to_5_is_saved_on_either_format(manager_client, organisation, version):
    assessment = make_assessment(make_team(organisation), status="submitted", version=version)
    section = Section.objects.filter(version__assessments=assessment).first()

    for level in (1, 5):
        response = manager_client.post(targets_url(assessment), {f"target-{section.pk}": level})
        assert response.status_code == 302
        assert SectionTarget.objects.get(section=section).level == level


@pytest.mark.django_db
@pytest.mark.parametrize("version", [None, 1])
def test_level_0_not_in_place_is_no_target(manager_client, organisation, version):
    assessment = make_assessment(make_team(organisation), status="submitted", version=version)
    section = Section.objects.filter(version__assessments=assessment).first()

    response = manager_client.post(
        targets_url(assessment), {f"target-{section.pk}": "0"}, follow=True
    )

    assert "Choose a target level from 1 to 5." in messages_of(response)
    assert not SectionTarget.objects.exists()
