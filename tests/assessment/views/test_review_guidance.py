"""The assessor's guidance in the review workspace (issue 14): each format-2 question with its
code, audience, anchors, assessor criteria and evidence prompts, beside the team's figures;
and the criteria and evidence prompts nowhere else: not on the public framework pages, the
questionnaire, the manager's pages, the report or the exports."""

import html

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from assessment import access, reports, services
from assessment.models import Assessment, Response
from frameworks.models import Question
from tests.factories import (
    make_assessment,
    make_assessor,
    make_manager_response,
    make_organisation,
    make_response,
    make_team,
    make_user,
)

SLUGS = ("holistic", "service-definition", "six-dimensions", "win4")


def url(name: str, assessment) -> str:
    return reverse(f"assessment:{name}", kwargs={"pk": assessment.pk})


def questions_of(assessment):
    return Question.objects.filter(version__assessments=assessment).order_by(
        "version__framework__slug", "section__position", "position"
    )


def assessor_only_texts(assessment) -> list[str]:
    """Every criteria text and evidence prompt of the assessment's questions, as a page
    would write them (HTML-escaped)."""
    texts = []
    for question in questions_of(assessment):
        assert question.criteria, question.code  # format 2: every question has criteria
        texts.append(question.criteria)
        texts.extend(question.evidence)
    return [html.escape(text) for text in texts]


def shown(text: str, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if secret in text]


@pytest.fixture
def world(db):
    """Acme Ltd's front desk on all four frameworks (version 2): three team members, two
    of them with a comment, the manager's own answers and three leadership invitees,
    every one completed; submitted and in review by alex."""
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), slugs=SLUGS, status="open")
    members = [
        make_response(assessment, levels=levels, status="completed")
        for levels in ([0, 2, 4], [1, 3, 5], [2, 2, 3, None])
    ]
    for audience_response in (
        make_manager_response(assessment, organisation.manager, levels=[3, 4]),
        *(
            make_response(assessment, levels=[2, 5], status="completed", audience="leadership")
            for _ in range(3)
        ),
    ):
        assert audience_response.is_counted
    Assessment.objects.filter(pk=assessment.pk).update(
        status=Assessment.Status.SUBMITTED, submitted_at=timezone.now()
    )
    assessor = make_assessor("alex")
    services.assessor_assign(
        assessment=assessment, assessor=assessor, by=make_user("stella", is_staff=True)
    )
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.IN_REVIEW
    return {
        "organisation": organisation,
        "assessment": assessment,
        "assessor": assessor,
        "members": members,
    }


# --- the workspace ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_workspace_shows_every_question_with_its_guidance(client, world):
    assessment = world["assessment"]
    client.force_login(world["assessor"])

    page = client.get(url("review_detail", assessment))

    assert page.status_code == 200
    text = page.text
    assert "What to look for, question by question" in text
    start = text.index('id="guidance"')
    guidance = text[start : text.index("</section>\n\n", start)]
    questions = list(questions_of(assessment))
    assert len(questions) == guidance.count('class="border-top py-2 guidance-question"')
    for question in questions:
        item = guidance[guidance.index(f'id="guidance-{question.code}"') :]
        item = item[: item.index("</details>")]
        assert f'<span class="badge text-bg-secondary">{question.code}</span>' in item
        assert html.escape(question.text) in item
        assert f"Asked of: {question.get_audience_display()}" in item
        assert ("Negatively worded" in item) == question.reversed
        assert html.escape(question.criteria) in item
        for prompt in question.evidence:
            assert f"<li>{html.escape(prompt)}</li>" in item
        # The anchors, collapsed, from level 0 up whatever the statement's direction.
        anchors = item[item.index("<details") :]
        for level, anchor in enumerate(question.anchors):
            assert f"<dt>Level {level}</dt><dd>{html.escape(anchor)}</dd>" in anchors
    # Each audience is named as it is asked.
    for label in ("Asked of: Front-line team", "Asked of: Manager", "Asked of: Leadership"):
        assert label in guidance


@pytest.mark.django_db
def test_the_guidance_sits_beside_the_teams_answers_for_each_section(client, world):
    assessment = world["assessment"]
    client.force_login(world["assessor"])

    page = client.get(url("review_detail", assessment))

    guidance = page.context["guidance"]
    assert [framework.version.framework.slug for framework in guidance] == list(SLUGS)
    team_figures = {
        row.section.pk: row
        for figures in page.context["team"].frameworks
        for row in figures.sections
    }
    for framework in guidance:
        for item in framework.sections:
            assert item.figures is team_figures[item.section.pk]
    # A team section the three members answered: its counts are written beside it.
    section = next(
        item
        for framework in guidance
        for item in framework.sections
        if item.figures is not None and not item.figures.hidden and item.figures.answered
    )
    block = page.text[page.text.index(f'id="guidance-section-{section.section.pk}"') :]
    block = block[: block.index("</ol>")]
    assert "The team&#x27;s answers:" in block or "The team's answers:" in block
    for level, count in section.figures.level_counts:
        assert f"level {level}: {count}" in block


@pytest.mark.django_db
def test_a_format_1_assessment_has_no_question_guidance(client):
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="submitted", version=1)
    for _ in range(3):
        make_response(assessment, levels=[2, 3, 4], status="completed")
    assessor = make_assessor("alex")
    services.assessor_assign(
        assessment=assessment, assessor=assessor, by=make_user("stella", is_staff=True)
    )
    client.force_login(assessor)

    page = client.get(url("review_detail", assessment))

    assert page.status_code == 200
    assert page.context["guidance"] == []
    assert "What to look for, question by question" not in page.text


@pytest.mark.django_db
def test_another_assessor_cannot_see_the_guidance(client, world):
    client.force_login(make_assessor("olga"))

    page = client.get(url("review_detail", world["assessment"]))

    assert page.status_code == 404
    assert not shown(page.text, assessor_only_texts(world["assessment"]))


# --- nowhere else ------------------------------------------------------------------------


@pytest.mark.django_db
def test_criteria_and_evidence_prompts_are_shown_to_the_assessor_only(client, world):
    """The guard: the assessor's page has them; every page and file that the public, a
    respondent or a manager gets has none of them. Fails if any criteria text or evidence
    prompt appears on a public framework page, the questionnaire, the manager's pages,
    the report or the exports."""
    assessment = world["assessment"]
    secrets = assessor_only_texts(assessment)
    client.force_login(world["assessor"])
    assert shown(client.get(url("review_detail", assessment)).text, secrets) == secrets
    client.logout()
    leaks: dict[str, list[str]] = {}

    def check(name: str, text: str) -> None:
        found = shown(text, secrets)
        if found:
            leaks[name] = found[:2]

    # The public framework pages, the glossary.
    for slug in SLUGS:
        response = client.get(reverse("frameworks:detail", kwargs={"slug": slug}))
        assert response.status_code == 200
        check(f"framework page {slug}", response.text)
    check("framework list", client.get(reverse("frameworks:list")).text)
    check("glossary", client.get(reverse("glossary")).text)

    # The questionnaire of a team member, a leadership invitee and the manager: every
    # section page and the review page.
    sections = list(
        questions_of(assessment).values_list("section_id", flat=True).distinct().order_by()
    )
    respondents = {
        "team member": world["members"][0],
        "leadership": Response.objects.filter(assessment=assessment, audience="leadership")
        .order_by("pk")
        .first(),
    }
    Response.objects.filter(assessment=assessment).update(status=Response.Status.IN_PROGRESS)
    Assessment.objects.filter(pk=assessment.pk).update(status=Assessment.Status.OPEN)
    for who, response in respondents.items():
        session = client.session
        session[access.SESSION_RESPONSES] = [response.pk]
        session.save()
        for section_id in sections:
            page = client.get(
                reverse("assessment:section", kwargs={"pk": response.pk, "section_pk": section_id})
            )
            assert page.status_code in (200, 302, 404), (who, section_id, page.status_code)
            check(f"questionnaire section {section_id} for {who}", page.text)
        page = client.get(reverse("assessment:review", kwargs={"pk": response.pk}))
        assert page.status_code == 200
        check(f"questionnaire review for {who}", page.text)
    client.logout()
    manager = world["organisation"].manager
    client.force_login(manager)
    mine = Response.objects.get(assessment=assessment, user=manager)
    for section_id in sections:
        page = client.get(
            reverse("assessment:section", kwargs={"pk": mine.pk, "section_pk": section_id})
        )
        check(f"questionnaire section {section_id} for the manager", page.text)

    # The manager's pages, the report and the exports, once the team's results show.
    Response.objects.filter(assessment=assessment).update(status=Response.Status.COMPLETED)
    Assessment.objects.filter(pk=assessment.pk).update(status=Assessment.Status.IN_REVIEW)
    for name in ("detail", "results"):
        page = client.get(url(name, assessment))
        assert page.status_code == 200, name
        check(f"manager's {name} page", page.text)
    for name in ("scores_csv", "answers_csv"):
        download = client.get(url(name, assessment))
        assert download.status_code == 200, name
        check(f"export {name}", download.content.decode("utf-8-sig"))
    assessment.refresh_from_db()
    check("report", reports.report_html(assessment, viewer_id=manager.pk))

    assert leaks == {}


@pytest.mark.django_db
def test_the_assessor_sees_each_invitees_list_and_whether_leaders_count(client):
    """Invented leadership addresses would lift the leadership sections: the assessor sees
    who answered as leadership and whose answers count (from the threshold only)."""
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="submitted")
    for _ in range(settings.ANONYMITY_THRESHOLD):
        make_response(assessment, status="completed", levels=[3])
    leader = make_response(assessment, status="completed", levels=[3], audience="leadership")
    assessor = make_assessor("checker")
    services.assessor_assign(
        assessment=assessment, assessor=assessor, by=make_user("staff", is_staff=True)
    )
    client.force_login(assessor)

    def rows():
        page = client.get(reverse("assessment:review_detail", kwargs={"pk": assessment.pk}))
        return {i.email: (i.audience, i.counted) for i in page.context["invitees"]}, page.text

    below, text = rows()
    assert below[leader.invitation.email] == ("leadership", False)  # one leader: not yet
    assert "Answers as" in text
    assert "Leadership" in text
    for _ in range(settings.ANONYMITY_THRESHOLD - 1):
        make_response(assessment, status="completed", levels=[3], audience="leadership")
    above, _text = rows()
    assert above[leader.invitation.email] == ("leadership", True)
    assert sum(1 for audience, counted in above.values() if audience == "team" and counted) == (
        settings.ANONYMITY_THRESHOLD
    )


def test_a_section_not_asked_of_the_team_says_so_instead_of_withheld(world, client):
    client.force_login(world["assessor"])
    page = client.get(url("review_detail", world["assessment"])).text

    assert "Not asked of the team: its questions go to managers or leadership" in page
