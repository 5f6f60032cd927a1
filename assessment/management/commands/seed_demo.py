"""Demo data for trying Service Balance locally. Idempotent: a second run adds nothing.

It creates an administrator, an organisation with a manager, a team of six, an
open assessment still collecting answers, and one whose completed responses
pass the anonymity threshold. It prints the logins and a team member's link.

The assessments use the newest (format-2) version of each framework: the team answers the team's
questions, the manager the manager questions, and (in the spring review) a
leadership group of three the leadership questions.
"""

import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from assessment import services
from assessment.models import (
    Answer,
    Assessment,
    AssessorProfile,
    AuditEvent,
    Consultancy,
    ConsultantMembership,
    CustomerSurvey,
    Invitation,
    Organisation,
    Response,
    token_digest,
)
from assessment.selectors import review
from assessment.services import actions as action_services
from assessment.services.evidence import EvidenceFile
from frameworks.models import Framework, Question

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - demo only; refused outside DEBUG
ORGANISATION = "Northwind Services"
TEAM = "Customer Care"
LEADERSHIP = [
    ("Grace Liu", "grace.liu@northwind.example"),  # managing director
    ("Hugo Becker", "hugo.becker@northwind.example"),  # finance director
    ("Ines Duarte", "ines.duarte@northwind.example"),  # owner's representative
]
ROSTER = [
    ("Amira Haddad", "amira@northwind.example"),
    ("Ben Okafor", "ben@northwind.example"),
    ("Chloe Martin", "chloe@northwind.example"),
    ("Dev Patel", "dev@northwind.example"),
    ("Elena Rossi", "elena@northwind.example"),
    ("Finn Murphy", "finn@northwind.example"),
]
COMMENTS = [
    "We do this well when the team is fully staffed, less so in holiday weeks.",
    "Nobody owns this at the moment; it depends on who picks it up.",
    "The new call review meeting has helped a lot here.",
    "Targets push us towards speed rather than getting it right first time.",
    "Good intentions, but we rarely hear back about what changed.",
]
# How demo answers lean, per section key, away from level 3.
MILD = {"customers": 0.8, "customer": 0.8, "employees": -0.5, "owners": -0.3, "development": -0.5}
UNBALANCED = {
    "customers": 1.6,
    "customer": 1.4,
    "colleagues": 0.4,
    "employees": -2.1,
    "owners": -1.0,
    "development": -1.2,
}
ROSY = dict.fromkeys(UNBALANCED, 1.0)
# Mail from set-up is not sent: the demo prints the one link it needs.
QUIET_MAIL = {"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str


@dataclass(frozen=True)
class DemoResult:
    logins: list[DemoLogin]
    member_link: str | None
    customer_link: str | None = None


class Command(BaseCommand):
    help = "Create demo accounts and assessments (development only) and print the logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Seed even though DEBUG is off. Never on a server people can reach.",
        )

    def handle(self, *args: object, allow_without_debug: bool, **options: object) -> None:
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError(
                "seed_demo creates accounts with a published password, so it only runs with "
                "DEBUG=1. Pass --allow-without-debug to override on a private machine."
            )
        if not Framework.objects.exists():
            raise CommandError("Load the frameworks first: python manage.py load_frameworks")
        # Set-up mail is not sent (notifications go out after the commit, so the
        # quiet mailer must cover the whole transaction): the demo prints what it needs.
        with override_settings(MAILERS=QUIET_MAIL):
            result = seed_demo()
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in at /accounts/login/ as:"))
        for login in result.logins:
            self.stdout.write(f"  {login.role:<14} {login.username:<12} password: {DEMO_PASSWORD}")
        if result.member_link:
            self.stdout.write("Answer as a team member (a fresh single-use link each run):")
            self.stdout.write(f"  {result.member_link}")
        if result.customer_link:
            self.stdout.write("Answer as a customer (the demo customer survey's public link):")
            self.stdout.write(f"  {result.customer_link}")


@transaction.atomic
def seed_demo() -> DemoResult:
    """Create (or leave as they are) the demo accounts and data."""
    user_model = get_user_model()
    admin, created = user_model.objects.get_or_create(
        username="admin",
        defaults={
            "email": "admin@example.com",
            "first_name": "Ada",
            "last_name": "Admin",
            "is_staff": True,
            "is_superuser": True,
        },
    )
    if created:
        admin.set_password(DEMO_PASSWORD)
        admin.save(update_fields=["password"])

    assessor = _seed_assessor()
    if not Organisation.objects.filter(name=ORGANISATION).exists():
        _seed_organisation(admin=admin, assessor=assessor)
    manager = user_model.objects.get(username="manager")
    consultant = _seed_consultant(granted_by=manager)
    return DemoResult(
        logins=[
            DemoLogin(role="administrator", username=admin.get_username()),
            DemoLogin(role="manager", username=manager.get_username()),
            DemoLogin(role="assessor", username=assessor.get_username()),
            DemoLogin(role="consultant", username=consultant.get_username()),
        ],
        member_link=_fresh_member_link(),
        customer_link=_customer_link(),
    )


# The demo assessor's judgements where a criterion was not fully met (by question code);
# every other criterion of the approved assessment is judged met.
DEMO_JUDGEMENTS = {
    "W4-EMP-2": (
        "partly",
        "Rotas exist, but last quarter's overtime records show them overridden most weeks.",
    ),
    "W4-OWN-1": ("not_evidenced", "No cost-to-serve figures were provided for this review."),
}


def _judge_criteria(assessment, assessor) -> None:
    """Judge every criterion of ``assessment`` as the demo assessor would: met, with a
    short note, except where ``DEMO_JUDGEMENTS`` says otherwise."""
    by_section: dict[int, dict[int, tuple[str, str]]] = {}
    for question in Question.objects.filter(
        version__assessments=assessment, version__format=2
    ).order_by("pk"):
        by_section.setdefault(question.section_id, {})[question.pk] = DEMO_JUDGEMENTS.get(
            question.code, ("met", "Seen in the documents provided and confirmed in interviews.")
        )
    for section_id, judgements in by_section.items():
        services.judgements_record(
            assessment=assessment, section_id=section_id, assessor=assessor, judgements=judgements
        )


# Evidence the demo manager attached to last year's review: (section key, title, kind,
# content). A CSV file, a link and a note, named after the manager, as evidence is.
DEMO_EVIDENCE = [
    (
        "customers",
        "Complaint reasons by month",
        "file",
        "month,reason,count\n2025-01,late reply,14\n2025-01,wrong answer,6\n"
        "2025-02,late reply,9\n2025-02,wrong answer,5\n",
    ),
    ("employees", "Rota policy on the intranet", "link", "https://intranet.example/rota"),
    (
        "company",
        "Board minutes on the service budget",
        "note",
        "The board reviewed the service budget in March and kept it for two years.",
    ),
]


def _attach_evidence(assessment, manager) -> None:
    sections = {
        section.key: section
        for section in assessment.framework_versions.get(framework__slug="win4").sections.all()
    }
    for key, title, kind, content in DEMO_EVIDENCE:
        extra = {
            "file": {
                "file": EvidenceFile(
                    content=content.encode(),
                    content_type="text/csv",
                    original_name="complaint-reasons.csv",
                )
            },
            "link": {"url": content},
            "note": {"note": content},
        }[kind]
        services.evidence_add(
            assessment=assessment,
            section=sections[key],
            question=None,
            kind=kind,
            title=title,
            by=manager,
            **extra,
        )


def _plan_actions(assessment, manager) -> None:
    """The team's plan after last year's review: the assessor's required action owned by
    the manager and done, and two of their own (one done, one dropped), so this year's
    results show each beside its section's change."""
    today = timezone.localdate()
    sections = {
        section.key: section
        for section in assessment.framework_versions.get(framework__slug="win4").sections.all()
    }
    required = assessment.actions.get(required_by__isnull=False)
    action_services.action_update(
        action=required,
        by=manager,
        title=required.title,
        section=required.section,
        owner=manager,
        due_date=today - timedelta(days=200),
        status="done",
        notes="Peak-week rota agreed with the team and published in January.",
    )
    action_services.action_create(
        assessment=assessment,
        by=manager,
        title="Answer every complaint within two working days",
        section=sections["customers"],
        owner_name="Amira Haddad",
        owner_email="amira@northwind.example",
        due_date=today - timedelta(days=150),
        status="done",
    )
    action_services.action_create(
        assessment=assessment,
        by=manager,
        title="Report the cost of service to the owners each quarter",
        section=sections["owners"],
        owner=manager,
        due_date=today + timedelta(days=10),
        status="in_progress",
    )


def _seed_organisation(*, admin, assessor) -> None:
    manager = services.organisation_sign_up(
        organisation_name=ORGANISATION,
        full_name="Maya Manager",
        email="manager@northwind.example",
        username="manager",
        password=DEMO_PASSWORD,
        confirmed=True,  # an invented address: nobody could follow a confirmation link
    )
    organisation = Organisation.objects.get(name=ORGANISATION)
    team = services.team_create(organisation=organisation, name=TEAM)
    for name, email in ROSTER:
        services.roster_entry_add(team=team, name=name, email=email)

    rng = random.Random(2026)  # noqa: S311 - demo answers, not security

    # A year ago: submitted, milder imbalance; the results page shows it as the trend.
    earlier = services.assessment_create(
        team=team,
        title="Last year's review",
        framework_slugs=["win4", "holistic"],
        due_date=None,
        by=manager,
    )
    services.assessment_open(assessment=earlier, by=manager)
    for invitation in earlier.invitations.order_by("email")[:4]:
        _answer(_response_for(invitation), rng, complete=True, leaning=MILD)
    services.assessment_submit(assessment=earlier, by=manager)
    # Reviewed and approved by the demo assessor.
    services.assessor_assign(assessment=earlier, assessor=assessor, by=admin)
    services.moderation_record(
        assessment=earlier,
        section_id=earlier.framework_versions.get(framework__slug="win4")
        .sections.get(key="employees")
        .pk,
        assessor=assessor,
        score="40",
        rationale="Staff survey results and turnover figures suggest a lower score than "
        "the team's own view.",
    )
    _attach_evidence(earlier, manager)
    _judge_criteria(earlier, assessor)
    services.action_require_in_review(
        assessment=earlier,
        assessor=assessor,
        title="Publish a staffing plan for the peak weeks and keep to it",
        section_id=earlier.framework_versions.get(framework__slug="win4")
        .sections.get(key="employees")
        .pk,
    )
    rule = review.assessment_award_rule(earlier)
    services.decision_approve(
        assessment=earlier,
        assessor=assessor,
        # The level the awarded-level rule gives from the sections and their criteria,
        # or the assessor's own where it gives none (a section without a score).
        level=rule.level if rule.level is not None else 3,
        summary="A sound first assessment. Customer-facing practice is strong; the load on "
        "front-line staff needs attention before the next review.",
        snapshot=review.decision_snapshot(earlier),
    )
    _plan_actions(earlier, manager)
    a_year_ago = timezone.now() - timedelta(days=365)
    Assessment.objects.filter(pk=earlier.pk).update(
        created_at=a_year_ago, opened_at=a_year_ago, submitted_at=a_year_ago + timedelta(days=30)
    )
    for offset, event in enumerate(earlier.audit_events.order_by("pk")):
        AuditEvent.objects.filter(pk=event.pk).update(
            created_at=a_year_ago + timedelta(days=offset * 5)
        )

    # Last quarter, submitted: customers win at the expense of staff and owners. Five
    # completed responses (past the anonymity threshold), one left unfinished, and the
    # manager's own view.
    finished = services.assessment_create(
        team=team,
        title="Spring service review",
        framework_slugs=["win4", "holistic"],
        due_date=None,
        by=manager,
    )
    services.invitations_add(
        assessment=finished, people=LEADERSHIP, audience=Invitation.Audience.LEADERSHIP
    )
    services.assessment_open(assessment=finished, by=manager)
    invitations = list(finished.invitations.filter(audience="team").order_by("email"))
    for invitation in invitations[:5]:
        _answer(_response_for(invitation), rng, complete=True, leaning=UNBALANCED)
    _answer(_response_for(invitations[5]), rng, complete=False, share=0.4, leaning=UNBALANCED)
    for invitation in finished.invitations.filter(audience="leadership"):
        _answer(_response_for(invitation), rng, complete=True, leaning=MILD)
    own = services.manager_response_start(assessment=finished, by=manager)
    _answer(own, rng, complete=True, leaning=ROSY)
    _seed_customers(finished, manager, rng)
    services.assessment_submit(assessment=finished, by=manager)
    services.assessor_assign(assessment=finished, assessor=assessor, by=admin)  # in their queue

    # This quarter's assessment: open, answers still coming in.
    current = services.assessment_create(
        team=team,
        title="Autumn check-in",
        framework_slugs=["six-dimensions"],
        due_date=timezone.localdate() + timedelta(days=21),
        by=manager,
    )
    services.assessment_open(assessment=current, by=manager)
    first = current.invitations.order_by("email")[1]
    _answer(_response_for(first), rng, complete=False, share=0.5)


# What the demo's customers say, by attribute position (docs/customer-voice.md): how much
# each matters (importance) and how well it was done (performance), as the centre of
# each customer's rating; and what the team predicted they would say.
CUSTOMER_VIEW = {
    1: (4.6, 2.4, 4),  # on time: matters a lot, done poorly; the team expected better
    2: (4.4, 3.2, 4),  # right first time
    3: (3.8, 3.9, 4),  # same answer from anyone
    4: (3.9, 2.9, 3),  # clear about what is included
    5: (3.6, 3.4, 3),  # help after buying
    6: (3.2, 4.1, 4),  # suits your situation
    7: (4.1, 3.5, 3),  # worth what it costs
    8: (2.6, 4.2, 3),  # more than you expected
    9: (4.3, 2.8, None),  # kept informed (the customers' own)
    10: (4.5, 4.4, None),  # treated as a person (the customers' own)
}
DEMO_CUSTOMERS = 36


def _rating(rng: random.Random, centre: float) -> int:
    return max(1, min(5, round(rng.gauss(centre, 0.8))))


def _seed_customers(assessment: Assessment, manager, rng: random.Random) -> None:
    """A customer survey of the assessment: the team's predictions, then the customers'
    own answers through the same service as the public page."""
    today = timezone.localdate()
    survey = services.customer_survey_create(
        team=assessment.team,
        assessment=assessment,
        user=manager,
        title="Counter and phone customers, spring",
        opens_on=today - timedelta(days=20),
        closes_on=today + timedelta(days=10),
        max_responses=500,
    )
    for response in Response.objects.members().completed().filter(assessment=assessment):
        services.customer_prediction_save(
            response=response,
            ratings={
                n: None if predicted is None else _rating(rng, predicted)
                for n, (_i, _p, predicted) in CUSTOMER_VIEW.items()
            },
        )
    for _ in range(DEMO_CUSTOMERS):
        ratings = {
            n: (
                None if rng.random() < 0.08 else _rating(rng, importance),
                None if rng.random() < 0.08 else _rating(rng, performance),
            )
            for n, (importance, performance, _predicted) in CUSTOMER_VIEW.items()
        }
        services.customer_response_submit(
            survey_id=survey.pk,
            answers=services.CustomerAnswers(ratings=ratings),
            address=None,
        )


def _demo_user(username: str, email: str, first_name: str, last_name: str):
    """A demo login with the demo password; an existing one is kept as it is."""
    user, created = get_user_model().objects.get_or_create(
        username=username,
        defaults={"email": email, "first_name": first_name, "last_name": last_name},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _seed_assessor():
    """An external assessor with an accreditation valid for another year."""
    user = _demo_user("assessor", "assessor@assessors.example", "Sam", "Assessor")
    AssessorProfile.objects.get_or_create(
        user=user,
        defaults={
            "accrediting_body": "Institute of Service Assessors",
            "accreditation_number": "ISA-2026-0042",
            "valid_until": timezone.localdate() + timedelta(days=365),
        },
    )
    return user


def _seed_consultant(*, granted_by):
    """A consultancy with a consultant, granted access to the demo organisation."""
    user = _demo_user("consultant", "cora@clearview.example", "Cora", "Consultant")
    consultancy, _created = Consultancy.objects.get_or_create(
        name="Clear View Consulting", defaults={"accent_colour": "#5c4b8a"}
    )
    ConsultantMembership.objects.get_or_create(user=user, consultancy=consultancy)
    organisation = Organisation.objects.get(name=ORGANISATION)
    if not organisation.consultant_grants.filter(consultancy=consultancy).exists():
        services.grant_create(
            organisation=organisation, consultancy=consultancy, by=granted_by, days=180
        )
    return user


def _response_for(invitation: Invitation) -> Response:
    response, _created = Response.objects.get_or_create(
        invitation=invitation,
        defaults={"assessment": invitation.assessment, "audience": invitation.audience},
    )
    return response


def _answer(
    response: Response,
    rng: random.Random,
    *,
    complete: bool,
    share: float = 1,
    leaning: dict[str, float] | None = None,
) -> None:
    """Plausible answers around level 3, shifted per section key by ``leaning``, to the
    questions this person is asked; now and then "not applicable" or (format 2)
    "don't know"."""
    leaning = leaning or {}
    questions = (
        Question.objects.filter(version__assessments=response.assessment_id)
        .asked_of(response.audience)
        .select_related("section", "version")
    )
    answers = []
    for question in questions:
        if rng.random() > share:
            continue
        if rng.random() < 0.06:
            unsure = question.version.has_audiences and rng.random() < 0.5
            answers.append(
                Answer(
                    response=response,
                    question=question,
                    section_id=question.section_id,
                    not_applicable=not unsure,
                    dont_know=unsure,
                )
            )
            continue
        centre = 3 + leaning.get(question.section.key, 0)
        level = min(5, max(question.version.scale_min, round(rng.gauss(centre, 0.8))))
        comment = rng.choice(COMMENTS) if rng.random() < 0.08 else ""
        answers.append(
            Answer(
                response=response,
                question=question,
                section_id=question.section_id,
                level=level,
                comment=comment,
            )
        )
    Answer.objects.bulk_create(answers)
    if complete:
        services.response_complete(response=response)


def _customer_link() -> str | None:
    """The demo customer survey's public link, while it takes answers."""
    survey = CustomerSurvey.objects.filter(organisation__name=ORGANISATION).first()
    if survey is None or survey.state(survey.responses.count()) != "open":
        return None
    return settings.SITE_URL.rstrip("/") + survey.public_path()


def _fresh_member_link() -> str | None:
    """Re-issue the link of a member who has not finished the open demo assessment."""
    invitation = (
        Invitation.objects.filter(
            assessment__organisation__name=ORGANISATION,
            assessment__status=Assessment.Status.OPEN,
            assessment__title="Autumn check-in",
        )
        .order_by("email")
        .first()
    )
    if invitation is None:
        return None
    token = services.new_token()
    Invitation.objects.filter(pk=invitation.pk).update(
        token_hash=token_digest(token),
        token_used_at=None,
        token_expires_at=timezone.now() + timedelta(days=services.INVITATION_LINK_DAYS),
    )
    path = reverse("assessment:invitation_open", kwargs={"token": token})
    return settings.SITE_URL.rstrip("/") + path
