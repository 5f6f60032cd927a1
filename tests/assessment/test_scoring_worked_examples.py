"""The worked examples of docs/scoring.md ("Worked examples (formula 2)"), reproduced.

Each example is computed with the real functions of formula 2 (and, for A and C, end to
end through the database and ``selectors.results.assessment_results``). Every figure is
asserted twice: equal to the literal the document prints, and present in that example's
section of the document (found by its heading), so the document and the code cannot
drift apart.
"""

import math
import re
import statistics
from collections import Counter
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.utils.html import strip_tags
from django.utils.timezone import now

from assessment import scoring
from assessment.models import Answer, Assessment, Moderation
from assessment.scoring import SCALE_V2, SectionTotals, Tally
from assessment.scoring import formula2 as f
from assessment.selectors import results
from assessment.selectors import review as review_selectors
from frameworks.models import Question, Section
from tests.factories import (
    make_assessment,
    make_assessor,
    make_organisation,
    make_response,
    make_team,
)

DASH, MINUS = "\N{EN DASH}", "\N{MINUS SIGN}"  # as the document prints ranges and signs
DOC = Path(__file__).resolve().parents[2] / "docs" / "scoring.md"
FLOOR = f.band_floor(2)  # the default SCORING_FLOOR_LEVEL, as the examples assume
NAMES = {
    "customers": "Customers",
    "employees": "Employees and line managers",
    "company": "The company",
    "owners": "Shareholders and owners",
}
# What each person answers, by section key (example A; C adds the third leader).
TEAM = [
    {"customers": 4, "employees": 3, "company": 3},
    {"customers": 4, "employees": 2, "company": 3},
    {"customers": 3, "employees": 2, "company": 3},
]
LEADERS = [{"company": 3, "owners": 3}, {"company": 3, "owners": 3}, {"company": 2, "owners": 2}]
# How many questions of each section each audience is asked in Win4 version 2.
ASKED = {
    "team": {"customers": 4, "employees": 5, "company": 2},
    "leadership": {"company": 3, "owners": 5},
}


# --- reading the document -------------------------------------------------------------------


def doc_section(title: str) -> str:
    """The text under the heading ``title`` of docs/scoring.md, up to the next heading of
    the same or a higher level."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    found = [
        (index, len(heading.group(1)))
        for index, heading in enumerate(re.fullmatch(r"(#+) (.+)", line) for line in lines)
        if heading and heading.group(2) == title
    ]
    assert len(found) == 1, f"docs/scoring.md needs one heading {title!r}"
    (start, depth), body = found[0], []
    for line in lines[start + 1 :]:
        heading = re.match(r"(#+) ", line)
        if heading and len(heading.group(1)) <= depth:
            break
        body.append(line)
    return "\n".join(body)


def figure(value: float) -> str:
    """A figure as the document prints it: whole, or to 2 decimals where it is not."""
    rounded = round(value, 2)
    return f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:.2f}"


def assert_printed(section: str, *literals: str) -> None:
    """Each literal stands in ``section`` as a figure or phrase of its own (60 is not
    found inside 60.5 or 160)."""
    for literal in literals:
        pattern = r"(?<![\d.])" + re.escape(literal) + r"(?!\d|\.\d)"
        assert re.search(pattern, section), f"{literal!r} is not in the example's text"


def page_phrase(stats: f.SectionStats) -> str:
    """The distribution as the results page renders it ("average 3.4; 40 % at ...")."""
    html = render_to_string("partials/scores.html#distribution", {"stats": stats})
    return " ".join(strip_tags(html).split())


# --- building the examples with the real functions ------------------------------------------


def section(key: str, people: list[list[int]]) -> tuple[scoring.SectionScore, f.SectionStats]:
    """One section scored from each person's answers, and its formula-2 statistics."""
    totals = SectionTotals.from_tallies([Tally.from_levels(p, SCALE_V2) for p in people])
    score = scoring.section_score(
        key=key, name=NAMES.get(key, key), questions=len(people[0]), totals=totals, scale=SCALE_V2
    )
    counts = Counter(level for person in people for level in person)
    stats = f.section_stats([sum(p) / len(p) for p in people], counts)
    return score, stats


def answers(people: list[dict[str, int]], audience: str, key: str) -> list[list[int]]:
    return [[person[key]] * ASKED[audience][key] for person in people]


def win4(leaders: list[dict[str, int]]):
    """The examples' Win4 sections from the team's and the counted leaders' answers: the
    scored sections with their statistics, and the owners' section unscored when no
    leader counts."""
    built = {key: section(key, answers(TEAM, "team", key)) for key in ("customers", "employees")}
    built["company"] = section(
        "company", answers(TEAM, "team", "company") + answers(leaders, "leadership", "company")
    )
    if leaders:
        built["owners"] = section("owners", answers(leaders, "leadership", "owners"))
    sections = [built[k][0] for k in built]
    if not leaders:
        empty = SectionTotals(0, 0, 0, 0, 0, 0.0, 0.0, possible=0)
        sections.append(
            scoring.section_score(
                key="owners", name=NAMES["owners"], questions=6, totals=empty, scale=SCALE_V2
            )
        )
    return sections, {key: stats for key, (_score, stats) in built.items()}


def interval(stats: f.SectionStats) -> str:
    return f"{figure(stats.low)}{DASH}{figure(stats.high)}"


# --- Example A: a withheld section ----------------------------------------------------------


def test_example_a_a_withheld_section():
    text = doc_section("Example A: a withheld section")
    sections, stats = win4(leaders=[])
    result = f.framework_result(sections, stats, no_loser_rule=True, floor=FLOOR)
    by_key = {s.key: s for s in sections}

    assert figure(by_key["customers"].score) == "73.33"
    assert figure(stats["customers"].average_level) == "3.67"
    assert interval(stats["customers"]) == f"44.65{DASH}100"
    assert figure(stats["customers"].half_width) == "28.69"
    assert figure(stats["customers"].score + stats["customers"].half_width) == "102.02"
    # The respondents' means 4, 4, 3 have s^2 = 0.33; the 12 answers' pooled variance is
    # 0.24, and rwg(j) with J = 4 answers per person gives 0.98.
    assert figure(statistics.variance([4, 4, 3])) == "0.33"
    assert figure(statistics.variance([4] * 8 + [3] * 4)) == "0.24"
    assert figure(statistics.variance([4] * 8 + [3] * 4) / (35 / 12)) == "0.08"
    assert figure(stats["customers"].agreement) == "0.98"
    assert page_phrase(stats["customers"]) == "average 3.7; 67 % at level 4 or above"
    assert figure(by_key["employees"].score) == "46.67"
    assert figure(stats["employees"].average_level) == "2.33"
    assert interval(stats["employees"]) == f"17.98{DASH}75.35"
    assert figure(statistics.variance([3] * 5 + [2] * 10)) == "0.24"
    assert figure(stats["employees"].agreement) == "0.98"
    assert page_phrase(stats["employees"]) == "average 2.3; 33 % at level 3 or above"
    assert figure(by_key["company"].score) == "60"
    assert interval(stats["company"]) == f"49.86{DASH}70.14"
    assert figure(stats["company"].half_width) == "10.14"
    assert figure(1 / 24) == "0.04"
    assert stats["company"].agreement == 1
    assert page_phrase(stats["company"]) == "average 3.0; 0 % at level 4 or above"
    assert by_key["owners"].score is None
    assert_printed(
        text,
        "73.33",
        "3.67",
        f"44.65{DASH}100",
        "28.69",
        "102.02",
        "0.33",
        "0.24",
        "0.08",
        "0.98",
        "average 3.7; 67 % at level 4 or above",
        "46.67",
        "2.33",
        f"17.98{DASH}75.35",
        "average 2.3; 33 % at level 3 or above",
        "60",
        "0.04",
        "10.14",
        f"49.86{DASH}70.14",
        "average 3.0; 0 % at level 4 or above",
    )

    # No headline while the owners' section has no score, and no verdict either, although
    # the three that stand are all above the floor.
    assert (result.overall, result.balance, result.weakest, result.alerts) == (None, None, None, ())
    assert result.unscored_names == ("Shareholders and owners",)
    assert result.verdict.complete is False
    assert result.verdict.sustainable is False
    assert all(f.displayed(s.score) >= FLOOR for s in sections if s.sufficient)
    assert "these sections have no score: Shareholders and owners" in " ".join(text.split())
    assert_printed(text, str(FLOOR))

    # Formula 1's rules (as formula 1.1 applied them) drop the section instead.
    old = scoring.framework_result(sections, no_loser_rule=True, scale=SCALE_V2)
    assert (figure(old.overall), figure(old.balance)) == ("60", "78.23")
    assert_printed(text, "78.23")

    ranked = f.as_priorities(result, stats, {})
    assert [(p.key, p.target_level, figure(p.gap)) for p in ranked] == [
        ("employees", 3, "13.33"),
        ("company", 4, "20"),
        ("customers", 5, "26.67"),
    ]
    assert not any(p.weakest for p in ranked)
    assert_printed(text, "target 3 = 60, gap **13.33", "target 4 = 80, gap **20")
    assert_printed(text, "target 5 = 100, gap **26.67")
    assert "gives **no level**" in text


# --- Example B: a divided team --------------------------------------------------------------


def test_example_b_a_divided_team():
    text = doc_section("Example B: a divided team")
    split_people = [[1, 1], [1, 1], [5, 5], [5, 5]]
    agreed_people = [[3, 3], [3, 3], [2, 2], [4, 4]]
    split_score, split = section("x", split_people)
    agreed_score, agreed = section("y", agreed_people)

    cases = ((split_score, split, split_people), (agreed_score, agreed, agreed_people))
    for score, stats, people in cases:
        assert figure(score.score) == figure(stats.score) == "60"
        # The document's arithmetic, from the respondents' means.
        means = [sum(p) / len(p) for p in people]
        half = f.t_quantile(3) * math.sqrt(statistics.variance(means) / 4) * 20
        assert stats.low == max(0.0, 60 - half)
        assert stats.high == min(100.0, 60 + half)

    split_variance = statistics.variance([1, 1, 5, 5])
    assert figure(split_variance) == "5.33"
    split_half = 3.182 * math.sqrt(split_variance / 4) * 20
    assert (figure(split_half), figure(60 - split_half), figure(60 + split_half)) == (
        "73.49",
        "-13.49",
        "133.49",
    )
    assert interval(split) == f"0{DASH}100"
    assert figure(statistics.variance([1, 1, 1, 1, 5, 5, 5, 5])) == "4.57"  # above 2.92
    assert split.agreement == 0.0
    assert split.divided
    assert page_phrase(split) == "average 3.0; 50 % at level 4 or above"

    assert figure(statistics.variance([3, 3, 2, 4])) == "0.67"
    assert figure(statistics.variance([3, 3, 3, 3, 2, 2, 4, 4])) == "0.57"
    assert figure(agreed.half_width) == "25.98"
    assert interval(agreed) == f"34.02{DASH}85.98"
    assert figure(agreed.agreement) == "0.89"
    assert not agreed.divided
    assert page_phrase(agreed) == "average 3.0; 25 % at level 4 or above"

    # Formula 1's rules call both "60, level 3".
    assert split_score.level == agreed_score.level == 3

    # A change of +15 against a result like the agreeing team's is within its margin.
    margin = f.change_margin(agreed, agreed)
    assert figure(margin) == "36.74"
    assert margin > 15

    assert_printed(
        text,
        "60",
        "5.33",
        "0.67",
        "73.49",
        "25.98",
        f"0{DASH}100",
        f"{MINUS}13.49 to 133.49",
        f"34.02{DASH}85.98",
        "4.57",
        "0.57",
        "0.89",
        "3.182",
        "average 3.0; 50 % at level 4 or above",
        "average 3.0; 25 % at level 4 or above",
        "36.74",
        "+15",
    )


# --- Example C: a moderated assessment ------------------------------------------------------

SUMMARY_OFFICIAL = (
    "the company, shareholders and owners and employees and line managers win at the "
    "expense of customers"
)


def test_example_c_a_moderated_assessment():
    text = doc_section("Example C: a moderated assessment")
    flat = " ".join(text.split())
    sections, stats = win4(leaders=LEADERS)
    team = f.framework_result(sections, stats, no_loser_rule=True, floor=FLOOR)
    by_key = {s.key: s for s in sections}

    assert figure(by_key["company"].score) == "56"
    assert stats["company"].average_level == pytest.approx(2.8)
    assert interval(stats["company"]) == f"47.43{DASH}64.57"
    assert page_phrase(stats["company"]) == "average 2.8; 80 % at level 3 or above"
    assert figure(by_key["owners"].score) == "53.33"
    assert [(s.key, figure(s.score), s.level) for s in sections] == [
        ("customers", "73.33", 4),
        ("employees", "46.67", 2),
        ("company", "56", 3),
        ("owners", "53.33", 3),
    ]
    for s in sections:
        assert f"| {s.name} | {figure(s.score)} | {s.level} |" in text

    assert figure(team.overall) == "57.33"
    assert figure(scoring.pstdev([s.score for s in sections])) == "9.84"
    assert figure(100 * math.sqrt(3) / 4) == "43.30"
    assert figure(team.balance) == "77.27"
    assert team.weakest.key == "employees"
    assert team.alerts == ()
    assert figure(team.overall - by_key["employees"].score) == "10.67"
    assert team.verdict.sustainable
    assert team.verdict.summary == "every stakeholder wins"
    assert f.awarded_level({s.key: s.level for s in sections}) == 3
    assert_printed(
        text, "2.571", f"47.43{DASH}64.57", "57.33", "9.84", "43.30", "77.27", "10.67", str(FLOOR)
    )
    assert "“average 2.8; 80 % at level 3 or above”" in text
    assert '**sustainable**, "every stakeholder wins"' in flat
    assert "The rule's level on these bands is **3**" in flat

    official_sections, official_stats = f.moderate(sections, stats, {"customers": 25.0})
    official = f.framework_result(
        official_sections, official_stats, no_loser_rule=True, floor=FLOOR
    )
    assert figure(official.overall) == "45.25"
    assert figure(official.balance) == "71.88"
    assert official.weakest.key == "customers"
    assert [s.key for s in official.alerts] == ["customers"]
    assert figure(official.overall - 25) == "20.25"
    assert not official.verdict.sustainable
    assert official.verdict.summary == SUMMARY_OFFICIAL
    assert "moderates customers to 25" in flat
    assert f"| overall | **{figure(official.overall)}** | {figure(team.overall)} |" in text
    assert f"| balance | **{figure(official.balance)}** | {figure(team.balance)} |" in text
    assert "customers (25 is 20.25 below 45.25; a moderated score has no interval)" in text
    assert f'**not sustainable**: "{SUMMARY_OFFICIAL}"' in text

    plan = f.as_priorities(
        official, official_stats, {}, self_assessed={s.key: s.score for s in sections}
    )
    rows = [
        (p.name, figure(p.score), figure(p.self_assessed), p.target_level, figure(p.gap))
        for p in plan
    ]
    assert rows == [
        ("Customers", "25", "73.33", 2, "15"),
        ("Employees and line managers", "46.67", "46.67", 3, "13.33"),
        ("Shareholders and owners", "53.33", "53.33", 4, "26.67"),
        ("The company", "56", "56", 4, "24"),
    ]
    for rank, (name, score, own, target, gap) in enumerate(rows, start=1):
        assert f"| {rank} | {name} | {score} | {own} | {target} | {gap} |" in text
    # Without moderation customers came last, target 5, gap 26.67.
    unmoderated = f.as_priorities(team, stats, {})
    assert (unmoderated[-1].key, unmoderated[-1].target_level, figure(unmoderated[-1].gap)) == (
        "customers",
        5,
        "26.67",
    )
    assert "customers came last (target 5, gap 26.67)" in flat

    bands = {s.key: s.level for s in official_sections}
    assert bands == {"customers": 1, "employees": 2, "company": 3, "owners": 3}
    assert f.awarded_level(bands) == 2
    assert "the rule gives **2**" in flat


# --- A and C end to end, through the database -----------------------------------------------


def respond(assessment: Assessment, audience: str, levels: dict[str, int]) -> None:
    """A completed response of ``audience`` answering every question it is asked with the
    level ``levels`` gives that question's section."""
    response = make_response(assessment, status="completed", audience=audience)
    questions = (
        Question.objects.filter(version__assessments=assessment)
        .asked_of(audience)
        .select_related("section")
    )
    Answer.objects.bulk_create(
        Answer(
            response=response,
            question=q,
            section_id=q.section_id,
            level=levels[q.section.key],
            submitted_level=levels[q.section.key],
        )
        for q in questions
    )


@pytest.fixture
def example(db, settings):
    """Example A in the database: Win4 version 2, submitted, the three team members and
    two of the three leaders completed."""
    settings.ANONYMITY_THRESHOLD = 3
    settings.SCORING_FLOOR_LEVEL = 2
    assessment = make_assessment(make_team(make_organisation()), status="submitted")
    Assessment.objects.filter(pk=assessment.pk).update(submitted_at=now())
    assessment.refresh_from_db()
    for person in TEAM:
        respond(assessment, "team", person)
    for person in LEADERS[:2]:
        respond(assessment, "leadership", person)
    return assessment


def panel_of(assessment: Assessment) -> results.FrameworkPanel:
    (panel,) = results.assessment_results(assessment).panels
    return panel


def test_example_a_end_to_end(example):
    panel = panel_of(example)
    sections, stats = win4(leaders=[])

    assert panel.team.formula_version == "2"
    assert [(r.key, r.team.score) for r in panel.rows] == [
        (s.key, pytest.approx(s.score) if s.score is not None else None) for s in sections
    ]
    for row in panel.rows:
        if row.key in stats:
            assert (row.stats.low, row.stats.high) == pytest.approx(
                (stats[row.key].low, stats[row.key].high)
            )
    assert panel.leadership_withheld == 2
    assert panel.team.overall is None
    assert panel.team.balance is None
    assert panel.team.unscored_names == ("Shareholders and owners",)
    assert panel.team.verdict.complete is False
    assert [p.key for p in panel.priorities] == ["employees", "company", "customers"]
    assert review_selectors.assessment_award_rule(example).level is None


def test_example_c_end_to_end(example):
    respond(example, "leadership", LEADERS[2])
    sections, _stats = win4(leaders=LEADERS)
    before = panel_of(example)
    assert {r.key: r.team.score for r in before.rows} == pytest.approx(
        {s.key: s.score for s in sections}
    )
    assert figure(before.team.overall) == "57.33"
    assert figure(before.team.balance) == "77.27"
    assert before.team.verdict.sustainable
    assert review_selectors.assessment_award_rule(example).level == 3

    Moderation.objects.create(
        assessment=example,
        section=Section.objects.get(version__assessments=example, key="customers"),
        assessor=make_assessor("alex"),
        score=25,
        rationale="The customer research the team cites is three years old.",
    )
    panel = panel_of(example)

    assert panel.team == before.team  # the team's own figures, beside the official ones
    assert panel.headline is panel.official
    assert (figure(panel.official.overall), figure(panel.official.balance)) == ("45.25", "71.88")
    assert [s.key for s in panel.official.alerts] == ["customers"]
    assert panel.official.verdict.summary == SUMMARY_OFFICIAL
    assert [
        (p.key, figure(p.score), figure(p.self_assessed), p.target_level, figure(p.gap))
        for p in panel.priorities
    ] == [
        ("customers", "25", "73.33", 2, "15"),
        ("employees", "46.67", "46.67", 3, "13.33"),
        ("owners", "53.33", "53.33", 4, "26.67"),
        ("company", "56", "56", 4, "24"),
    ]
    assert review_selectors.assessment_award_rule(example).level == 2
