"""The source models' rules of each framework (``[[rules]]`` in its file), checked against
an assessment's section scores: met, not met, or not yet known, with the figures."""

from dataclasses import dataclass

from assessment.scoring.rules import Rule, RuleResult, check_rules
from assessment.selectors.results import AssessmentResults
from frameworks.models import FrameworkRule


@dataclass(frozen=True)
class RuleCheck:
    """One rule as the results show it: its result, and the sections by name."""

    result: RuleResult
    kind_label: str
    section_name: str
    over_name: str


def with_rule_checks(found: AssessmentResults) -> AssessmentResults:
    """Each panel's ``rules``, checked against its section scores as shown (one query,
    however many frameworks; none when the results are not shown)."""
    if not found.panels:
        return found
    by_slug = {panel.slug: panel for panel in found.panels}
    rows = (
        FrameworkRule.objects.filter(
            version__assessments=found.assessment, version__framework__slug__in=list(by_slug)
        )
        .select_related("version__framework", "section", "over")
        .order_by("version_id", "position")
    )
    rules: dict[str, list[FrameworkRule]] = {}
    for row in rows:
        rules.setdefault(row.version.framework.slug, []).append(row)
    for slug, panel in by_slug.items():
        names = {r.key: r.name for r in panel.rows}
        scores = {r.key: r.official for r in panel.rows}  # moderated where it counts
        declared = rules.get(slug, [])
        results = check_rules(
            [
                Rule(
                    kind=r.kind,
                    section=r.section.key if r.section else "",
                    over=r.over.key if r.over else "",
                    tolerance=r.tolerance,
                    why=r.why,
                )
                for r in declared
            ],
            scores,
        )
        panel.rules = [
            RuleCheck(
                result=result,
                kind_label=row.get_kind_display(),
                section_name=names.get(result.section, ""),
                over_name=names.get(result.over, ""),
            )
            for row, result in zip(declared, results, strict=True)
        ]
    return found
