"""Small builders for test data. Framework files are written as real TOML."""

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser

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
    fields.setdefault("email", f"{username}@example.com")
    password = fields.pop("password", "a-long-test-password")
    return get_user_model().objects.create_user(username=username, password=password, **fields)


def make_organisation(name: str = "Acme Ltd", *, manager: str | None = "manager"):
    """An organisation and (unless manager=None) a manager account for it."""
    from assessment.models import Membership, Organisation

    organisation = Organisation.objects.create(name=name)
    if manager is not None:
        user = make_user(f"{manager}-{organisation.pk}", first_name=manager.title())
        Membership.objects.create(user=user, organisation=organisation)
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


def make_assessment(team, *, slugs=("win4",), status: str = "draft", by=None, invitees: int = 0):
    """An assessment pinned to the newest versions of the given (loaded) frameworks."""
    from django.utils import timezone

    from assessment.models import Assessment, Invitation, token_digest
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
        Framework.objects.get(slug=slug).latest_version() for slug in slugs
    )
    Invitation.objects.bulk_create(
        Invitation(
            assessment=assessment,
            email=f"invitee{n}.{assessment.pk}@example.com",
            token_hash=token_digest(f"token-{assessment.pk}-{n}"),
            token_expires_at=timezone.now() + timedelta(days=30),
        )
        for n in range(1, invitees + 1)
    )
    return assessment


def make_response(assessment, *, levels=None, status: str = "in_progress", invitation=None):
    """A response answering every question with ``levels`` (cycled), or leaving it blank."""
    from itertools import cycle

    from assessment.models import Answer, Invitation, Response
    from frameworks.models import Question

    if invitation is None:
        count = assessment.invitations.count()
        invitation = Invitation.objects.create(
            assessment=assessment,
            email=f"respondent{count + 1}.{assessment.pk}@example.com",
            token_hash=f"{assessment.pk}-{count + 1}".ljust(64, "x"),
            token_expires_at=assessment.created_at + timedelta(days=30),
        )
    response = Response.objects.create(assessment=assessment, invitation=invitation, status=status)
    if levels is not None:
        questions = Question.objects.filter(version__assessments=assessment)
        Answer.objects.bulk_create(
            Answer(response=response, question=q, section_id=q.section_id, level=level)
            for q, level in zip(questions, cycle(levels), strict=False)
        )
    return response


def make_comment(response, text: str, *, position: int = 0):
    """Put a comment on one of the response's answers (the first, unless position says)."""
    answer = response.answers.order_by("question__section__position", "question__position")[
        position
    ]
    answer.comment = text
    answer.save(update_fields=["comment"])
    return answer


def make_manager_response(assessment, user, *, levels=None, status: str = "completed"):
    """The manager's own (self-view) response, answering every question with ``levels``."""
    from itertools import cycle

    from assessment.models import Answer, Response
    from frameworks.models import Question

    response = Response.objects.create(
        assessment=assessment, user=user, is_manager_view=True, status=status
    )
    if levels is not None:
        questions = Question.objects.filter(version__assessments=assessment)
        Answer.objects.bulk_create(
            Answer(response=response, question=q, section_id=q.section_id, level=level)
            for q, level in zip(questions, cycle(levels), strict=False)
        )
    return response


def make_assessor(
    username: str = "assessor", *, valid_until=None, body: str = "Test Accreditation"
):
    """A user with an assessor accreditation, current for a year unless valid_until says."""
    from django.utils import timezone

    from assessment.models import AssessorProfile

    user = make_user(username, first_name=username.title())
    AssessorProfile.objects.create(
        user=user,
        accrediting_body=body,
        accreditation_number=f"ACC-{user.pk}",
        valid_until=valid_until or timezone.localdate() + timedelta(days=365),
    )
    return user


def make_consultant(username: str = "consultant", *, consultancy=None, name: str = "Advisers Ltd"):
    """A user who works for a consultancy (a new one called ``name`` unless given)."""
    from assessment.models import Consultancy, ConsultantMembership

    user = make_user(username, first_name=username.title())
    if consultancy is None:
        consultancy = Consultancy.objects.create(name=name)
    ConsultantMembership.objects.create(user=user, consultancy=consultancy)
    user.consultancy = consultancy  # convenient handle for tests
    return user


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
