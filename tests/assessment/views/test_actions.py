"""Action plans over HTTP (issue 18): the plan page, creating and changing actions, the
assessor's required actions, the results page's links and "since the last assessment",
and the dashboard's due actions. Real database, real forms."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessment.models import Assessment
from assessment.models.actions import Action
from assessment.selectors import actions as action_selectors
from assessment.services import actions as action_services
from frameworks.models import Question, Section
from tests.factories import (
    make_assessment,
    make_assessor,
    make_membership,
    make_organisation,
    make_response,
    make_team,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessment(organisation) -> Assessment:
    return make_assessment(make_team(organisation), status="open")


def sections(assessment: Assessment) -> list[Section]:
    return list(
        Section.objects.filter(version__assessments=assessment).order_by("version_id", "position")
    )


def action_data(assessment: Assessment, **extra) -> dict[str, str]:
    data = {
        "title": "Greet every caller by name",
        "section": str(sections(assessment)[0].pk),
        "question": "",
        "owner": "",
        "owner_name": "Pat Named",
        "owner_email": "pat@example.com",
        "due_date": str(timezone.localdate() + datetime.timedelta(days=10)),
        "status": "planned",
        "notes": "Start with the front desk.",
    }
    data.update(extra)
    return data


def make_action(assessment: Assessment, **fields) -> Action:
    fields.setdefault("title", "An action")
    fields.setdefault("created_by", assessment.organisation.manager)
    return Action.objects.create(assessment=assessment, **fields)


def create_url(assessment: Assessment) -> str:
    return reverse("assessment:action_create", args=[assessment.pk])


# --- creating ----------------------------------------------------------------------------


def test_a_manager_creates_an_action_and_sees_it_on_the_plan(manager_client, assessment):
    response = manager_client.post(create_url(assessment), action_data(assessment))

    assert response.status_code == 302
    assert response["Location"] == reverse("assessment:action_plan", args=[assessment.pk])
    action = Action.objects.get(assessment=assessment)
    assert (action.title, action.owner_name, action.owner_email) == (
        "Greet every caller by name",
        "Pat Named",
        "pat@example.com",
    )
    assert action.section == sections(assessment)[0]
    assert action.created_by == assessment.organisation.manager
    page = manager_client.get(response["Location"]).text
    assert "Greet every caller by name" in page
    assert "Pat Named" in page
    assert sections(assessment)[0].name in page


def test_a_member_of_the_organisation_may_own_an_action(manager_client, assessment):
    colleague = make_user("colleague", first_name="Cora", last_name="Lee")
    make_membership(assessment.organisation, colleague)
    data = action_data(assessment, owner=str(colleague.pk), owner_name="", owner_email="")

    response = manager_client.post(create_url(assessment), data)

    assert response.status_code == 302
    assert Action.objects.get().owner == colleague


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "This field is required."),
        ("title", "x" * 201, "at most 200 characters"),
        ("due_date", "2001-01-01", "cannot be in the past"),
        ("due_date", "9999-12-31", "within the next five years"),
        ("due_date", "2026-02-30", "Enter a valid date."),
        ("status", "approved", "Select a valid choice."),
        ("section", "²", "Select a valid choice."),
        ("section", "99999999", "Select a valid choice."),
        ("owner_email", "not-an-address", "Enter a valid email address."),
        ("notes", "x" * 4001, "at most 4000 characters"),
        ("title", "bad\x0bvalue", "control character"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_written(
    manager_client, assessment, field, value, message
):
    response = manager_client.post(
        create_url(assessment), action_data(assessment, **{field: value})
    )

    assert response.status_code == 400
    assert message in response.text
    assert response.context["form"].errors[field]
    assert not Action.objects.exists()


def test_the_owner_must_belong_to_the_organisation(manager_client, assessment):
    stranger = make_organisation("Other Ltd").manager
    data = action_data(assessment, owner=str(stranger.pk), owner_name="", owner_email="")

    response = manager_client.post(create_url(assessment), data)

    assert response.status_code == 400
    assert response.context["form"].errors["owner"]
    assert not Action.objects.exists()


def test_the_service_refuses_an_owner_from_elsewhere_too(assessment):
    stranger = make_organisation("Other Ltd").manager
    with pytest.raises(action_services.ServiceError):
        action_services.action_create(
            assessment=assessment, by=assessment.organisation.manager, title="X", owner=stranger
        )
    assert not Action.objects.exists()


def test_a_member_and_a_named_owner_together_are_refused(manager_client, assessment):
    data = action_data(assessment, owner=str(assessment.organisation.manager.pk))

    response = manager_client.post(create_url(assessment), data)

    assert response.status_code == 400
    assert "not both" in response.context["form"].errors["owner_name"][0]
    assert not Action.objects.exists()


def test_a_section_of_another_framework_is_refused(manager_client, assessment):
    foreign = Section.objects.exclude(version__assessments=assessment).first()

    response = manager_client.post(
        create_url(assessment), action_data(assessment, section=str(foreign.pk))
    )

    assert response.status_code == 400
    assert response.context["form"].errors["section"]
    assert not Action.objects.exists()


def test_a_question_brings_its_section_and_must_be_in_the_section_chosen(
    manager_client, assessment
):
    first, second = sections(assessment)[:2]
    question = Question.objects.filter(section=second).first()

    refused = manager_client.post(
        create_url(assessment),
        action_data(assessment, section=str(first.pk), question=str(question.pk)),
    )
    assert refused.status_code == 400
    assert refused.context["form"].errors["question"]
    assert not Action.objects.exists()

    accepted = manager_client.post(
        create_url(assessment), action_data(assessment, section="", question=str(question.pk))
    )
    assert accepted.status_code == 302
    action = Action.objects.get()
    assert (action.section, action.question) == (second, question)


def test_the_results_link_fills_in_the_section(manager_client, assessment):
    section = sections(assessment)[2]

    response = manager_client.get(create_url(assessment), {"section": section.pk})

    assert response.status_code == 200
    assert response.context["form"].initial["section"] == section.pk
    assert f'<option value="{section.pk}" selected>' in response.text


@pytest.mark.parametrize("value", ["²", "-1", "9" * 30, "x", "\x00", "99999999"])
def test_a_hostile_section_parameter_is_ignored(manager_client, assessment, value):
    response = manager_client.get(create_url(assessment), {"section": value})

    assert response.status_code == 200
    assert response.context["form"].initial["section"] is None


# --- changing and deleting ------------------------------------------------------------------


def test_a_manager_changes_an_action(manager_client, assessment):
    action = make_action(assessment, owner_name="Pat")
    data = action_data(assessment, title="Greet callers", status="in_progress", owner_name="Sam")

    response = manager_client.post(reverse("assessment:action_edit", args=[action.pk]), data)

    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.title, action.status, action.owner_name) == (
        "Greet callers",
        "in_progress",
        "Sam",
    )


def test_an_overdue_date_may_stay_but_not_be_moved_into_the_past(manager_client, assessment):
    past = timezone.localdate() - datetime.timedelta(days=20)
    action = make_action(assessment, due_date=past)
    url = reverse("assessment:action_edit", args=[action.pk])

    kept = manager_client.post(url, action_data(assessment, due_date=str(past), notes="Late"))
    assert kept.status_code == 302
    moved = manager_client.post(
        url, action_data(assessment, due_date=str(past - datetime.timedelta(days=1)))
    )
    assert moved.status_code == 400
    action.refresh_from_db()
    assert (action.due_date, action.notes) == (past, "Late")


def test_a_refused_change_writes_nothing(manager_client, assessment):
    action = make_action(assessment, title="Before")
    before = Action.objects.filter(pk=action.pk).values().get()

    response = manager_client.post(
        reverse("assessment:action_edit", args=[action.pk]),
        action_data(assessment, title="After", status="nonsense"),
    )

    assert response.status_code == 400
    assert Action.objects.filter(pk=action.pk).values().get() == before


def test_a_manager_deletes_an_action(manager_client, assessment):
    action = make_action(assessment)

    response = manager_client.post(reverse("assessment:action_delete", args=[action.pk]))

    assert response.status_code == 302
    assert not Action.objects.exists()


# --- the assessor's required actions ------------------------------------------------------------


@pytest.fixture
def required(assessment) -> Action:
    assessor = make_assessor("alex")
    return action_services.action_require(
        assessment=assessment,
        assessor=assessor,
        title="Publish service standards",
        section=sections(assessment)[1],
    )


def test_action_require_makes_a_planned_unowned_action(required):
    assert required.is_required
    assert required.created_by == required.required_by
    assert (required.status, required.owner, required.owner_name) == ("planned", None, "")


def test_required_actions_come_first_with_their_badge(manager_client, assessment, required):
    make_action(assessment, title="Earlier one", due_date=timezone.localdate())

    response = manager_client.get(reverse("assessment:action_plan", args=[assessment.pk]))

    assert response.context["actions"][0].pk == required.pk
    assert "Required by the assessor" in response.text
    assert reverse("assessment:action_delete", args=[required.pk]) not in response.text


def test_the_manager_sets_owner_date_and_status_of_a_required_action(
    manager_client, assessment, required
):
    data = action_data(
        assessment,
        title="Something else",
        section=str(sections(assessment)[0].pk),
        status="in_progress",
        owner_name="Pat",
    )

    response = manager_client.post(reverse("assessment:action_edit", args=[required.pk]), data)

    assert response.status_code == 302
    required.refresh_from_db()
    # The title and section are the assessor's: the posted ones are not taken.
    assert (required.title, required.section) == (
        "Publish service standards",
        sections(assessment)[1],
    )
    assert (required.status, required.owner_name) == ("in_progress", "Pat")


def test_a_required_action_cannot_be_dropped_or_deleted(manager_client, assessment, required):
    before = Action.objects.filter(pk=required.pk).values().get()

    dropped = manager_client.post(
        reverse("assessment:action_edit", args=[required.pk]),
        action_data(assessment, status="dropped"),
    )
    deleted = manager_client.post(reverse("assessment:action_delete", args=[required.pk]))

    assert dropped.status_code == 400
    assert dropped.context["form"].errors["status"]
    assert deleted.status_code == 302
    assert Action.objects.filter(pk=required.pk).values().get() == before


def test_the_services_protect_a_required_action_too(assessment, required):
    manager = assessment.organisation.manager
    with pytest.raises(action_services.ServiceError):
        action_services.action_delete(action=required, by=manager)
    for change in ({"status": "dropped"}, {"title": "Renamed"}):
        fields = {"title": required.title, "section": required.section, **change}
        with pytest.raises(action_services.ServiceError):
            action_services.action_update(action=required, by=manager, **fields)
    required.refresh_from_db()
    assert (required.title, required.status) == ("Publish service standards", "planned")


# --- another organisation's action -----------------------------------------------------------


def test_another_organisations_action_is_a_404_for_every_other_principal(client, assessment):
    action = make_action(assessment)
    other_manager = make_organisation("Other Ltd").manager
    assessor = make_assessor("alex")
    urls = [
        reverse("assessment:action_plan", args=[assessment.pk]),
        reverse("assessment:action_create", args=[assessment.pk]),
        reverse("assessment:action_edit", args=[action.pk]),
    ]
    for user in (other_manager, assessor, make_user("nobody")):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
        for url in urls[1:]:  # the plan itself takes no POST
            assert client.post(url, action_data(assessment)).status_code == 404, (user, url)
        assert client.post(reverse("assessment:action_delete", args=[action.pk])).status_code == 404
    action.refresh_from_db()
    assert Action.objects.count() == 1
    assert action.title == "An action"


# --- query counts -----------------------------------------------------------------------------


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_action_plan_page_uses_a_constant_number_of_queries(manager_client, organisation):
    small = make_assessment(make_team(organisation, "Small"), status="open")
    large = make_assessment(make_team(organisation, "Large"), status="open")
    make_action(small, section=sections(small)[0])
    colleague = make_user("colleague")
    make_membership(organisation, colleague)
    for n in range(10):
        make_action(
            large,
            title=f"Action {n}",
            section=sections(large)[n % 3],
            question=Question.objects.filter(section=sections(large)[n % 3]).first(),
            owner=colleague if n % 2 else None,
            owner_name="" if n % 2 else f"Person {n}",
            due_date=timezone.localdate() + datetime.timedelta(days=n - 5),
            required_by=make_assessor(f"assessor{n}") if n == 3 else None,
        )

    one = count_queries(manager_client, reverse("assessment:action_plan", args=[small.pk]))
    ten = count_queries(manager_client, reverse("assessment:action_plan", args=[large.pk]))

    assert ten == one


def test_assessment_actions_reads_everything_in_one_query(organisation, django_assert_num_queries):
    assessment = make_assessment(make_team(organisation), status="open")
    for n in range(5):
        make_action(assessment, section=sections(assessment)[n % 3], owner=organisation.manager)

    with django_assert_num_queries(1):
        actions = action_selectors.assessment_actions(assessment)
        labels = [(a.owner_label, a.section.version.framework.slug, a.question) for a in actions]
    assert len(labels) == 5


# --- the dashboard ----------------------------------------------------------------------------


def test_the_dashboard_lists_overdue_and_due_soon_actions(manager_client, assessment):
    today = timezone.localdate()
    make_action(assessment, title="Late one", due_date=today - datetime.timedelta(days=3))
    make_action(assessment, title="Soon one", due_date=today + datetime.timedelta(days=13))
    make_action(assessment, title="Far one", due_date=today + datetime.timedelta(days=40))
    make_action(
        assessment, title="Done late", due_date=today - datetime.timedelta(days=3), status="done"
    )
    elsewhere = make_assessment(make_team(make_organisation("Other Ltd")), status="open")
    make_action(elsewhere, title="Their late one", due_date=today - datetime.timedelta(days=3))

    page = manager_client.get(reverse("assessment:dashboard")).text

    assert "Late one" in page
    assert "Soon one" in page
    assert "overdue" in page
    assert "Far one" not in page
    assert "Done late" not in page
    assert "Their late one" not in page
    assert reverse("assessment:action_plan", args=[assessment.pk]) in page
    # The due actions' caption names their table only, not the assessments' below it.
    assert page.count("Overdue actions and actions due in the next two weeks") == 2  # + region


def test_the_dashboard_query_count_stays_constant_with_actions(manager_client, organisation):
    url = reverse("assessment:dashboard")
    assessment = make_assessment(make_team(organisation), status="open")
    make_action(assessment, due_date=timezone.localdate())
    one = count_queries(manager_client, url)
    for n in range(8):
        make_action(
            make_assessment(make_team(organisation, f"T{n}"), status="open"),
            owner=organisation.manager,
            due_date=timezone.localdate() - datetime.timedelta(days=n),
        )

    assert count_queries(manager_client, url) == one


# --- the results page ---------------------------------------------------------------------------


def closed_with_results(team, *, title: str, levels) -> Assessment:
    assessment = make_assessment(team, status="approved")
    Assessment.objects.filter(pk=assessment.pk).update(title=title, submitted_at=timezone.now())
    for _ in range(3):
        make_response(assessment, levels=levels, status="completed")
    assessment.title = title
    return assessment


def test_each_priority_links_to_a_new_action_for_its_section(manager_client, organisation):
    assessment = closed_with_results(make_team(organisation), title="Now", levels=(1, 2))

    page = manager_client.get(reverse("assessment:results", args=[assessment.pk])).text

    assert f"{create_url(assessment)}?section=" in page
    assert reverse("assessment:action_plan", args=[assessment.pk]) in page


def test_results_show_the_last_assessments_actions_beside_their_score_change(
    manager_client, organisation
):
    team = make_team(organisation)
    earlier = closed_with_results(team, title="Spring", levels=(1, 2))
    section = sections(earlier)[0]
    make_action(earlier, title="Train the desk", section=section, status="done", owner_name="Pat")
    make_action(earlier, title="Unlinked idea", status="dropped")
    later = closed_with_results(team, title="Autumn", levels=(4, 5))

    response = manager_client.get(reverse("assessment:results", args=[later.pk]))

    since = response.context["since_last"]
    assert since.earlier == earlier
    rows = {row.action.title: row for row in since.rows}
    assert rows["Train the desk"].before is not None
    assert rows["Train the desk"].change > 0
    # With its margin, as the trend has it: the team's intervals then and now combined.
    assert rows["Train the desk"].change_margin is not None
    assert rows["Train the desk"].change_beyond_noise
    assert rows["Unlinked idea"].change is None
    page = response.text
    assert "Since the last assessment" in page
    assert "Train the desk" in page
    assert "beyond the noise" in page
    assert "<caption" in page


def test_a_withheld_earlier_score_shows_a_dash(manager_client, organisation):
    team = make_team(organisation)
    earlier = make_assessment(team, status="approved")  # nobody answered: withheld
    make_action(earlier, title="Train the desk", section=sections(earlier)[0])
    later = closed_with_results(team, title="Autumn", levels=(4, 5))

    response = manager_client.get(reverse("assessment:results", args=[later.pk]))

    (row,) = response.context["since_last"].rows
    assert row.before is None
    assert row.change is None
    assert "—" in response.text


def test_results_without_an_earlier_assessment_show_no_since_table(manager_client, organisation):
    assessment = closed_with_results(make_team(organisation), title="Now", levels=(1, 2))

    response = manager_client.get(reverse("assessment:results", args=[assessment.pk]))

    assert response.context["since_last"] is None
    assert "Since the last assessment" not in response.text


def test_the_pages_have_no_inline_script_or_style(manager_client, assessment):
    make_action(assessment, notes="Line one\nLine two")
    for url in (
        reverse("assessment:action_plan", args=[assessment.pk]),
        create_url(assessment),
        reverse("assessment:calendar_feeds"),
    ):
        page = manager_client.get(url).text
        assert "<script>" not in page
        assert 'style="' not in page
