"""The action plan and the assessor's judgements as CSV and Excel (issue 18): for the
organisation's managers and the consultants it shares with; formulas neutralised; the
judgements only once the round is decided."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from assessment import services
from assessment.models import Assessment
from assessment.services import actions as action_services
from frameworks.models import Section
from tests.factories import (
    judge_criteria,
    make_consultancy,
    make_consultant,
    make_grant,
    make_in_review,
)


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def world(db):
    assessment, assessor = make_in_review()
    manager = assessment.organisation.memberships.first().user
    section = Section.objects.filter(version__assessments=assessment).order_by("position")[0]
    action_services.action_create(
        assessment=assessment,
        by=manager,
        title='=HYPERLINK("http://evil.example")',
        section=section,
        owner_name="Pat Newcomer",
    )
    judge_criteria(assessment, assessor, "met")
    return assessment, assessor, manager


def test_the_manager_downloads_the_actions_with_formulas_neutralised(world, client):
    assessment, _assessor, manager = world
    client.force_login(manager)

    response = client.get(reverse("assessment:actions_csv", kwargs={"pk": assessment.pk}))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    header, row = rows_of(response)
    assert header[3] == "Action"
    assert row[3] == '\'=HYPERLINK("http://evil.example")'
    assert row[header.index("Owner")] == "Pat Newcomer"
    assert row[header.index("Status code")] == "planned"
    workbook = client.get(reverse("assessment:actions_xlsx", kwargs={"pk": assessment.pk}))
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet.cell(row=2, column=4).value.startswith("'=")


def test_judgements_are_exported_only_once_the_round_is_decided(world, client):
    assessment, assessor, manager = world
    client.force_login(manager)
    url = reverse("assessment:judgements_csv", kwargs={"pk": assessment.pk})

    in_review = rows_of(client.get(url))
    services.decision_approve(
        assessment=assessment, assessor=assessor, level=2, summary="Fair.", snapshot={}
    )
    decided = rows_of(client.get(url))

    assert in_review[1:] == []  # the assessor's work in progress stays with the assessor
    assert len(decided) - 1 == assessment.framework_versions.get().questions.count()
    header = decided[0]
    assert {row[header.index("Judgement code")] for row in decided[1:]} == {"met"}
    assert Assessment.objects.get(pk=assessment.pk).status == "approved"


def test_a_consultant_with_a_grant_downloads_them_and_others_get_404(world, client):
    assessment, assessor, _manager = world
    services.decision_approve(
        assessment=assessment, assessor=assessor, level=2, summary="Fair.", snapshot={}
    )
    consultancy = make_consultancy()
    consultant = make_consultant(consultancy=consultancy)
    client.force_login(consultant)
    names = ["client_actions_csv", "client_actions_xlsx", "client_judgements_csv"]
    for name in names:
        assert (
            client.get(reverse(f"assessment:{name}", kwargs={"pk": assessment.pk})).status_code
            == 404
        )
    make_grant(assessment.organisation, consultancy)
    for name in names:
        assert (
            client.get(reverse(f"assessment:{name}", kwargs={"pk": assessment.pk})).status_code
            == 200
        )
    client.force_login(assessor)
    assert (
        client.get(reverse("assessment:actions_csv", kwargs={"pk": assessment.pk})).status_code
        == 404
    )
