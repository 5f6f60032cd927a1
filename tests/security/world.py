"""Two fully populated organisations for the security proofs, and a database diff.

``build_world()`` makes organisation A and organisation B, each with managers, a
pending manager invitation, two teams with rosters, assessments in every state
(draft, open, submitted, in review, returned, approved) with answers and comments,
targets, moderations and decisions by its own assessor, a consultancy with a grant,
a bulk export, and a customer survey on its open assessment, answered by enough
customers for its figures to show, with two customers on its personal-link list (one
sent a link, one not yet). Every free-text value of B carries a unique canary
(``CANARY-B-<n>-<random>``); A's carry ``MARK-A-<n>-<random>``, so a test can show
that it did reach A's data while finding none of B's.

Shared on purpose, not tenant data, and so without canaries: the frameworks, the
assessors' names (any manager chooses from every accredited assessor) and the
consultancies' names (any manager chooses which consultancy to grant access).

``db_state()`` and ``diff()`` compare every row of the app's tables (and users)
before and after a request.
"""

import hashlib
import io
import re
import secrets
import zipfile
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from unittest import mock

from django.apps import apps
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from assessment import reports, services, tasks
from assessment.models import (
    Assessment,
    BulkExport,
    Consultancy,
    ConsultantGrant,
    CustomerSurvey,
    Evidence,
    Invitation,
    ManagerInvitation,
    Organisation,
    Response,
    Team,
)
from assessment.models.actions import Action, CalendarFeed
from assessment.selectors import review as review_selectors
from assessment.services.actions import action_create, action_require, calendar_feed_create
from assessment.services.customers import CustomerAnswers
from assessment.services.evidence import EvidenceFile
from frameworks.models import Section
from tests.factories import (
    judge_criteria,
    make_answers,
    make_assessor,
    make_consultancy,
    make_consultant,
    make_export,
    make_invitation,
    make_manager_invitation,
    make_membership,
    make_opened_assessment,
    make_organisation,
    make_response,
    make_user,
)

CANARY_PREFIX = "CANARY-B"
MARK_PREFIX = "MARK-A"
SLUGS = ("win4",)  # one framework keeps the PDF reports quick to render


class Marks:
    """Unique strings for one organisation's free text: ``<prefix>-<n>-<random>``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.issued: list[str] = []

    def __call__(self, words: str = "") -> str:
        value = f"{self.prefix}-{len(self.issued) + 1}-{secrets.token_hex(3)}"
        self.issued.append(value)
        return f"{value} {words}".strip()

    def email(self) -> str:
        return f"{self().lower()}@example.com"

    def username(self) -> str:
        return self().lower()


@dataclass
class Tenant:
    """One organisation and everything in it; ``marks`` made all its free text."""

    marks: Marks
    organisation: Organisation
    manager: Any
    manager2: Any
    manager_invitation: ManagerInvitation
    manager_invitation_token: str
    front: Team
    back: Team
    draft: Assessment
    open: Assessment
    submitted: Assessment
    in_review: Assessment
    returned: Assessment
    approved: Assessment
    assessor: Any
    consultant: Any
    consultancy: Consultancy
    grant: ConsultantGrant
    # On the open assessment: a completed response, one in progress, the manager's
    # own, and an invitation whose link (the token) has not been used yet.
    completed_response: Response
    open_response: Response
    self_response: Response
    respondent_invitation: Invitation
    respondent_token: str
    # On the open assessment, open today, with CUSTOMER_THRESHOLD customers' answers; and
    # the personal link its first listed customer was e-mailed (the second was not sent one).
    customer_survey: CustomerSurvey
    customer_link_token: str
    # Action plans, on the approved assessment: an action its manager planned (owned by a
    # named person with an address, due in a week), one its assessor required; and a
    # working calendar feed of the organisation (its address's token).
    action: Action
    required_action: Action
    calendar_feed: CalendarFeed
    calendar_token: str
    # Evidence: a leadership invitee of the open assessment (their link's token, not used
    # yet), a CSV file the manager attached to the open assessment and a note the leader
    # added, and a CSV file on the assessment in review (for its assessor).
    leader_token: str
    evidence: Evidence
    leader_evidence: Evidence
    review_evidence: Evidence
    exports: list[BulkExport] = field(default_factory=list)

    @property
    def assessments(self) -> list[Assessment]:
        return [
            self.draft,
            self.open,
            self.submitted,
            self.in_review,
            self.returned,
            self.approved,
        ]


@dataclass
class World:
    a: Tenant
    b: Tenant
    staff: Any
    free_assessor: Any  # accredited, no assignment, no tie: a valid choice for A
    neutral_consultancy: Consultancy  # no grants at all


def _comments(marks: Marks) -> dict[int, str]:
    """Two answers of every response carry a comment: the first and the last."""
    return {
        0: marks("a comment on the first question"),
        -1: marks("a comment on the last question"),
    }


def _person(marks: Marks):
    return make_user(marks.username(), first_name=marks(), last_name=marks(), email=marks.email())


def _respond(invitation: Invitation, marks: Marks, levels: tuple[int, ...], *, done: bool):
    return make_response(
        invitation.assessment,
        invitation=invitation,
        levels=levels,
        comments=_comments(marks),
        status=Response.Status.COMPLETED if done else Response.Status.IN_PROGRESS,
        completed_at=timezone.now() if done else None,
    )


def _open_with_answers(team: Team, manager, marks: Marks, title: str) -> Assessment:
    """Created, opened and answered by the three roster members (completed)."""
    assessment = make_opened_assessment(team, title=marks(title), slugs=SLUGS, by=manager)
    for invitation, levels in zip(
        assessment.invitations.order_by("email"), ((2, 3, 4), (3, 4, 5), (1, 3, 4)), strict=False
    ):
        _respond(invitation, marks, levels, done=True)
    return assessment


def _submitted(team: Team, manager, marks: Marks, title: str) -> Assessment:
    assessment = _open_with_answers(team, manager, marks, title)
    services.assessment_submit(assessment=assessment, by=manager)
    assessment.refresh_from_db()
    return assessment


def _snapshot(assessment: Assessment) -> dict:
    return review_selectors.decision_snapshot(assessment)


def first_section(assessment: Assessment) -> Section:
    return (
        Section.objects.filter(version__assessments=assessment)
        .order_by("version__framework__slug", "position")
        .first()
    )


def _moderate(assessment: Assessment, assessor, marks: Marks) -> None:
    services.moderation_record(
        assessment=assessment,
        section_id=first_section(assessment).pk,
        assessor=assessor,
        score="55.5",
        rationale=marks("moderation rationale"),
    )


def _return(assessment: Assessment, assessor, marks: Marks) -> None:
    services.decision_return(
        assessment=assessment,
        assessor=assessor,
        required_changes=marks("required changes"),
        snapshot=_snapshot(assessment),
    )


def _customer_survey(assessment: Assessment, manager, marks: Marks) -> CustomerSurvey:
    """The open assessment's customer survey, through the service a manager's form calls,
    answered through the service the customers' page calls (no address: no throttle row),
    by as many customers as its figures need; each comment carries a mark."""
    today = timezone.localdate()
    survey = services.customer_survey_create(
        team=assessment.team,
        assessment=assessment,
        user=manager,
        title=marks("customer survey"),
        opens_on=today - timedelta(days=1),
        closes_on=today + timedelta(days=20),
        max_responses=500,
    )
    positions = list(survey.version.attributes.values_list("position", flat=True))
    for n in range(settings.CUSTOMER_THRESHOLD):
        refusal = services.customer_response_submit(
            survey_id=survey.pk,
            answers=CustomerAnswers(
                ratings={p: (1 + (p + n) % 5, 1 + (p * 2 + n) % 5) for p in positions},
                comment=marks("a customer's comment"),
            ),
            address=None,
        )
        assert refusal is None, refusal
    return survey


def _customer_links(survey: CustomerSurvey, marks: Marks) -> str:
    """Two customers on the survey's personal-link list, through the services of the
    manager's upload and send: the first was e-mailed a link, the second not yet. The
    first link's token, read from the e-mail as its customer reads it."""
    email = marks.email()
    services.customer_links_add(survey=survey, entries=[(email, marks("Customer"))])
    assert services.customer_links_send(survey=survey) == 1
    message = mail.outbox[-1]
    assert message.to == [email]
    prefix = reverse("customer_survey_personal", kwargs={"token": "TOKEN"}).split("TOKEN")[0]
    token = re.search(re.escape(prefix) + r"([\w-]+)/", message.body).group(1)
    services.customer_links_add(survey=survey, entries=[(marks.email(), marks("Customer"))])
    return token


def _evidence_file(assessment: Assessment, manager, marks: Marks) -> Evidence:
    """A CSV file the manager attached to the assessment's first section, as the form's
    service stores it; its name, title and content carry marks."""
    content = f"Month,Note\r\nMay,{marks('evidence row')}\r\n".encode()
    return services.evidence_add(
        assessment=assessment,
        section=first_section(assessment),
        question=None,
        kind=Evidence.Kind.FILE,
        title=marks("evidence file"),
        file=EvidenceFile(content, "text/csv", f"{marks()}.csv"),
        by=manager,
    )


def build_tenant(marks: Marks, *, staff, consultancy_name: str, assessor_name: str) -> Tenant:
    """One organisation with data in every state; all its free text comes from ``marks``."""
    manager = _person(marks)
    organisation = make_organisation(marks("Organisation"), manager=None)
    make_membership(organisation, manager)
    manager2 = _person(marks)
    make_membership(organisation, manager2)
    invitation_token = secrets.token_urlsafe(16)
    manager_invitation = make_manager_invitation(
        organisation, email=marks.email(), token=invitation_token, by=manager
    )
    front = services.team_create(organisation=organisation, name=marks("Front desk"))
    back = services.team_create(organisation=organisation, name=marks("Back office"))
    for team in (front, back):
        for _ in range(3):
            services.roster_entry_add(team=team, name=marks("Member"), email=marks.email())

    assessor = make_assessor(assessor_name, body=f"Body of {assessor_name}")
    # Oldest first: the approved assessment is the front desk's previous one.
    approved = _submitted(front, manager, marks, "approved assessment")
    services.assessor_assign(assessment=approved, assessor=assessor, by=staff)
    _return(approved, assessor, marks)
    services.assessment_reopen(
        assessment=approved,
        by=manager,
        sections=[first_section(approved)],
        note=marks("Look again"),
    )
    for response in approved.responses.all():
        services.response_complete(response=response)
    services.assessment_submit(assessment=approved, by=manager)  # back to its assessor
    _moderate(approved, assessor, marks)
    services.targets_set(assessment=approved, levels={first_section(approved).pk: 4})
    judge_criteria(approved, assessor)
    services.decision_approve(
        assessment=approved,
        assessor=assessor,
        level=3,
        summary=marks("approval summary"),
        snapshot=_snapshot(approved),
    )

    returned = _submitted(front, manager, marks, "returned assessment")
    services.assessor_assign(assessment=returned, assessor=assessor, by=staff)
    _moderate(returned, assessor, marks)
    _return(returned, assessor, marks)

    in_review = _submitted(back, manager, marks, "assessment in review")
    services.assessor_assign(assessment=in_review, assessor=assessor, by=staff)
    _moderate(in_review, assessor, marks)

    submitted = _submitted(back, manager, marks, "submitted assessment")

    draft = services.assessment_create(
        team=back, title=marks("draft assessment"), framework_slugs=SLUGS, due_date=None, by=manager
    )

    opened = make_opened_assessment(
        front,
        title=marks("open assessment"),
        slugs=SLUGS,
        due_date=timezone.localdate() + timedelta(days=20),
        by=manager,
    )
    first, second, _third = opened.invitations.order_by("email")
    completed_response = _respond(first, marks, (4, 4, 3), done=True)
    open_response = _respond(second, marks, (2, 5), done=False)
    self_response = services.manager_response_start(assessment=opened, by=manager)
    make_answers(self_response, levels=(5, 4), comments=_comments(marks))
    respondent_token = secrets.token_urlsafe(16)
    respondent_invitation = make_invitation(
        opened, name=marks("Respondent"), email=marks.email(), token=respondent_token
    )

    customer_survey = _customer_survey(opened, manager, marks)
    customer_link_token = _customer_links(customer_survey, marks)

    action = action_create(
        assessment=approved,
        by=manager,
        title=marks("action"),
        section=first_section(approved),
        owner_name=marks("Owner"),
        owner_email=marks.email(),
        due_date=timezone.localdate() + timedelta(days=7),
        notes=marks("action notes"),
    )
    required_action = action_require(
        assessment=approved, assessor=assessor, title=marks("required action")
    )
    calendar_feed, calendar_token = calendar_feed_create(organisation=organisation, by=manager)

    leader_token = secrets.token_urlsafe(16)
    leader_invitation = make_invitation(
        opened, name=marks("Leader"), email=marks.email(), token=leader_token, audience="leadership"
    )
    evidence = _evidence_file(opened, manager, marks)
    leader_evidence = services.evidence_add(
        assessment=opened,
        section=first_section(opened),
        question=None,
        kind=Evidence.Kind.NOTE,
        title=marks("leader's evidence"),
        note=marks("a note from leadership"),
        invitation=leader_invitation,
    )
    review_evidence = _evidence_file(in_review, manager, marks)

    consultant = make_consultant(
        marks.username(), name=consultancy_name, first_name=marks(), last_name=marks()
    )
    grant = services.grant_create(
        organisation=organisation, consultancy=consultant.consultancy, by=manager, days=60
    )
    for assessment in (approved, returned, in_review, submitted, draft, opened):
        assessment.refresh_from_db()
    return Tenant(
        marks=marks,
        organisation=organisation,
        manager=manager,
        manager2=manager2,
        manager_invitation=manager_invitation,
        manager_invitation_token=invitation_token,
        front=front,
        back=back,
        draft=draft,
        open=opened,
        submitted=submitted,
        in_review=in_review,
        returned=returned,
        approved=approved,
        assessor=assessor,
        consultant=consultant,
        consultancy=consultant.consultancy,
        grant=grant,
        completed_response=completed_response,
        open_response=open_response,
        self_response=self_response,
        respondent_invitation=respondent_invitation,
        respondent_token=respondent_token,
        customer_survey=customer_survey,
        customer_link_token=customer_link_token,
        action=action,
        required_action=required_action,
        calendar_feed=calendar_feed,
        calendar_token=calendar_token,
        leader_token=leader_token,
        evidence=evidence,
        leader_evidence=leader_evidence,
        review_evidence=review_evidence,
    )


def _run_export(consultant, assessments, *, failing_organisation=None) -> BulkExport:
    """A bulk export made by the real task; reports of ``failing_organisation`` fail."""
    export = services.bulk_export_start(
        consultancy=consultant.consultancy, by=consultant, assessments=assessments
    )
    render = reports.render_report

    def render_or_fail(assessment, **kwargs):
        if assessment.organisation_id == getattr(failing_organisation, "pk", None):
            raise RuntimeError("simulated render failure")
        return render(assessment, **kwargs)

    # The simulated failure is expected: keep its traceback out of the test output.
    quiet = mock.patch.object(tasks.logger, "exception") if failing_organisation else nullcontext()
    with mock.patch.object(reports, "render_report", render_or_fail), quiet:
        tasks.make_bulk_export.call(export.pk)
    export.refresh_from_db()
    return export


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def build_world(*, exports: bool = False) -> World:
    """Organisations A and B (see the module docstring).

    With ``exports``, there are bulk exports (slower: a real PDF is rendered). B's
    consultancy has one of B's reports. B once granted A's consultancy access too:
    A's consultancy then exported a report of A and one of B (whose rendering failed,
    so its title went into the failure list), and B revoked that grant. Then A's
    consultancy exported a report of A alone.
    """
    staff = make_user("staff-reviewer", is_staff=True, first_name="Stella")
    a = build_tenant(
        Marks(MARK_PREFIX), staff=staff, consultancy_name="Alpha Advisers", assessor_name="alex"
    )
    b = build_tenant(
        Marks(CANARY_PREFIX), staff=staff, consultancy_name="Bravo Partners", assessor_name="bea"
    )
    free_assessor = make_assessor("freya", body="Free Accreditation")
    neutral = make_consultancy("Neutral Consulting")
    if exports:
        # B's own export only needs to exist (its file is refused to A): no rendering.
        b.exports.append(
            make_export(
                b.consultant,
                assessments=[b.approved],
                status=BulkExport.Status.DONE,
                done=1,
                archive=_zip({f"{b.marks()}.pdf": b.marks().encode()}),
                failures=[{"assessment": b.approved.title, "error": b.marks()}],
                finished_at=timezone.now(),
            )
        )
        earlier = services.grant_create(
            organisation=b.organisation, consultancy=a.consultancy, by=b.manager, days=30
        )
        a.exports.append(
            _run_export(a.consultant, [a.approved, b.approved], failing_organisation=b.organisation)
        )
        services.grant_revoke(grant=earlier, by=b.manager)
        a.exports.append(_run_export(a.consultant, [a.approved]))  # the report is cached
    return World(a=a, b=b, staff=staff, free_assessor=free_assessor, neutral_consultancy=neutral)


# --- the database, before and after ----------------------------------------------------

SNAPSHOT_APPS = ("assessment", "frameworks", "auth")
# Derived stores, not anyone's data: a page that shows a closed assessment's results
# stores the sums it scored them from (keyed on everything that can change them), so a
# refused request that re-renders such a page may write one. Their correctness is proved
# in tests/assessment/selectors/test_results_stored.py.
DERIVED = frozenset({"assessment.StoredResults"})

State = dict[str, dict[Any, dict[str, Any]]]


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | memoryview | bytearray):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    return value


def db_state() -> State:
    """Every row of the app's, the frameworks' and auth's tables (M2M tables too)."""
    state: State = {}
    for label in SNAPSHOT_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if model._meta.label in DERIVED:
                continue
            pk = model._meta.pk.attname
            state[model._meta.label] = {
                row[pk]: {key: _plain(value) for key, value in row.items()}
                for row in model._default_manager.order_by().values()
            }
    return state


@dataclass
class TableChanges:
    created: dict[Any, dict[str, Any]] = field(default_factory=dict)
    deleted: dict[Any, dict[str, Any]] = field(default_factory=dict)
    changed: dict[Any, dict[str, tuple[Any, Any]]] = field(default_factory=dict)


def diff(before: State, after: State) -> dict[str, TableChanges]:
    """What changed, by model label; tables without changes are left out."""
    changes: dict[str, TableChanges] = {}
    for label in sorted(set(before) | set(after)):
        old, new = before.get(label, {}), after.get(label, {})
        table = TableChanges(
            created={pk: new[pk] for pk in new.keys() - old.keys()},
            deleted={pk: old[pk] for pk in old.keys() - new.keys()},
        )
        for pk in old.keys() & new.keys():
            fields = {
                key: (old[pk][key], new[pk][key])
                for key in old[pk]
                if old[pk][key] != new[pk].get(key)
            }
            if fields:
                table.changed[pk] = fields
        if table.created or table.deleted or table.changed:
            changes[label] = table
    return changes
