"""Rules the review pages share with the manager's: the latest moderation, one audit
renderer, one status tone, and the shared template partials."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from assessment import services
from assessment.models import Assessment, AuditEvent, Moderation, Response
from assessment.selectors import results
from frameworks.models import Section
from tests.assessment.views.test_review import submitted_assessment
from tests.factories import (
    judge_criteria,
    make_assessor,
    make_organisation,
    make_user,
)

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def sections_of(assessment) -> list[Section]:
    return list(Section.objects.filter(version__assessments=assessment).order_by("position"))


# --- the latest moderation wins --------------------------------------------------------


@pytest.mark.django_db
def test_the_latest_moderation_of_each_section_is_the_one_that_counts(db):
    assessor = make_assessor("alex")
    assessment = submitted_assessment(make_organisation())
    services.assessor_assign(assessment=assessment, assessor=assessor, by=make_user("stella"))
    first, second = sections_of(assessment)[:2]
    for section, score, rationale in [
        (first, 40, "First look."),
        (second, 70, "Only one."),
        (first, 55, "Second look."),
    ]:
        services.moderation_record(
            assessment=assessment,
            section_id=section.pk,
            assessor=assessor,
            score=score,
            rationale=rationale,
        )

    latest = {m.section_id: m for m in Moderation.objects.latest_per_section(assessment)}

    assert {k: (float(m.score), m.rationale) for k, m in latest.items()} == {
        first.pk: (55.0, "Second look."),
        second.pk: (70.0, "Only one."),
    }
    rows = {
        row.section_id: (row.moderated, row.rationale)
        for panel in results.assessment_results(assessment).panels
        for row in panel.rows
        if row.moderated is not None
    }
    assert rows == {first.pk: (55.0, "Second look."), second.pk: (70.0, "Only one.")}


# --- one audit renderer ----------------------------------------------------------------


class _Entries(HTMLParser):
    """The text of each top-level <li> of the first <ol>, as a screen reader reads it
    (aria-hidden text left out), spaces collapsed."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[str] = []
        self.depth = 0  # <li> nesting inside the list
        self.hidden = 0
        self.done = False
        self.inside = False

    def handle_starttag(self, tag, attrs) -> None:
        if self.done:
            return
        if tag == "ol" and not self.inside:
            self.inside = True
        elif self.inside and tag == "li":
            self.depth += 1
            if self.depth == 1:
                self.entries.append("")
        if self.hidden or ("aria-hidden", "true") in attrs:
            self.hidden += 1

    def handle_endtag(self, tag) -> None:
        if self.done:
            return
        if self.hidden:
            self.hidden -= 1
        if self.inside and tag == "li":
            self.depth -= 1
        elif self.inside and tag == "ol" and self.depth == 0:
            self.done = True

    def handle_data(self, data) -> None:
        if self.inside and self.depth and not self.hidden and not self.done:
            self.entries[-1] += data


def _list_in_section(page: str, heading_id: str) -> list[str]:
    """The entries of the first list after the heading, in words."""
    parser = _Entries()
    parser.feed(page.split(f'id="{heading_id}"', 1)[1])
    return [" ".join(entry.split()) for entry in parser.entries]


@pytest.mark.django_db
def test_the_manager_timeline_and_the_assessor_trail_show_the_same_words(client_factory):
    staff = make_user("stella", first_name="Stella", last_name="Staff", is_staff=True)
    olga = make_assessor("olga")
    alex = make_assessor("alex")
    organisation = make_organisation()
    manager = organisation.manager
    assessment = submitted_assessment(organisation)
    section = sections_of(assessment)[0]
    services.assessor_assign(assessment=assessment, assessor=olga, by=staff)
    services.assessor_assign(assessment=assessment, assessor=alex, by=staff)  # a reassignment
    services.moderation_record(
        assessment=assessment, section_id=section.pk, assessor=alex, score=60, rationale="Thin."
    )
    services.decision_return(
        assessment=assessment, assessor=alex, required_changes="Add evidence.", snapshot={}
    )
    services.assessment_reopen(
        assessment=assessment, by=manager, sections=[section], note="Add evidence."
    )
    for response in Response.objects.filter(assessment=assessment):
        services.response_complete(response=response)
    services.assessment_submit(assessment=assessment, by=manager)
    # The first round's moderation is kept for this round before approval.
    services.moderation_keep(assessment=assessment, section_id=section.pk, assessor=alex)
    judge_criteria(assessment, alex)
    services.decision_approve(
        assessment=assessment, assessor=alex, level=3, summary="Solid.", snapshot={}
    )
    as_manager, as_assessor = client_factory(), client_factory()
    as_manager.force_login(manager)
    as_assessor.force_login(alex)

    timeline = _list_in_section(
        as_manager.get(reverse("assessment:detail", args=[assessment.pk])).text,
        "timeline-heading",
    )
    trail = _list_in_section(
        as_assessor.get(reverse("assessment:review_detail", args=[assessment.pk])).text,
        "audit-heading",
    )

    assert timeline == trail
    assert len(timeline) == AuditEvent.objects.filter(assessment=assessment).count() == 10
    words = " | ".join(timeline)
    assert "Assessor: Olga to Alex" in words
    assert f"Section: {section.name}" in words
    assert "Status: In review to Returned for revision" in words
    assert "Status: Returned for revision to Open" in words
    assert f"Sections to look at again: {section.name}" in words
    assert "Note to the team: Add evidence." in words
    assert "Status: In review to Approved" in words
    assert "by Stella Staff" in words
    assert "user id" not in words
    for code in ["draft", "open", "submitted", "in_review", "returned", "approved"]:
        assert not re.search(rf"\b{code}\b", words), code
    for pk in {olga.pk, alex.pk, staff.pk}:
        assert not re.search(rf"Assessor: [^|]*\b{pk}\b", words)
    assert section.key not in words


@pytest.mark.django_db
def test_a_timeline_is_rendered_in_a_constant_number_of_queries(db, django_assert_num_queries):
    staff = make_user("stella", is_staff=True)
    assessors = [make_assessor(f"assessor{n}") for n in range(4)]
    assessment = submitted_assessment(make_organisation())
    for assessor in assessors:
        services.assessor_assign(assessment=assessment, assessor=assessor, by=staff)
    for section in sections_of(assessment):
        services.moderation_record(
            assessment=assessment,
            section_id=section.pk,
            assessor=assessors[-1],
            score=50,
            rationale="Seen.",
        )

    with django_assert_num_queries(3):  # the events, the people, the sections
        entries = AuditEvent.objects.filter(assessment=assessment).rendered()

    assert len(entries) == 1 + 4 + len(sections_of(assessment))


# --- one status tone -------------------------------------------------------------------


def test_every_assessment_status_has_one_tone():
    tones = {status: Assessment(status=status).status_tone for status in Assessment.Status}

    assert set(tones) == set(Assessment.Status)
    assert set(tones.values()) <= {"secondary", "primary", "info", "warning", "danger", "success"}
    assert tones[Assessment.Status.APPROVED] == "success"
    assert tones[Assessment.Status.DRAFT] == "secondary"


def test_every_response_status_has_one_tone():
    tones = {status: Response(status=status).status_tone for status in Response.Status}

    assert tones == {
        Response.Status.IN_PROGRESS: "warning",
        Response.Status.COMPLETED: "success",
        Response.Status.REVISING: "info",
        Response.Status.CLOSED: "secondary",
    }


def _badge_tones(page: str, label: str) -> set[str]:
    return set(re.findall(rf'class="badge text-bg-(\w+)">{re.escape(label)}</span>', page))


@pytest.mark.django_db
def test_one_status_has_one_colour_on_every_page(client_factory):
    staff = make_user("stella", is_staff=True)
    alex = make_assessor("alex")
    organisation = make_organisation()
    assessment = submitted_assessment(organisation)
    services.assessor_assign(assessment=assessment, assessor=alex, by=staff)
    assessment.refresh_from_db()
    label = assessment.get_status_display()
    pages = {}
    for user, name in [
        (organisation.manager, "assessment:dashboard"),
        (alex, "assessment:assessor_queue"),
        (staff, "assessment:staff_queue"),
    ]:
        browser = client_factory()
        browser.force_login(user)
        pages[name] = browser.get(reverse(name)).text
    for user, name in [
        (organisation.manager, "assessment:detail"),
        (alex, "assessment:review_detail"),
    ]:
        browser = client_factory()
        browser.force_login(user)
        pages[name] = browser.get(reverse(name, args=[assessment.pk])).text

    tones = {name: _badge_tones(page, label) for name, page in pages.items()}

    assert tones == {name: {assessment.status_tone} for name in pages}


# --- template partials -----------------------------------------------------------------


def _template_sources() -> dict[Path, str]:
    return {path: path.read_text() for path in TEMPLATES.rglob("*.html")}


def test_the_score_partial_is_defined_once():
    defined = [
        path.relative_to(TEMPLATES).as_posix()
        for path, text in _template_sources().items()
        for _ in re.findall(r"{%\s*partialdef\s+score\b", text)
    ]

    assert len(defined) == 1, defined


def test_there_is_one_assessment_status_badge():
    defined = [
        path.relative_to(TEMPLATES).as_posix()
        for path, text in _template_sources().items()
        if "get_status_display" in text and "badge" in text
    ]

    assert len(defined) == 1, defined


def test_no_include_leaves_a_div_open():
    for path in (TEMPLATES / "assessment" / "includes").glob("*.html"):
        text = path.read_text()
        assert len(re.findall(r"<div\b", text)) == text.count("</div>"), path.name
