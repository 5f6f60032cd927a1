"""Charts readable where they are shown, and the consultant's pages on a phone (issue 13)."""

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page

from tests.browser.test_manager_journey import sign_in
from tests.factories import (
    make_assessment,
    make_consultant,
    make_export,
    make_grant,
    make_organisation,
    make_response,
    make_team,
)

# Per chart: its width on the page, and the smallest rendered size of its text (the SVG's
# font size in user units times the scale the viewBox is drawn at).
CHART_METRICS = """() => [...document.querySelectorAll('svg.radar-chart')].map(svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = [...svg.querySelectorAll('text')].map(
    t => parseFloat(getComputedStyle(t).fontSize) * scale);
  return {width: svg.getBoundingClientRect().width, smallest: Math.min(...sizes),
          texts: sizes.length};
})"""
PAGE_WIDTH = "() => document.documentElement.scrollWidth"


@pytest.fixture
def world(live_server):
    organisation = make_organisation("Harbour Ltd", manager="harriet")
    consultant = make_consultant("cora", name="Clear View Consulting")
    make_grant(organisation, consultant.consultancy)
    assessments = []
    for team_name, slugs, status in (
        ("Help desk with a long name for a narrow phone", ("win4", "holistic"), "submitted"),
        ("Returns", ("six-dimensions",), "approved"),
    ):
        assessment = make_assessment(make_team(organisation, team_name), slugs=slugs, status=status)
        for levels in ([5, 1, 4, 2], [4, 2, 4, 3], [3, 1, 3, 2]):
            make_response(assessment, levels=levels, status="completed")
        assessments.append(assessment)
    export = make_export(
        consultant,
        assessments=assessments,
        archive=b"zip",
        finished_at=timezone.now(),
        done=len(assessments),
    )
    running = make_export(consultant, assessments=assessments, status="running", done=1)
    return live_server.url, organisation, consultant, assessments, (export, running)


def page_at(browser: Browser, width: int) -> Page:
    context = browser.new_context(locale="en-GB", viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.mark.django_db(transaction=True)
def test_chart_labels_are_at_least_11_px_on_a_desktop_and_a_phone(world, browser):
    base, organisation, _consultant, assessments, _exports = world
    results = reverse("assessment:results", kwargs={"pk": assessments[0].pk})
    for width, narrowest in ((1280, 320), (390, 300)):
        page = page_at(browser, width)
        sign_in(page, base, organisation.manager.username)
        page.goto(base + results)

        charts = page.evaluate(CHART_METRICS)

        assert len(charts) == 2
        for chart in charts:
            assert chart["width"] >= narrowest, (width, chart)
            assert chart["smallest"] >= 11, (width, chart)
            assert chart["texts"] >= 4 + 4 + 2 + 1  # axes, rings, legend, its note
        assert page.evaluate(PAGE_WIDTH) <= width
        # The manager's page of consultant grants fits too.
        page.goto(base + reverse("assessment:consultant_grants"))
        assert page.evaluate(PAGE_WIDTH) <= width
        page.context.close()


@pytest.mark.django_db(transaction=True)
def test_the_consultants_pages_fit_390_px_with_their_actions_in_reach(world, browser):
    base, _organisation, consultant, _assessments, (export, running) = world
    page = page_at(browser, 390)
    sign_in(page, base, consultant.username)
    widths = {}
    for name, args in (
        ("assessment:portfolio", []),
        ("assessment:bulk_list", []),
        ("assessment:bulk_new", []),
        ("assessment:bulk_detail", [export.pk]),
        ("assessment:bulk_detail", [running.pk]),
        ("assessment:branding", []),
    ):
        page.goto(base + reverse(name, args=args))
        widths[(name, *args)] = page.evaluate(PAGE_WIDTH)
    page.goto(base + reverse("assessment:portfolio"))
    export_button = page.get_by_role("link", name="Export many reports")
    box = export_button.bounding_box()
    page.context.close()

    assert all(width <= 390 for width in widths.values()), widths
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
