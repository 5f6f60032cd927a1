import html
import re

import pytest
from django.urls import reverse

from frameworks.models import Framework, FrameworkVersion, Question

SLUGS = ["holistic", "win4", "six-dimensions", "service-definition"]


def escaped(text: str) -> str:
    """As the template writes a value (Django escapes as html.escape does)."""
    return html.escape(text)


def current(slug: str) -> FrameworkVersion:
    """The edition a framework's page shows: its newest version."""
    return Framework.objects.get(slug=slug).latest_version()


def detail(client, slug: str):
    return client.get(reverse("frameworks:detail", kwargs={"slug": slug}))


@pytest.mark.django_db
def test_anyone_can_read_the_list_of_frameworks(client):
    response = client.get(reverse("frameworks:list"))

    assert response.status_code == 200
    for slug in SLUGS:
        assert current(slug).name in response.text
    assert "five-level" not in response.text


@pytest.mark.django_db
def test_a_framework_page_shows_its_scale_and_every_question(client):
    """The current edition (format 2): the 0-5 ladder with its words, "not applicable
    to us" and "don't know" apart, and every question with who it is asked of, its six
    anchors, whether it is negatively worded and the concepts it measures."""
    version = current("six-dimensions")
    assert version.format == 2

    response = detail(client, "six-dimensions")

    assert response.status_code == 200
    assert response.context["version"] == version
    text = response.text
    assert [level.value for level in version.levels.all()] == [0, 1, 2, 3, 4, 5]
    for level in version.levels.all():
        assert f'<th scope="row">{level.value}</th><td>{escaped(level.label)}</td>' in text
        assert escaped(level.descriptor) in text
    assert "Not applicable to us" in text
    assert "Don't know" in text
    assert "Not applicable / don't know" not in text
    questions = version.questions.prefetch_related("concepts")
    assert questions.count() == 40
    for question in questions:
        assert escaped(question.text) in text
        item = text[text.index(escaped(question.text)) :]
        item = item[: item.index("</details>")]
        assert f"Asked of: {question.get_audience_display()}" in item
        assert ("Negatively worded" in item) == question.reversed
        for level, anchor in enumerate(question.anchors):
            assert f"<dt>Level {level}</dt>" in item
            assert escaped(anchor) in item
        for concept in question.concepts.all():
            assert escaped(concept.name) in item
    for section in version.sections.all():
        assert escaped(section.description) in text


@pytest.mark.django_db
def test_a_negatively_worded_question_lists_its_anchors_in_its_own_direction(client):
    """As the questionnaire shows them (Question.options): from the statement not holding
    (level 5) to it holding fully (level 0)."""
    question = Question.objects.filter(version=current("win4"), reversed=True).first()

    text = detail(client, "win4").text

    item = text[text.index(escaped(question.text)) :]
    item = item[: item.index("</details>")]
    levels = [int(n) for n in re.findall(r"<dt>Level (\d)</dt>", item)]
    assert levels == [5, 4, 3, 2, 1, 0]


@pytest.mark.django_db
def test_service_definition_says_which_side_each_paired_question_asks_from(client):
    version = current("service-definition")
    paired = version.questions.exclude(attribute="")

    text = detail(client, "service-definition").text

    assert paired.filter(side="business").exists()
    assert paired.filter(side="customer").exists()
    for question in paired:
        item = text[text.index(escaped(question.text)) :]
        item = item[: item.index("</details>")]
        assert question.get_side_display() in item


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_a_framework_page_never_shows_the_assessors_criteria_or_evidence(client, slug):
    version = current(slug)

    text = detail(client, slug).text

    for question in version.questions.all():
        assert question.criteria
        assert escaped(question.criteria) not in text
        for prompt in question.evidence:
            assert escaped(prompt) not in text


@pytest.mark.django_db
def test_a_format_1_edition_renders_as_before(client):
    """While an edition of format 1 is the newest (as before v2 was published): levels 1-5,
    one merged "not applicable / don't know", and no audiences, anchors or concepts."""
    FrameworkVersion.objects.filter(framework__slug="six-dimensions", format=2).delete()
    version = FrameworkVersion.objects.get(framework__slug="six-dimensions", number=1)

    response = detail(client, "six-dimensions")

    assert response.status_code == 200
    text = response.text
    assert [level.value for level in version.levels.all()] == [1, 2, 3, 4, 5]
    for level in version.levels.all():
        assert escaped(level.label) in text
    for question in version.questions.all():
        assert escaped(question.text) in text
        assert escaped(question.help_text) in text
    assert "Not applicable / don't know" in text
    assert "Asked of" not in text
    assert "What each level looks like" not in text
    assert "Negatively worded" not in text


@pytest.mark.django_db
def test_the_framework_page_uses_a_constant_number_of_queries(client, django_assert_num_queries):
    # The version, its levels, sections, questions and their concepts.
    with django_assert_num_queries(5):
        detail(client, "six-dimensions")


@pytest.mark.django_db
def test_an_unknown_framework_is_a_friendly_404(client):
    response = detail(client, "no-such-thing")

    assert response.status_code == 404
    assert "Page not found" in response.text
