import pytest
from playwright.sync_api import expect

from tests.factories import make_user


@pytest.mark.django_db(transaction=True)
def test_the_landing_page_loads_its_assets_without_csp_violations(live_server, page, console):
    responses = []
    page.on("response", lambda r: responses.append((r.url, r.status)))

    page.goto(live_server.url)

    expect(page.get_by_role("heading", level=1)).to_contain_text("balanced")
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()
    assert console.errors == []
    assert all(status < 400 for _, status in responses), responses
    assert any(url.endswith("bootstrap.min.css") for url, _ in responses)
    assert page.evaluate("typeof window.htmx") == "object"


@pytest.mark.django_db(transaction=True)
def test_a_user_signs_in_with_the_keyboard_on_a_phone_sized_screen(live_server, browser):
    make_user("maria", password="correct-horse-battery", first_name="Maria")
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.goto(live_server.url)

    page.get_by_role("button", name="Toggle navigation").click()
    page.get_by_role("navigation").get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.keyboard.press("Enter")

    page.get_by_role("button", name="Toggle navigation").click()
    expect(page.get_by_role("button", name="Maria")).to_be_visible()
    context.close()
