"""Anonymity that holds across review rounds and against invented respondents.

The manager plays the attacks of issue 12 through the real pages and downloads; the
team members answer through the real services.

- Two rounds: download, reopen, all but one member complete again, resubmit, download.
  The member who did not complete again must not stand out: they stay counted with
  the answers they last completed, so nothing the manager sees tells them apart.
- Invented roster entries: the manager answers two made-up addresses to reach the
  threshold. The exports must still hold no row per person, only counts per question.
- The manager's own address on the roster is their self-view, never team data.
"""

import csv
import io
from collections import Counter

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from assessment import exports, services
from assessment.models import Assessment, Response
from assessment.selectors import review as review_selectors
from frameworks.models import Question, Section
from tests.factories import (
    make_assessment,
    make_assessor,
    make_invitation,
    make_team,
    make_user,
)

# Four members, each with an answer vector of their own (cycled over the questions).
VECTORS = [(1, 2, 3), (2, 3, 4), (3, 4, 5), (5, 5, 1)]
DOWNLOADS = ["answers_csv", "answers_xlsx", "scores_csv", "scores_xlsx"]


def questions_of(assessment) -> list[Question]:
    return list(
        Question.objects.filter(version__assessments=assessment)
        .asked_of("team")
        .order_by("version__framework__slug", "section__position", "position")
    )


def join(assessment, email: str) -> Response:
    """Invite ``email`` and use the link, as the invitee does."""
    token = f"link-{assessment.pk}-{email}"
    make_invitation(assessment, email=email, token=token)
    return services.invitation_redeem(token=token)


def answer(response: Response, levels) -> None:
    """Answer every question with ``levels`` cycled, through the respondent's service."""
    response.refresh_from_db()
    stored = {a.question_id: a.revision for a in response.answers.all()}
    questions = questions_of(response.assessment)
    outcome = services.answers_save(
        response=response,
        answers=[
            services.AnswerInput(
                question_id=q.pk,
                level=levels[i % len(levels)],
                not_applicable=False,
                comment="",
                base_revision=stored.get(q.pk, 0),
            )
            for i, q in enumerate(questions)
        ],
    )
    assert not outcome.conflicts


def complete(response: Response) -> None:
    response.refresh_from_db()
    assert services.response_complete(response=response)


def submit(client, assessment, *, without_results: bool = False) -> None:
    data = {"close_without_results": "on"} if without_results else {}
    page = client.post(reverse("assessment:submit", kwargs={"pk": assessment.pk}), data)
    assert page.status_code == 302
    assessment.refresh_from_db()
    assert assessment.is_closed


def table(client, name: str, assessment) -> list[list]:
    """A download's cells (CSV or the workbook's values), as the manager receives them."""
    page = client.get(reverse(f"assessment:{name}", kwargs={"pk": assessment.pk}))
    assert page.status_code == 200, name
    if name.endswith("csv"):
        return list(csv.reader(io.StringIO(page.content.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(page.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def manager_sees(client, assessment) -> dict:
    """Every download, and the figures and per-person statuses the pages show."""
    seen = {name: table(client, name, assessment) for name in DOWNLOADS}
    results = client.get(reverse("assessment:results", kwargs={"pk": assessment.pk}))
    detail = client.get(reverse("assessment:detail", kwargs={"pk": assessment.pk}))
    seen["results"] = [
        (panel.slug, [(row.key, row.team.score, row.team.respondents) for row in panel.rows])
        for panel in results.context["results"].panels
    ]
    seen["completed"] = results.context["results"].completed_members
    figures = detail.context["results"]
    seen["figures"] = [
        (s.section.key, s.answered, s.not_applicable, s.level_counts)
        for framework in figures.frameworks
        for s in framework.sections
    ]
    seen["statuses"] = Counter(row.status for row in detail.context["rows"])
    return seen


def distribution(vectors, questions) -> dict[str, list[int]]:
    """What the answers export should say for each question: counts of levels 1-5."""
    counts = {}
    for i, question in enumerate(questions):
        chosen = Counter(vector[i % len(vector)] for vector in vectors)
        counts[question.code] = [chosen[level] for level in range(1, 6)]
    return counts


def exported_distribution(rows) -> dict[str, list[int]]:
    header, *rows = rows
    code = header.index("Question code")
    first = header.index("Level 1")
    return {row[code]: [int(n) for n in row[first : first + 5]] for row in rows}


@pytest.fixture
def round_one(client, organisation):
    """Four members answered and completed; the manager submitted and an assessor is
    reviewing. Returns the assessment, the members' responses and the manager's client."""
    assessment = make_assessment(make_team(organisation), status="open")
    members = [join(assessment, f"member{n}@example.com") for n in range(4)]
    for member, vector in zip(members, VECTORS, strict=True):
        answer(member, vector)
        complete(member)
    client.force_login(organisation.manager)
    submit(client, assessment)
    assessor = make_assessor("alex")
    services.assessor_assign(
        assessment=assessment, assessor=assessor, by=make_user("stella", is_staff=True)
    )
    assessment.refresh_from_db()
    assessment.assessor = assessor
    return assessment, members, client


def send_back_and_reopen(assessment, client) -> None:
    services.decision_return(
        assessment=assessment,
        assessor=assessment.assessor,
        required_changes="Ask the team again.",
        snapshot=review_selectors.decision_snapshot(assessment),
    )
    page = client.post(
        reverse("assessment:reopen", kwargs={"pk": assessment.pk}),
        {
            "sections": list(
                Section.objects.filter(version__assessments=assessment).values_list("pk", flat=True)
            ),
            "note": "Ask the team again.",
        },
    )
    assert page.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.OPEN


# --- Must show 2: two review rounds -------------------------------------------------------


@pytest.mark.django_db
def test_the_member_who_does_not_complete_again_is_not_singled_out(round_one):
    assessment, members, client = round_one
    first = manager_sees(client, assessment)
    assert first["completed"] == 4

    send_back_and_reopen(assessment, client)
    # All but the last member look again and complete, changing nothing.
    for member in members[:-1]:
        member.refresh_from_db()
        services.response_revise(response=member)
        complete(member)
    submit(client, assessment)
    second = manager_sees(client, assessment)

    # Every download, figure and status is what it was: the member who stayed away is
    # still counted with the answers they completed, so no difference points at them.
    assert second == first
    for name in ("answers_csv", "answers_xlsx"):
        assert "Respondent" not in second[name][0]


@pytest.mark.django_db
def test_between_rounds_the_figures_change_only_by_what_others_changed(round_one):
    assessment, members, client = round_one
    questions = questions_of(assessment)
    before = exported_distribution(manager_sees(client, assessment)["answers_csv"])
    assert before == distribution(VECTORS, questions)

    send_back_and_reopen(assessment, client)
    revised = [(4, 4, 4), (2, 2, 2), (5, 4, 3)]
    for member, vector in zip(members[:-1], revised, strict=True):
        member.refresh_from_db()
        services.response_revise(response=member)
        answer(member, vector)
        complete(member)
    submit(client, assessment)
    after = manager_sees(client, assessment)

    # The last member's round-one answers are still in the figures, beside the others'
    # new ones: nothing subtracts them out.
    assert exported_distribution(after["answers_csv"]) == distribution(
        [*revised, VECTORS[-1]], questions
    )
    assert after["completed"] == 4
    # Sections asked only of managers or leadership (none answered here) show nobody.
    team_sections = {q.section.key for q in questions}
    assert {
        n for _slug, rows in after["results"] for key, _score, n in rows if key in team_sections
    } == {4}


@pytest.mark.django_db
def test_answers_being_revised_when_the_manager_submits_count_as_last_completed(round_one):
    assessment, members, client = round_one
    before = manager_sees(client, assessment)

    send_back_and_reopen(assessment, client)
    changing = members[0]
    changing.refresh_from_db()
    services.response_revise(response=changing)
    answer(changing, (5, 5, 5))  # changed, but never completed again
    submit(client, assessment)

    assert manager_sees(client, assessment) == before
    changing.refresh_from_db()
    assert changing.status == Response.Status.COMPLETED
    # Nothing the member typed is lost: their working copy keeps the new answers.
    assert set(changing.answers.values_list("level", flat=True)) == {5}


# --- Must show 3: invented roster entries -------------------------------------------------


@pytest.mark.django_db
def test_invented_roster_entries_never_yield_a_row_per_person(client, organisation):
    assessment = make_assessment(make_team(organisation), status="open")
    # Two addresses the manager controls, answered by the manager, and one real member.
    for email in ("ghost.one@manager-home.example", "ghost.two@manager-home.example"):
        invented = join(assessment, email)
        answer(invented, (1,))
        complete(invented)
    real = join(assessment, "real.member@example.com")
    answer(real, VECTORS[2])
    complete(real)
    client.force_login(organisation.manager)
    submit(client, assessment)

    questions = questions_of(assessment)
    for name in ("answers_csv", "answers_xlsx"):
        header, *rows = table(client, name, assessment)
        # One row per question, counts only: no respondent column, no row per person.
        assert "Respondent" not in header
        assert len(rows) == len(questions)
        assert sorted(str(row[header.index("Question code")]) for row in rows) == sorted(
            q.code for q in questions
        )
        assert {int(row[header.index("Respondents")]) for row in rows} == {3}
        first = header.index("Level 1")
        assert {sum(int(n) for n in row[first : first + 5]) for row in rows} == {3}
    team_sections = {q.section.key for q in questions}  # the others: nobody was asked
    for name in ("scores_csv", "scores_xlsx"):
        header, *rows = table(client, name, assessment)
        assert "Respondent" not in header
        key = header.index("Section key")
        assert {
            int(row[header.index("Respondents")]) for row in rows if row[key] in team_sections
        } == {3}


@pytest.mark.django_db
def test_the_managers_own_address_on_the_roster_is_not_team_data(client, organisation):
    """A manager who invites their own address is answering for themselves: with two
    real members that is below the threshold, and nothing is shown or exported."""
    assessment = make_assessment(make_team(organisation), status="open")
    own = join(assessment, organisation.manager.email.upper())
    answer(own, (1,))
    complete(own)
    for n in range(2):
        member = join(assessment, f"member{n}@example.com")
        answer(member, VECTORS[n])
        complete(member)
    client.force_login(organisation.manager)
    # Two members are below the minimum: closing is refused unless chosen explicitly.
    refused = client.post(reverse("assessment:submit", kwargs={"pk": assessment.pk}))
    assert refused.status_code == 200
    assessment.refresh_from_db()
    assert assessment.is_open
    submit(client, assessment, without_results=True)

    assert Response.objects.members().completed().filter(assessment=assessment).count() == 2
    results = client.get(reverse("assessment:results", kwargs={"pk": assessment.pk}))
    assert results.context["results"].completed_members == 2
    assert not results.context["results"].visible
    for name in DOWNLOADS:
        page = client.get(reverse(f"assessment:{name}", kwargs={"pk": assessment.pk}))
        assert page.status_code == 302
        assert "Content-Disposition" not in page


# --- the assessor's anonymised rows -------------------------------------------------------


@pytest.mark.django_db
def test_the_assessor_gets_rows_numbered_the_same_within_a_round(round_one):
    assessment, _members, _client = round_one
    assessor_client = type(_client)()
    assessor_client.force_login(assessment.assessor)

    first = table(assessor_client, "review_answers_csv", assessment)
    again = table(assessor_client, "review_answers_csv", assessment)

    assert first[0][0] == "Respondent"
    assert first == again
    assert {row[0] for row in first[1:]} == {"1", "2", "3", "4"}


@pytest.mark.django_db
def test_respondent_numbers_do_not_line_up_across_rounds(round_one):
    assessment, members, _client = round_one
    ids = [m.pk for m in members]
    numbering = [
        exports.respondent_numbers(assessment_id=assessment.pk, round_number=n, response_ids=ids)
        for n in range(1, 8)
    ]

    assert all(sorted(n.values()) == [1, 2, 3, 4] for n in numbering)
    assert len({tuple(sorted(n.items())) for n in numbering}) > 1
    again = exports.respondent_numbers(
        assessment_id=assessment.pk, round_number=1, response_ids=ids
    )
    assert again == numbering[0]  # repeatable within a round
