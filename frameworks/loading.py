"""Framework files: the pure parse step (the sync step is ``frameworks.services``).

``parse_framework_file`` reads one TOML file into frozen dataclasses, or raises
``FrameworkFileError`` naming the file and the key; nothing here touches the
database. The file format is documented in docs/frameworks.md.
"""

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from frameworks.models import SCALE_MAX, SCALE_MIN

MIN_SECTIONS = 3
MIN_QUESTIONS_PER_SECTION = 5
# A section is one page of the questionnaire; with three fields a question this
# keeps every page far below Django's DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000).
MAX_QUESTIONS_PER_SECTION = 60
TOP_LEVEL_KEYS = (
    "slug",
    "name",
    "short_name",
    "source",
    "summary",
    "description",
    "scale",
    "sections",
    "questions",
)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SECTION_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
QUESTION_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")


class FrameworkFileError(ValueError):
    """A framework file breaks a rule; names the file and the key at fault."""

    def __init__(self, path: str, key: str, message: str) -> None:
        self.path = path
        self.key = key
        self.message = message
        super().__init__(f"{path}: {key}: {message}")


@dataclass(frozen=True)
class ParsedLevel:
    value: int
    label: str
    descriptor: str


@dataclass(frozen=True)
class ParsedQuestion:
    code: str
    section: str
    text: str
    help: str


@dataclass(frozen=True)
class ParsedSection:
    key: str
    name: str
    description: str
    weight: Decimal


@dataclass(frozen=True)
class ParsedFramework:
    slug: str
    name: str
    short_name: str
    source: str
    summary: str
    description: str
    scale: tuple[ParsedLevel, ...]
    sections: tuple[ParsedSection, ...]
    questions: tuple[ParsedQuestion, ...]
    path: str

    def content_hash(self) -> str:
        """SHA-256 of the content (not the file's path or formatting)."""
        content = asdict(self)
        content.pop("path")
        canonical = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def questions_in(self, section_key: str) -> list[ParsedQuestion]:
        return [q for q in self.questions if q.section == section_key]


class _Reader:
    """Typed access to one TOML table, with errors that carry the key path."""

    def __init__(self, path: str, table: Mapping[str, Any], prefix: str = "") -> None:
        self.path = path
        self.table = table
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fail(self, name: str, message: str) -> FrameworkFileError:
        return FrameworkFileError(self.path, self.key(name), message)

    def only(self, allowed: Iterable[str]) -> None:
        unknown = sorted(set(self.table) - set(allowed))
        if unknown:
            raise self.fail(unknown[0], "unknown key (check the spelling)")

    def text(self, name: str, max_length: int, pattern: re.Pattern[str] | None = None) -> str:
        if name not in self.table:
            raise self.fail(name, "missing")
        value = self.table[name]
        if not isinstance(value, str):
            raise self.fail(name, f"must be text, not {type(value).__name__}")
        value = value.strip()
        if not value:
            raise self.fail(name, "must not be empty")
        if len(value) > max_length:
            raise self.fail(name, f"is {len(value)} characters long; the limit is {max_length}")
        if pattern is not None and not pattern.match(value):
            raise self.fail(name, f"{value!r} does not match {pattern.pattern}")
        return value

    def tables(self, name: str) -> list["_Reader"]:
        if name not in self.table:
            raise self.fail(name, "missing")
        value = self.table[name]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(name, f"must be an array of tables ([[{name}]])")
        if not value:
            raise self.fail(name, "must not be empty")
        return [
            _Reader(self.path, item, prefix=f"{self.key(name)}[{index}].")
            for index, item in enumerate(value)
        ]


def parse_framework_file(path: Path | str) -> ParsedFramework:
    """Read and validate one framework file; raise FrameworkFileError on any rule broken."""
    path = Path(path)
    shown = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise FrameworkFileError(shown, "(file)", f"cannot be read: {error.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise FrameworkFileError(shown, "(file)", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise FrameworkFileError(shown, "(syntax)", f"invalid TOML: {error}") from None
    return parse_framework(data, path=shown, expected_slug=path.stem)


def parse_framework(
    data: Mapping[str, Any], *, path: str, expected_slug: str | None = None
) -> ParsedFramework:
    """Validate a decoded framework document; pure, no database."""
    top = _Reader(path, data)
    top.only(TOP_LEVEL_KEYS)
    slug = top.text("slug", 50, SLUG_RE)
    if expected_slug is not None and slug != expected_slug:
        raise top.fail("slug", f"{slug!r} must match the file name ({expected_slug}.toml)")

    name = top.text("name", 200)
    short_name = top.text("short_name", 40)
    source = top.text("source", 300)
    summary = top.text("summary", 300)
    description = top.text("description", 5000)
    scale = _parse_scale(top)
    sections = _parse_sections(top)
    questions = _parse_questions(top, sections)
    return ParsedFramework(
        slug=slug,
        name=name,
        short_name=short_name,
        source=source,
        summary=summary,
        description=description,
        scale=scale,
        sections=sections,
        questions=questions,
        path=path,
    )


def _parse_scale(top: _Reader) -> tuple[ParsedLevel, ...]:
    levels: dict[int, ParsedLevel] = {}
    expected = list(range(SCALE_MIN, SCALE_MAX + 1))
    for item in top.tables("scale"):
        item.only(["value", "label", "descriptor"])
        value = item.table.get("value")
        if isinstance(value, bool) or not isinstance(value, int):
            raise item.fail("value", "must be a whole number from 1 to 5")
        if value not in expected:
            raise item.fail("value", f"{value} is outside the scale; levels run from 1 to 5")
        if value in levels:
            raise item.fail("value", f"level {value} appears twice")
        levels[value] = ParsedLevel(
            value=value, label=item.text("label", 60), descriptor=item.text("descriptor", 300)
        )
    if sorted(levels) != expected:
        missing = ", ".join(str(v) for v in expected if v not in levels)
        raise top.fail("scale", f"must define exactly the levels 1 to 5; missing {missing}")
    return tuple(levels[v] for v in expected)


def _parse_sections(top: _Reader) -> tuple[ParsedSection, ...]:
    sections: list[ParsedSection] = []
    if len(top.tables("sections")) < MIN_SECTIONS:
        raise top.fail(
            "sections", f"needs at least {MIN_SECTIONS} sections (a radar needs three axes)"
        )
    seen: set[str] = set()
    for item in top.tables("sections"):
        item.only(["key", "name", "description", "weight"])
        key = item.text("key", 50, SECTION_KEY_RE)
        if key in seen:
            raise item.fail("key", f"duplicate section key {key!r}")
        seen.add(key)
        sections.append(
            ParsedSection(
                key=key,
                name=item.text("name", 200),
                description=item.text("description", 2000),
                weight=_parse_weight(item),
            )
        )
    return tuple(sections)


def _parse_weight(item: _Reader) -> Decimal:
    raw = item.table.get("weight", 1)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise item.fail("weight", "must be a number")
    try:
        weight = Decimal(str(raw)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise item.fail("weight", "must be a finite number") from None
    if not Decimal("0") < weight <= Decimal("100"):
        raise item.fail("weight", "must be above 0 and at most 100")
    return weight


def _parse_questions(top: _Reader, sections: Sequence[ParsedSection]) -> tuple[ParsedQuestion, ...]:
    section_keys = [s.key for s in sections]
    first_seen: dict[str, str] = {}
    questions: list[ParsedQuestion] = []
    for item in top.tables("questions"):
        item.only(["code", "section", "text", "help"])
        code = item.text("code", 30, QUESTION_CODE_RE)
        if code in first_seen:
            raise item.fail(
                "code", f"duplicate question code {code!r} (first at {first_seen[code]})"
            )
        first_seen[code] = item.prefix.rstrip(".")
        section = item.text("section", 50)
        if section not in section_keys:
            raise item.fail(
                "section", f"unknown section {section!r}; known: {', '.join(section_keys)}"
            )
        questions.append(
            ParsedQuestion(
                code=code,
                section=section,
                text=item.text("text", 300),
                help=item.text("help", 400),
            )
        )
    for index, section in enumerate(sections):
        count = sum(1 for q in questions if q.section == section.key)
        if not MIN_QUESTIONS_PER_SECTION <= count <= MAX_QUESTIONS_PER_SECTION:
            raise FrameworkFileError(
                top.path,
                f"sections[{index}]",
                f"section {section.key!r} has {count} questions; it needs at least "
                f"{MIN_QUESTIONS_PER_SECTION} and at most {MAX_QUESTIONS_PER_SECTION}",
            )
    return tuple(questions)


def parse_directory(directory: Path | str) -> list[ParsedFramework]:
    """Parse every ``*.toml`` in a folder; raise FrameworkFileError for the first bad file."""
    files = sorted(Path(directory).glob("*.toml"))
    if not files:
        raise FrameworkFileError(str(directory), "(folder)", "contains no .toml files")
    return [parse_framework_file(f) for f in files]
