"""Framework files: the pure parse step (the sync step is ``frameworks.services``).

``parse_framework_file`` reads one TOML file into frozen dataclasses, or raises
``FrameworkFileError`` naming the file and the key; nothing here touches the
database. The file format is documented in docs/frameworks.md.

Two formats exist. Format 1 (no ``format`` key) carries its own five-level scale.
Format 2 (``format = 2``) uses the shared scale of ``data/scale-v2.toml`` (levels
0-5) and the concept registry ``data/concepts.toml``, and every question names its
audience, six anchors, assessor criteria, evidence prompts and concepts. A format-2 file
may declare its model's own rules (``[[rules]]``, checked by
``assessment.scoring.rules``); they are part of the version's content.
"""

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from frameworks.models import SCALE_MAX, SCALE_MIN, SCALE_V2_MIN, FrameworkRule, Question
from frameworks.translation import source_language

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"
SCALE_V2_FILE = "scale-v2.toml"
CONCEPTS_FILE = "concepts.toml"
# Files in the data folder that are not frameworks.
SHARED_FILES = frozenset({SCALE_V2_FILE, CONCEPTS_FILE})
# Archived editions (data/v1/, data/v2/, ...) load before the current files, oldest
# first; framework_files is the one place that sets the order.
ARCHIVE_DIR_RE = re.compile(r"^v([0-9]+)$")

FORMATS = (1, 2)
AUDIENCES = tuple(Question.Audience.values)
SIDES = tuple(Question.Side.values)
ANCHOR_LEVELS = tuple(range(SCALE_V2_MIN, SCALE_MAX + 1))
MAX_CONCEPTS_PER_QUESTION = 3
MAX_EVIDENCE_PROMPTS = 5
MIN_FRAMEWORKS_PER_CONCEPT = 2
# At least a fifth of a format-2 framework's questions are negatively worded.
MIN_REVERSED_SHARE = (1, 5)
# Question fields format 2 added; a format-1 hash leaves them out (see content_hash).
V2_QUESTION_FIELDS = (
    "audience",
    "reversed",
    "anchors",
    "criteria",
    "evidence",
    "concepts",
    "attribute",
    "side",
)

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
V2_TOP_LEVEL_KEYS = (*(k for k in TOP_LEVEL_KEYS if k != "scale"), "format", "rules")

# Rule kinds (docs/frameworks.md, "Rules"). A pairwise rule compares two sections; a
# whole-framework rule looks at every section and names none.
RULE_KINDS = tuple(FrameworkRule.Kind.values)
PAIRWISE_RULE_KINDS = (FrameworkRule.Kind.LEADS.value, FrameworkRule.Kind.PRECEDES.value)
RULE_TOLERANCE_MAX = Decimal("100")

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SECTION_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
CONCEPT_KEY_RE = SLUG_RE
ATTRIBUTE_RE = SLUG_RE
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
    # Format 2 only; format-1 questions keep these defaults.
    audience: str = Question.Audience.TEAM.value
    reversed: bool = False
    anchors: tuple[str, ...] = ()
    criteria: str = ""
    evidence: tuple[str, ...] = ()
    concepts: tuple[str, ...] = ()
    attribute: str = ""
    side: str = ""


@dataclass(frozen=True)
class ParsedSection:
    key: str
    name: str
    description: str
    weight: Decimal
    source_idea: str = ""


@dataclass(frozen=True)
class ParsedRule:
    """A rule of the model (format 2): ``section`` and ``over`` are section keys for a
    pairwise kind and empty for ``one_at_a_time``; ``tolerance`` is in score points."""

    kind: str
    section: str
    over: str
    tolerance: Decimal
    why: str


@dataclass(frozen=True)
class ParsedConcept:
    key: str
    name: str
    description: str
    frameworks: tuple[str, ...] = ()


@dataclass(frozen=True)
class SharedContent:
    """What format-2 files share: the 0-5 scale and the concept registry."""

    scale: tuple[ParsedLevel, ...]
    concepts: tuple[ParsedConcept, ...]
    concepts_path: str
    # The scale's and the concepts' other languages (entries "scale.N", "concepts.key").
    translations: "Translations" = field(default_factory=dict)

    def concept(self, key: str) -> ParsedConcept | None:
        return next((c for c in self.concepts if c.key == key), None)


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
    format: int = 1
    # The registry entries of the concepts this framework tags (format 2), for sync.
    concept_definitions: tuple[ParsedConcept, ...] = ()
    rules: tuple[ParsedRule, ...] = ()
    # Other languages (see "Translations" below); never part of the content hash.
    translations: "Translations" = field(default_factory=dict)

    def content_hash(self) -> str:
        """SHA-256 of the content (not the file's path or formatting).

        A format-1 hash covers exactly what it covered before format 2 existed, so
        an install that loaded a v1 file sees it as unchanged, not as a new version.
        Concept definitions live in one shared table and are not versioned; the
        hash covers which concepts each question tags.

        Rules are content: a rule added or changed makes a new version. A file without
        rules hashes as it did before rules existed, so only the frameworks that gained
        rules get a new version.
        """
        content = asdict(self)
        content.pop("path")
        content.pop("concept_definitions")
        content.pop("translations")
        if not self.rules:
            content.pop("rules")
        if self.format == 1:
            content.pop("format")
            for section in content["sections"]:
                section.pop("source_idea")
            for question in content["questions"]:
                for field in V2_QUESTION_FIELDS:
                    question.pop(field)
        canonical = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def reversed_count(self) -> int:
        return sum(1 for q in self.questions if q.reversed)

    def audience_counts(self) -> dict[str, int]:
        return {a: sum(1 for q in self.questions if q.audience == a) for a in AUDIENCES}

    def concepts_covered(self) -> list[str]:
        return sorted({c for q in self.questions for c in q.concepts})

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

    def boolean(self, name: str) -> bool:
        if name not in self.table:
            raise self.fail(name, "missing (true or false)")
        value = self.table[name]
        if not isinstance(value, bool):
            raise self.fail(name, f"must be true or false, not {type(value).__name__}")
        return value

    def texts(
        self, name: str, max_length: int, *, min_items: int, max_items: int
    ) -> tuple[str, ...]:
        """A list of non-empty strings; errors name the item (``anchors[3]``)."""
        if name not in self.table:
            raise self.fail(name, "missing")
        value = self.table[name]
        if not isinstance(value, list):
            raise self.fail(name, f"must be a list of texts, not {type(value).__name__}")
        if not min_items <= len(value) <= max_items:
            wanted = (
                f"exactly {min_items}"
                if min_items == max_items
                else f"from {min_items} to {max_items}"
            )
            raise self.fail(name, f"has {len(value)} items; it needs {wanted}")
        result = []
        for index in range(len(value)):
            result.append(_item_text(self, name, index, value[index], max_length))
        return tuple(result)

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


def _item_text(owner: _Reader, name: str, index: int, value: Any, max_length: int) -> str:
    key = f"{name}[{index}]"
    if not isinstance(value, str):
        raise owner.fail(key, f"must be text, not {type(value).__name__}")
    value = value.strip()
    if not value:
        raise owner.fail(key, "must not be empty")
    if len(value) > max_length:
        raise owner.fail(key, f"is {len(value)} characters long; the limit is {max_length}")
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    shown = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise FrameworkFileError(shown, "(file)", f"cannot be read: {error.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise FrameworkFileError(shown, "(file)", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise FrameworkFileError(shown, "(syntax)", f"invalid TOML: {error}") from None


def load_shared(directory: Path | str = DEFAULT_DATA_DIR) -> SharedContent:
    """Read the format-2 scale and concept registry from ``directory``."""
    directory = Path(directory)
    scale_path = directory / SCALE_V2_FILE
    scale_top = _Reader(str(scale_path), _read_toml(scale_path))
    scale_top.only(["scale", TRANSLATIONS_KEY])
    scale = _parse_levels(scale_top, SCALE_V2_MIN)
    scale_translations = parse_translations(scale_top, level_entries(scale))

    concepts_path = directory / CONCEPTS_FILE
    top = _Reader(str(concepts_path), _read_toml(concepts_path))
    top.only(["concepts", TRANSLATIONS_KEY])
    concepts: list[ParsedConcept] = []
    for item in top.tables("concepts"):
        item.only(["key", "name", "description", "frameworks"])
        key = item.text("key", 50, CONCEPT_KEY_RE)
        if any(c.key == key for c in concepts):
            raise item.fail("key", f"duplicate concept key {key!r}")
        frameworks: tuple[str, ...] = ()
        if "frameworks" in item.table:
            frameworks = item.texts("frameworks", 50, min_items=0, max_items=20)
        concepts.append(
            ParsedConcept(
                key=key,
                name=item.text("name", 100),
                description=item.text("description", 1000),
                frameworks=frameworks,
            )
        )
    translations = merge_translations(
        scale_translations, parse_translations(top, concept_entries(concepts))
    )
    return SharedContent(
        scale=scale,
        concepts=tuple(concepts),
        concepts_path=str(concepts_path),
        translations=translations,
    )


def parse_framework_file(
    path: Path | str, *, shared: SharedContent | None = None
) -> ParsedFramework:
    """Read and validate one framework file; raise FrameworkFileError on any rule broken.

    A format-2 file needs ``shared`` (the scale and concepts); without it they are
    read from the package's ``frameworks/data``.
    """
    path = Path(path)
    return parse_framework(_read_toml(path), path=str(path), expected_slug=path.stem, shared=shared)


def parse_framework(
    data: Mapping[str, Any],
    *,
    path: str,
    expected_slug: str | None = None,
    shared: SharedContent | None = None,
) -> ParsedFramework:
    """Validate a decoded framework document; pure, no database."""
    top = _Reader(path, data)
    file_format = _parse_format(top)
    if file_format == 2:
        if "scale" in data:
            raise top.fail(
                "scale", f"format-2 files use the shared scale in {SCALE_V2_FILE}; remove it"
            )
        top.only((*V2_TOP_LEVEL_KEYS, TRANSLATIONS_KEY))
        shared = shared if shared is not None else load_shared()
    else:
        if "rules" in data:
            raise top.fail("rules", "rules need a format-2 file (format = 2)")
        top.only((*TOP_LEVEL_KEYS, "format", TRANSLATIONS_KEY))
    slug = top.text("slug", 50, SLUG_RE)
    if expected_slug is not None and slug != expected_slug:
        raise top.fail("slug", f"{slug!r} must match the file name ({expected_slug}.toml)")

    name = top.text("name", 200)
    short_name = top.text("short_name", 40)
    source = top.text("source", 300)
    summary = top.text("summary", 300)
    description = top.text("description", 5000)
    scale = shared.scale if file_format == 2 and shared else _parse_scale(top)
    sections = _parse_sections(top, file_format)
    questions = _parse_questions(top, sections, file_format, shared)
    definitions: tuple[ParsedConcept, ...] = ()
    rules: tuple[ParsedRule, ...] = ()
    if file_format == 2 and shared is not None:
        _check_v2_framework(top, questions)
        tagged = {c for q in questions for c in q.concepts}
        definitions = tuple(c for c in shared.concepts if c.key in tagged)
        rules = _parse_rules(top, sections)
    parsed = ParsedFramework(
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
        format=file_format,
        concept_definitions=definitions,
        rules=rules,
    )
    entries = framework_entries(parsed)
    # A format-2 file's scale and concepts are translated in their shared files.
    shared_ids = {e.id for e in entries if e.id.startswith(("scale.", "concepts."))}
    own = [e.id for e in entries if file_format == 1 or e.id not in shared_ids]
    translations = parse_translations(top, entries, own=own)
    if file_format == 2 and shared is not None:
        translations = merge_translations(
            {
                language: {k: v for k, v in texts.items() if k in shared_ids}
                for language, texts in shared.translations.items()
            },
            translations,
        )
    return replace(parsed, translations=translations)


def _parse_rules(top: _Reader, sections: Sequence[ParsedSection]) -> tuple[ParsedRule, ...]:
    """The optional ``[[rules]]`` of a format-2 file: a known kind, known and distinct
    section keys for a pairwise kind (none for ``one_at_a_time``), a tolerance from 0 to
    100 score points, and the reason in ``why``; no rule twice."""
    if "rules" not in top.table:
        return ()
    section_keys = [s.key for s in sections]
    rules: list[ParsedRule] = []
    for item in top.tables("rules"):
        kind = item.text("kind", 30)
        if kind not in RULE_KINDS:
            raise item.fail("kind", f"unknown rule kind {kind!r}; known: {', '.join(RULE_KINDS)}")
        pairwise = kind in PAIRWISE_RULE_KINDS
        item.only(
            ["kind", "section", "over", "tolerance", "why"]
            if pairwise
            else ["kind", "tolerance", "why"]
        )
        section = over = ""
        if pairwise:
            section = _rule_section(item, "section", section_keys)
            over = _rule_section(item, "over", section_keys)
            if over == section:
                raise item.fail("over", f"must name another section than {section!r}")
        rule = ParsedRule(
            kind=kind,
            section=section,
            over=over,
            tolerance=_parse_tolerance(item),
            why=item.text("why", 600),
        )
        if any((r.kind, r.section, r.over) == (kind, section, over) for r in rules):
            shown = rule_id(kind, section, over)
            raise item.fail("kind", f"the rule {shown!r} is declared twice")
        rules.append(rule)
    return tuple(rules)


def _rule_section(item: _Reader, name: str, section_keys: Sequence[str]) -> str:
    key = item.text(name, 50)
    if key not in section_keys:
        raise item.fail(name, f"unknown section {key!r}; known: {', '.join(section_keys)}")
    return key


def _parse_tolerance(item: _Reader) -> Decimal:
    if "tolerance" not in item.table:
        raise item.fail("tolerance", "missing (score points, from 0 to 100)")
    raw = item.table["tolerance"]
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise item.fail("tolerance", f"must be a number, not {type(raw).__name__}")
    try:
        tolerance = Decimal(str(raw)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise item.fail("tolerance", "must be a finite number") from None
    if not Decimal("0") <= tolerance <= RULE_TOLERANCE_MAX:
        raise item.fail("tolerance", f"{raw} is outside 0 to 100 (score points)")
    return tolerance


def _parse_format(top: _Reader) -> int:
    value = top.table.get("format", 1)
    if isinstance(value, bool) or value not in FORMATS:
        raise top.fail("format", f"must be 1 or 2, not {value!r}")
    return value


def _parse_scale(top: _Reader) -> tuple[ParsedLevel, ...]:
    return _parse_levels(top, SCALE_MIN)


def _parse_levels(top: _Reader, lowest: int) -> tuple[ParsedLevel, ...]:
    levels: dict[int, ParsedLevel] = {}
    expected = list(range(lowest, SCALE_MAX + 1))
    span = f"{lowest} to {SCALE_MAX}"
    for item in top.tables("scale"):
        item.only(["value", "label", "descriptor"])
        value = item.table.get("value")
        if isinstance(value, bool) or not isinstance(value, int):
            raise item.fail("value", f"must be a whole number from {span}")
        if value not in expected:
            raise item.fail("value", f"{value} is outside the scale; levels run from {span}")
        if value in levels:
            raise item.fail("value", f"level {value} appears twice")
        levels[value] = ParsedLevel(
            value=value, label=item.text("label", 60), descriptor=item.text("descriptor", 300)
        )
    if sorted(levels) != expected:
        missing = ", ".join(str(v) for v in expected if v not in levels)
        raise top.fail("scale", f"must define exactly the levels {span}; missing {missing}")
    return tuple(levels[v] for v in expected)


def _parse_sections(top: _Reader, file_format: int = 1) -> tuple[ParsedSection, ...]:
    sections: list[ParsedSection] = []
    if len(top.tables("sections")) < MIN_SECTIONS:
        raise top.fail(
            "sections", f"needs at least {MIN_SECTIONS} sections (a radar needs three axes)"
        )
    seen: set[str] = set()
    allowed = ["key", "name", "description", "weight"]
    if file_format == 2:
        allowed.append("source_idea")
    for item in top.tables("sections"):
        item.only(allowed)
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
                source_idea=item.text("source_idea", 1000) if file_format == 2 else "",
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


V1_QUESTION_KEYS = ("code", "section", "text", "help")
V2_QUESTION_KEYS = (*V1_QUESTION_KEYS, *V2_QUESTION_FIELDS)


def _parse_questions(
    top: _Reader,
    sections: Sequence[ParsedSection],
    file_format: int = 1,
    shared: SharedContent | None = None,
) -> tuple[ParsedQuestion, ...]:
    section_keys = [s.key for s in sections]
    first_seen: dict[str, str] = {}
    questions: list[ParsedQuestion] = []
    for item in top.tables("questions"):
        item.only(V2_QUESTION_KEYS if file_format == 2 else V1_QUESTION_KEYS)
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
        question = ParsedQuestion(
            code=code,
            section=section,
            text=item.text("text", 300),
            help=item.text("help", 400),
        )
        if file_format == 2 and shared is not None:
            question = _parse_v2_question(item, question, shared)
        questions.append(question)
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


def _parse_v2_question(
    item: _Reader, question: ParsedQuestion, shared: SharedContent
) -> ParsedQuestion:
    audience = item.text("audience", 20)
    if audience not in AUDIENCES:
        raise item.fail("audience", f"unknown audience {audience!r}; known: {', '.join(AUDIENCES)}")
    anchors = item.texts("anchors", 300, min_items=len(ANCHOR_LEVELS), max_items=len(ANCHOR_LEVELS))
    concepts = item.texts("concepts", 50, min_items=1, max_items=MAX_CONCEPTS_PER_QUESTION)
    known = [c.key for c in shared.concepts]
    for index, concept in enumerate(concepts):
        if concept not in known:
            raise item.fail(
                f"concepts[{index}]",
                f"unknown concept {concept!r}; known (in {CONCEPTS_FILE}): {', '.join(known)}",
            )
        if concept in concepts[:index]:
            raise item.fail(f"concepts[{index}]", f"concept {concept!r} is tagged twice")
    attribute, side = "", ""
    if "attribute" in item.table or "side" in item.table:
        attribute = item.text("attribute", 50, ATTRIBUTE_RE)
        side = item.text("side", 10)
        if side not in SIDES:
            raise item.fail("side", f"unknown side {side!r}; known: {', '.join(SIDES)}")
    return ParsedQuestion(
        code=question.code,
        section=question.section,
        text=question.text,
        help=question.help,
        audience=audience,
        reversed=item.boolean("reversed"),
        anchors=anchors,
        criteria=item.text("criteria", 600),
        evidence=item.texts("evidence", 200, min_items=1, max_items=MAX_EVIDENCE_PROMPTS),
        concepts=concepts,
        attribute=attribute,
        side=side,
    )


def _check_v2_framework(top: _Reader, questions: Sequence[ParsedQuestion]) -> None:
    """Rules over a whole format-2 file: reversed share and attribute pairs."""
    needed, per = MIN_REVERSED_SHARE
    reversed_count = sum(1 for q in questions if q.reversed)
    if reversed_count * per < len(questions) * needed:
        raise top.fail(
            "questions",
            f"{reversed_count} of {len(questions)} questions are reversed; "
            f"at least {needed} in {per} must be",
        )
    if not any(q.attribute for q in questions):
        return
    # A framework that pairs questions by attribute pairs every question, and each
    # attribute is asked from both sides, so the gap is measurable per attribute.
    sides: dict[str, set[str]] = {}
    first_index: dict[str, int] = {}
    for index, q in enumerate(questions):
        if not q.attribute:
            raise top.fail(
                f"questions[{index}].attribute",
                f"{q.code} has no attribute, but this framework pairs its questions by "
                "attribute (business and customer side)",
            )
        sides.setdefault(q.attribute, set()).add(q.side)
        first_index.setdefault(q.attribute, index)
    for attribute, found in sides.items():
        missing = [s for s in SIDES if s not in found]
        if missing:
            raise top.fail(
                f"questions[{first_index[attribute]}].attribute",
                f"attribute {attribute!r} has no {missing[0]}-side question",
            )


def check_concept_coverage(parsed: Sequence[ParsedFramework], shared: SharedContent) -> None:
    """Every concept is measured by at least two of the format-2 frameworks in ``parsed``,
    and by each framework its registry entry names (when that framework is present)."""
    latest: dict[str, ParsedFramework] = {}
    for framework in parsed:
        if framework.format == 2:
            latest[framework.slug] = framework  # a later edition of a slug replaces an earlier
    if not latest:
        return
    covered = {slug: set(f.concepts_covered()) for slug, f in latest.items()}
    for index, concept in enumerate(shared.concepts):
        measuring = sorted(slug for slug, keys in covered.items() if concept.key in keys)
        if len(measuring) < MIN_FRAMEWORKS_PER_CONCEPT:
            shown = ", ".join(measuring) or "none"
            raise FrameworkFileError(
                shared.concepts_path,
                f"concepts[{index}]",
                f"concept {concept.key!r} is measured by {len(measuring)} framework(s) "
                f"({shown}); every concept needs at least {MIN_FRAMEWORKS_PER_CONCEPT}",
            )
        for slug in concept.frameworks:
            if slug in latest and slug not in measuring:
                raise FrameworkFileError(
                    latest[slug].path,
                    "questions",
                    f"no question tags concept {concept.key!r}, which {CONCEPTS_FILE} "
                    f"assigns to {slug}",
                )


def framework_files(data_dir: Path | str) -> list[Path]:
    """The files ``load_frameworks`` reads by default, in load order.

    Archived editions first (``v1/``, then ``v2/``, ...), then the current files in
    the folder itself; the shared files (scale, concepts) and customer surveys
    (``customer_survey_files``) are not frameworks.
    """
    data_dir = Path(data_dir)
    archives = (
        sorted(
            (d for d in data_dir.iterdir() if d.is_dir() and ARCHIVE_DIR_RE.match(d.name)),
            key=lambda d: int(ARCHIVE_DIR_RE.match(d.name).group(1)),  # type: ignore[union-attr]
        )
        if data_dir.is_dir()
        else []
    )
    files = [f for archive in archives for f in sorted(archive.glob("*.toml"))]
    files += [f for f in sorted(data_dir.glob("*.toml")) if f.name not in SHARED_FILES]
    return [f for f in files if not is_customer_survey_file(f)]


def parse_files(
    paths: Sequence[Path | str], *, shared_dir: Path | str = DEFAULT_DATA_DIR
) -> list[ParsedFramework]:
    """Parse files in order, then check across them (concept coverage).

    The shared scale and concepts are read from ``shared_dir``, once, and only if a
    format-2 file is among ``paths``.
    """
    shared: SharedContent | None = None
    parsed: list[ParsedFramework] = []
    for raw_path in paths:
        path = Path(raw_path)
        data = _read_toml(path)
        if data.get("format") == 2 and shared is None:
            shared = load_shared(shared_dir)
        parsed.append(parse_framework(data, path=str(path), expected_slug=path.stem, shared=shared))
    if shared is not None:
        check_concept_coverage(parsed, shared)
    return parsed


def parse_directory(directory: Path | str) -> list[ParsedFramework]:
    """Parse every framework ``*.toml`` in one folder; raise FrameworkFileError for the
    first bad file. The shared files are read from the same folder if it has them."""
    directory = Path(directory)
    files = [
        f
        for f in sorted(directory.glob("*.toml"))
        if f.name not in SHARED_FILES and not is_customer_survey_file(f)
    ]
    if not files:
        raise FrameworkFileError(str(directory), "(folder)", "contains no framework .toml files")
    shared_dir = directory if (directory / SCALE_V2_FILE).exists() else DEFAULT_DATA_DIR
    return parse_files(files, shared_dir=shared_dir)


def parse_data_dir(data_dir: Path | str) -> list[ParsedFramework]:
    """Parse what ``load_frameworks`` loads by default: archived editions, then current."""
    files = framework_files(data_dir)
    if not files:
        raise FrameworkFileError(str(data_dir), "(folder)", "contains no framework .toml files")
    return parse_files(files, shared_dir=data_dir)


# --- The customer survey (issue 17) ---
# A file with ``kind = "customer-survey"`` is not a framework: it holds the short
# questionnaire customers answer themselves (docs/customer-voice.md). It shares this
# module's reader and errors, is loaded by the same command and is versioned the same way.

CUSTOMER_SURVEY_KIND = "customer-survey"
# The stored response has one column pair per attribute (docs/customer-voice.md).
MAX_CUSTOMER_ATTRIBUTES = 12
MIN_CUSTOMER_ATTRIBUTES = 3
CUSTOMER_RATING_LABELS = 5
CUSTOMER_SURVEY_KEYS = (
    "kind",
    "slug",
    "name",
    "intro",
    "importance_question",
    "performance_question",
    "importance_labels",
    "performance_labels",
    "not_applicable_label",
    "comment_question",
    "attributes",
)
# The customer-side qualities of the current service-definition framework, which an
# attribute may name as its ``service_attribute``.
SERVICE_DEFINITION_SLUG = "service-definition"


@dataclass(frozen=True)
class ParsedCustomerAttribute:
    key: str
    name: str
    statement: str
    # The matching quality of "Service definition and delivery"; "" for the customers' own.
    service_attribute: str = ""


@dataclass(frozen=True)
class ParsedCustomerSurvey:
    slug: str
    name: str
    intro: str
    importance_question: str
    performance_question: str
    importance_labels: tuple[str, ...]
    performance_labels: tuple[str, ...]
    not_applicable_label: str
    comment_question: str
    attributes: tuple[ParsedCustomerAttribute, ...]
    path: str
    translations: "Translations" = field(default_factory=dict)

    def content_hash(self) -> str:
        """SHA-256 of the content (not the file's path or formatting)."""
        content = asdict(self)
        content.pop("path")
        content.pop("translations")
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def is_customer_survey(data: Mapping[str, Any]) -> bool:
    return data.get("kind") == CUSTOMER_SURVEY_KIND


def is_customer_survey_file(path: Path | str) -> bool:
    """Whether ``path`` is a customer survey file (a framework file has no ``kind``)."""
    return is_customer_survey(_read_toml(Path(path)))


def customer_survey_files(data_dir: Path | str) -> list[Path]:
    """The customer survey files in the data folder itself, by name."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return []
    return [
        f
        for f in sorted(data_dir.glob("*.toml"))
        if f.name not in SHARED_FILES and is_customer_survey_file(f)
    ]


def parse_customer_survey_file(
    path: Path | str, *, service_attributes: Iterable[str] | None = None
) -> ParsedCustomerSurvey:
    path = Path(path)
    return parse_customer_survey(
        _read_toml(path),
        path=str(path),
        expected_slug=path.stem,
        service_attributes=service_attributes,
    )


def parse_customer_survey(
    data: Mapping[str, Any],
    *,
    path: str,
    expected_slug: str | None = None,
    service_attributes: Iterable[str] | None = None,
) -> ParsedCustomerSurvey:
    """Validate a decoded customer survey; pure, no database.

    ``service_attributes`` are the qualities an attribute may match (the customer-side
    attributes of the current service-definition framework); None skips that check.
    """
    top = _Reader(path, data)
    top.only((*CUSTOMER_SURVEY_KEYS, TRANSLATIONS_KEY))
    if not is_customer_survey(data):
        raise top.fail("kind", f"must be {CUSTOMER_SURVEY_KIND!r}")
    slug = top.text("slug", 50, SLUG_RE)
    if expected_slug is not None and slug != expected_slug:
        raise top.fail("slug", f"{slug!r} must match the file name ({expected_slug}.toml)")
    known = set(service_attributes) if service_attributes is not None else None
    attributes: list[ParsedCustomerAttribute] = []
    items = top.tables("attributes")
    if not MIN_CUSTOMER_ATTRIBUTES <= len(items) <= MAX_CUSTOMER_ATTRIBUTES:
        raise top.fail(
            "attributes",
            f"has {len(items)} attributes; a customer survey needs from "
            f"{MIN_CUSTOMER_ATTRIBUTES} to {MAX_CUSTOMER_ATTRIBUTES}",
        )
    for item in items:
        item.only(["key", "name", "statement", "service_attribute", "own"])
        key = item.text("key", 50, ATTRIBUTE_RE)
        if any(a.key == key for a in attributes):
            raise item.fail("key", f"duplicate attribute key {key!r}")
        own = item.boolean("own") if "own" in item.table else False
        matched = ""
        if own:
            if "service_attribute" in item.table:
                raise item.fail(
                    "service_attribute",
                    "an attribute of the customers' own (own = true) "
                    "matches no service-definition quality; remove one of the two",
                )
        else:
            if "service_attribute" not in item.table:
                raise item.fail(
                    "service_attribute",
                    "missing: name the matching service-definition quality, or set own = true",
                )
            matched = item.text("service_attribute", 50, ATTRIBUTE_RE)
            if known is not None and matched not in known:
                raise item.fail(
                    "service_attribute",
                    f"{matched!r} is not a customer-side quality of {SERVICE_DEFINITION_SLUG} "
                    f"(known: {', '.join(sorted(known))})",
                )
            if any(a.service_attribute == matched for a in attributes):
                raise item.fail("service_attribute", f"{matched!r} is matched twice")
        attributes.append(
            ParsedCustomerAttribute(
                key=key,
                name=item.text("name", 60),
                statement=item.text("statement", 200),
                service_attribute=matched,
            )
        )
    labels = {
        name: top.texts(
            name, 40, min_items=CUSTOMER_RATING_LABELS, max_items=CUSTOMER_RATING_LABELS
        )
        for name in ("importance_labels", "performance_labels")
    }
    parsed = ParsedCustomerSurvey(
        slug=slug,
        name=top.text("name", 200),
        intro=top.text("intro", 1000),
        importance_question=top.text("importance_question", 100),
        performance_question=top.text("performance_question", 100),
        importance_labels=labels["importance_labels"],
        performance_labels=labels["performance_labels"],
        not_applicable_label=top.text("not_applicable_label", 40),
        comment_question=top.text("comment_question", 200),
        attributes=tuple(attributes),
        path=path,
    )
    return replace(parsed, translations=parse_translations(top, survey_entries(parsed)))


def service_attributes(parsed: Sequence[ParsedFramework]) -> set[str] | None:
    """The customer-side attributes of the last service-definition edition among
    ``parsed``; None when it is not among them (then the database is asked)."""
    current = [f for f in parsed if f.slug == SERVICE_DEFINITION_SLUG]
    if not current:
        return None
    return {q.attribute for q in current[-1].questions if q.side == Question.Side.CUSTOMER}


# --- Translations (docs/translating.md) ---
# Any content file may end with ``[translations.<language>]`` blocks holding its texts in
# other languages, keyed by the entries' stable identifiers (section key, question code,
# scale value, rule, concept or attribute key). The English above stays the versioned
# source: translations are outside every content hash, so translating a framework never
# makes a new version, and a version's translations are refreshed in place on load.
#
# A block is checked strictly: only known languages, entries and fields; the same number
# of anchors or labels as the English; a length limit of 1.5 times the English field's.
# What a block leaves out is not an error but a coverage gap, reported by
# ``load_frameworks --check`` and shown to readers as marked English
# (``frameworks.translation``); the tests demand full coverage for the shipped languages.

TRANSLATIONS_KEY = "translations"
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})?$")
TRANSLATION_LIMIT_FACTOR = Decimal("1.5")
# An entry's translatable fields: TOML key -> (model field, the English limit).
FRAMEWORK_TEXTS = {
    "name": ("name", 200),
    "short_name": ("short_name", 40),
    "source": ("source", 300),
    "summary": ("summary", 300),
    "description": ("description", 5000),
}
SECTION_TEXTS = {
    "name": ("name", 200),
    "description": ("description", 2000),
    "source_idea": ("source_idea", 1000),
}
QUESTION_TEXTS = {
    "text": ("text", 300),
    "help": ("help_text", 400),
    "anchors": ("anchors", 300),
    "criteria": ("criteria", 600),
    "evidence": ("evidence", 200),
}
LEVEL_TEXTS = {"label": ("label", 60), "descriptor": ("descriptor", 300)}
RULE_TEXTS = {"why": ("why", 600)}
CONCEPT_TEXTS = {"name": ("name", 100), "description": ("description", 1000)}
SURVEY_TEXTS = {
    "name": ("name", 200),
    "intro": ("intro", 1000),
    "importance_question": ("importance_question", 100),
    "performance_question": ("performance_question", 100),
    "importance_labels": ("importance_labels", 40),
    "performance_labels": ("performance_labels", 40),
    "not_applicable_label": ("not_applicable_label", 40),
    "comment_question": ("comment_question", 200),
}
ATTRIBUTE_TEXTS = {"name": ("name", 60), "statement": ("statement", 200)}

# {language: {entry id: {model field: text or texts}}}; the entry id is "" for the file
# itself, else "<group>.<key>" ("questions.HOL-CUS-1", "scale.3").
Translations = dict[str, dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class TranslatableEntry:
    """One translatable entry of a file: its id, and its English texts by TOML key."""

    id: str
    english: dict[str, Any]
    fields: dict[str, tuple[str, int]]


@dataclass(frozen=True)
class Coverage:
    """How much of a file one language covers, and which fields it lacks."""

    language: str
    translated: int
    total: int
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return self.translated == self.total


def _entry(entry_id: str, fields: dict[str, tuple[str, int]], item: Any) -> TranslatableEntry:
    """The entry's non-empty English texts (a format-1 section has no source idea)."""
    english: dict[str, Any] = {}
    for toml_key, (model_field, _limit) in fields.items():
        value = getattr(item, model_field if hasattr(item, model_field) else toml_key)
        if value not in ("", ()):
            english[toml_key] = list(value) if isinstance(value, tuple) else value
    return TranslatableEntry(entry_id, english, fields)


def rule_id(kind: str, section: str = "", over: str = "") -> str:
    """How a rule is named in a translations block: its kind, and for a pairwise kind
    its section keys (``leads customer_experienced over business_defined``)."""
    return f"{kind} {section} over {over}" if section else kind


def level_entries(levels: Sequence[ParsedLevel]) -> list[TranslatableEntry]:
    return [_entry(f"scale.{lv.value}", LEVEL_TEXTS, lv) for lv in levels]


def concept_entries(concepts: Sequence[ParsedConcept]) -> list[TranslatableEntry]:
    return [_entry(f"concepts.{c.key}", CONCEPT_TEXTS, c) for c in concepts]


def framework_entries(parsed: "ParsedFramework") -> list[TranslatableEntry]:
    """Every translatable entry of a framework, the shared scale and concepts it uses
    included (a format-2 file's readers see those too)."""
    entries = [_entry("", FRAMEWORK_TEXTS, parsed)]
    entries += level_entries(parsed.scale)
    entries += [_entry(f"sections.{s.key}", SECTION_TEXTS, s) for s in parsed.sections]
    entries += [
        _entry(f"rules.{rule_id(r.kind, r.section, r.over)}", RULE_TEXTS, r) for r in parsed.rules
    ]
    entries += [_entry(f"questions.{q.code}", QUESTION_TEXTS, q) for q in parsed.questions]
    entries += concept_entries(parsed.concept_definitions)
    return entries


def survey_entries(parsed: "ParsedCustomerSurvey") -> list[TranslatableEntry]:
    entries = [_entry("", SURVEY_TEXTS, parsed)]
    entries += [_entry(f"attributes.{a.key}", ATTRIBUTE_TEXTS, a) for a in parsed.attributes]
    return entries


def parse_translations(
    top: _Reader, entries: Sequence[TranslatableEntry], *, own: Sequence[str] | None = None
) -> Translations:
    """Validate a file's ``[translations.<language>]`` blocks against its entries.

    ``own`` are the entry ids this file itself holds (the default: all of ``entries``);
    the block may name only those. Raises FrameworkFileError naming the key.
    """
    if TRANSLATIONS_KEY not in top.table:
        return {}
    block = top.table[TRANSLATIONS_KEY]
    if not isinstance(block, dict):
        raise top.fail(TRANSLATIONS_KEY, "must be a table ([translations.<language>])")
    allowed = {e.id: e for e in entries if own is None or e.id in own}
    source = source_language()
    result: Translations = {}
    for language, table in block.items():
        where = _Reader(
            top.path, table if isinstance(table, dict) else {}, f"translations.{language}."
        )
        if not LANGUAGE_RE.match(language) or language.split("-")[0] == source:
            raise top.fail(
                f"translations.{language}",
                f"{language!r} is not a language code to translate into "
                "(lower case, like de or pt-br; the files' own text is English)",
            )
        if not isinstance(table, dict):
            raise top.fail(f"translations.{language}", "must be a table")
        result[language] = _parse_language(where, table, allowed)
    return result


def _parse_language(
    where: _Reader, table: Mapping[str, Any], allowed: Mapping[str, TranslatableEntry]
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    groups = {entry_id.split(".", 1)[0] for entry_id in allowed if entry_id}
    own_texts = allowed[""].english if "" in allowed else {}
    for key, value in table.items():
        if key in groups:
            if not isinstance(value, dict):
                raise where.fail(
                    key, f"must be a table of entries ([translations.<language>.{key}.<key>])"
                )
            for entry_key, fields in value.items():
                entry = allowed.get(f"{key}.{entry_key}")
                if entry is None:
                    raise where.fail(
                        f"{key}.{entry_key}",
                        f"names no {key[:-1] if key.endswith('s') else key} of this file",
                    )
                if not isinstance(fields, dict):
                    raise where.fail(f"{key}.{entry_key}", "must be a table of texts")
                texts = _parse_texts(
                    _Reader(where.path, fields, where.key(f"{key}.{entry_key}.")), entry
                )
                if texts:
                    found[entry.id] = texts
        elif key not in own_texts:
            raise where.fail(key, "unknown key (check the spelling)")
    if "" in allowed:
        texts = _parse_texts(where, allowed[""], top_level=True)
        if texts:
            found[""] = texts
    return found


def _parse_texts(
    reader: _Reader, entry: TranslatableEntry, *, top_level: bool = False
) -> dict[str, Any]:
    """One entry's translated texts, by model field; only fields the English has."""
    if not top_level:
        reader.only(entry.english)
    texts: dict[str, Any] = {}
    for toml_key, english in entry.english.items():
        if toml_key not in reader.table:
            continue
        model_field, limit = entry.fields[toml_key]
        limit = int(limit * TRANSLATION_LIMIT_FACTOR)
        if isinstance(english, list):
            texts[model_field] = list(
                reader.texts(toml_key, limit, min_items=len(english), max_items=len(english))
            )
        else:
            texts[model_field] = reader.text(toml_key, limit)
    return texts


def coverage(
    entries: Sequence[TranslatableEntry], translations: Translations, language: str
) -> Coverage:
    """How many of the entries' texts ``language`` translates, and which it lacks."""
    have = translations.get(language, {})
    total = translated = 0
    missing: list[str] = []
    for entry in entries:
        for toml_key, (model_field, _limit) in entry.fields.items():
            if toml_key not in entry.english:
                continue
            total += 1
            if model_field in have.get(entry.id, {}):
                translated += 1
            else:
                missing.append(f"{entry.id}.{toml_key}" if entry.id else toml_key)
    return Coverage(language, translated, total, tuple(missing))


def merge_translations(*blocks: Translations) -> Translations:
    """Several files' translations as one (later entries win)."""
    merged: Translations = {}
    for block in blocks:
        for language, texts in block.items():
            merged.setdefault(language, {}).update(texts)
    return merged
