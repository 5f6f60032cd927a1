"""Framework rules declared in the TOML (issue 15): validated by the loader, part of the
version's content, stored on load."""

import io
import tomllib
from pathlib import Path

import pytest
from django.core.management import call_command

from frameworks.loading import (
    FrameworkFileError,
    ParsedRule,
    load_shared,
    parse_files,
    parse_framework,
)
from frameworks.models import Framework, FrameworkRule, FrameworkVersion
from tests.frameworks.editions import CURRENT, DATA, RELEASED_V2_HASHES, WITH_RULES


def document(slug: str) -> dict:
    with (DATA / f"{slug}.toml").open("rb") as handle:
        return tomllib.load(handle)


def parse(data: dict, slug: str):
    return parse_framework(data, path=f"{slug}.toml", shared=load_shared(DATA))


def with_rule(slug: str = "service-definition", **rule: object) -> dict:
    data = document(slug)
    data["rules"] = [rule]
    # The file's German names its own rules; these tests are about rules, not languages.
    data.pop("translations", None)
    return data


def refused(data: dict, slug: str = "service-definition") -> FrameworkFileError:
    with pytest.raises(FrameworkFileError) as caught:
        parse(data, slug)
    assert caught.value.path == f"{slug}.toml"
    return caught.value


def load(*paths: Path, check: bool = False) -> str:
    out = io.StringIO()
    args = [str(p) for p in paths] + (["--check"] if check else [])
    call_command("load_frameworks", *args, stdout=out)
    return out.getvalue()


GOOD = {
    "kind": "leads",
    "section": "customer_experienced",
    "over": "business_defined",
    "tolerance": 0,
    "why": "Customers lead.",
}


# --- the shipped rules -------------------------------------------------------------


def test_the_shipped_files_declare_the_models_rules():
    parsed = {p.slug: p for p in parse_files(CURRENT, shared_dir=DATA)}

    assert [
        (r.kind, r.section, r.over, r.tolerance) for r in parsed["service-definition"].rules
    ] == [
        ("leads", "customer_experienced", "business_defined", 0),
        ("precedes", "customer_experienced", "excellence", 10),
    ]
    assert [(r.kind, r.section, r.over, r.tolerance) for r in parsed["six-dimensions"].rules] == [
        ("one_at_a_time", "", "", 20),
    ]
    assert parsed["win4"].rules == ()
    assert parsed["holistic"].rules == ()
    assert all(r.why for p in parsed.values() for r in p.rules)


# --- validation: errors name the file and the key -------------------------------------


def test_a_valid_rule_parses():
    parsed = parse(with_rule(**GOOD), "service-definition")

    assert parsed.rules == (
        ParsedRule("leads", "customer_experienced", "business_defined", 0, "Customers lead."),
    )


def test_an_unknown_kind_is_refused_naming_the_known_ones():
    error = refused(with_rule(**{**GOOD, "kind": "follows"}))

    assert error.key == "rules[0].kind"
    assert "leads, precedes, one_at_a_time" in error.message


@pytest.mark.parametrize("name", ["section", "over"])
def test_an_unknown_section_key_is_refused(name):
    error = refused(with_rule(**{**GOOD, name: "delivery"}))

    assert error.key == f"rules[0].{name}"
    assert "unknown section 'delivery'" in error.message
    assert "customer_experienced" in error.message


@pytest.mark.parametrize("name", ["section", "over", "tolerance", "why"])
def test_a_pairwise_rule_needs_every_key(name):
    rule = dict(GOOD)
    del rule[name]

    assert refused(with_rule(**rule)).key == f"rules[0].{name}"


def test_a_rule_over_the_same_section_is_refused():
    error = refused(with_rule(**{**GOOD, "over": "customer_experienced"}))

    assert error.key == "rules[0].over"


@pytest.mark.parametrize("tolerance", [-1, 100.5, 1000, True, "10"])
def test_a_tolerance_outside_0_to_100_or_not_a_number_is_refused(tolerance):
    error = refused(with_rule(**{**GOOD, "tolerance": tolerance}))

    assert error.key == "rules[0].tolerance"


@pytest.mark.parametrize("tolerance", [0, 12.5, 100])
def test_a_tolerance_from_0_to_100_is_accepted(tolerance):
    [rule] = parse(with_rule(**{**GOOD, "tolerance": tolerance}), "service-definition").rules

    assert rule.tolerance == tolerance


def test_one_at_a_time_names_no_section():
    rule = {"kind": "one_at_a_time", "section": "team", "tolerance": 20, "why": "Tie them."}

    error = refused(with_rule("six-dimensions", **rule), "six-dimensions")

    assert error.key == "rules[0].section"
    assert "unknown key" in error.message


def test_an_unknown_key_in_a_rule_is_refused():
    assert refused(with_rule(**{**GOOD, "severity": "high"})).key == "rules[0].severity"


def test_a_rule_declared_twice_is_refused():
    data = document("service-definition")
    data["rules"] = [GOOD, {**GOOD, "tolerance": 5, "why": "Again."}]

    error = refused(data)

    assert error.key == "rules[1].kind"
    assert "declared twice" in error.message


def test_rules_must_be_an_array_of_tables():
    data = document("service-definition")
    data["rules"] = "leads"

    assert refused(data).key == "rules"


def test_a_format_1_file_may_not_declare_rules():
    with (DATA / "v1" / "win4.toml").open("rb") as handle:
        data = tomllib.load(handle)
    data["rules"] = [{**GOOD, "section": "customers", "over": "owners"}]

    with pytest.raises(FrameworkFileError) as caught:
        parse_framework(data, path="win4.toml")

    assert caught.value.key == "rules"
    assert "format = 2" in caught.value.message


# --- rules are content: the hash ---------------------------------------------------------


def test_frameworks_without_rules_keep_the_hash_issue_14_released():
    parsed = {p.slug: p for p in parse_files(CURRENT, shared_dir=DATA)}

    for slug in ("holistic", "win4"):
        assert parsed[slug].content_hash() == RELEASED_V2_HASHES[slug], slug


def test_rules_change_the_hash():
    parsed = {p.slug: p for p in parse_files(CURRENT, shared_dir=DATA)}
    for slug in WITH_RULES:
        assert parsed[slug].content_hash() != RELEASED_V2_HASHES[slug], slug
        stripped = document(slug)
        del stripped["rules"]
        del stripped["translations"]  # it names the rules; translations never change a hash
        assert parse(stripped, slug).content_hash() == RELEASED_V2_HASHES[slug], slug

    base = parse(document("service-definition"), "service-definition").content_hash()
    for name, value in [("tolerance", 5), ("why", "Another reason."), ("kind", "precedes")]:
        changed = document("service-definition")
        changed["rules"][0][name] = value
        changed.pop("translations")
        assert parse(changed, "service-definition").content_hash() != base, name


# --- load_frameworks: stored on load, a new version where rules arrived ----------------------


def test_loading_stores_the_rules_with_their_sections(no_frameworks):
    load()

    version = Framework.objects.get(slug="service-definition").latest_version()
    rules = list(version.rules.select_related("section", "over"))
    assert [(r.position, r.kind, r.section.key, r.over.key, r.tolerance) for r in rules] == [
        (1, "leads", "customer_experienced", "business_defined", 0),
        (2, "precedes", "customer_experienced", "excellence", 10),
    ]
    assert all(r.section.version_id == version.pk for r in rules)
    [six] = Framework.objects.get(slug="six-dimensions").latest_version().rules.all()
    assert (six.kind, six.section, six.over, six.tolerance) == ("one_at_a_time", None, None, 20)
    assert six.why.startswith("The six dimensions may be built one at a time")
    assert not FrameworkRule.objects.filter(version__framework__slug__in=["win4", "holistic"])
    # The released version 2 and version 1 have none (tests/frameworks/test_v2_archive.py).
    assert not FrameworkRule.objects.filter(version__number__in=[1, 2])


def test_the_check_summary_lists_the_rules(no_frameworks):
    output = load(*CURRENT, check=True)

    assert "  rule: leads customer_experienced over business_defined, tolerance 0\n" in output
    assert "  rule: precedes customer_experienced over excellence, tolerance 10\n" in output
    assert "  rule: one_at_a_time, tolerance 20\n" in output
    assert not FrameworkVersion.objects.exists()
