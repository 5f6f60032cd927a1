"""The PDF report's pages (issue 13): no near-empty page unless a chapter is that short.

The measure: how far down its content area a page's text reaches (poppler's
``pdftotext -bbox``: the lowest word between the running header and footer, as a share
of the area between the page margins of static/css/report.css). A spill page, the few
lines a chapter pushed over, reaches a short way down; a page of a table or chart reaches
far even with few text lines, which a count of lines would call empty. A page may stay
under a third only where a chapter starts on it and ends on it (a short chapter), or for
the cover and the contents.
"""

import io
import re
from dataclasses import dataclass

import pytest
from django.core.management import call_command

from assessment import reports
from assessment.models import Assessment
from tests.pdf import poppler

MM = 72 / 25.4
PAGE_HEIGHT = 297 * MM
TOP, BOTTOM = 22 * MM, 20 * MM  # @page margins in report.css
AREA = PAGE_HEIGHT - TOP - BOTTOM
CHAPTER_TITLE_HEIGHT = 17  # points: a line of h2 (16 pt) or the cover's h1; body text is 10 pt
MIN_FILL = 1 / 3

WORD = re.compile(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">')


@dataclass(frozen=True)
class Page:
    number: int
    fill: float  # share of the content area the text reaches down to
    starts_chapter: bool  # its first line is a chapter's title
    ends_chapter: bool  # the next page starts a chapter, or there is none


def pages(pdf: bytes) -> list[Page]:
    html = poppler("pdftotext", pdf, "-bbox")
    found: list[tuple[int, float, bool]] = []
    for number, page in enumerate(html.split("<page ")[1:], start=1):
        words = [
            (float(top), float(bottom))
            for top, bottom in WORD.findall(page)
            if float(top) >= TOP - 1 and float(bottom) <= PAGE_HEIGHT - BOTTOM + 1
        ]
        lowest = max((bottom for _top, bottom in words), default=TOP)
        first = min(words, default=(0.0, 0.0))
        found.append((number, (lowest - TOP) / AREA, first[1] - first[0] >= CHAPTER_TITLE_HEIGHT))
    return [
        Page(
            number=number,
            fill=fill,
            starts_chapter=starts,
            ends_chapter=index + 1 == len(found) or found[index + 1][2],
        )
        for index, (number, fill, starts) in enumerate(found)
    ]


@pytest.fixture
def demo_reports(db):
    """The demo's two closed assessments (one approved with a moderation, one with a
    trend, a self-view and comments), rendered."""
    call_command("seed_demo", allow_without_debug=True, stdout=io.StringIO())
    return {
        assessment.title: reports.render_report(assessment).pdf
        for assessment in Assessment.objects.filter(status__in=Assessment.CLOSED_STATUSES)
    }


def test_no_page_of_the_demo_reports_is_near_empty(demo_reports):
    """Before the short chapters flowed on, the assessor's review sat alone on a page a
    fifth full; and a spill of a few lines after a chapter fails the same way."""
    spring = pages(demo_reports["Spring service review"])
    # The measure sees the chapters' titles, and a full page.
    assert any(page.fill > 0.75 for page in spring)
    assert sum(page.starts_chapter for page in spring) >= 4

    for title, pdf in demo_reports.items():
        measured = pages(pdf)
        near_empty = [
            (page.number, round(page.fill, 2))
            for page in measured[2:]  # the cover and the contents stand alone
            if page.fill < MIN_FILL
        ]
        assert near_empty == [], (title, [(p.number, round(p.fill, 2)) for p in measured])
