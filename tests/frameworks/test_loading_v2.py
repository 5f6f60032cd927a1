"""Format 2 (issue 14): v1 stays loadable, the shipped v2 files validate, both load side by side."""

import copy
import io
import tomllib
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from frameworks.loading import (
    AUDIENCES,
    FrameworkFileError,
    check_concept_coverage,
    framework_files,
    load_shared,
    parse_directory,
    parse_files,
    parse_framework,
    parse_framework_file,
)
from frameworks.models import Concept, Framework, FrameworkVersion, Question
from tests.frameworks.editions import DATA, SLUGS, V1, V1_HASHES, released_v2

DRAFTS_DIR = DATA
DRAFTS = [DRAFTS_DIR / f"{slug}.toml" for slug in SLUGS]
# What issue 14 released as version 2 (the rules of issue 15 came later, as version 3).
RELEASED = released_v2()


def load(*paths: Path) -> str:
    out = io.StringIO()
    call_command("load_frameworks", *[str(p) for p in paths], stdout=out)
    return out.getvalue()


def draft(slug: str) -> dict:
    with (DRAFTS_DIR / f"{slug}.toml").open("rb") as handle:
        return tomllib.load(handle)


def parse_draft(document: dict, slug: str):
    return parse_framework(document, path=f"{slug}.toml", shared=load_shared(DATA))


# --- v1 stays exactly as it was -------------------------------------------------


def test_v1_files_keep_the_content_hash_existing_installs_loaded():
    hashes = {path.stem: parse_framework_file(path).content_hash() for path in V1}

    assert hashes == V1_HASHES


def test_an_explicit_format_1_changes_nothing_in_the_hash(tmp_path):
    with V1[0].open("rb") as handle:
        document = tomllib.load(handle)
    document["format"] = 1

    assert parse_framework(document, path="x.toml").content_hash() == V1_HASHES[V1[0].stem]


def test_loading_the_defaults_on_an_existing_install_changes_nothing(db):
    # The session fixture loaded the defaults once: v1 and v2 (archived), then the current.
    output = load()

    assert output.count("questions  unchanged") == len(framework_files(DATA))
    assert "customer-voice       v1   10 attributes  unchanged" in output
    assert set(FrameworkVersion.objects.values_list("number", "format")) == {
        (1, 1),
        (2, 2),
        (3, 2),
    }


# --- the shipped v2 files: every question is complete ------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_every_v2_question_has_anchors_an_audience_criteria_and_known_concepts(slug):
    parsed = parse_framework_file(DRAFTS_DIR / f"{slug}.toml", shared=load_shared(DATA))
    known = {c.key for c in load_shared(DATA).concepts}

    assert parsed.format == 2
    assert [lv.value for lv in parsed.scale] == [0, 1, 2, 3, 4, 5]
    for q in parsed.questions:
        assert len(q.anchors) == 6, q.code
        assert all(q.anchors), q.code
        assert q.audience in AUDIENCES, q.code
        assert q.criteria, q.code
        assert q.evidence, q.code
        assert q.concepts, q.code
        assert set(q.concepts) <= known, q.code
    assert parsed.reversed_count() * 5 >= len(parsed.questions)
    assert all(s.source_idea for s in parsed.sections)


def _drop_anchor(q):
    q["anchors"] = q["anchors"][:5]


def _blank_anchor(q):
    q["anchors"][0] = " "


def _drop(key):
    def change(q):
        del q[key]

    return change


def _set(key, value):
    def change(q):
        q[key] = value

    return change


BROKEN_QUESTIONS = {
    "an anchor is missing": (_drop_anchor, "anchors"),
    "level 0's anchor is blank": (_blank_anchor, "anchors[0]"),
    "no audience": (_drop("audience"), "audience"),
    "an unknown audience": (_set("audience", "owners"), "audience"),
    "no criteria": (_drop("criteria"), "criteria"),
    "blank criteria": (_set("criteria", ""), "criteria"),
    "no evidence prompts": (_set("evidence", []), "evidence"),
    "no concept": (_set("concepts", []), "concepts"),
    "an unknown concept": (_set("concepts", ["happiness"]), "concepts[0]"),
    "reversed is not a boolean": (_set("reversed", "yes"), "reversed"),
}


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("broken", BROKEN_QUESTIONS, ids=list(BROKEN_QUESTIONS))
def test_a_v2_file_with_an_incomplete_question_is_refused_naming_the_key(slug, broken):
    change, key = BROKEN_QUESTIONS[broken]
    document = draft(slug)
    index = len(document["questions"]) - 1
    change(document["questions"][index])

    with pytest.raises(FrameworkFileError) as caught:
        parse_draft(document, slug)

    assert caught.value.path == f"{slug}.toml"
    assert caught.value.key == f"questions[{index}].{key}"


@pytest.mark.parametrize("slug", SLUGS)
def test_a_duplicate_code_in_a_v2_file_is_refused(slug):
    document = draft(slug)
    document["questions"][1]["code"] = document["questions"][0]["code"]

    with pytest.raises(FrameworkFileError) as caught:
        parse_draft(document, slug)

    assert caught.value.key == "questions[1].code"


@pytest.mark.parametrize("slug", SLUGS)
def test_a_v2_file_with_fewer_than_a_fifth_reversed_is_refused(slug):
    document = draft(slug)
    for q in document["questions"]:
        q["reversed"] = False

    with pytest.raises(FrameworkFileError) as caught:
        parse_draft(document, slug)

    assert caught.value.key == "questions"
    assert "reversed" in caught.value.message


def test_every_concept_is_measured_by_at_least_two_frameworks():
    parsed = parse_files(DRAFTS, shared_dir=DATA)  # raises if not
    shared = load_shared(DATA)

    for concept in shared.concepts:
        measuring = [p.slug for p in parsed if concept.key in p.concepts_covered()]
        assert len(measuring) >= 2, concept.key


@pytest.mark.parametrize("slug", SLUGS)
def test_a_concept_left_to_one_framework_is_refused(slug):
    shared = load_shared(DATA)
    parsed = {p.slug: p for p in parse_files(DRAFTS, shared_dir=DATA)}
    concept = parsed[slug].concepts_covered()[0]
    # Every other framework stops tagging it: only `slug` still measures it.
    documents = {s: draft(s) for s in SLUGS}
    for other, document in documents.items():
        if other == slug:
            continue
        for q in document["questions"]:
            if concept in q["concepts"]:
                q["concepts"] = [c for c in q["concepts"] if c != concept] or [
                    next(c.key for c in shared.concepts if c.key != concept)
                ]
    reparsed = [parse_framework(d, path=f"{s}.toml", shared=shared) for s, d in documents.items()]

    with pytest.raises(FrameworkFileError) as caught:
        check_concept_coverage(reparsed, shared)

    assert caught.value.path.endswith("concepts.toml")
    assert concept in caught.value.message


def test_service_definition_asks_every_attribute_from_both_sides():
    parsed = parse_framework_file(DRAFTS_DIR / "service-definition.toml", shared=load_shared(DATA))

    sides: dict[str, set[str]] = {}
    for q in parsed.questions:
        sides.setdefault(q.attribute, set()).add(q.side)
    assert "" not in sides
    assert all(found == {"business", "customer"} for found in sides.values())


def test_an_attribute_asked_from_one_side_only_is_refused():
    document = draft("service-definition")
    first = document["questions"][0]
    for q in document["questions"]:
        if q["attribute"] == first["attribute"]:
            q["side"] = first["side"]

    with pytest.raises(FrameworkFileError) as caught:
        parse_draft(document, "service-definition")

    assert caught.value.key == "questions[0].attribute"


def test_a_format_2_file_may_not_bring_its_own_scale():
    document = draft("win4")
    document["scale"] = [{"value": 1, "label": "x", "descriptor": "y"}]

    with pytest.raises(FrameworkFileError) as caught:
        parse_draft(document, "win4")

    assert caught.value.key == "scale"


def test_the_v2_hash_covers_anchors_audience_and_concepts():
    base = parse_draft(draft("win4"), "win4").content_hash()
    for field, value in [("audience", "leadership"), ("criteria", "Other."), ("reversed", True)]:
        document = draft("win4")
        document["questions"][0][field] = value
        assert parse_draft(document, "win4").content_hash() != base, field
    document = draft("win4")
    document["questions"][0]["anchors"][3] = "Something else entirely."
    assert parse_draft(document, "win4").content_hash() != base


def test_the_data_folder_parses_on_its_own():
    assert [p.slug for p in parse_directory(DRAFTS_DIR)] == list(SLUGS)


# --- load_frameworks: v1 and v2 side by side ---------------------------------------
# These load the release of issue 14 (RELEASED); what issue 15's rules add on top, as
# version 3, is tested in test_v2_archive.py.


def test_a_fresh_database_gets_v1_then_v2_and_a_second_run_changes_nothing(no_frameworks):
    first = load(*V1, *RELEASED)
    second = load(*V1, *RELEASED)

    assert first.count("questions  created\n") == 4  # v1 of each framework
    assert first.count("created as a new version") == 4  # v2, the next version of each
    assert second.count("unchanged") == 8
    for slug in SLUGS:
        versions = FrameworkVersion.objects.filter(framework__slug=slug).order_by("number")
        assert [(v.number, v.format) for v in versions] == [(1, 1), (2, 2)]
        assert Framework.objects.get(slug=slug).latest_version().number == 2


def test_an_existing_install_gets_v2_as_version_2_and_keeps_v1(no_frameworks):
    load(*V1)  # an install from before frameworks v2
    v1_ids = set(FrameworkVersion.objects.values_list("pk", flat=True))

    first = load(*V1, *RELEASED)
    second = load(*V1, *RELEASED)

    assert first.count("unchanged") == 4
    assert first.count("created as a new version") == 4
    assert second.count("unchanged") == 8
    assert v1_ids <= set(FrameworkVersion.objects.values_list("pk", flat=True))
    assert FrameworkVersion.objects.filter(number=2, format=2).count() == 4


def test_a_loaded_v2_version_holds_the_new_fields(no_frameworks):
    load(*V1, *RELEASED)
    version = FrameworkVersion.objects.get(framework__slug="service-definition", number=2)
    v1 = FrameworkVersion.objects.get(framework__slug="service-definition", number=1)

    assert list(version.levels.values_list("value", flat=True)) == [0, 1, 2, 3, 4, 5]
    assert list(v1.levels.values_list("value", flat=True)) == [1, 2, 3, 4, 5]
    question = version.questions.get(code="SD-BUS-1")
    assert question.audience == Question.Audience.MANAGER
    assert len(question.anchors) == 6
    assert question.criteria
    assert question.evidence
    assert (question.attribute, question.side) == ("on-time", "business")
    assert set(question.concepts.values_list("key", flat=True)) == {"standards", "expectations"}
    assert all(s.source_idea for s in version.sections.all())
    assert Concept.objects.count() == len(load_shared(DATA).concepts)
    old = v1.questions.first()
    assert (old.audience, old.anchors, old.criteria, old.reversed) == ("team", [], "", False)


def test_an_edited_archived_edition_is_refused(no_frameworks, tmp_path):
    load(*V1, *DRAFTS)
    edited = tmp_path / "v1" / "win4.toml"
    edited.parent.mkdir()
    edited.write_text(V1[-1].read_text().replace("Barely meets", "Hardly meets", 1))

    with pytest.raises(CommandError) as caught:
        load(edited, *DRAFTS)

    assert "archived files must not change" in str(caught.value)
    assert FrameworkVersion.objects.filter(framework__slug="win4").count() == 2


def test_check_prints_a_table_per_v2_framework_and_writes_nothing(no_frameworks):
    out = io.StringIO()
    call_command("load_frameworks", "--check", *[str(p) for p in DRAFTS], stdout=out)
    text = out.getvalue()

    assert text.count(" ok ") == 4
    assert text.count("concepts covered") == 4
    assert "leadership" in text
    assert "reversed" in text
    assert FrameworkVersion.objects.count() == 0
    # The closing table: every concept with the frameworks that measure it (two or more).
    concepts = text.split("concepts across frameworks (")[1].splitlines()[1:]
    assert len(concepts) == len(load_shared(DATA).concepts)
    for line in concepts:
        _key, count, *frameworks = line.split()
        assert int(count) >= 2, line
        assert len(frameworks) == int(count), line


def test_check_fails_naming_file_and_key(tmp_path):
    document = draft("win4")
    del document["questions"][2]["criteria"]
    # Written as TOML by hand: tests.factories' writer knows format 1's shapes only.
    bad = tmp_path / "win4.toml"
    bad.write_text(_to_toml(document))

    with pytest.raises(CommandError) as caught:
        call_command("load_frameworks", "--check", str(bad), stdout=io.StringIO())

    assert "win4.toml: questions[2].criteria: missing" in str(caught.value)


def _to_toml(document: dict) -> str:
    import json

    def value(v):
        return "true" if v is True else "false" if v is False else json.dumps(v, ensure_ascii=False)

    # Without the translations block: these tests are about the English content.
    lines = [f"{k} = {value(v)}" for k, v in document.items() if not isinstance(v, list | dict)]
    for table in ("sections", "questions"):
        for item in copy.deepcopy(document[table]):
            lines.append(f"\n[[{table}]]")
            lines += [f"{k} = {value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"
