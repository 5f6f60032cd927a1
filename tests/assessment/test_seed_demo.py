import io

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from assessment.models import Answer, Assessment, Organisation, Response


def seed(settings) -> str:
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_creates_what_the_demo_needs(settings):
    output = seed(settings)

    organisation = Organisation.objects.get()
    team = organisation.teams.get()
    assert team.roster.count() >= 5
    assert organisation.memberships.filter(user__username="manager").exists()
    assert Assessment.objects.filter(status=Assessment.Status.OPEN).count() == 1
    waiting = Assessment.objects.get(status=Assessment.Status.IN_REVIEW)
    approved = Assessment.objects.get(status=Assessment.Status.APPROVED)
    assessor = get_user_model().objects.get(username="assessor")
    assert assessor.assessor_profile.is_current()
    assert waiting.assignment.assessor == assessor
    assert approved.decisions.get().awarded_level == 3
    for closed in (waiting, approved):
        completed = closed.responses.filter(status="completed", invitation__isnull=False)
        assert completed.count() >= settings.ANONYMITY_THRESHOLD
    assert "assessor" in output
    consultant = get_user_model().objects.get(username="consultant")
    assert consultant.consultancies.get().consultancy.grants.get().is_current()
    assert "consultant" in output
    assert "manager" in output
    assert "/r/" in output


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings):
    seed(settings)
    counts = [m.objects.count() for m in (get_user_model(), Assessment, Response, Answer)]
    seed(settings)

    assert [m.objects.count() for m in (get_user_model(), Assessment, Response, Answer)] == counts


@pytest.mark.django_db
def test_the_printed_member_link_opens_the_questionnaire(settings, client):
    output = seed(settings).strip().splitlines()
    link = next(line.strip() for line in output if "/r/" in line)
    path = link.removeprefix(settings.SITE_URL.rstrip("/"))

    landing = client.post(client.get(path)["Location"])

    assert landing.status_code == 302
    assert "/responses/" in landing["Location"]


@pytest.mark.django_db
def test_the_printed_customer_link_opens_the_customer_survey(settings, client):
    output = seed(settings).strip().splitlines()
    link = next(line.strip() for line in output if "/c/" in line)

    page = client.get(link.removeprefix(settings.SITE_URL.rstrip("/")))

    assert page.status_code == 200
    assert "How much does this matter to you?" in page.content.decode()


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_without_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("seed_demo", stdout=io.StringIO())

    assert get_user_model().objects.count() == 0


def test_the_threshold_default_is_three():
    assert settings.ANONYMITY_THRESHOLD == 3


@pytest.mark.django_db
def test_the_demo_results_show_every_feature(settings):
    from assessment.selectors.results import assessment_results

    seed(settings)
    spring = Assessment.objects.get(title="Spring service review")

    manager = get_user_model().objects.get(username="manager")
    results = assessment_results(spring, viewer_id=manager.pk)

    win4 = next(p for p in results.panels if p.slug == "win4")
    assert results.visible
    assert not win4.team.verdict.sustainable
    assert win4.team.alerts
    assert win4.priorities
    assert win4.trend is not None  # against last year's review
    # Frameworks v2: who rated what, with the leadership group past the threshold.
    assert win4.team.formula_version == "2"
    assert win4.leadership_withheld == 0
    rated_by = {
        cell.audience for row in win4.audiences for cell in row.cells if cell.score is not None
    }
    assert rated_by == {"team", "manager", "leadership"}


@pytest.mark.django_db
def test_the_demo_assessments_use_the_newest_version_of_each_framework(settings):
    """Six dimensions gained its rules in a new version (issue 15): the open check-in is
    pinned to that version, so its results check the rule."""
    seed(settings)

    for assessment in Assessment.objects.all():
        for version in assessment.framework_versions.select_related("framework"):
            assert version == version.framework.latest_version(), (assessment.title, version)
    (six,) = Assessment.objects.get(title="Autumn check-in").framework_versions.all()
    assert six.framework.slug == "six-dimensions"
    assert six.rules.exists()
