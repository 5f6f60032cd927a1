import re

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from frameworks.models import FrameworkVersion
from tests.factories import make_user


@pytest.mark.django_db
def test_the_landing_page_says_what_the_product_is_and_offers_sign_in(client):
    response = client.get("/")

    assert response.status_code == 200
    assert "Service Balance" in response.text
    assert reverse("login") in response.text
    assert "Win4 sustainable customer service" in response.text


def test_the_landing_page_works_before_any_framework_is_loaded(client, no_frameworks):
    response = client.get("/")

    assert response.status_code == 200
    assert "No frameworks are loaded yet" in response.text


@pytest.mark.django_db
def test_pages_other_than_public_ones_require_sign_in(client):
    response = client.get(reverse("password_change"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_user_signs_in_and_out(client):
    make_user("maria", password="correct-horse-battery")

    signed_in = client.post(
        reverse("login"), {"username": "maria", "password": "correct-horse-battery"}
    )
    home = client.get("/")
    signed_out = client.post(reverse("logout"))

    assert signed_in.status_code == 302
    assert "Sign out" in home.text
    assert signed_out.status_code == 302
    assert "Sign out" not in client.get("/").text


@pytest.mark.django_db
def test_a_wrong_password_gets_a_clear_message(client):
    make_user("maria", password="correct-horse-battery")

    response = client.post(reverse("login"), {"username": "maria", "password": "nope"})

    assert response.status_code == 200
    assert "enter a correct username and password" in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
@pytest.mark.parametrize("field", ["username", "password"])
def test_an_overlong_sign_in_is_refused_beside_its_field_and_not_recorded(client, url, field):
    """Django's sign-in forms never checked the username's length, so a 5,000-character
    one reached django-axes' failure record (255 characters): a 500 on PostgreSQL."""
    make_user("maria", password="correct-horse-battery")
    data = {"username": "maria", "password": "correct-horse-battery"} | {field: "x" * 5000}

    response = client.post(url, data)

    assert response.status_code == 200
    assert "at most" in response.text
    assert not AccessAttempt.objects.exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_signed_in_user_changes_their_password(client):
    user = make_user("maria", password="correct-horse-battery")
    client.force_login(user)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": "correct-horse-battery",
            "new_password1": "a-new-and-long-passphrase",
            "new_password2": "a-new-and-long-passphrase",
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-and-long-passphrase")


@pytest.mark.django_db
def test_a_short_new_password_is_refused(client):
    user = make_user("maria", password="correct-horse-battery")
    client.force_login(user)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": "correct-horse-battery",
            "new_password1": "Short1!x",
            "new_password2": "Short1!x",
        },
    )

    assert response.status_code == 200
    assert "at least 12 characters" in response.text


@pytest.mark.django_db
def test_health_reports_the_database(client):
    response = client.get(reverse("health"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


# --- the glossary -----------------------------------------------------------------------

GLOSSARY_ANCHORS = (
    "responses",
    "spread",
    "levels",
    "score",
    "balance",
    "moderated-score",
    "awarded-level",
    "anonymity-minimum",
    "rounds",
    "self-assessment",
)


@pytest.mark.django_db
def test_the_glossary_explains_each_word_under_its_own_anchor(client, settings):
    settings.ANONYMITY_THRESHOLD = 4

    response = client.get(reverse("glossary"))

    assert response.status_code == 200
    for anchor in GLOSSARY_ANCHORS:
        assert f'id="{anchor}"' in response.text
        assert f'href="#{anchor}"' in response.text  # the page's own contents list
    # The minimum in force, not a number written into the page.
    assert "at least 4 team members have completed" in response.text


@pytest.mark.django_db
def test_the_glossary_reads_the_levels_from_the_frameworks_scale(client):
    """The newest editions are format 2: the ladder runs from 0, "not in place", to 5, and
    every level is 20 points on the 0-100 score."""
    response = client.get(reverse("glossary"))

    levels = response.context["levels"]
    assert [step.value for step in levels] == [0, 1, 2, 3, 4, 5]
    assert [step.score for step in levels] == [0, 20, 40, 60, 80, 100]
    assert (levels[0].band_from, levels[0].band_to) == (0, 10)
    assert (levels[3].band_from, levels[3].band_to) == (50, 70)
    assert levels[0].labels == ("Not in place",)
    assert levels[5].labels == ("Superior: a model others learn from",)
    assert "Level 0: Not in place" in response.text
    assert "Level 3: Exceeds expectations" in response.text
    # The four frameworks share the ladder: one meaning per level, naming all four.
    assert len(levels[2].meanings) == 1
    assert levels[2].meanings[0].descriptor == (
        "What customers expect is delivered as a matter of routine, whoever is on duty."
    )
    for name in FrameworkVersion.objects.filter(format=2).values_list("name", flat=True):
        assert name in levels[2].meanings[0].framework
    # The format-1 ladder (levels 1-5, its own words per framework) is no longer shown.
    assert "This party gains visibly from how service is run" not in response.text


@pytest.mark.django_db
def test_the_glossary_shows_the_format_1_ladder_while_it_is_the_newest(client):
    """Read from the frameworks, not written into the page: with only the format-1
    editions loaded, the glossary shows their levels 1-5 and each framework's words."""
    FrameworkVersion.objects.filter(format=2).delete()

    response = client.get(reverse("glossary"))

    levels = response.context["levels"]
    assert [step.value for step in levels] == [1, 2, 3, 4, 5]
    assert [step.score for step in levels] == [0, 25, 50, 75, 100]
    assert (levels[2].band_from, levels[2].band_to) == (37.5, 62.5)
    # Three frameworks call level 1 one thing, one another: the common name comes first.
    assert levels[0].labels == ("Barely meets expectations", "Barely delivers what is expected")
    win4 = "This party gains visibly from how service is run"
    assert any(win4 in meaning.descriptor for meaning in levels[2].meanings)
    assert win4 in response.text


@pytest.mark.django_db
def test_the_glossary_takes_one_query_for_the_scale(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        client.get(reverse("glossary"))


def test_the_glossary_works_before_any_framework_is_loaded(client, no_frameworks):
    response = client.get(reverse("glossary"))

    assert response.status_code == 200
    # The ladder new frameworks are written in, without names until they are loaded.
    assert [step.labels for step in response.context["levels"]] == [()] * 6
    assert "Level 0" in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/scoring/", "/frameworks/"])
def test_every_page_links_the_glossary_and_the_scoring_rules(client, url):
    response = client.get(url)

    assert f'href="{reverse("glossary")}"' in response.text
    assert f'href="{reverse("scoring")}"' in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/scoring/", "/frameworks/", "/frameworks/win4/"])
def test_public_pages_say_section_never_part(client, url):
    """A framework's sections are "sections" everywhere, as in the PDF report. (The
    frameworks' own text may say "part of" in its ordinary sense.)"""
    response = client.get(url)

    assert response.status_code == 200
    assert (
        re.findall(r"\b(?:\d+|its|the|which|a|each|every|lowest-scoring) parts?\b", response.text)
        == []
    )


@pytest.mark.django_db
def test_a_refused_form_summarises_its_errors_with_links_and_takes_the_focus(client):
    """The shared summary (partials/form_errors.html): one link per field in error, to the
    field itself; the summary is focused on load, without a script."""
    client.force_login(make_user("maria", password="correct-horse-battery"))

    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "Short1!x", "new_password2": "Short1!x"},
    )

    summary = re.search(
        r'<div class="[^"]*error-summary[^"]*"[^>]*>(.*?)</div>', response.text, re.S
    )
    assert summary is not None
    assert "autofocus" in summary.group(0)
    assert 'tabindex="-1"' in summary.group(0)
    links = re.findall(r'<a href="#(id_\w+)">([^<]+)</a>', summary.group(1))
    assert [field for field, _label in links] == ["id_old_password", "id_new_password2"]
    for field, _label in links:
        assert f'id="{field}"' in response.text
    assert "Please correct the 2 errors below." in summary.group(1)
