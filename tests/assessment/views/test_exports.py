"""Data exports: scores and answers as CSV and XLSX, safe to open in Excel. Managers get
the answers counted per question; only the assigned assessor gets a row per answer."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from assessment import exports, services
from assessment.models import Answer, Response
from frameworks.models import Question
from tests.factories import (
    make_assessment,
    make_assessor,
    make_comment,
    make_consultant,
    make_manager_response,
    make_organisation,
    make_response,
    make_team,
    make_user,
)

EXPORTS = ["scores_csv", "scores_xlsx", "answers_csv", "answers_xlsx"]
PAYLOADS = [
    "=1+2",
    "+SUM(A1)",
    "-2+3",
    "@cmd",
    "\tTAB",
    "\rCR",
    "\nLF",
    '=HYPERLINK("http://x")',
]


def export_url(name: str, assessment) -> str:
    return reverse(f"assessment:{name}", kwargs={"pk": assessment.pk})


review_url = export_url  # the assessor's downloads take the assessment's pk too


def complete(assessment, count: int, levels=(3, 4, 2, 5)) -> list[Response]:
    return [make_response(assessment, levels=levels, status="completed") for _ in range(count)]


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes):
    return load_workbook(io.BytesIO(content)).active


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


@pytest.fixture
def submitted(organisation):
    """A submitted assessment of Win4 version 1 (format 1: levels 1-5, every question for
    everyone, one merged "not applicable / don't know") with three completed member
    responses: the exports as they were before frameworks v2, and must stay."""
    assessment = make_assessment(make_team(organisation), status="submitted", version=1)
    complete(assessment, 3)
    return assessment


@pytest.fixture
def in_review(submitted):
    """The submitted assessment, assigned to an assessor (in review)."""
    services.assessor_assign(
        assessment=submitted, assessor=make_assessor("alex"), by=make_user("stella", is_staff=True)
    )
    submitted.refresh_from_db()
    return submitted


@pytest.fixture
def hostile(organisation):
    """Formula payloads in every comment, the team name and the assessment title."""
    team = make_team(organisation, name="=TEAM()")
    assessment = make_assessment(team, status="submitted")
    assessment.title = "=cmd|' /C calc'!A0"
    assessment.save(update_fields=["title"])
    for response in complete(assessment, 3):
        for position, payload in enumerate(PAYLOADS):
            make_comment(response, payload, position=position)
    return assessment


# --- neutralising formulas ----------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_neutralise_prefixes_text_a_spreadsheet_would_run(payload):
    assert exports.neutralise(payload) == "'" + payload


@pytest.mark.parametrize("value", ["plain", "", "a=b", " =1", 3, 2.5, None])
def test_neutralise_leaves_other_values_alone(value):
    assert exports.neutralise(value) == value


@pytest.mark.django_db
def test_the_answers_export_leaves_comments_out(manager_client, hostile):
    """Tied to one respondent's ratings, a recognisable comment would unmask them."""
    response = manager_client.get(export_url("answers_csv", hostile))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8-sig")
    for payload in PAYLOADS:
        assert payload.strip() not in text
    rows = read_csv(response.content)
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(exports.FORMULA_TRIGGERS) for cell in cells)


@pytest.mark.django_db
def test_the_scores_csv_neutralises_the_team_and_title(manager_client, hostile):
    response = manager_client.get(export_url("scores_csv", hostile))

    header, *rows = read_csv(response.content)
    assert header[:3] == ["Organisation", "Team", "Assessment"]
    assert {row[1] for row in rows} == {"'=TEAM()"}
    assert {row[2] for row in rows} == {"'=cmd|' /C calc'!A0"}


def test_the_csv_header_row_is_neutralised_too():
    rows = read_csv(exports.to_csv(["=evil", "fine"], [[1, None, "-x"]]))

    assert rows == [["'=evil", "fine"], ["1", "", "'-x"]]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["scores_xlsx", "answers_xlsx"])
def test_the_workbooks_hold_no_formulas(manager_client, hostile, name):
    response = manager_client.get(export_url(name, hostile))

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = read_xlsx(response.content)
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not any(text.startswith(exports.FORMULA_TRIGGERS) for text in texts)
    assert all(cell.font.bold for cell in next(sheet.iter_rows(max_row=1)))
    assert sheet.freeze_panes == "A2"


@pytest.mark.django_db
def test_the_answers_workbook_keeps_counts_as_numbers(manager_client, hostile):
    sheet = read_xlsx(manager_client.get(export_url("answers_xlsx", hostile)).content)

    header, *rows = sheet.iter_rows(values_only=True)
    assert header[:6] == (
        "Framework",
        "Section key",
        "Section",
        "Question code",
        "Audience",
        "Question",
    )
    counts = slice(header.index("Level 0"), header.index("Respondents") + 1)
    assert rows
    assert all(type(cell) is int for row in rows for cell in row[counts])


@pytest.mark.django_db
def test_the_scores_workbook_keeps_scores_as_numbers(manager_client, hostile):
    sheet = read_xlsx(manager_client.get(export_url("scores_xlsx", hostile)).content)

    header, *rows = sheet.iter_rows(values_only=True)
    assert header[7] == "Score (0-100)"
    assert [row[5] for row in rows] == ["customers", "employees", "company", "owners"]
    status = header.index("Score status")
    # Win4 v2 asks the team nothing about owners, and no manager has answered yet.
    assert [row[status] for row in rows] == ["scored", "scored", "scored", "too_few_answers"]
    # Numbers, not text (a whole score such as 60.0 reads back as an int).
    assert all(isinstance(row[7], int | float) and type(row[8]) is int for row in rows[:3])
    assert rows[3][7] is None
    assert rows[0][1] == "'=TEAM()"


def test_control_characters_excel_rejects_are_dropped():
    sheet = read_xlsx(exports.to_xlsx(["a"], [["\x01=1+2\x0b"]]))

    assert sheet["A2"].value == "'=1+2"
    assert sheet["A2"].data_type == "s"


# --- contents and anonymity -----------------------------------------------------------


@pytest.mark.django_db
def test_the_scores_export_matches_the_results(manager_client, submitted):
    response = manager_client.get(export_url("scores_csv", submitted))

    assert response["Content-Disposition"] == (
        'attachment; filename="front-desk-assessment-scores.csv"'
    )
    header, *rows = read_csv(response.content)
    assert len(header) == 17
    assert len(rows) == 4
    first = dict(zip(header, rows[0], strict=True))
    assert first["Organisation"] == "Acme Ltd"
    assert first["Section key"] == "customers"
    assert first["Respondents"] == "3"
    assert first["Coverage (%)"] == "100.0"
    assert first["Formula version"] == "1"


@pytest.mark.django_db
def test_the_managers_answers_are_counted_per_question(manager_client, organisation, submitted):
    """One row per question with how many chose each level: never one person's answers."""
    make_manager_response(submitted, organisation.manager, levels=[1])
    response = manager_client.get(export_url("answers_csv", submitted))

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="front-desk-assessment-answers-by-question.csv"'
    )
    header, *rows = read_csv(response.content)
    assert header == [
        "Framework",
        "Section key",
        "Section",
        "Question code",
        "Question",
        "Level 1",
        "Level 2",
        "Level 3",
        "Level 4",
        "Level 5",
        "Not applicable / don't know",
        "Answered",
        "Respondents",
        "Note",
    ]
    questions = Question.objects.filter(version__assessments=submitted)
    assert sorted(row[3] for row in rows) == sorted(q.code for q in questions)
    # Every member answered every question with the same cycle (3, 4, 2, 5): the
    # manager's own 1s (their self-view) are not in the counts.
    first = next(row for row in rows if row[3] == questions.order_by("pk").first().code)
    assert first[5:13] == ["0", "0", "3", "0", "0", "0", "3", "3"]
    assert {row[5] for row in rows} == {"0"}
    assert {row[12] for row in rows} == {"3"}
    assert "@" not in response.content.decode()  # no e-mail address anywhere


@pytest.mark.django_db
def test_a_question_rated_by_too_few_people_keeps_its_levels_to_itself(submitted):
    question = Question.objects.filter(version__assessments=submitted).order_by("pk").first()
    answers = Answer.objects.filter(response__assessment=submitted, question=question)
    answers.exclude(pk=answers.first().pk).update(
        submitted_level=None, submitted_not_applicable=True
    )

    header, rows = exports.answers_by_question_table(submitted)

    row = next(row for row in rows if row[3] == question.code)
    levels = slice(header.index("Level 1"), header.index("Level 5") + 1)
    assert row[levels] == [None] * 5
    assert row[header.index("Not applicable / don't know")] == 2
    assert row[header.index("Note")] == "Rated by fewer than 3 people: levels withheld."


@pytest.mark.django_db
def test_answers_are_counted_as_last_completed(submitted):
    """Someone revising in a later round changes only their working copy."""
    before = exports.answers_by_question_table(submitted)
    revising = Response.objects.filter(assessment=submitted).first()
    Answer.objects.filter(response=revising).update(level=1)

    assert exports.answers_by_question_table(submitted) == before
    _headers, rows = exports.answers_table(submitted)
    assert 1 not in {row[5] for row in rows}  # nor in the assessor's rows


# --- the assessor's rows, one per answer ---------------------------------------------------


@pytest.mark.django_db
def test_the_assessors_answers_are_numbered_without_emails_or_ids(client, in_review):
    client.force_login(in_review.assignment.assessor)
    response = client.get(review_url("review_answers_csv", in_review))

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="front-desk-assessment-answers-by-respondent-round-1.csv"'
    )
    header, *rows = read_csv(response.content)
    assert header == [
        "Respondent",
        "Framework",
        "Section key",
        "Question code",
        "Question",
        "Level",
        "Not applicable",
    ]
    member_answers = Answer.objects.filter(response__is_manager_view=False).count()
    assert len(rows) == member_answers  # the manager's own answers are not in it
    assert {row[0] for row in rows} == {"1", "2", "3"}
    assert "@" not in response.content.decode()  # no e-mail address anywhere


@pytest.mark.django_db
def test_the_assessors_workbook_keeps_numbers_as_numbers(client, in_review):
    client.force_login(in_review.assignment.assessor)
    sheet = read_xlsx(client.get(review_url("review_answers_xlsx", in_review)).content)

    header, *rows = sheet.iter_rows(values_only=True)
    assert header[0] == "Respondent"
    assert all(type(row[0]) is int for row in rows)
    assert all(type(row[5]) is int for row in rows)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["review_answers_csv", "review_answers_xlsx"])
def test_only_the_assigned_assessor_gets_the_rows(client, organisation, in_review, name):
    """The manager, another assessor and a consultant all get a 404."""
    for user in (organisation.manager, make_assessor("olga"), make_consultant("cora")):
        client.force_login(user)
        assert client.get(review_url(name, in_review)).status_code == 404


@pytest.mark.django_db
def test_the_assessor_is_told_when_the_answers_are_not_available(client, organisation):
    assessment = make_assessment(make_team(organisation), status="submitted")
    complete(assessment, 2)
    assessor = make_assessor("alex")
    services.assessor_assign(
        assessment=assessment, assessor=assessor, by=make_user("stella", is_staff=True)
    )
    client.force_login(assessor)

    response = client.get(review_url("review_answers_csv", assessment))

    assert response.status_code == 302
    assert response["Location"] == reverse("assessment:review_detail", args=[assessment.pk])
    assert "Content-Disposition" not in response
    assert "once the assessment is submitted" in messages_of(response)[0]


@pytest.mark.django_db
def test_the_review_workspace_links_the_assessors_downloads(client, in_review):
    client.force_login(in_review.assignment.assessor)

    page = client.get(reverse("assessment:review_detail", args=[in_review.pk]))

    for name in ("review_answers_csv", "review_answers_xlsx"):
        assert review_url(name, in_review) in page.text
    assert "the numbers change in the next round" in page.text


@pytest.mark.django_db
def test_answers_are_sorted_by_question_then_respondent(submitted):
    _headers, rows = exports.answers_table(submitted)

    codes = [row[3] for row in rows]
    # Three respondents per question, numbered 1, 2, 3 within it.
    assert [row[0] for row in rows[:6]] == [1, 2, 3, 1, 2, 3]
    assert codes[:3] == [codes[0]] * 3
    assert codes[3] != codes[0]


@pytest.mark.django_db
def test_respondent_numbers_do_not_follow_response_ids(submitted):
    """Over many rounds, respondent 1 is not always the same person; within a round the
    numbers are the same on every download."""
    ids = list(Response.objects.filter(assessment=submitted).values_list("pk", flat=True))
    firsts = set()
    for round_number in range(1, 31):
        numbers = exports.respondent_numbers(
            assessment_id=submitted.pk, round_number=round_number, response_ids=ids
        )
        again = exports.respondent_numbers(
            assessment_id=submitted.pk, round_number=round_number, response_ids=reversed(ids)
        )
        assert numbers == again
        firsts.add(next(pk for pk, n in numbers.items() if n == 1))
    assert len(firsts) > 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", EXPORTS)
def test_below_the_threshold_nothing_is_exported(manager_client, organisation, name):
    assessment = make_assessment(make_team(organisation), status="submitted")
    complete(assessment, 2)

    response = manager_client.get(export_url(name, assessment))

    assert response.status_code == 302
    assert response["Location"] == reverse("assessment:detail", kwargs={"pk": assessment.pk})
    assert "Content-Disposition" not in response
    assert (
        "To protect anonymity, exports are available once at least 3 team members"
        in (messages_of(response)[0])
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", EXPORTS)
def test_an_open_assessment_is_not_exported(manager_client, organisation, name):
    assessment = make_assessment(make_team(organisation), status="open")
    complete(assessment, 3)

    response = manager_client.get(export_url(name, assessment))

    assert response.status_code == 302
    assert "Content-Disposition" not in response
    assert "once the assessment is submitted" in messages_of(response)[0]


@pytest.mark.django_db
@pytest.mark.parametrize("builder", ["answers_table", "answers_by_question_table"])
def test_the_answers_builders_refuse_hidden_results(organisation, builder):
    assessment = make_assessment(make_team(organisation), status="submitted")
    complete(assessment, 2)

    with pytest.raises(exports.ResultsHidden):
        getattr(exports, builder)(assessment)


# --- access and queries ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", [*EXPORTS, "report_pdf"])
def test_another_organisations_manager_gets_a_404(client, submitted, name):
    intruder = make_organisation("Intruder Ltd", manager="intruder")
    client.force_login(intruder.manager)

    assert client.get(export_url(name, submitted)).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", EXPORTS)
def test_anonymous_visitors_are_sent_to_sign_in(client, submitted, name):
    response = client.get(export_url(name, submitted))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", EXPORTS)
def test_exports_are_not_cached(manager_client, submitted, name):
    response = manager_client.get(export_url(name, submitted))

    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["scores_csv", "answers_csv", "review_answers_csv"])
def test_export_queries_do_not_grow_with_respondents(client, organisation, name):
    assessor, staff = make_assessor("alex"), make_user("stella", is_staff=True)

    def queries(count: int) -> int:
        assessment = make_assessment(
            make_team(organisation, name=f"Team {count}"),
            slugs=(
                "win4",
                "holistic",
            ),
            status="submitted",
        )
        complete(assessment, count)
        if name.startswith("review_"):
            services.assessor_assign(assessment=assessment, assessor=assessor, by=staff)
            client.force_login(assessor)
        else:
            client.force_login(organisation.manager)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(review_url(name, assessment))
        assert response.status_code == 200
        return len(captured)

    assert queries(3) == queries(30)


@pytest.mark.django_db
def test_a_section_rated_by_too_few_people_is_left_out_of_the_answers(submitted):
    owners = Answer.objects.filter(response__assessment=submitted, section__key="owners")
    rated = list(owners.values_list("response_id", flat=True).distinct())
    owners.filter(response_id__in=rated[1:]).update(
        submitted_level=None, submitted_not_applicable=True
    )

    _headers, rows = exports.answers_table(submitted)
    _headers, counts = exports.answers_by_question_table(submitted)

    assert rows
    assert "owners" not in {row[2] for row in rows}
    assert counts
    assert "owners" not in {row[1] for row in counts}


# --- frameworks v2 (issue 14): audiences, "don't know", each framework's rules ----------


def dont_know(assessment, *, section: str = "", question: str = "") -> None:
    """Every team answer in one section, or to one question, becomes "don't know", as
    completed."""
    answers = Answer.objects.filter(response__assessment=assessment, response__audience="team")
    answers = answers.filter(section__key=section) if section else answers
    answers = answers.filter(question__code=question) if question else answers
    answers.update(level=None, submitted_level=None, dont_know=True, submitted_dont_know=True)


@pytest.fixture
def submitted_v2(organisation):
    """Win4 version 2, submitted: three members (3, 4, 2, 5 in turn), the manager's own
    answers (1) and two leadership invitees (2): fewer than the threshold of three."""
    assessment = make_assessment(make_team(organisation), status="submitted")
    assert assessment.framework_versions.get().format == 2
    complete(assessment, 3)
    make_manager_response(assessment, organisation.manager, levels=[1])
    for _ in range(2):
        make_response(assessment, levels=[2], status="completed", audience="leadership")
    return assessment


@pytest.mark.django_db
def test_the_v2_scores_export_says_who_rated_what_in_stable_codes(manager_client, submitted_v2):
    dont_know(submitted_v2, section="employees")

    header, *rows = read_csv(manager_client.get(export_url("scores_csv", submitted_v2)).content)

    assert header[:17][-1] == "Formula version"  # the format-1 columns keep their places
    assert header[17:] == [
        "Don't know",
        "Score status",
        "Team score",
        "Team respondents",
        "Team status",
        "Managers score",
        "Managers respondents",
        "Managers status",
        "Leadership score",
        "Leadership respondents",
        "Leadership status",
        "Interval low (95 %)",
        "Interval high (95 %)",
        "Agreement (rwg)",
        "Divided team",
        "Average answer (0-5)",
        "Share at the next level or above (%)",
        "Next level",
        "Official score",
        "Official overall",
        "Official balance",
        "Official verdict",
    ]
    by_key = {row[5]: dict(zip(header, row, strict=True)) for row in rows}
    assert {row["Formula version"] for row in by_key.values()} == {"2"}
    customers = by_key["customers"]
    assert (customers["Team status"], customers["Team respondents"]) == ("scored", "3")
    assert (customers["Managers status"], customers["Managers score"]) == ("scored", "20.0")
    assert customers["Leadership status"] == "not_asked"
    assert customers["Leadership score"] == customers["Leadership respondents"] == ""
    # Two leadership invitees are fewer than three: withheld, never scored.
    assert by_key["company"]["Leadership status"] == "withheld"
    assert by_key["owners"]["Team status"] == "not_asked"
    # The team's "don't know" in Employees outnumber the manager's two levels.
    employees = by_key["employees"]
    assert employees["Don't know"] == "15"
    assert employees["Score status"] == "mostly_dont_know"
    assert employees["Score (0-100)"] == ""
    assert employees["Team status"] == "mostly_dont_know"
    # Formula 2's figures: the interval around each scored section, none where unscored;
    # no overall or verdict while Employees has no score (withheld means withheld).
    assert float(customers["Interval low (95 %)"]) <= float(customers["Score (0-100)"])
    assert float(customers["Interval high (95 %)"]) >= float(customers["Score (0-100)"])
    assert customers["Official score"] == customers["Score (0-100)"]
    assert employees["Interval low (95 %)"] == employees["Official score"] == ""
    assert {row["Official overall"] for row in by_key.values()} == {""}
    assert {row["Official verdict"] for row in by_key.values()} == {"no_verdict"}


@pytest.mark.django_db
def test_the_v2_scores_export_gives_the_official_figures_after_moderation(
    manager_client, submitted_v2
):
    """The assessor moderated Employees (which the team could not score): the export's
    official score, overall and verdict follow it, and the team's score stays as it was."""
    from assessment.models import Moderation
    from frameworks.models import Section
    from tests.factories import make_assessor

    dont_know(submitted_v2, section="employees")
    Moderation.objects.create(
        assessment=submitted_v2,
        section=Section.objects.get(version__assessments=submitted_v2, key="employees"),
        assessor=make_assessor("alex"),
        score=55,
        rationale="Seen the rota and the survey.",
    )

    header, *rows = read_csv(manager_client.get(export_url("scores_csv", submitted_v2)).content)
    by_key = {row[5]: dict(zip(header, row, strict=True)) for row in rows}
    employees = by_key["employees"]
    assert (employees["Score (0-100)"], employees["Moderated score"]) == ("", "55.0")
    assert employees["Official score"] == "55.0"
    overall = {row["Official overall"] for row in by_key.values()}
    assert len(overall) == 1
    assert overall != {""}
    assert {row["Official verdict"] for row in by_key.values()} <= {
        "sustainable",
        "not_sustainable",
    }


@pytest.mark.django_db
def test_the_v2_answers_export_counts_each_question_from_its_own_audience(
    manager_client, submitted_v2
):
    dont_know(submitted_v2, question="W4-CO-4")

    header, *rows = read_csv(manager_client.get(export_url("answers_csv", submitted_v2)).content)

    assert header == [
        "Framework",
        "Section key",
        "Section",
        "Question code",
        "Audience",
        "Question",
        "Level 0",
        "Level 1",
        "Level 2",
        "Level 3",
        "Level 4",
        "Level 5",
        "Not applicable",
        "Don't know",
        "Answered",
        "Respondents",
        "Note",
    ]
    audience = {
        q.code: q.audience for q in Question.objects.filter(version__assessments=submitted_v2)
    }
    assert {row[3]: row[4] for row in rows} == {
        code: asked for code, asked in audience.items() if asked != "leadership"
    }  # leadership's two are fewer than three: their questions wait
    team = [dict(zip(header, row, strict=True)) for row in rows if row[4] == "team"]
    managers = [dict(zip(header, row, strict=True)) for row in rows if row[4] == "manager"]
    assert {row["Respondents"] for row in team} == {"3"}
    assert {row["Respondents"] for row in managers} == {"1"}
    # The manager's own 1s are counted on the manager questions only, not anonymous.
    assert {row["Level 1"] for row in managers} == {"1"}
    assert {row["Level 1"] for row in team if row["Question code"] != "W4-CO-4"} == {"0"}
    unknown = next(row for row in team if row["Question code"] == "W4-CO-4")
    assert (unknown["Not applicable"], unknown["Don't know"], unknown["Answered"]) == (
        "0",
        "3",
        "3",
    )
    # "Don't know" is not a rating: nobody rated this question, so its levels are withheld.
    assert unknown["Note"] == "Rated by fewer than 3 people: levels withheld."
    assert unknown["Level 0"] == ""


@pytest.mark.django_db
def test_leadership_questions_are_exported_from_the_threshold(manager_client, submitted_v2):
    make_response(submitted_v2, levels=[0], status="completed", audience="leadership")

    header, *rows = read_csv(manager_client.get(export_url("answers_csv", submitted_v2)).content)

    leadership = [dict(zip(header, row, strict=True)) for row in rows if row[4] == "leadership"]
    asked = Question.objects.filter(version__assessments=submitted_v2, audience="leadership")
    assert sorted(row["Question code"] for row in leadership) == sorted(q.code for q in asked)
    assert {row["Respondents"] for row in leadership} == {"3"}
    assert {(row["Level 0"], row["Level 2"]) for row in leadership} == {("1", "2")}


@pytest.mark.django_db
def test_a_mixed_export_keeps_each_versions_scale_and_rules(manager_client, organisation):
    assessment = make_assessment(make_team(organisation), status="submitted")
    holistic_v1 = make_assessment(make_team(organisation, "Other"), slugs=("holistic",), version=1)
    assessment.framework_versions.add(holistic_v1.framework_versions.get())
    complete(assessment, 3)

    header, *scores = read_csv(manager_client.get(export_url("scores_csv", assessment)).content)
    head, *answers = read_csv(manager_client.get(export_url("answers_csv", assessment)).content)

    rules = {row[3]: row[header.index("Formula version")] for row in scores}
    assert rules == {
        "Holistic view of customer service": "1",
        "Win4 sustainable customer service": "2",
    }
    v1_scores = [row for row in scores if row[4] == "1"]
    assert {row[header.index("Team status")] for row in v1_scores} == {""}
    assert {row[header.index("Score status")] for row in v1_scores} == {"scored"}
    v1_answers = [row for row in answers if row[3].startswith("HOL-")]
    assert v1_answers
    assert {row[head.index("Audience")] for row in v1_answers} == {"team"}
    assert {row[head.index("Level 0")] for row in v1_answers} == {""}  # no level 0 in v1
    assert {row[head.index("Don't know")] for row in v1_answers} == {""}  # merged into N/A


@pytest.mark.django_db
def test_the_assessors_v2_rows_say_dont_know_apart(client, organisation, submitted_v2):
    dont_know(submitted_v2, question="W4-CUS-2")
    services.assessor_assign(
        assessment=submitted_v2,
        assessor=make_assessor("alex"),
        by=make_user("stella", is_staff=True),
    )
    submitted_v2.refresh_from_db()
    client.force_login(submitted_v2.assignment.assessor)

    header, *rows = read_csv(client.get(review_url("review_answers_csv", submitted_v2)).content)

    assert header[-3:] == ["Level", "Not applicable", "Don't know"]
    unknown = [row for row in rows if row[3] == "W4-CUS-2"]
    assert [tuple(row[-3:]) for row in unknown] == [("", "no", "yes")] * 3
    assert {row[-1] for row in rows if row[3] != "W4-CUS-2"} == {"no"}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["scores_csv", "answers_csv"])
def test_v2_export_queries_do_not_grow_with_audiences(client, organisation, name):
    def queries(count: int) -> int:
        assessment = make_assessment(
            make_team(organisation, name=f"Team {count}"),
            slugs=("win4", "six-dimensions"),
            status="submitted",
        )
        complete(assessment, count)
        for _ in range(count):
            make_response(assessment, levels=[2], status="completed", audience="leadership")
        make_manager_response(assessment, organisation.manager, levels=[4])
        client.force_login(organisation.manager)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(export_url(name, assessment))
        assert response.status_code == 200
        return len(captured)

    assert queries(3) == queries(12)
