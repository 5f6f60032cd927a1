import io
import tomllib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from frameworks.loading import (
    FrameworkFileError,
    framework_files,
    parse_data_dir,
    parse_framework,
    parse_framework_file,
)
from frameworks.models import Framework, FrameworkVersion, Question, ScaleLevel, Section
from frameworks.services import SyncStatus, sync_frameworks
from tests.factories import framework_document, write_framework

# Sections per framework: version 1 (frameworks/data/v1/) and version 2, the current one.
SHIPPED_V1 = {"holistic": 4, "win4": 4, "six-dimensions": 6, "service-definition": 4}
SHIPPED = {"holistic": 4, "win4": 4, "six-dimensions": 6, "service-definition": 3}


def load(*paths: Path) -> str:
    out = io.StringIO()
    call_command("load_frameworks", *[str(p) for p in paths], stdout=out)
    return out.getvalue()


def database_snapshot() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (Framework, FrameworkVersion, ScaleLevel, Section, Question)
    )


# --- parse: pure, no database ------------------------------------------------


def test_it_parses_a_valid_document_into_sections_and_questions():
    parsed = parse_framework(framework_document(sections=3), path="demo.toml")

    assert [s.key for s in parsed.sections] == ["part_1", "part_2", "part_3"]
    assert len(parsed.questions) == 15
    assert [lv.value for lv in parsed.scale] == [1, 2, 3, 4, 5]


def test_content_hash_ignores_the_path_but_not_the_content():
    document = framework_document()
    first = parse_framework(document, path="a/demo.toml").content_hash()
    moved = parse_framework(document, path="b/demo.toml").content_hash()
    document["questions"][0]["text"] = "Reworded."
    changed = parse_framework(document, path="a/demo.toml").content_hash()

    assert first == moved
    assert first != changed


def _without(key):
    def change(doc):
        del doc[key]

    return change


def _set_question(index, field, value):
    def change(doc):
        doc["questions"][index][field] = value

    return change


def _scale_values(*values):
    def change(doc):
        doc["scale"] = [
            {"value": v, "label": f"L{v}", "descriptor": "Something seen."} for v in values
        ]

    return change


def _drop_question(doc):
    doc["questions"] = doc["questions"][1:]


def _too_many_questions(doc):
    doc["questions"] += [
        {"code": f"EXTRA-{n}", "section": "part_2", "text": "More.", "help": "More."}
        for n in range(56)
    ]


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        (_without("name"), "name", "missing"),
        (_without("questions"), "questions", "missing"),
        (_set_question(3, "code", "Q-1-1"), "questions[3].code", "duplicate question code"),
        (_set_question(2, "section", "nowhere"), "questions[2].section", "unknown section"),
        (_set_question(0, "text", ""), "questions[0].text", "must not be empty"),
        (_set_question(0, "text", 7), "questions[0].text", "must be text"),
        (_set_question(1, "colour", "red"), "questions[1].colour", "unknown key"),
        (_scale_values(0, 1, 2, 3, 4), "scale[0].value", "outside the scale"),
        (_scale_values(1, 2, 3, 4, 6), "scale[4].value", "outside the scale"),
        (_scale_values(1, 2, 3, 4), "scale", "missing 5"),
        (_scale_values(1, 2, 2, 4, 5), "scale[2].value", "appears twice"),
        (_drop_question, "sections[0]", "at least 5"),
        (_too_many_questions, "sections[1]", "at most 60"),
    ],
)
def test_a_rule_broken_names_the_file_and_the_key(tmp_path, change, key, message):
    document = framework_document()
    change(document)
    path = write_framework(tmp_path, document)

    with pytest.raises(FrameworkFileError) as caught:
        parse_framework_file(path)

    assert caught.value.path == str(path)
    assert caught.value.key == key
    assert message in caught.value.message
    assert str(path) in str(caught.value)
    assert key in str(caught.value)


def test_a_toml_syntax_error_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('slug = "broken"\nname = "unterminated\n', encoding="utf-8")

    with pytest.raises(FrameworkFileError) as caught:
        parse_framework_file(path)

    assert caught.value.key == "(syntax)"
    assert "line 2" in caught.value.message


def test_the_slug_must_match_the_file_name(tmp_path):
    path = tmp_path / "other.toml"
    path.write_text((tmp_path / "x").name and "", encoding="utf-8")
    document = framework_document("demo")
    write_framework(tmp_path, document).rename(path)

    with pytest.raises(FrameworkFileError) as caught:
        parse_framework_file(path)

    assert caught.value.key == "slug"


# --- the shipped content -----------------------------------------------------


def test_every_shipped_file_parses_with_the_expected_sections():
    every = parse_data_dir(settings.FRAMEWORKS_DATA_DIR)
    v1 = {p.slug: p for p in every if p.format == 1}
    current = {p.slug: p for p in every if p.format == 2}

    assert {slug: len(p.sections) for slug, p in v1.items()} == SHIPPED_V1
    assert {slug: len(p.sections) for slug, p in current.items()} == SHIPPED
    for framework in every:
        for section in framework.sections:
            assert len(framework.questions_in(section.key)) >= 5, (framework.slug, section.key)
        assert all(q.help for q in framework.questions)


def test_shipped_files_are_plain_toml_without_unknown_keys():
    for path in framework_files(settings.FRAMEWORKS_DATA_DIR):
        with path.open("rb") as handle:
            assert tomllib.load(handle)["slug"] == path.stem


# --- sync: the database -------------------------------------------------------


def test_loading_twice_changes_nothing_the_second_time(no_frameworks):
    first = load()
    snapshot = database_snapshot()
    second = load()

    # Version 1 and version 2 of each of the four frameworks, then version 3 of the two
    # that gained rules since version 2 was released (docs/frameworks.md); and version 1
    # of the customer survey (docs/customer-voice.md).
    assert first.count(" v1 ") == 5
    assert "customer-voice       v1   10 attributes  created" in first
    assert first.count(" v2 ") == 4
    assert first.count(" v3 ") == 2
    assert first.count("created") == 11
    assert second.count("unchanged") == 11  # and the customer survey
    assert "Nothing changed" in second
    assert database_snapshot() == snapshot


def test_the_shipped_frameworks_land_with_their_sections_and_questions(no_frameworks):
    load()

    for shipped, file_format, levels in ((SHIPPED_V1, 1, 5), (SHIPPED, 2, 6)):
        loaded = FrameworkVersion.objects.filter(format=file_format).select_related("framework")
        assert {v.framework.slug for v in loaded} == set(shipped)
        for version in loaded:
            assert version.sections.count() == shipped[version.framework.slug]
            assert version.levels.count() == levels
            for section in version.sections.all():
                assert section.questions.count() >= 5


@pytest.mark.django_db
def test_changed_content_creates_the_next_version_and_keeps_the_old_one(tmp_path):
    document = framework_document()
    path = write_framework(tmp_path, document)
    load(path)
    v1 = FrameworkVersion.objects.get(framework__slug="demo", number=1)
    old_questions = list(v1.questions.order_by("code").values_list("pk", "code", "text"))

    write_framework(tmp_path, framework_document(text_suffix=", reworded"))
    output = load(path)

    assert "v2" in output
    assert "created as a new version" in output
    versions = FrameworkVersion.objects.filter(framework__slug="demo").order_by("number")
    assert [v.number for v in versions] == [1, 2]
    assert list(v1.questions.order_by("code").values_list("pk", "code", "text")) == old_questions
    assert versions[1].questions.filter(text__endswith=", reworded.").count() == 15


@pytest.mark.django_db
def test_new_assessments_get_the_newest_version(tmp_path):
    path = write_framework(tmp_path, framework_document())
    load(path)
    write_framework(tmp_path, framework_document(text_suffix=" (v2)"))
    load(path)

    assert Framework.objects.get(slug="demo").latest_version().number == 2


def test_an_invalid_file_loads_nothing_at_all(no_frameworks, tmp_path):
    good = write_framework(tmp_path, framework_document("good"))
    bad_document = framework_document("bad")
    bad_document["questions"][4]["section"] = "nowhere"
    bad = write_framework(tmp_path, bad_document)

    with pytest.raises(CommandError) as caught:
        load(good, bad)

    assert "Nothing was loaded" in str(caught.value)
    assert "bad.toml: questions[4].section" in str(caught.value)
    assert database_snapshot() == (0, 0, 0, 0, 0)


def test_a_failure_while_writing_rolls_everything_back(no_frameworks, tmp_path):
    parsed = [
        parse_framework_file(write_framework(tmp_path, framework_document("first"))),
        parse_framework_file(write_framework(tmp_path, framework_document("second"))),
    ]
    # A duplicate question code slips past parse only if the parsed data is forged;
    # the database constraint must still stop it, and the transaction undo the first.
    forged = parsed[1].__class__(
        **{**parsed[1].__dict__, "questions": parsed[1].questions + parsed[1].questions[:1]}
    )

    with pytest.raises(Exception, match=r"(?i)unique"):
        sync_frameworks(parsed=[parsed[0], forged])

    assert database_snapshot() == (0, 0, 0, 0, 0)


def test_check_mode_validates_without_writing(no_frameworks):
    out = io.StringIO()
    call_command("load_frameworks", "--check", stdout=out)

    # v1 of four frameworks, the v2 archive of two, the current four, the customer survey.
    assert out.getvalue().count(" ok ") == 11
    assert "customer-voice       ok   customer survey, 10 attributes" in out.getvalue()
    assert database_snapshot() == (0, 0, 0, 0, 0)


def test_sync_reports_its_status(no_frameworks):
    parsed = parse_data_dir(settings.FRAMEWORKS_DATA_DIR)
    statuses = {r.status for r in sync_frameworks(parsed=parsed)}
    again = {r.status for r in sync_frameworks(parsed=parsed)}

    assert statuses == {SyncStatus.CREATED, SyncStatus.UPDATED}  # v1, then v2 and v3 on top
    assert again == {SyncStatus.UNCHANGED}


def test_a_framework_needs_at_least_three_sections(tmp_path):
    path = write_framework(tmp_path, framework_document(sections=2))

    with pytest.raises(FrameworkFileError) as caught:
        parse_framework_file(path)

    assert caught.value.key == "sections"
    assert "at least 3" in caught.value.message
