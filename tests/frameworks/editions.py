"""The shipped framework editions and the content hashes releases pinned, in one place.

Every install must hold the same content under the same version number. A hash here
is what a released install stored in ``FrameworkVersion.content_hash``; if a shipped
file stops producing it, existing installs would get a spurious new version, or two
installs would hold a different version n.
"""

from pathlib import Path

from django.conf import settings

DATA = Path(settings.FRAMEWORKS_DATA_DIR)
SLUGS = ("holistic", "service-definition", "six-dimensions", "win4")
# Version 1, format 1, as main loaded it before format 2 existed (archived, issue 14).
V1 = sorted((DATA / "v1").glob("*.toml"))
# Version 2 of the frameworks that changed after issue 14 released it (archived,
# issue 15): only those, since an unchanged file needs no copy.
V2_ARCHIVE = sorted((DATA / "v2").glob("*.toml"))
CURRENT = [DATA / f"{slug}.toml" for slug in SLUGS]
# The frameworks whose current file declares rules: version 3 of each.
WITH_RULES = ("service-definition", "six-dimensions")

V1_HASHES = {
    "holistic": "066ea8e77721dcfeff44b9d4fff00de7f4ad92249671e8f45cc72dc3ce8f6e54",
    "service-definition": "c87decb337427fe8c25b53c48c7104c6af9bd533c9d24429da237c179498d4bf",
    "six-dimensions": "f6dc9326581b823f61b81aa8e0d49faaeb5220cd82728cfc2437c733f63dee2e",
    "win4": "e7e768949651912e9f3d9895e8e6504f21b7dbe6c34401aaee934c60237c6ac2",
}
# Version 2 (format 2, no rules) as issue 14 released it: computed by a fresh load of
# main at 5424346, whose data/*.toml are the files now in data/v2/ (service-definition,
# six-dimensions) or still current (holistic, win4).
RELEASED_V2_HASHES = {
    "holistic": "89eea547b07176d9c60e8c3d16b2d729f7a2926fa02df49708d77b4c7b77dc33",
    "service-definition": "7364ec0589f6bfa35510f647b4dcfe111b0db59f32b103fa46d412147801168a",
    "six-dimensions": "cc34c8797e9a943fe6af7a14a2daee64a3d7854d2e590cc16d5ef7cb8505b2a7",
    "win4": "f47d6670c35b679a6b0f68404870153f24b09744c84861639f0a784bda26baa5",
}


def released_v2() -> list[Path]:
    """The files of version 2 as issue 14 released it, one per framework: the archived
    copy where the framework changed since, the current file where it did not."""
    archived = {path.stem: path for path in V2_ARCHIVE}
    return [archived.get(slug, DATA / f"{slug}.toml") for slug in SLUGS]
