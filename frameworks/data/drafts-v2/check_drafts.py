"""Checks the issue-14 v2 drafts in this folder (run: python check_drafts.py [slug ...]).

A stand-in until the real loader validates v2 (issue 14): every question has anchors for
levels 0-5, a known audience, known concepts, criteria and evidence prompts; codes are
unique; at least a fifth of each framework's questions are reversed; every concept is
covered by at least two frameworks (when all four drafts exist); service definition's
questions come in business/customer pairs per attribute. Prints a summary per framework.
"""

import sys
import tomllib
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
AUDIENCES = {"team", "manager", "leadership"}
SLUGS = ["holistic", "win4", "six-dimensions", "service-definition"]


def fail(path: Path, where: str, message: str) -> str:
    return f"{path.name}: {where}: {message}"


def check(path: Path, concepts: set[str]) -> tuple[list[str], dict]:
    data = tomllib.loads(path.read_text())
    errors = []
    sections = {s["key"] for s in data.get("sections", [])}
    for s in data.get("sections", []):
        for key in ("key", "name", "description", "source_idea"):
            if not str(s.get(key, "")).strip():
                errors.append(fail(path, f"sections.{s.get('key')}", f"missing {key}"))
    codes = Counter(q.get("code") for q in data.get("questions", []))
    errors += [fail(path, code, "duplicate code") for code, n in codes.items() if n > 1]
    used = Counter()
    audiences = Counter()
    reversed_count = 0
    pairs: dict[str, set[str]] = {}
    for q in data.get("questions", []):
        where = f"questions.{q.get('code')}"
        if q.get("section") not in sections:
            errors.append(fail(path, where, f"unknown section {q.get('section')!r}"))
        if q.get("audience") not in AUDIENCES:
            errors.append(fail(path, where, f"audience must be one of {sorted(AUDIENCES)}"))
        audiences[q.get("audience")] += 1
        anchors = q.get("anchors", [])
        if len(anchors) != 6 or not all(str(a).strip() for a in anchors):
            errors.append(fail(path, where, "anchors must list 6 descriptions, levels 0 to 5"))
        for key in ("text", "help", "criteria"):
            if not str(q.get(key, "")).strip():
                errors.append(fail(path, where, f"missing {key}"))
        if not q.get("evidence"):
            errors.append(fail(path, where, "evidence: list at least one prompt"))
        tagged = q.get("concepts", [])
        if not tagged:
            errors.append(fail(path, where, "tag at least one concept"))
        for c in tagged:
            if c not in concepts:
                errors.append(fail(path, where, f"unknown concept {c!r}"))
            used[c] += 1
        if not isinstance(q.get("reversed"), bool):
            errors.append(fail(path, where, "reversed must be true or false"))
        reversed_count += bool(q.get("reversed"))
        if data.get("slug") == "service-definition":
            if q.get("side") not in {"business", "customer"} or not q.get("attribute"):
                errors.append(fail(path, where, "needs attribute and side (business/customer)"))
            else:
                pairs.setdefault(q["attribute"], set()).add(q["side"])
    for attribute, sides in pairs.items():
        if sides != {"business", "customer"}:
            errors.append(
                fail(path, f"attribute {attribute}", "needs a business and a customer question")
            )
    n = sum(codes.values())
    if n and reversed_count * 5 < n:
        errors.append(
            fail(path, "questions", f"{reversed_count} of {n} reversed; at least a fifth")
        )
    summary = {
        "questions": n,
        "audiences": dict(audiences),
        "reversed": reversed_count,
        "concepts": dict(used),
    }
    return errors, summary


def main(slugs: list[str]) -> int:
    concepts_data = tomllib.loads((HERE.parent / "concepts.toml").read_text())["concepts"]
    concepts = {c["key"] for c in concepts_data}
    errors, covered = [], Counter()
    for slug in slugs or SLUGS:
        path = HERE / f"{slug}.toml"
        if not path.exists():
            print(f"{slug}: not drafted yet")
            continue
        found, summary = check(path, concepts)
        errors += found
        for c in summary["concepts"]:
            covered[c] += 1
        print(f"{slug}: {summary}")
    if not slugs and all((HERE / f"{s}.toml").exists() for s in SLUGS):
        errors += [
            f"concept {c}: measured by {covered[c]} framework(s), needs 2"
            for c in concepts
            if covered[c] < 2
        ]
    print("\n".join(errors) or "no errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
