"""Seed a load run's database through the app's own services (run inside Django).

Invitation tokens are stored only as hashes, so the raw ones are read from the
invitation e-mails the services send, caught by Django's in-memory mail backend. The
customer run (``seed_customers``) needs one customer survey, whose public link is read
from the survey itself.
"""

import datetime
import random
import re
import secrets

from django.contrib.auth import get_user_model
from django.core import mail
from django.test.utils import override_settings
from django.utils import timezone

from assessment import services
from assessment.models import (
    Assessment,
    Consultancy,
    ConsultantMembership,
    Membership,
    Organisation,
)
from frameworks.models import Question

LOCMEM_MAIL = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
LINK = re.compile(r"/r/([A-Za-z0-9_-]{20,})/")
# Short questionnaires (24 questions in four sections), so a simulated respondent
# completes one in well under a minute and takes another.
RESPONDENT_FRAMEWORKS = ("win4", "service-definition")
EXPORT_TEAMS = 4
# Managers who download the closed assessments' PDF reports (tests/load/downloads.py).
DOWNLOADERS = 2


def seed(*, invitations: int, consultants: int) -> dict:
    """An organisation with open assessments and ``invitations`` unused links in all;
    with ``consultants``, also closed assessments and consultants who may export them."""
    # The load test's own invitations are not what the sending caps are for.
    unlimited = {"MAIL_CAP_PER_HOUR": 10**9, "MAIL_CAP_PER_DAY": 10**9}
    with override_settings(MAILERS=LOCMEM_MAIL, **unlimited):
        mail.outbox = []
        password = secrets.token_urlsafe(16)
        manager = services.organisation_sign_up(
            organisation_name="Load Test Ltd",
            full_name="Lara Load",
            email="lara@load.example",
            username="load-manager",
            password=password,
            confirmed=True,
        )
        organisation = Organisation.objects.get(memberships__user=manager)
        team = services.team_create(organisation=organisation, name="Everyone")
        per_assessment = -(-invitations // len(RESPONDENT_FRAMEWORKS))
        assessment_ids = []
        for slug in RESPONDENT_FRAMEWORKS:
            assessment = services.assessment_create(
                team=team,
                title=f"Load test: {slug}",
                framework_slugs=[slug],
                due_date=None,
                by=manager,
            )
            services.invitations_add(
                assessment=assessment,
                people=[
                    (f"Person {n}", f"p{n}.{slug}@load.example") for n in range(per_assessment)
                ],
            )
            services.assessment_open(assessment=assessment, by=manager)
            assessment_ids.append(assessment.pk)
        tokens = _tokens_from_mail()
        random.Random(7).shuffle(tokens)  # noqa: S311 - mixes the two assessments, not security
        result = {
            "tokens": tokens[:invitations],
            "assessments": assessment_ids,
            "questions": Question.objects.filter(version__assessments__in=assessment_ids).count(),
            "consultants": [],
        }
        if consultants:
            result["exportable"] = _closed_assessments(manager, organisation)
            result["consultants"] = _consultants(manager, organisation, consultants)
            result["downloaders"] = _downloaders(organisation, DOWNLOADERS)
        return result


def _tokens_from_mail() -> list[str]:
    tokens = [LINK.search(message.body).group(1) for message in mail.outbox]
    mail.outbox = []
    return tokens


def _closed_assessments(manager, organisation) -> list[int]:
    """One submitted assessment per team, each with three completed responses."""
    rng = random.Random(11)  # noqa: S311 - test answers
    closed = []
    for number in range(1, EXPORT_TEAMS + 1):
        team = services.team_create(organisation=organisation, name=f"Export team {number}")
        assessment = services.assessment_create(
            team=team,
            title=f"Closed review {number}",
            framework_slugs=["win4", "holistic"],
            due_date=None,
            by=manager,
        )
        services.invitations_add(
            assessment=assessment,
            people=[(f"Member {n}", f"m{n}.t{number}@load.example") for n in range(3)],
        )
        services.assessment_open(assessment=assessment, by=manager)
        questions = list(Question.objects.filter(version__assessments=assessment).asked_of("team"))
        for token in _tokens_from_mail():
            response = services.invitation_redeem(token=token)
            services.answers_save(
                response=response,
                answers=[
                    services.AnswerInput(
                        question_id=q.pk,
                        level=rng.randint(1, 5),
                        not_applicable=False,
                        comment="",
                        base_revision=0,
                    )
                    for q in questions
                ],
            )
            services.response_complete(response=response)
        services.assessment_submit(assessment=assessment, by=manager)
        closed.append(assessment.pk)
    assert Assessment.objects.filter(pk__in=closed, status=Assessment.Status.SUBMITTED).count() == (
        EXPORT_TEAMS
    )
    return closed


def _consultants(manager, organisation, count: int) -> list[dict[str, str]]:
    consultancy = Consultancy.objects.create(name="Load Consulting")
    services.grant_create(organisation=organisation, consultancy=consultancy, by=manager, days=30)
    logins = []
    for number in range(1, count + 1):
        username, password = f"consultant{number}", secrets.token_urlsafe(16)
        user = get_user_model().objects.create_user(
            username=username, email=f"{username}@consulting.example", password=password
        )
        ConsultantMembership.objects.create(user=user, consultancy=consultancy)
        logins.append({"username": username, "password": password})
    return logins


def _downloaders(organisation, count: int) -> list[dict[str, str]]:
    """More managers of the organisation, signing in with a password, to download reports.
    Made after the assessments were submitted: the task worker renders their reports
    ahead when it runs the submissions' tasks, at the start of the load."""
    logins = []
    for number in range(1, count + 1):
        username, password = f"downloader{number}", secrets.token_urlsafe(16)
        user = get_user_model().objects.create_user(
            username=username, email=f"{username}@load.example", password=password
        )
        Membership.objects.create(
            user=user, organisation=organisation, role=Membership.Role.MANAGER
        )
        logins.append({"username": username, "password": password})
    return logins


def seed_customers(*, customers: int) -> dict:
    """The customer run's survey: an organisation's team with one customer survey, open
    from today for a week, whose cap (twice ``customers``) is not what the run tests.
    The public link's token is stored as it is (it is printed on posters), so it is read
    from the survey."""
    password = secrets.token_urlsafe(16)
    manager = services.organisation_sign_up(
        organisation_name="Customer Load Ltd",
        full_name="Cora Customer",
        email="cora@load.example",
        username="customer-manager",
        password=password,
        confirmed=True,
    )
    organisation = Organisation.objects.get(memberships__user=manager)
    team = services.team_create(organisation=organisation, name="Front desk")
    today = timezone.localdate()
    survey = services.customer_survey_create(
        team=team,
        user=manager,
        title="Load test: customers",
        opens_on=today,
        closes_on=today + datetime.timedelta(days=7),
        max_responses=2 * customers,
    )
    return {
        "survey": survey.pk,
        "survey_token": survey.public_token,
        "attributes": survey.version.attributes.count(),
        "customers": customers,
    }
