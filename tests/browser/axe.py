"""axe-core in Playwright: audit a page and summarise the violations by impact.

axe-playwright-python injects axe with ``page.evaluate(<axe source>)``, which runs
through the DevTools protocol: the page's Content Security Policy does not apply
to it, and no <script> element is added. ``audit`` checks that axe really ran.
"""

from dataclasses import dataclass, field

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

IMPACTS = ("critical", "serious", "moderate", "minor")
BLOCKING = ("critical", "serious")

_axe = Axe()


@dataclass
class Audit:
    """The violations axe found on one page."""

    name: str
    url: str
    violations: list[dict] = field(default_factory=list)
    # Checks axe could not decide (e.g. text over an SVG shape): for a person to look at.
    incomplete: list[dict] = field(default_factory=list)

    def count(self, impact: str) -> int:
        """How many elements break a rule of this impact."""
        return sum(len(v["nodes"]) for v in self.violations if v["impact"] == impact)

    @property
    def unsure(self) -> int:
        return sum(len(v["nodes"]) for v in self.incomplete)

    @property
    def blocking(self) -> list[dict]:
        return [v for v in self.violations if v["impact"] in BLOCKING]

    def describe(self, impacts: tuple[str, ...] = IMPACTS) -> str:
        lines = []
        for v in self.violations:
            if v["impact"] not in impacts:
                continue
            lines.append(f"  {self.name}: {v['id']} ({v['impact']}) {v['help']}")
            for node in v["nodes"][:5]:
                lines.append(f"      {', '.join(map(str, node['target']))}: {node['html'][:160]}")
                if node.get("failureSummary"):
                    summary = " ".join(node["failureSummary"].split())
                    lines.append(f"        {summary[:240]}")
        return "\n".join(lines)


def audit(page: Page, name: str) -> Audit:
    """Run axe on the page as it stands and return its violations."""
    results = _axe.run(page, options={"resultTypes": ["violations", "incomplete"]}).response
    assert results.get("testEngine", {}).get("name") == "axe-core", "axe did not run"
    return Audit(
        name=name,
        url=page.url,
        violations=results["violations"],
        incomplete=results["incomplete"],
    )


def table(audits: list[Audit]) -> str:
    """A plain-text table: one row per page, violating elements counted by impact, and the
    elements axe could not decide about ("unsure")."""
    width = max([len(a.name) for a in audits] + [4])
    columns = " ".join(f"{i:>8}" for i in (*IMPACTS, "unsure"))
    header = f"{'page'.ljust(width)} {columns}  rules broken"
    rows = [header, "-" * len(header)]
    for a in audits:
        counts = " ".join(f"{n:>8}" for n in (*(a.count(i) for i in IMPACTS), a.unsure))
        rules = ", ".join(sorted({v["id"] for v in a.violations})) or "-"
        rows.append(f"{a.name.ljust(width)} {counts}  {rules}")
    blocking = sum(a.count(i) for a in audits for i in BLOCKING)
    total = sum(a.count(i) for a in audits for i in IMPACTS)
    rows.append(f"axe-core: {len(audits)} pages, {blocking} serious/critical, {total} in all")
    return "\n".join(rows)
