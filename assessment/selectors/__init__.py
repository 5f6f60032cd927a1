"""Every read, one module per audience; each states its query count in its docstring.

- ``manager``: dashboard, teams, assessment detail, invitations, grants, joining links;
- ``respondent``: the questionnaire pages and their progress;
- ``results``: scored results, charts and the team's figures (manager, reports, exports);
- ``rules``: the frameworks' declared rules checked against the results;
- ``concepts``: the same concept as measured by several frameworks;
- ``review``: the assessor's page and the audit history;
- ``staff``: the review queue;
- ``consultant``: the portfolio and bulk exports;
- ``customers``: customer surveys, their public page and the customers' results;
- ``evidence``: an assessment's evidence, by section (its pages, the review, the report);
- ``public``: the public pages (the glossary's rating scale);
- ``actions``: action plans, the dashboard's due actions, the owners' digests and the
  calendar feed;
- ``common``: query pieces the others share.

Import the module for the audience: ``from assessment.selectors import manager``.
"""

from assessment.selectors import (
    actions,
    common,
    concepts,
    consultant,
    customers,
    evidence,
    manager,
    public,
    respondent,
    results,
    review,
    rules,
    staff,
)

__all__ = [
    "actions",
    "common",
    "concepts",
    "consultant",
    "customers",
    "evidence",
    "manager",
    "public",
    "respondent",
    "results",
    "review",
    "rules",
    "staff",
]
