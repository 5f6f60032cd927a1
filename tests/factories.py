"""The test suite's one set of data builders: small ``make_*`` functions with keyword
arguments and sensible defaults. Framework files are written as real TOML.

Every test database already has the shipped frameworks (``tests/conftest.py``), so
``make_assessment`` can pin any of them by slug.
"""

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from itertools import cycle
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser

PASSWORD = "a-long-test-password"  # every account make_user makes, unless told
LEVEL_LABELS = ["Barely delivers", "Consistent", "Exceeds", "Excellence", "Superior"]


def framework_document(
    slug: str = "demo", *, sections: int = 3, questions_per_section: int = 5, text_suffix: str = ""
) -> dict[str, Any]:
    """A valid framework document as a dict, ready to change and write with write_toml."""
    section_keys = [f"part_{n}" for n in range(1, sections + 1)]
    return {
        "slug": slug,
        "name": f"Demo framework {slug}",
        "short_name": "Demo",
        "source": "Written for the test suite",
        "summary": "Measures nothing in particular.",
        "description": "First paragraph.\n\nSecond paragraph.",
        "scale": [
            {"value": v, "label": LEVEL_LABELS[v - 1], "descriptor": f"Level {v} in practice."}
            for v in range(1, 6)
        ],
        "sections": [
            {"key": key, "name": f"Part {n}", "description": f"About part {n}."}
            for n, key in enumerate(section_keys, start=1)
        ],
        "questions": [
            {
                "code": f"Q-{s}-{q}",
                "section": key,
                "text": f"Statement {q} about {key}{text_suffix}.",
                "help": f"Look for evidence of {key} {q}.",
            }
            for s, key in enumerate(section_keys, start=1)
            for q in range(1, questions_per_section + 1)
        ],
    }


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def to_toml(document: dict[str, Any]) -> str:
    """Serialise the subset of TOML framework files use: scalars and arrays of tables."""
    lines: list[str] = []
    tables: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in document.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, items in tables:
        for item in items:
            lines.append(f"\n[[{key}]]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in item.items())
    return "\n".join(lines) + "\n"


def write_framework(directory: Path, document: dict[str, Any]) -> Path:
    path = directory / f"{document['slug']}.toml"
    path.write_text(to_toml(document), encoding="utf-8")
    return path


def make_user(username: str = "user", **fields: Any) -> AbstractUser:
    """An account; the password is ``PASSWORD`` unless ``password`` says."""
    fields.setdefault("email", f"{username}@example.com")
    password = fields.pop("password", PASSWORD)
    return get_user_model().objects.create_user(username=username, password=password, **fields)


def make_membership(organisation, user):
    """Make ``user`` a manager of ``organisation``."""
    from assessment.models import Membership

    return Membership.objects.create(user=user, organisation=organisation)


def make_organisation(
    name: str = "Acme Ltd", *, manager: str | None = "manager", confirmed: bool = True
):
    """An organisation and (unless manager=None) a manager account for it; its address is
    confirmed (it may send invitations) unless ``confirmed=False``."""
    from django.utils import timezone

    from assessment.models import Organisation

    organisation = Organisation.objects.create(
        name=name, email_confirmed_at=timezone.now() if confirmed else None
    )
    if manager is not None:
        user = make_user(f"{manager}-{organisation.pk}", first_name=manager.title())
        make_membership(organisation, user)
        organisation.manager = user  # convenient handle for tests
    return organisation


def make_team(organisation, name: str = "Front desk", *, members: int = 0):
    from assessment.models import RosterEntry, Team

    team = Team.objects.create(organisation=organisation, name=name)
    RosterEntry.objects.bulk_create(
        RosterEntry(team=team, name=f"Member {n}", email=f"member{n}.{team.pk}@example.com")
        for n in range(1, members + 1)
    )
    return team


def make_manager_invitation(
    organisation, *, email: str = "invited@example.com", token: str | None = None, by=None
):
    """A pending invitation to manage ``organisation``, valid for a week; its link's
    token is ``token`` (random unless given)."""
    from django.utils import timezone

    from assessment.models import ManagerInvitation, token_digest

    return ManagerInvitation.objects.create(
        organisation=organisation,
        email=email,
        token_hash=token_digest(token or secrets.token_urlsafe(16)),
        invited_by=by or getattr(organisation, "manager", None) or make_user("inviter"),
        expires_at=timezone.now() + timedelta(days=7),
    )


def make_assessment(
    team,
    *,
    slugs=("win4",),
    status: str = "draft",
    by=None,
    invitees: int = 0,
    version: int | None = None,
):
    """An assessment pinned to the newest versions of the given frameworks (or to
    version ``version`` of each: 1 is the archived format-1 edition), with ``invitees``
    invitations (see make_invitation for their links)."""
    from django.utils import timezone

    from assessment.models import Assessment
    from frameworks.models import Framework

    assessment = Assessment.objects.create(
        organisation=team.organisation,
        team=team,
        title=f"{team.name} assessment",
        status=status,
        created_by=by or getattr(team.organisation, "manager", None) or make_user("creator"),
        opened_at=timezone.now() if status != "draft" else None,
    )
    assessment.framework_versions.set(
        Framework.objects.get(slug=slug).latest_version()
        if version is None
        else Framework.objects.get(slug=slug).versions.get(number=version)
        for slug in slugs
    )
    for _ in range(invitees):
        make_invitation(assessment)
    return assessment


def make_opened_assessment(
    team, *, title: str = "Q4 check", slugs: Sequence[str] = ("win4",), due_date=None, by=None
):
    """An assessment created and opened through the services, as a manager does it:
    everyone on the team's roster is invited by e-mail."""
    from assessment import services

    by = by or team.organisation.manager
    assessment = services.assessment_create(
        team=team, title=title, framework_slugs=list(slugs), due_date=due_date, by=by
    )
    services.assessment_open(assessment=assessment, by=by)
    return assessment


def make_invitation(
    assessment,
    *,
    email: str | None = None,
    name: str = "",
    token: str | None = None,
    audience: str = "team",
):
    """An invitation valid for 30 days. The n-th of an assessment is sent to
    ``invitee<n>.<pk>@example.com`` and its link is ``/r/token-<pk>-<n>/``, unless
    ``email`` and ``token`` say otherwise."""
    from django.utils import timezone

    from assessment.models import Invitation, token_digest

    n = assessment.invitations.count() + 1
    return Invitation.objects.create(
        assessment=assessment,
        name=name,
        email=email or f"invitee{n}.{assessment.pk}@example.com",
        token_hash=token_digest(token or f"token-{assessment.pk}-{n}"),
        token_expires_at=timezone.now() + timedelta(days=30),
        audience=audience,
    )


def make_answers(
    response, *, levels: Sequence[int | None], comments: Mapping[int, str] | None = None
):
    """Answer every question the response's person is asked (``Question.objects.asked_of``),
    in questionnaire order, with ``levels`` cycled; ``comments`` maps a question's index
    (-1: the last) to a comment."""
    from assessment.models import Answer
    from frameworks.models import Question

    questions = Question.objects.filter(version__assessments=response.assessment_id).asked_of(
        response.audience
    )
    answers = [
        Answer(response=response, question=q, section_id=q.section_id, level=level)
        for q, level in zip(questions, cycle(levels), strict=False)
    ]
    for index, comment in (comments or {}).items():
        answers[index].comment = comment
    if response.is_counted:
        # As response_complete leaves them: the submitted copy is what team figures count.
        for answer in answers:
            answer.submitted_level = answer.level
            answer.submitted_comment = answer.comment
    return Answer.objects.bulk_create(answers)


def make_response(
    assessment,
    *,
    levels: Sequence[int | None] | None = None,
    comments: Mapping[int, str] | None = None,
    status: str = "in_progress",
    invitation=None,
    completed_at=None,
    audience: str = "team",
):
    """A member's response (to a new invitation unless given), answering every
    question they are asked with ``levels`` (see make_answers), or leaving it blank.
    ``audience`` "leadership" makes a leadership invitee's."""
    from assessment.models import Response

    if invitation is None:
        n = assessment.invitations.count() + 1
        invitation = make_invitation(
            assessment, email=f"respondent{n}.{assessment.pk}@example.com", audience=audience
        )
    response = Response.objects.create(
        assessment=assessment,
        invitation=invitation,
        audience=invitation.audience,
        status=status,
        completed_at=completed_at,
        completed_round=assessment.round if status in Response.COUNTED_STATUSES else None,
    )
    if levels is not None:
        make_answers(response, levels=levels, comments=comments)
    return response


def make_comment(response, text: str, *, position: int = 0):
    """Put a comment on one of the response's answers (the first, unless position says);
    on a completed response, on its submitted copy too."""
    answer = response.answers.order_by("question__section__position", "question__position")[
        position
    ]
    answer.comment = text
    if response.is_counted:
        answer.submitted_comment = text  # completed: the comment as submitted
    answer.save(update_fields=["comment", "submitted_comment"])
    return answer


def make_manager_response(assessment, user, *, levels=None, status: str = "completed"):
    """The manager's own (self-view) response, answering every question with ``levels``."""
    from assessment.models import Response

    response = Response.objects.create(
        assessment=assessment,
        user=user,
        is_manager_view=True,
        audience=Response.Audience.MANAGER,
        status=status,
        completed_round=assessment.round if status in Response.COUNTED_STATUSES else None,
    )
    if levels is not None:
        make_answers(response, levels=levels)
    return response


def answer_inputs(
    questions: Iterable,
    *,
    level: int | Callable[[Any], int],
    comments: Mapping[int, str] | None = None,
) -> list:
    """What a respondent's form sends to ``services.answers_save``: every question at
    ``level`` (or ``level(question)``), with ``comments`` by question pk."""
    from assessment import services

    comments = comments or {}
    return [
        services.AnswerInput(
            question_id=q.pk,
            level=level(q) if callable(level) else level,
            not_applicable=False,
            comment=comments.get(q.pk, ""),
            base_revision=0,
        )
        for q in questions
    ]


def make_assessor(
    username: str = "assessor",
    *,
    days: int = 365,
    body: str = "Test Accreditation",
    number: str | None = None,
    **fields: Any,
):
    """A user (see make_user) with an assessor accreditation current for ``days`` more
    days (negative: expired), numbered ``ACC-<user pk>`` unless ``number`` says."""
    from django.utils import timezone

    from assessment.models import AssessorProfile

    fields.setdefault("first_name", username.title())
    user = make_user(username, **fields)
    AssessorProfile.objects.create(
        user=user,
        accrediting_body=body,
        accreditation_number=number or f"ACC-{user.pk}",
        valid_until=timezone.localdate() + timedelta(days=days),
    )
    return user


def make_consultancy(name: str = "Advisers Ltd", **fields: Any):
    from assessment.models import Consultancy

    return Consultancy.objects.create(name=name, **fields)


def make_consultant(
    username: str = "consultant", *, consultancy=None, name: str = "Advisers Ltd", **fields: Any
):
    """A user (see make_user) who works for a consultancy (a new one called ``name``
    unless given)."""
    from assessment.models import ConsultantMembership

    fields.setdefault("first_name", username.title())
    user = make_user(username, **fields)
    if consultancy is None:
        consultancy = make_consultancy(name)
    ConsultantMembership.objects.create(user=user, consultancy=consultancy)
    user.consultancy = consultancy  # convenient handle for tests
    return user


def make_export(consultant, *, assessments: Sequence = (), status: str = "done", **fields: Any):
    """A bulk export the consultant asked for, of ``assessments``, as a row only (nothing
    is rendered: ``archive`` and the rest are given as fields); ``total`` counts them
    unless given."""
    from assessment.models import BulkExport

    fields.setdefault("total", len(assessments))
    export = BulkExport.objects.create(
        consultancy=consultant.consultancy, requested_by=consultant, status=status, **fields
    )
    export.assessments.set(assessments)
    return export


def make_grant(organisation, consultancy, *, days: int = 90, revoked: bool = False, by=None):
    """A grant of the consultancy's access to the organisation; negative days: expired."""
    from django.utils import timezone

    from assessment.models import ConsultantGrant

    now = timezone.now()
    return ConsultantGrant.objects.create(
        organisation=organisation,
        consultancy=consultancy,
        granted_by=by or getattr(organisation, "manager", None) or make_user("granter"),
        expires_at=now + timedelta(days=days),
        revoked_at=now if revoked else None,
    )


# --- reading pages ------------------------------------------------------------------------

# The sign-up page's fields, filled in by a newcomer.
SIGN_UP = {
    "organisation_name": "Harbour Bakery",
    "full_name": "Ada Lovelace",
    "email": "ada@example.com",
    "username": "ada",
    "password1": "a-long-and-unusual-passphrase",
    "password2": "a-long-and-unusual-passphrase",
}


def messages_of(response) -> list[str]:
    """The flash messages a page showed (its ``messages`` context), as text."""
    return [str(message) for message in response.context["messages"]]


def make_in_review(*, version: int | None = None, levels=(2, 3)):
    """A Win4 assessment (the newest version, or ``version``) with three completed member
    responses answering ``levels`` in turn, submitted and assigned to the assessor "alex"
    (in review): (assessment, assessor)."""
    from django.utils import timezone

    from assessment import services
    from assessment.models import Assessment

    assessment = make_assessment(
        make_team(make_organisation()), status="submitted", version=version
    )
    for _ in range(3):
        make_response(assessment, levels=list(levels), status="completed")
    Assessment.objects.filter(pk=assessment.pk).update(submitted_at=timezone.now())
    assessor = make_assessor("alex")
    services.assessor_assign(
        assessment=assessment, assessor=assessor, by=make_user("stella", is_staff=True)
    )
    assessment.refresh_from_db()
    return assessment, assessor


def judge_criteria(assessment, assessor, verdict: str = "met", *, round: int | None = None):
    """The assessor's judgement ``verdict`` on every criterion (format-2 question) of the
    assessment, as approval requires; returns how many were judged."""
    from assessment.models import Assessment, Judgement
    from frameworks.models import Question

    if round is None:  # the assessment's round as it stands (the object may be older)
        round = Assessment.objects.values_list("round", flat=True).get(pk=assessment.pk)
    questions = Question.objects.filter(version__assessments=assessment, version__format=2)
    Judgement.objects.bulk_create(
        Judgement(
            assessment=assessment,
            question=question,
            assessor=assessor,
            verdict=verdict,
            round=round,
        )
        for question in questions
    )
    return len(questions)
