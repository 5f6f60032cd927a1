"""Rules arrive as version 3 (issue 15): every install holds the same version 2.

Issue 14 released version 2 of the four frameworks, without rules. Rules are content,
so service-definition and six-dimensions gain them as version 3. Their released files
are archived unchanged in ``data/v2/`` and load after ``data/v1/`` and before the
current files: an install that loaded the release and a fresh install end with the
same versions. Holistic and Win4 did not change and stay at version 2.
"""

import io

import pytest
from django.core.management import CommandError, call_command

from assessment import services
from frameworks.loading import framework_files, load_shared, parse_framework_file
from frameworks.models import Framework, FrameworkVersion
from tests.factories import make_assessment, make_organisation, make_team
from tests.frameworks.editions import (
    CURRENT,
    DATA,
    RELEASED_V2_HASHES,
    SLUGS,
    V1,
    V1_HASHES,
    V2_ARCHIVE,
    WITH_RULES,
    released_v2,
)


def load(*paths, check: bool = False) -> str:
    out = io.StringIO()
    args = [str(p) for p in paths] + (["--check"] if check else [])
    call_command("load_frameworks", *args, stdout=out)
    return out.getvalue()


def parse(path):
    return parse_framework_file(path, shared=load_shared(DATA))


def versions() -> list[tuple]:
    """Every loaded version as plain values: what two installs must agree on."""
    return [
        (v.framework.slug, v.number, v.format, v.content_hash, v.rules.count())
        for v in FrameworkVersion.objects.select_related("framework").order_by(
            "framework__slug", "number"
        )
    ]


def current_hash(slug: str) -> str:
    return parse(DATA / f"{slug}.toml").content_hash()


# --- the archive ---------------------------------------------------------------------


def test_the_v2_archive_holds_the_released_files_of_the_frameworks_that_gained_rules():
    assert tuple(path.stem for path in V2_ARCHIVE) == WITH_RULES
    for path in V2_ARCHIVE:
        parsed = parse(path)
        assert parsed.format == 2, path
        assert parsed.rules == (), path
        assert parsed.content_hash() == RELEASED_V2_HASHES[path.stem], path


def test_a_framework_is_archived_exactly_when_its_current_file_changed_since_the_release():
    for slug in SLUGS:
        changed = current_hash(slug) != RELEASED_V2_HASHES[slug]
        assert (slug in {path.stem for path in V2_ARCHIVE}) == changed, slug
        assert changed == (slug in WITH_RULES), slug
    assert {p.stem: parse(p).content_hash() for p in released_v2()} == RELEASED_V2_HASHES


def test_the_default_files_are_v1_then_v2_then_the_current_files():
    assert framework_files(DATA) == [*V1, *V2_ARCHIVE, *sorted(CURRENT)]


def test_archived_editions_load_in_the_order_of_their_numbers(tmp_path):
    for folder in ("v10", "v2", "v1", "drafts"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "win4.toml").touch()
    (tmp_path / "win4.toml").touch()
    (tmp_path / "concepts.toml").touch()

    files = framework_files(tmp_path)

    assert [str(f.relative_to(tmp_path)) for f in files] == [
        "v1/win4.toml",
        "v2/win4.toml",
        "v10/win4.toml",
        "win4.toml",
    ]


# --- loading --------------------------------------------------------------------------


def test_an_install_that_loaded_the_released_v2_gets_version_3_where_rules_arrived(
    no_frameworks,
):
    load(*V1, *released_v2())  # the install as issue 14 left it
    released = {v.framework.slug: v for v in FrameworkVersion.objects.filter(number=2)}
    assert {slug: v.content_hash for slug, v in released.items()} == RELEASED_V2_HASHES
    team = make_team(make_organisation())
    earlier = make_assessment(team, slugs=WITH_RULES, status="open")
    assert set(earlier.framework_versions.all()) == {released[slug] for slug in WITH_RULES}

    output = load()

    assert output.count("unchanged") == 8  # v1 of four, the v2 archive, holistic and win4
    assert output.count("created as a new version") == 2
    for slug in WITH_RULES:
        assert f"{slug:<20} v3 " in output
    for slug in SLUGS:
        numbers = list(
            FrameworkVersion.objects.filter(framework__slug=slug)
            .order_by("number")
            .values_list("number", flat=True)
        )
        assert numbers == ([1, 2, 3] if slug in WITH_RULES else [1, 2]), slug
    for slug, version in released.items():  # version 2 untouched, still without rules
        stored = FrameworkVersion.objects.get(pk=version.pk)
        assert (stored.number, stored.content_hash) == (2, RELEASED_V2_HASHES[slug])
        assert not stored.rules.exists()
    assert {
        slug: FrameworkVersion.objects.get(framework__slug=slug, number=3).rules.count()
        for slug in WITH_RULES
    } == {"service-definition": 2, "six-dimensions": 1}
    assert set(earlier.framework_versions.all()) == {released[slug] for slug in WITH_RULES}
    created = services.assessment_create(
        team=team,
        title="After the rules",
        framework_slugs=list(SLUGS),
        due_date=None,
        by=team.organisation.manager,
    )
    assert sorted((v.framework.slug, v.number) for v in created.framework_versions.all()) == [
        ("holistic", 2),
        ("service-definition", 3),
        ("six-dimensions", 3),
        ("win4", 2),
    ]
    assert "Nothing changed" in load()


def test_a_fresh_install_gets_v1_then_v2_without_rules_then_v3_with_rules(no_frameworks):
    output = load()

    assert output.count("questions  created\n") == 4  # v1 of each framework
    assert output.count("created as a new version") == 6  # v2 of four, v3 of two
    expected = []
    for slug in SLUGS:
        expected.append((slug, 1, 1, V1_HASHES[slug], 0))
        expected.append((slug, 2, 2, RELEASED_V2_HASHES[slug], 0))
        if slug in WITH_RULES:
            rules = len(parse(DATA / f"{slug}.toml").rules)
            expected.append((slug, 3, 2, current_hash(slug), rules))
    assert versions() == expected
    for slug in WITH_RULES:  # same questions, with rules
        v2, v3 = (
            list(
                FrameworkVersion.objects.get(framework__slug=slug, number=number)
                .questions.order_by("section__position", "position")
                .values_list("section__key", "code", "text", "audience", "anchors")
            )
            for number in (2, 3)
        )
        assert v2 == v3, slug
    assert "Nothing changed" in load()


def test_an_upgraded_install_and_a_fresh_one_hold_the_same_versions(no_frameworks):
    load(*V1)  # before issue 14
    load(*V1, *released_v2())  # issue 14
    load()  # issue 15
    upgraded = versions()
    FrameworkVersion.objects.all().delete()
    Framework.objects.all().delete()

    load()

    assert versions() == upgraded


def test_an_edited_v2_archive_is_refused(no_frameworks, tmp_path):
    load()
    edited = tmp_path / "v2" / "six-dimensions.toml"
    edited.parent.mkdir()
    original = (DATA / "v2" / "six-dimensions.toml").read_text(encoding="utf-8")
    assert "Six dimensions" in original
    edited.write_text(original.replace("Six dimensions", "Six facets", 1), encoding="utf-8")
    before = versions()

    with pytest.raises(CommandError) as caught:
        load(*V1, edited, *CURRENT)

    assert "archived files must not change" in str(caught.value)
    assert versions() == before


def test_check_reports_every_edition_and_writes_nothing(no_frameworks):
    output = load(check=True)

    assert output.count(" ok ") == len(V1) + len(V2_ARCHIVE) + len(CURRENT) + 1  # the survey
    for path in V2_ARCHIVE:
        assert f"({path})\n" in output
    # The rules come from the current files only: each is listed once.
    assert output.count("  rule: leads customer_experienced over business_defined") == 1
    assert output.count("  rule: one_at_a_time") == 1
    assert not FrameworkVersion.objects.exists()
