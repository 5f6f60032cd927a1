"""The review journey end to end in Chromium: submit, assign, moderate, return,
revise, resubmit, approve, and a timeline that lists every step in order."""

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from assessment import scoring, services
from assessment.models import Assessment
from assessment.selectors import results
from frameworks.models import Question, Section
from tests.browser.axe import audit
from tests.browser.test_manager_journey import sign_in
from tests.factories import (
    answer_inputs,
    judge_criteria,
    make_assessor,
    make_opened_assessment,
    make_organisation,
    make_response,
    make_team,
    make_user,
)


def new_page(browser) -> Page:
    page = browser.new_context().new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # data-confirm prompts
    return page


@pytest.fixture
def setting(live_server, settings, mailoutbox):
    settings.SITE_URL = live_server.url
    organisation = make_organisation("Harbour Ltd", manager="harriet")
    team = make_team(organisation, "Help desk", members=3)
    assessment = make_opened_assessment(team, title="Winter review")
    questions = list(Question.objects.filter(version__assessments=assessment).asked_of("team"))
    for invitation in assessment.invitations.all():
        response = make_response(assessment, invitation=invitation)
        services.answers_save(
            response=response,
            answers=answer_inputs(
                questions, level=lambda q: 5 if q.section.key == "customers" else 2
            ),
        )
        services.response_complete(response=response)
    staff = make_user("stella", is_staff=True, first_name="Stella")
    assessor = make_assessor(
        "alex", last_name="Assessor", body="Institute of Service Assessors", number="ISA-1", days=90
    )
    return live_server.url, organisation, assessment, staff, assessor


@pytest.mark.django_db(transaction=True)
def test_the_review_journey_from_submission_to_approval(setting, browser):
    base, organisation, assessment, staff, assessor = setting
    detail_url = f"{base}{assessment.get_absolute_url()}"

    # The manager submits for review.
    manager = new_page(browser)
    sign_in(manager, base, organisation.manager.username)
    manager.goto(detail_url)
    manager.get_by_role("link", name="Submit for review").click()
    manager.get_by_role("button", name="Submit for review").click()
    expect(manager.get_by_text("submitted for review").first).to_be_visible()

    # Staff assign the assessor.
    staff_page = new_page(browser)
    sign_in(staff_page, base, staff.username)
    staff_page.goto(f"{base}/staff/reviews/")
    staff_page.get_by_label("Assessor for Winter review").select_option(value=str(assessor.pk))
    staff_page.get_by_role("button", name="Assign").click()
    expect(staff_page.get_by_text("now reviews Winter review")).to_be_visible()

    # The assessor moderates two sections with rationales and returns the assessment.
    reviewer = new_page(browser)
    sign_in(reviewer, base, assessor.username)
    reviewer.goto(f"{base}/reviews/")
    reviewer.get_by_role("link", name="Winter review").click()
    for name, score, why in [
        ("Customers", "70", "Complaint logs do not support the top rating."),
        ("The company", "30", "No executive sponsor for service was evidenced."),
    ]:
        form = reviewer.locator("form").filter(
            has=reviewer.get_by_role("button", name=f"Save moderation of {name}")
        )
        form.get_by_label(re.compile("^Moderated score")).fill(score)
        form.get_by_label("Rationale").fill(why)
        form.get_by_role("button", name=f"Save moderation of {name}").click()
        expect(reviewer.get_by_text(why).first).to_be_visible()
    reviewer.get_by_label("Changes required").fill("Show evidence for the customer scores.")
    reviewer.locator("#return-form").get_by_label("Customers").check()
    reviewer.get_by_role("button", name="Return for revision").click()
    expect(reviewer.get_by_text("Returned for revision").first).to_be_visible()

    # The manager sees the required changes, reopens, the team revises, and resubmits.
    manager.goto(detail_url)
    expect(
        manager.get_by_text("Show evidence for the customer scores.", exact=True)
    ).to_be_visible()
    manager.get_by_role("link", name="Reopen for revision").click()
    # The assessor's sections come ticked.
    expect(manager.get_by_label("Customers")).to_be_checked()
    manager.get_by_role("button", name="Reopen and e-mail the team").click()
    expect(manager.get_by_text("The assessment is open again")).to_be_visible()

    member_mail = next(m for m in reversed(mail.outbox) if "/r/" in m.body)
    member = new_page(browser)
    member.goto(re.search(r"https?://\S+/r/\S+/", member_mail.body).group(0))
    member.get_by_role("button", name="Open my questionnaire").click()
    # Their answers from round one still count; they choose to change them.
    expect(
        member.get_by_text(re.compile("Your answers from the last round still count"))
    ).to_be_visible()
    member.get_by_role("button", name="Change my answers").click()
    first = member.locator("fieldset.question").first
    with member.expect_response(lambda r: "/answers/" in r.url and r.status == 200):
        first.locator("input[type=radio][value='4']").check()
    member.get_by_role("link", name="Review and submit").click()
    member.get_by_label(re.compile("I have finished")).check()
    member.get_by_role("button", name="Submit my answers").click()
    expect(member.get_by_text("Your answers are submitted. Thank you.")).to_be_visible()
    # The other two do nothing: their round-one answers keep counting.

    manager.goto(detail_url)
    manager.get_by_role("link", name="Submit for review").click()
    manager.get_by_role("button", name="Submit for review").click()
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.IN_REVIEW  # straight back to the assessor

    # The assessor sees what changed and approves with a level.
    reviewer.reload()
    changes = reviewer.locator(
        "section", has=reviewer.get_by_role("heading", name="What changed since the last review")
    )
    expect(changes).to_be_visible()
    expect(changes).to_contain_text("Customers")
    # Round 1's moderations were made on other answers: the assessor keeps both.
    for name in ("Customers", "The company"):
        reviewer.get_by_role("button", name=f"Keep this moderation of {name}").click()
        expect(reviewer.get_by_text(f"Moderated score for {name} kept")).to_be_visible()
    # The criteria are judged on their own pages (tests/browser/test_evidence_review_journey.py
    # walks them); here they are recorded met, as approval needs.
    judge_criteria(assessment, assessor)
    reviewer.reload()
    reviewer.get_by_label("Awarded maturity level").select_option("3")
    reviewer.get_by_label("Summary").fill("Evidence now supports the scores.")
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.get_by_text("Approved").first).to_be_visible()

    # The manager sees the approval, and the timeline lists every step in order.
    manager.goto(detail_url)
    expect(manager.get_by_text("awarded maturity level 3")).to_be_visible()
    timeline = manager.locator("section", has=manager.get_by_role("heading", name="Timeline"))
    steps = timeline.locator("li > div > strong").all_inner_texts()
    assert steps == [
        "Opened",
        "Submitted for review",
        "Assessor assigned",
        "Review started",
        "Section moderated",
        "Section moderated",
        "Returned for revision",
        "Reopened for revision",
        "Submitted for review",
        "Review started",
        "Section moderated",
        "Section moderated",
        "Approved",
    ]


# --- what changed, with exact counts (issue 13) ------------------------------------------


@pytest.fixture
def second_round(live_server, settings):
    """Round 1 of the help desk's review: three members answered every question at level 2,
    submitted, assigned to alex, who moderated Customers at 25."""
    settings.SITE_URL = live_server.url
    organisation = make_organisation("Harbour Ltd", manager="harriet")
    team = make_team(organisation, "Help desk", members=3)
    assessment = make_opened_assessment(team, title="Winter review")
    questions = list(Question.objects.filter(version__assessments=assessment).asked_of("team"))
    members = []
    for invitation in assessment.invitations.order_by("pk"):
        response = make_response(assessment, invitation=invitation)
        services.answers_save(response=response, answers=answer_inputs(questions, level=2))
        services.response_complete(response=response)
        members.append(response)
    services.assessment_submit(assessment=assessment, by=organisation.manager)
    assessor = make_assessor("alex", last_name="Assessor")
    services.assessor_assign(
        assessment=assessment, assessor=assessor, by=make_user("stella", is_staff=True)
    )
    customers = Section.objects.get(version__assessments=assessment, key="customers")
    services.moderation_record(
        assessment=assessment,
        section_id=customers.pk,
        assessor=assessor,
        score="25",
        rationale="Complaint logs are thin.",
    )
    return live_server.url, organisation, assessment, assessor, members, customers


def shown(score: float) -> str:
    """A score as the page rounds it (Django's floatformat: halves away from zero)."""
    return str(Decimal(str(score)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def revise_answers(response, levels: dict[int, int]) -> None:
    """A member changes answers (question pk -> level) and completes again."""
    response.refresh_from_db()
    services.response_revise(response=response)
    current = {a.question_id: a for a in response.answers.all()}
    services.answers_save(
        response=response,
        answers=[
            services.AnswerInput(
                question_id=pk,
                level=level,
                not_applicable=False,
                comment="",
                base_revision=current[pk].revision,
            )
            for pk, level in levels.items()
        ],
    )
    services.response_complete(response=response)


@pytest.mark.django_db(transaction=True)
def test_what_changed_shows_exact_counts_and_the_teams_then_and_now(second_round, browser):
    base, organisation, assessment, assessor, members, customers = second_round
    reviewer = new_page(browser)
    sign_in(reviewer, base, assessor.username)
    reviewer.goto(f"{base}/reviews/{assessment.pk}/")

    # Round 1: the assessor returns it, naming Customers.
    return_form = reviewer.locator("#return-form")
    return_form.get_by_label("Changes required").fill("Show evidence for the customer scores.")
    return_form.get_by_role("group", name="Win4").get_by_label("Customers").check()
    return_form.get_by_role("button", name="Return for revision").click()
    expect(
        reviewer.locator("#decision").get_by_text("Sections to look at again: Customers")
    ).to_be_visible()
    decision = assessment.decisions.get()
    assert list(decision.required_sections.all()) == [customers]

    # The manager reopens Customers; one member changes 3 answers there and saves a fourth
    # again with the same level; another completes again changing nothing.
    services.assessment_reopen(
        assessment=assessment,
        by=organisation.manager,
        sections=decision.required_sections.all(),
        note="Customers, please.",
    )
    asked = list(Question.objects.filter(section=customers).asked_of("team").order_by("position"))[
        :4
    ]
    revise_answers(members[0], {q.pk: 5 for q in asked[:3]} | {asked[3].pk: 2})
    revise_answers(members[1], {})
    services.assessment_submit(assessment=assessment, by=organisation.manager)
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.IN_REVIEW
    now = {
        row.key: row.team.score
        for panel in results.assessment_results(assessment).panels
        for row in panel.rows
    }
    # Everyone answered level 2: 40 points on the 0-5 scale of frameworks v2.
    level_two = scoring.level_to_score(2, scoring.scale_for(customers.version.format))
    assert now["customers"] > level_two  # the team moved; the moderated score did not

    # Round 2, on a phone: the table of changes, by visible labels.
    reviewer.set_viewport_size({"width": 390, "height": 844})
    reviewer.goto(f"{base}/reviews/{assessment.pk}/")
    changes = reviewer.get_by_role("region", name=re.compile("^Each section then"))
    expect(changes).to_be_visible()
    summary = reviewer.locator("#changes .changes-summary")
    expect(summary).to_contain_text(
        "3 answers changed their level, “not applicable” or comment in round 2."
    )
    expect(summary).to_contain_text("2 team members completed their answers again.")
    expect(summary).to_contain_text("0 team members completed their answers for the first time.")
    columns = ("Answers changed", "Team then", "Team now", "Moderated then", "Moderated now")
    cells = {}
    for name in ("Customers", "Employees and line managers", "The company"):
        row = changes.locator("tbody tr").filter(
            has=reviewer.locator("th", has_text=re.compile(f"^{name} "))
        )
        cells[name] = [
            " ".join(row.locator(f'td[data-label="{column}"]').inner_text().split())
            for column in columns
        ]
    moved = f"{shown(now['customers'])} (+{shown(now['customers'] - level_two)})"
    then = shown(level_two)
    assert cells["Customers"] == ["3", then, moved, "25", "25 from round 1"]
    assert cells["Employees and line managers"] == ["0", then, then, "—", "—"]
    assert cells["The company"][0] == "0"
    assert reviewer.evaluate("document.documentElement.scrollWidth") <= 390
    phone = audit(reviewer, "review workspace, round 2, 390 px")
    assert phone.violations == [], phone.describe()

    # Approval waits for the round-1 moderation: the summary at the top takes the focus.
    judge_criteria(assessment, assessor)  # as approval needs (see the journey above)
    reviewer.set_viewport_size({"width": 1280, "height": 900})
    reviewer.reload()
    # On a desk, the scores table shows every column: none is cut off in its scroll region.
    scores = reviewer.locator(".results-panel .table-responsive").first
    assert scores.evaluate("e => e.scrollWidth <= e.clientWidth")
    reviewer.get_by_label("Awarded maturity level").select_option("3")
    reviewer.get_by_label("Summary").fill("Evidence now supports the scores.")
    reviewer.get_by_role("button", name="Approve").click()
    errors = reviewer.locator("#errors")
    expect(errors).to_contain_text("Keep or replace the moderated scores from an earlier round")
    expect(errors).to_be_focused()
    expect(reviewer.get_by_label("Summary")).to_have_value("Evidence now supports the scores.")
    refused = audit(reviewer, "review workspace, refused approval, 1280 px")
    assert refused.violations == [], refused.describe()

    reviewer.get_by_role("button", name="Keep this moderation of Customers").click()
    expect(reviewer.get_by_text("kept for this round: 25.0")).to_be_visible()
    assert reviewer.url.endswith(f"#moderate-{customers.pk}")
    reviewer.get_by_label("Awarded maturity level").select_option("3")
    reviewer.get_by_label("Summary").fill("Evidence now supports the scores.")
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.get_by_text("Approved at level 3")).to_be_visible()
