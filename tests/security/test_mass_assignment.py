"""Issue 7: every form is posted with extra fields (status, organisation, version,
moderated score...). None is accepted.

Each case below posts a valid submission as the legitimate user, plus every field of
``hostile()`` that the form does not itself use, aimed at organisation B's objects.
Then the whole database (the app's tables and users) is compared with its state
before: only the form's intended effect may have changed, and the new or changed
rows must hold the submitted values, not the hostile ones.

``test_every_post_accepting_url_has_a_case`` fails when a URL that accepts POST is
added without a case here.

A refused submission changes nothing (``test_fuzz`` sends the refused ones), with one
kind of exception, stated by its case's ``refused`` rule: the customers' survey page
counts each refusal on the survey (and its rate limit counts the sender), but never
stores the refused answers (``counted_refusal``).
"""

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import mail, signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from assessment import services
from assessment.forms import customers as customer_forms
from assessment.models import (
    Assessment,
    CustomerLink,
    CustomerResponse,
    CustomerSurvey,
    Invitation,
    Moderation,
    Organisation,
    Response,
    SectionTarget,
    SentMail,
    token_digest,
)
from assessment.models.customers import ATTRIBUTE_SLOTS, CustomerThrottle
from assessment.services.organisations import CONFIRMATION_SALT
from frameworks.models import CustomerSurveyVersion, Framework, FrameworkVersion, Question
from tests.factories import PASSWORD, judge_criteria
from tests.security.routes import allowed_methods, routes
from tests.security.world import (
    TableChanges,
    World,
    build_world,
    db_state,
    diff,
    first_section,
)

Changes = dict[str, TableChanges]
Context = dict[str, Any]

AUDIT = "assessment.AuditEvent"
INVITATION_LINK_FIELDS = {
    "token_hash",
    "token_expires_at",
    "token_used_at",
    "sent_at",
    "send_count",
}


def hostile(w: World) -> dict[str, Any]:
    """Fields no form here takes, named like real model fields, aimed at B or at privilege."""
    b = w.b
    other_version = FrameworkVersion.objects.filter(framework__slug="six-dimensions").first().pk
    b_section = first_section(b.in_review).pk
    long_ago, far_ahead = "2000-01-01 00:00", "2099-12-31 00:00"
    return {
        # assessments
        "status": "approved",
        "organisation": b.organisation.pk,
        "organisation_id": b.organisation.pk,
        "team": b.front.pk,
        "team_id": b.front.pk,
        "framework_version": other_version,
        "framework_versions": other_version,
        "version": other_version,
        "frameworks": "six-dimensions",
        "title": "HOSTILE title",
        "due_date": "2000-01-01",
        "created_by": b.manager.pk,
        "created_by_id": b.manager.pk,
        "opened_at": long_ago,
        "submitted_at": long_ago,
        "created_at": long_ago,
        # responses and answers
        "assessment": b.in_review.pk,
        "assessment_id": b.in_review.pk,
        "response": b.open_response.pk,
        "response_id": b.open_response.pk,
        "invitation": b.respondent_invitation.pk,
        "is_manager_view": "on",
        "completed_at": long_ago,
        "revision": "999",
        "level": "5",
        "not_applicable": "on",
        "comment": "HOSTILE comment",
        "section": b_section,
        "section_id": b_section,
        # review
        "score": "100",
        "moderated_score": "100",
        "awarded_level": "5",
        "outcome": "approved",
        "round": "9",
        "assessor": b.assessor.pk,
        "assessor_id": b.assessor.pk,
        "assigned_by": b.manager.pk,
        "rationale": "HOSTILE rationale",
        "summary": "HOSTILE summary",
        "required_changes": "HOSTILE changes",
        "snapshot": "{}",
        # people
        "user": b.manager.pk,
        "user_id": b.manager.pk,
        "is_staff": "on",
        "is_superuser": "on",
        "groups": "1",
        "user_permissions": "1",
        "role": "owner",
        "username": "hijacked",
        "email": "attacker@evil.example",
        "first_name": "HOSTILE",
        "last_name": "HOSTILE",
        "password": "hijacked-password-123",
        "invited_by": b.manager.pk,
        "accepted_at": long_ago,
        # invitation links
        "token_hash": "0" * 64,
        "token_expires_at": far_ahead,
        "token_used_at": "",
        "sent_at": long_ago,
        "send_count": "99",
        "revoked_at": "",
        # consultants
        "consultancy": b.consultancy.pk,
        "consultancy_id": b.consultancy.pk,
        "granted_by": b.manager.pk,
        "expires_at": far_ahead,
        "name": "HOSTILE name",
        "accent_colour": "#000000",
        "logo_content_type": "text/html",
        "requested_by": b.consultant.pk,
        "assessments": b.approved.pk,
        "total": "999",
        "done": "999",
        "failures": "[]",
        "archive": "x",
        # customer surveys: B's survey, its link and counters, and every rating slot (the
        # forms take those of their questionnaire's attributes; the rest stay empty)
        "survey": b.customer_survey.pk,
        "survey_id": b.customer_survey.pk,
        "public_token": b.customer_survey.public_token,
        "refused_repeat": "999",
        "refused_rate": "999",
        "refused_bot": "999",
        "refused_closed": "999",
        "address_tag": "0" * 64,
        "window_start": long_ago,
        "count": "999",
        "used": "on",
        "erased": "on",
        "opens_on": "2000-01-01",
        "closes_on": "2099-12-31",
        "max_responses": "999999",
        "allow_repeat": "on",
        # action plans: B's people as owner or requirer, a named owner, notes
        "owner": b.manager.pk,
        "owner_id": b.manager.pk,
        "owner_name": "HOSTILE owner",
        "owner_email": "attacker@evil.example",
        "required_by": b.assessor.pk,
        "required_by_id": b.assessor.pk,
        "notes": "HOSTILE notes",
        **{f"{kind}{n}": "1" for kind in ("i", "p") for n in range(1, ATTRIBUTE_SLOTS + 1)},
        # any object
        "pk": b.in_review.pk,
        "id": b.in_review.pk,
    }


# --- checking a diff -----------------------------------------------------------------------


def assert_only(changes: Changes, allowed: dict[str, set[str]]) -> None:
    """Nothing changed outside ``allowed``: model label -> field names, "+" (rows created)
    and "-" (rows deleted)."""
    unexpected = []
    for label, table in changes.items():
        permitted = allowed.get(label, set())
        if table.created and "+" not in permitted:
            unexpected.append(f"{label}: created {table.created}")
        if table.deleted and "-" not in permitted:
            unexpected.append(f"{label}: deleted {sorted(table.deleted)}")
        for pk, fields in table.changed.items():
            extra = {name: values for name, values in fields.items() if name not in permitted}
            if extra:
                unexpected.append(f"{label} {pk}: {extra}")
    assert not unexpected, "changed outside the form's effect:\n" + "\n".join(unexpected)


def created(changes: Changes, label: str, count: int = 1) -> list[dict[str, Any]]:
    rows = list(changes[label].created.values()) if label in changes else []
    assert len(rows) == count, f"{label}: {len(rows)} rows created, expected {count}"
    return rows


def one_created(changes: Changes, label: str) -> dict[str, Any]:
    return created(changes, label)[0]


def changed(changes: Changes, label: str) -> dict[Any, dict[str, tuple[Any, Any]]]:
    return changes[label].changed if label in changes else {}


def close_to(value: datetime, expected: datetime) -> bool:
    return abs(value - expected) < timedelta(minutes=5)


def audit_actions(changes: Changes) -> list[str]:
    table = changes.get(AUDIT)
    return sorted(row["action"] for row in table.created.values()) if table else []


# --- what a refused submission may write --------------------------------------------------

# What a refusal may write, given the request's status; it returns the changes it does not
# account for, which must be none. ``nothing_written`` is every form's rule: a refused
# form accounts for no change at all.
RefusalRule = Callable[[World, Context, Changes, int], Changes]


def nothing_written(w: World, ctx: Context, changes: Changes, status: int) -> Changes:
    return changes


# The customers' page answers each kind of refusal with its own status, and counts it
# on the survey in its own field (assessment.views.customers.REFUSAL_STATUS).
COUNTED_REFUSALS = {403: "bot", 409: "repeat", 410: "closed", 429: "rate"}
SURVEY = CustomerSurvey._meta.label
LINK = CustomerLink._meta.label
THROTTLE = CustomerThrottle._meta.label
CUSTOMER_RESPONSE = CustomerResponse._meta.label


def counted_refusal(survey: Callable[[World], CustomerSurvey]) -> RefusalRule:
    """A refused customer submission is counted, never stored. The form's own refusal (a
    400: a rating that is not one, a comment too long, nothing answered) writes nothing. A
    refusal of the anti-abuse checks (``COUNTED_REFUSALS``) adds exactly one to its own
    counter on ``survey`` and may bump the sender's rate-limit count for that survey (its
    ``CustomerThrottle`` rows; expired ones are deleted on the way). Nothing else: not a
    ``CustomerResponse``, not another counter, not another survey."""

    def rule(w: World, ctx: Context, changes: Changes, status: int) -> Changes:
        assert CUSTOMER_RESPONSE not in changes, (
            f"a refused customer submission ({status}) stored a response: "
            f"{changes[CUSTOMER_RESPONSE]}"
        )
        reason = COUNTED_REFUSALS.get(status)
        if reason is None:
            return changes
        rest = dict(changes)
        counted = rest.pop(SURVEY, None)
        assert counted is not None, f"a refusal ({status}) was not counted on the survey"
        target, field_name = survey(w).pk, f"refused_{reason}"
        assert (counted.created, counted.deleted) == ({}, {}), counted
        old = counted.changed.get(target, {}).get(field_name, (0,))[0]
        assert counted.changed == {target: {field_name: (old, old + 1)}}, (
            f"a refusal ({status}) changed {counted.changed}, "
            f"not only {field_name} of survey {target} by one"
        )
        throttle = rest.pop(THROTTLE, None)
        if throttle is not None:
            window = timedelta(seconds=settings.CUSTOMER_ADDRESS_WINDOW_SECONDS)
            assert {row["survey_id"] for row in throttle.created.values()} <= {target}
            assert all(
                set(fields) == {"count"} and fields["count"][1] == fields["count"][0] + 1
                for fields in throttle.changed.values()
            ), throttle.changed
            assert all(
                row["window_start"] <= timezone.now() - window for row in throttle.deleted.values()
            ), throttle.deleted
        return rest

    return rule


# --- the cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One POST-accepting URL: who posts what, what may change, and what must be true after;
    and, when the URL refuses a submission (``test_fuzz``), what the refusal may write."""

    url_name: str
    who: str  # A's manager, assessor, consultant, or staff; or anonymous (an invitee)
    url: Callable[[World, Context], str]
    data: Callable[[World, Context], dict[str, Any]]
    allowed: dict[str, set[str]]
    check: Callable[[World, Context, Changes], None]
    prepare: Callable[[World, Client], Context] = field(default=lambda w, client: {})
    status: int = 302
    refused: RefusalRule = nothing_written
    # Tells apart two cases of one URL (posted by different people).
    suffix: str = ""

    @property
    def name(self) -> str:
        return self.url_name.replace(":", "_") + self.suffix


def to(name: str, **kwargs: Callable[[World, Context], Any]) -> Callable[[World, Context], str]:
    """A URL by name, with kwargs computed from the world and the prepared context."""
    return lambda w, ctx: reverse(name, kwargs={k: f(w, ctx) for k, f in kwargs.items()})


def redeem(w: World, client: Client) -> Context:
    """Use A's respondent link as an invitee does; the session then holds the response."""
    client.get(reverse("assessment:invitation_open", args=[w.a.respondent_token]))
    client.post(reverse("assessment:invitation_landing"))
    response = Response.objects.get(invitation=w.a.respondent_invitation)
    section = first_section(w.a.open)
    return {
        "response": response.pk,
        "section": section.pk,
        "questions": list(
            Question.objects.filter(section=section).asked_of("team").order_by("position")
        ),
    }


def answer_fields(question: Question, level: str, comment: str) -> dict[str, str]:
    prefix = f"q{question.pk}"
    return {f"{prefix}-level": level, f"{prefix}-comment": comment, f"{prefix}-revision": "0"}


def open_invitation_link(w: World, client: Client) -> Context:
    client.get(reverse("assessment:invitation_open", args=[w.a.respondent_token]))
    return {}


def open_join_link(w: World, client: Client) -> Context:
    client.get(reverse("assessment:manager_join", args=[w.a.manager_invitation_token]))
    return {}


def renew_ready(w: World, client: Client) -> Context:
    """A used link opened again: the session may ask for a fresh one."""
    Invitation.objects.filter(pk=w.a.respondent_invitation.pk).update(
        token_used_at=timezone.now(), sent_at=timezone.now() - timedelta(hours=1)
    )
    client.get(reverse("assessment:invitation_open", args=[w.a.respondent_token]))
    client.post(reverse("assessment:invitation_landing"))
    return {}


def reset_link(w: World, client: Client) -> Context:
    user = w.a.manager
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    page = client.get(reverse("password_reset_confirm", args=[uid, token]))
    return {"url": page["Location"]}


def only_mail_to(address: str) -> None:
    assert [message.to for message in mail.outbox] == [[address]]


def user_row(changes: Changes, user) -> dict[str, tuple[Any, Any]]:
    return changed(changes, "auth.User").get(user.pk, {})


# Checks, one per case.


def check_signup(w: World, ctx: Context, changes: Changes) -> None:
    user = one_created(changes, "auth.User")
    assert (user["username"], user["email"]) == ("newcomer", "newcomer@example.com")
    assert not user["is_staff"]
    assert not user["is_superuser"]
    assert get_user_model().objects.get(pk=user["id"]).check_password("a-fresh-passphrase-4281")
    organisation = one_created(changes, "assessment.Organisation")
    assert organisation["name"] == "Newcomer Ltd"
    membership = one_created(changes, "assessment.Membership")
    assert (membership["user_id"], membership["organisation_id"], membership["role"]) == (
        user["id"],
        organisation["id"],
        "manager",
    )


def check_manager_invite(w: World, ctx: Context, changes: Changes) -> None:
    invitation = one_created(changes, "assessment.ManagerInvitation")
    assert invitation["organisation_id"] == w.a.organisation.pk
    assert invitation["email"] == "new.manager@example.com"
    assert invitation["invited_by_id"] == w.a.manager.pk
    assert invitation["accepted_at"] is None
    assert close_to(invitation["expires_at"], timezone.now() + timedelta(days=7))
    only_mail_to("new.manager@example.com")


def check_manager_join(w: World, ctx: Context, changes: Changes) -> None:
    user = one_created(changes, "auth.User")
    assert (user["username"], user["email"]) == ("joiner", w.a.manager_invitation.email)
    assert not user["is_staff"]
    assert not user["is_superuser"]
    membership = one_created(changes, "assessment.Membership")
    assert (membership["user_id"], membership["organisation_id"], membership["role"]) == (
        user["id"],
        w.a.organisation.pk,
        "manager",
    )
    assert set(changed(changes, "assessment.ManagerInvitation")) == {w.a.manager_invitation.pk}


def check_team_create(w: World, ctx: Context, changes: Changes) -> None:
    team = one_created(changes, "assessment.Team")
    assert (team["organisation_id"], team["name"]) == (w.a.organisation.pk, "Night shift")


def check_roster_add(w: World, ctx: Context, changes: Changes) -> None:
    entry = one_created(changes, "assessment.RosterEntry")
    assert (entry["team_id"], entry["name"], entry["email"]) == (
        w.a.front.pk,
        "Nina Newman",
        "nina@example.com",
    )


def check_roster_remove(w: World, ctx: Context, changes: Changes) -> None:
    assert list(changes["assessment.RosterEntry"].deleted) == [ctx["entry"]]


def check_assessment_create(w: World, ctx: Context, changes: Changes) -> None:
    assessment = one_created(changes, "assessment.Assessment")
    assert assessment["organisation_id"] == w.a.organisation.pk
    assert assessment["team_id"] == w.a.back.pk
    assert assessment["created_by_id"] == w.a.manager.pk
    assert (assessment["title"], assessment["status"]) == ("Spring check", "draft")
    assert assessment["opened_at"] is None
    assert assessment["submitted_at"] is None
    assert str(assessment["due_date"]) == ctx["due"]
    versions = {
        row["frameworkversion_id"]
        for row in created(changes, "assessment.Assessment_framework_versions", 2)
    }
    assert versions == {Framework.objects.get(slug=s).latest_version().pk for s in ctx["slugs"]}
    invitations = created(changes, "assessment.Invitation", 3)
    assert {i["assessment_id"] for i in invitations} == {assessment["id"]}
    assert {i["email"] for i in invitations} == set(w.a.back.roster.values_list("email", flat=True))


def check_invitations_add(w: World, ctx: Context, changes: Changes) -> None:
    invitations = created(changes, "assessment.Invitation", 2)
    assert {(i["assessment_id"], i["email"], i["name"]) for i in invitations} == {
        (w.a.draft.pk, "ann@example.com", ""),
        (w.a.draft.pk, "bob@example.com", ""),
    }
    assert all(i["revoked_at"] is None and i["sent_at"] is None for i in invitations)


def check_open(w: World, ctx: Context, changes: Changes) -> None:
    assert changed(changes, "assessment.Assessment")[w.a.draft.pk]["status"] == ("draft", "open")
    assert audit_actions(changes) == ["opened"]
    sent = Invitation.objects.filter(pk__in=changed(changes, "assessment.Invitation"))
    assert {i.assessment_id for i in sent} == {w.a.draft.pk}


def check_submit(w: World, ctx: Context, changes: Changes) -> None:
    assessments = changed(changes, "assessment.Assessment")
    assert list(assessments) == [w.a.open.pk]
    assert assessments[w.a.open.pk]["status"] == ("open", "submitted")
    closed = changed(changes, "assessment.Response")
    assert set(closed) == {w.a.open_response.pk, w.a.self_response.pk}
    assert all(fields["status"][1] == "closed" for fields in closed.values())
    assert audit_actions(changes) == ["submitted"]


def check_targets(w: World, ctx: Context, changes: Changes) -> None:
    target = SectionTarget.objects.get(assessment=w.a.in_review, section_id=ctx["section"])
    assert target.level == 2
    assert one_created(changes, "assessment.SectionTarget")["id"] == target.pk


def check_respond_as_manager(w: World, ctx: Context, changes: Changes) -> None:
    response = one_created(changes, "assessment.Response")
    assert response["assessment_id"] == w.a.open.pk
    assert response["user_id"] == w.a.manager.pk
    assert response["invitation_id"] is None
    assert response["is_manager_view"] is True
    assert response["status"] == "in_progress"


def check_resend(w: World, ctx: Context, changes: Changes) -> None:
    assert set(changed(changes, "assessment.Invitation")) == {ctx["invitation"].pk}
    only_mail_to(ctx["invitation"].email)


def check_revoke(w: World, ctx: Context, changes: Changes) -> None:
    assert set(changed(changes, "assessment.Invitation")) == {ctx["invitation"].pk}
    assert changed(changes, "assessment.Response") == {
        w.a.open_response.pk: {"status": ("in_progress", "closed")}
    }


def check_reopen(w: World, ctx: Context, changes: Changes) -> None:
    assessment = changed(changes, "assessment.Assessment")[w.a.returned.pk]
    assert assessment["status"] == ("returned", "open")
    assert assessment["round"][1] == assessment["round"][0] + 1
    # Only responses closed unfinished reopen; completed ones stay counted.
    reopened = Response.objects.filter(pk__in=changed(changes, "assessment.Response"))
    assert {r.assessment_id for r in reopened} <= {w.a.returned.pk}
    assert audit_actions(changes) == ["reopened"]


def check_assigned_to_free_assessor(by: Callable[[World], Any]) -> Callable[..., None]:
    def check(w: World, ctx: Context, changes: Changes) -> None:
        assignment = one_created(changes, "assessment.Assignment")
        assert (assignment["assessment_id"], assignment["assessor_id"]) == (
            w.a.submitted.pk,
            w.free_assessor.pk,
        )
        assert assignment["assigned_by_id"] == by(w).pk
        assert changed(changes, "assessment.Assessment") == {
            w.a.submitted.pk: {"status": ("submitted", "in_review")}
        }
        assert audit_actions(changes) == ["assigned", "review_started"]

    return check


def check_grant(w: World, ctx: Context, changes: Changes) -> None:
    grant = one_created(changes, "assessment.ConsultantGrant")
    assert grant["organisation_id"] == w.a.organisation.pk
    assert grant["consultancy_id"] == w.neutral_consultancy.pk
    assert grant["granted_by_id"] == w.a.manager.pk
    assert grant["revoked_at"] is None
    assert close_to(grant["expires_at"], timezone.now() + timedelta(days=30))


def check_grant_revoke(w: World, ctx: Context, changes: Changes) -> None:
    assert list(changed(changes, "assessment.ConsultantGrant")) == [w.a.grant.pk]


def check_bulk_new(w: World, ctx: Context, changes: Changes) -> None:
    export = one_created(changes, "assessment.BulkExport")
    assert export["consultancy_id"] == w.a.consultancy.pk
    assert export["requested_by_id"] == w.a.consultant.pk
    assert (export["status"], export["total"], export["done"]) == ("queued", 1, 0)
    assert export["archive"] is None
    assert export["failures"] == []
    chosen = [row["assessment_id"] for row in created(changes, "assessment.BulkExport_assessments")]
    assert chosen == [w.a.approved.pk]


def check_moderate(w: World, ctx: Context, changes: Changes) -> None:
    moderation = one_created(changes, "assessment.Moderation")
    assert moderation["assessment_id"] == w.a.in_review.pk
    assert moderation["section_id"] == ctx["section"]
    assert moderation["assessor_id"] == w.a.assessor.pk
    assert (str(moderation["score"]), moderation["rationale"]) == ("62.5", "Seen the evidence.")
    assert audit_actions(changes) == ["moderated"]


def check_decision(outcome: str, level: int | None) -> Callable[[World, Context, Changes], None]:
    def check(w: World, ctx: Context, changes: Changes) -> None:
        decision = one_created(changes, "assessment.Decision")
        assert decision["assessment_id"] == w.a.in_review.pk
        assert decision["assessor_id"] == w.a.assessor.pk
        assert (decision["outcome"], decision["awarded_level"], decision["round"]) == (
            outcome,
            level,
            1,
        )
        assert "HOSTILE" not in decision["summary"] + decision["required_changes"]
        assert changed(changes, "assessment.Assessment") == {
            w.a.in_review.pk: {"status": ("in_review", outcome)}
        }
        assert audit_actions(changes) == [outcome]

    return check


def check_branding(w: World, ctx: Context, changes: Changes) -> None:
    assert changed(changes, "assessment.Consultancy") == {
        w.a.consultancy.pk: {
            "name": ("Alpha Advisers", "Alpha & Co"),
            "accent_colour": ("#1d4e5f", "#123456"),
        }
    }


def check_landing(w: World, ctx: Context, changes: Changes) -> None:
    response = one_created(changes, "assessment.Response")
    assert response["invitation_id"] == w.a.respondent_invitation.pk
    assert response["assessment_id"] == w.a.open.pk
    assert response["user_id"] is None
    assert response["is_manager_view"] is False
    assert response["status"] == "in_progress"
    assert set(changed(changes, "assessment.Invitation")) == {w.a.respondent_invitation.pk}


def check_renew(w: World, ctx: Context, changes: Changes) -> None:
    assert set(changed(changes, "assessment.Invitation")) == {w.a.respondent_invitation.pk}
    only_mail_to(w.a.respondent_invitation.email)


def check_answers(count: int | None) -> Callable[[World, Context, Changes], None]:
    """``count`` answers (every question of the section when None) on the respondent's own
    response, with the posted level and comment."""

    def check(w: World, ctx: Context, changes: Changes) -> None:
        questions = ctx["questions"][:count]
        answers = created(changes, "assessment.Answer", len(questions))
        expected = {(q.pk, q.section_id) for q in questions}
        assert {(a["question_id"], a["section_id"]) for a in answers} == expected
        for answer in answers:
            assert answer["response_id"] == ctx["response"]
            assert (answer["level"], answer["not_applicable"], answer["revision"]) == (3, False, 1)
            assert answer["comment"] == f"Mine {answer['question_id']}"

    return check


def check_complete(w: World, ctx: Context, changes: Changes) -> None:
    assert changed(changes, "assessment.Response")[ctx["response"]]["status"] == (
        "in_progress",
        "completed",
    )


def completed_last_round(w: World, client: Client) -> Context:
    """The invitee's response, completed in round 1 of A's open assessment, now in round 2."""
    ctx = redeem(w, client)
    Response.objects.filter(pk=ctx["response"]).update(status="completed", completed_round=1)
    Assessment.objects.filter(pk=w.a.open.pk).update(round=2)
    return ctx


def check_revise(w: World, ctx: Context, changes: Changes) -> None:
    assert changed(changes, "assessment.Response") == {
        ctx["response"]: {"status": ("completed", "revising")}
    }


def check_login(w: World, ctx: Context, changes: Changes) -> None:
    assert set(changed(changes, "auth.User")) == {w.a.manager.pk}


def check_nothing(w: World, ctx: Context, changes: Changes) -> None:
    assert changes == {}


def check_password_changed(w: World, ctx: Context, changes: Changes) -> None:
    assert set(changed(changes, "auth.User")) == {w.a.manager.pk}
    user = get_user_model().objects.get(pk=w.a.manager.pk)
    assert user.check_password("another-long-passphrase-77")
    assert (user.username, user.email) == (w.a.manager.username, w.a.manager.email)


def check_email_confirmed(w: World, ctx: Context, changes: Changes) -> None:
    assert set(changed(changes, "assessment.Organisation")) == {w.a.organisation.pk}
    assert Organisation.objects.get(pk=w.a.organisation.pk).email_confirmed_at is not None


def check_confirmation_resent(w: World, ctx: Context, changes: Changes) -> None:
    # One record of the message for the cool-down, for A's organisation, and nothing else.
    (created,) = changes["assessment.SentMail"].created.values()
    assert created["organisation_id"] == w.a.organisation.pk
    assert created["kind"] == SentMail.Kind.CONFIRMATION
    assert set(changes) == {"assessment.SentMail"}
    only_mail_to(w.a.manager.email)


def check_password_reset(w: World, ctx: Context, changes: Changes) -> None:
    assert changes == {}
    only_mail_to(w.a.manager.email)


def signup_data(w: World, ctx: Context) -> dict[str, Any]:
    return {
        "organisation_name": "Newcomer Ltd",
        "full_name": "New Comer",
        "email": "newcomer@example.com",
        "username": "newcomer",
        "password1": "a-fresh-passphrase-4281",
        "password2": "a-fresh-passphrase-4281",
    }


def account_data(username: str) -> dict[str, str]:
    return {
        "full_name": "Jo Iner",
        "username": username,
        "password1": "a-fresh-passphrase-4281",
        "password2": "a-fresh-passphrase-4281",
    }


def assessment_create_prepare(w: World, client: Client) -> Context:
    return {"slugs": ["win4", "six-dimensions"], "due": str(timezone.localdate() + timedelta(9))}


def roster_prepare(w: World, client: Client) -> Context:
    return {"entry": w.a.front.roster.order_by("pk").first().pk}


def resend_prepare(w: World, client: Client) -> Context:
    """A's open invitation, last sent an hour ago (past the resend cool-down)."""
    invitation = w.a.open_response.invitation
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    return {"invitation": invitation}


def unsent_prepare(w: World, client: Client) -> Context:
    """One of A's open invitations was never sent (its e-mail failed)."""
    invitation = w.a.open_response.invitation
    Invitation.objects.filter(assessment=w.a.open).exclude(pk=invitation.pk).update(send_count=1)
    Invitation.objects.filter(pk=invitation.pk).update(send_count=0, sent_at=None)
    return {"invitation": invitation}


def confirmation_prepare(w: World, client: Client) -> Context:
    """A's organisation has not confirmed its address yet; the link its manager was sent."""
    Organisation.objects.filter(pk=w.a.organisation.pk).update(email_confirmed_at=None)
    claim = {"organisation": w.a.organisation.pk, "user": w.a.manager.pk}
    token = signing.dumps(
        claim | {"email": w.a.manager.email.lower()}, salt=CONFIRMATION_SALT, compress=True
    )
    return {"token": token}


def drop_self_response(w: World, client: Client) -> Context:
    Response.objects.filter(pk=w.a.self_response.pk).delete()
    return {}


def section_prepare(w: World, client: Client) -> Context:
    return {"section": first_section(w.a.in_review).pk}


def criterion_prepare(w: World, client: Client) -> Context:
    section = first_section(w.a.in_review)
    return {"section": section.pk, "question": section.questions.order_by("position")[0].pk}


def criteria_judged_prepare(w: World, client: Client) -> Context:
    """Every criterion of A's assessment in review judged met, as approval needs."""
    judge_criteria(w.a.in_review, w.a.assessor)
    return {}


def check_judgement(w: World, ctx: Context, changes: Changes) -> None:
    judgement = one_created(changes, "assessment.Judgement")
    assert judgement["assessment_id"] == w.a.in_review.pk
    assert judgement["question_id"] == ctx["question"]
    assert judgement["assessor_id"] == w.a.assessor.pk
    assert (judgement["verdict"], judgement["note"]) == ("partly", "Half of it shown.")
    assert audit_actions(changes) == ["judged"]


def check_required_action(w: World, ctx: Context, changes: Changes) -> None:
    action = one_created(changes, "assessment.Action")
    assert action["assessment_id"] == w.a.in_review.pk
    assert action["required_by_id"] == w.a.assessor.pk
    assert action["section_id"] == ctx["section"]
    assert (action["title"], action["owner_id"], action["status"]) == (
        "Publish the rota",
        None,
        "planned",
    )
    assert audit_actions(changes) == ["actions_required"]


def earlier_round_prepare(w: World, client: Client) -> Context:
    """A's assessment in review is in its second round, with a moderation from the first."""
    Assessment.objects.filter(pk=w.a.in_review.pk).update(round=2)
    section = first_section(w.a.in_review)
    Moderation.objects.create(
        assessment=w.a.in_review,
        section=section,
        assessor=w.a.assessor,
        score=40,
        rationale="From round one.",
        round=1,
    )
    return {"section": section.pk}


def check_keep_moderation(w: World, ctx: Context, changes: Changes) -> None:
    kept = one_created(changes, "assessment.Moderation")
    assert (kept["section_id"], kept["round"], kept["rationale"]) == (
        ctx["section"],
        2,
        "From round one.",
    )
    assert kept["assessor_id"] == w.a.assessor.pk
    assert audit_actions(changes) == ["moderated"]


# --- customer surveys


def attribute_positions(w: World) -> list[int]:
    """The attributes of A's customer survey's questionnaire, by position."""
    version = CustomerSurveyVersion.objects.get(pk=w.a.customer_survey.version_id)
    return list(version.attributes.order_by("position").values_list("position", flat=True))


def started(survey: CustomerSurvey, *, seconds_ago: float) -> str:
    """The survey page's signed "started" stamp (the form's own ``started_stamp``), as if
    the page had been served ``seconds_ago``."""
    with mock.patch.object(customer_forms, "time") as clock:
        clock.time.return_value = time.time() - seconds_ago
        return customer_forms.started_stamp(survey.pk)


def customer_ratings(w: World) -> dict[int, tuple[int | None, int | None]]:
    """What the customer answers, by position: (importance, performance); the first
    attribute's performance "doesn't apply"."""
    return {n: (1 + n % 5, None if n == 1 else 1 + (2 * n) % 5) for n in attribute_positions(w)}


def customer_answers(w: World, ctx: Context) -> dict[str, str]:
    """A customer's submission as the page sends it: every attribute rated, a comment, the
    hidden field left empty, and the stamp of a page served a minute past the minimum."""
    data = {
        "started": started(w.a.customer_survey, seconds_ago=settings.CUSTOMER_MIN_SECONDS + 60),
        "comment": "Quick and friendly.",
        customer_forms.HONEYPOT_FIELD: "",
    }
    for n, (importance, performance) in customer_ratings(w).items():
        data[f"i{n}"] = str(importance)
        data[f"p{n}"] = customer_forms.NOT_APPLICABLE if performance is None else str(performance)
    return data


def check_answers_stored(w: World, changes: Changes) -> None:
    """One row of the posted answers in A's survey, at the time it came; every slot the
    questionnaire does not ask is empty."""
    row = one_created(changes, CUSTOMER_RESPONSE)
    assert (row["survey_id"], row["comment"]) == (w.a.customer_survey.pk, "Quick and friendly.")
    assert close_to(row["submitted_at"], timezone.now())
    expected = customer_ratings(w)
    for n in range(1, ATTRIBUTE_SLOTS + 1):
        assert (row[f"i{n}"], row[f"p{n}"]) == expected.get(n, (None, None)), n


def check_customer_response(w: World, ctx: Context, changes: Changes) -> None:
    """The answers stored; the sender's address counted once, as a hash."""
    check_answers_stored(w, changes)
    throttle = one_created(changes, THROTTLE)
    assert (throttle["survey_id"], throttle["count"]) == (w.a.customer_survey.pk, 1)
    assert "127.0.0.1" not in throttle["address_tag"]


def sent_link(w: World) -> CustomerLink:
    return CustomerLink.objects.get(token_hash=token_digest(w.a.customer_link_token))


def check_personal_response(w: World, ctx: Context, changes: Changes) -> None:
    """The answers stored, and the personal link spent (a yes, with no time)."""
    check_answers_stored(w, changes)
    assert changed(changes, LINK) == {sent_link(w).pk: {"used": (False, True)}}


def links_file(w: World, ctx: Context) -> dict[str, Any]:
    """A customer list as a spreadsheet saves it: column names, then one customer."""
    content = b"E-mail,Name\r\nnew.customer@example.com,Nora Customer\r\n"
    return {"file": SimpleUploadedFile("customers.csv", content, content_type="text/csv")}


def check_links_added(w: World, ctx: Context, changes: Changes) -> None:
    link = one_created(changes, LINK)
    assert link["survey_id"] == w.a.customer_survey.pk
    assert (link["email"], link["name"]) == ("new.customer@example.com", "Nora Customer")
    assert (link["token_hash"], link["sent_at"], link["used"], link["erased"]) == (
        "",
        None,
        False,
        False,
    )


def check_links_sent(w: World, ctx: Context, changes: Changes) -> None:
    """The customer not yet sent a link is sent one (its hash kept), and no one else."""
    (pending,) = CustomerLink.objects.filter(
        survey=w.a.customer_survey, pk__in=changed(changes, LINK)
    )
    fields = changed(changes, LINK)[pending.pk]
    assert set(fields) == {"token_hash", "sent_at"}
    old_hash, new_hash = fields["token_hash"]
    assert old_hash == ""
    assert len(new_hash) == 64
    assert new_hash != hostile(w)["token_hash"]
    assert close_to(fields["sent_at"][1], timezone.now())
    only_mail_to(pending.email)
    record = one_created(changes, "assessment.SentMail")
    assert (record["organisation_id"], record["kind"]) == (
        w.a.organisation.pk,
        SentMail.Kind.CUSTOMER_INVITATION,
    )


def survey_create_data(w: World, ctx: Context) -> dict[str, str]:
    today = timezone.localdate()
    return {
        "title": "Counter customers",
        "opens_on": str(today),
        "closes_on": str(today + timedelta(days=14)),
        "max_responses": "50",
        "allow_repeat": "on",
    }


def check_survey_opened(
    team: Callable[[World], Any], assessment: Callable[[World], Any]
) -> Callable[[World, Context, Changes], None]:
    """A survey of A's ``team`` (and ``assessment``, or none), as posted."""

    def check(w: World, ctx: Context, changes: Changes) -> None:
        _check_survey_opened(w, ctx, changes, team(w), assessment(w))

    return check


def _check_survey_opened(w: World, ctx: Context, changes: Changes, team, assessment) -> None:
    survey = one_created(changes, SURVEY)
    assert (survey["organisation_id"], survey["team_id"], survey["assessment_id"]) == (
        w.a.organisation.pk,
        team.pk,
        assessment.pk if assessment else None,
    )
    assert survey["created_by_id"] == w.a.manager.pk
    assert (
        survey["version_id"]
        == (
            CustomerSurveyVersion.objects.order_by("-number", "-pk").values_list("pk", flat=True)[0]
        )
    )
    posted = survey_create_data(w, ctx)
    assert (survey["title"], str(survey["opens_on"]), str(survey["closes_on"])) == (
        posted["title"],
        posted["opens_on"],
        posted["closes_on"],
    )
    assert (survey["max_responses"], survey["allow_repeat"]) == (50, True)
    counters = [survey[f"refused_{reason}"] for reason in ("repeat", "rate", "bot", "closed")]
    assert counters == [0, 0, 0, 0]
    assert survey["public_token"] != w.b.customer_survey.public_token
    assert len(survey["public_token"]) >= 16


def survey_edit_data(w: World, ctx: Context) -> dict[str, str]:
    """A's survey's settings changed: its title, closing date and cap; a browser may now
    answer again. Its opening date is posted as it is."""
    survey = w.a.customer_survey
    return {
        "title": "Counter customers, spring",
        "opens_on": str(survey.opens_on),
        "closes_on": str(survey.closes_on + timedelta(days=7)),
        "max_responses": "400",
        "allow_repeat": "on",
    }


def check_survey_edited(w: World, ctx: Context, changes: Changes) -> None:
    survey = w.a.customer_survey
    assert changed(changes, SURVEY) == {
        survey.pk: {
            "title": (survey.title, "Counter customers, spring"),
            "closes_on": (survey.closes_on, survey.closes_on + timedelta(days=7)),
            "max_responses": (survey.max_responses, 400),
            "allow_repeat": (False, True),
        }
    }


def check_survey_closed(w: World, ctx: Context, changes: Changes) -> None:
    """Closed now: its closing date is yesterday (it opened yesterday, so that stays)."""
    survey = w.a.customer_survey
    yesterday = timezone.localdate() - timedelta(days=1)
    assert survey.opens_on == yesterday
    assert changed(changes, SURVEY) == {survey.pk: {"closes_on": (survey.closes_on, yesterday)}}


def prediction_data(w: World, ctx: Context) -> dict[str, str]:
    """A team member's prediction: the second attribute "don't know"."""
    return {
        f"p{n}": customer_forms.NOT_APPLICABLE if n == 2 else str(1 + n % 5)
        for n in attribute_positions(w)
    }


def check_prediction(w: World, ctx: Context, changes: Changes) -> None:
    prediction = one_created(changes, "assessment.CustomerPrediction")
    assert prediction["response_id"] == ctx["response"]
    asked = set(attribute_positions(w))
    for n in range(1, ATTRIBUTE_SLOTS + 1):
        expected = None if n == 2 or n not in asked else 1 + n % 5
        assert prediction[f"p{n}"] == expected, n


# --- evidence


EVIDENCE = "assessment.Evidence"
BLOB = "assessment.EvidenceBlob"


def evidence_data(w: World, ctx: Context) -> dict[str, Any]:
    """A CSV file for the first section of A's open assessment (the other kinds' fields
    posted empty, as the page sends them)."""
    content = b"Month,Complaints\r\nMay,3\r\n"
    return {
        "section": first_section(w.a.open).pk,
        "question": "",
        "title": "Complaints log",
        "kind": "file",
        "file": SimpleUploadedFile("log.csv", content, content_type="text/csv"),
        "url": "",
        "note": "",
    }


def leader_note_data(w: World, ctx: Context) -> dict[str, str]:
    return {
        "section": first_section(w.a.open).pk,
        "question": "",
        "title": "Board minutes",
        "kind": "note",
        "note": "The board reviews complaints monthly.",
        "url": "",
    }


def fresh_leader(w: World, client: Client) -> Context:
    """A new leadership invitee of A's open assessment, whose link the client uses (a new
    one each time: a link is used once, and the world's leader used theirs)."""
    token = secrets.token_urlsafe(16)
    invitation = Invitation.objects.create(
        assessment=w.a.open,
        name="Lena Leader",
        email=f"leader.{token[:8].lower()}@example.com",
        audience="leadership",
        token_hash=token_digest(token),
        token_expires_at=timezone.now() + timedelta(days=30),
    )
    client.get(reverse("assessment:invitation_open", args=[token]))
    client.post(reverse("assessment:invitation_landing"))
    response = Response.objects.get(invitation=invitation)
    return {"response": response.pk, "invitation": invitation}


def fresh_leader_with_note(w: World, client: Client) -> Context:
    """``fresh_leader``, with a note they added."""
    ctx = fresh_leader(w, client)
    ctx["evidence"] = services.evidence_add(
        assessment=w.a.open,
        section=first_section(w.a.open),
        question=None,
        kind="note",
        title="Board minutes",
        note="Reviewed monthly.",
        invitation=ctx["invitation"],
    ).pk
    return ctx


def check_evidence_added(w: World, ctx: Context, changes: Changes) -> None:
    row = one_created(changes, EVIDENCE)
    assert (row["assessment_id"], row["section_id"], row["question_id"]) == (
        w.a.open.pk,
        first_section(w.a.open).pk,
        None,
    )
    assert (row["kind"], row["title"], row["content_type"], row["original_name"]) == (
        "file",
        "Complaints log",
        "text/csv",
        "log.csv",
    )
    assert (row["added_by_id"], row["added_by_invitation_id"]) == (w.a.manager.pk, None)
    assert one_created(changes, BLOB)["name"] == row["file"]


def check_leader_note(w: World, ctx: Context, changes: Changes) -> None:
    row = one_created(changes, EVIDENCE)
    assert (row["assessment_id"], row["kind"], row["title"]) == (
        w.a.open.pk,
        "note",
        "Board minutes",
    )
    assert (row["added_by_id"], row["added_by_invitation_id"], row["added_by_name"]) == (
        None,
        ctx["invitation"].pk,
        "Lena Leader",
    )


def check_evidence_deleted(evidence: Callable[[World, Context], int]):
    def check(w: World, ctx: Context, changes: Changes) -> None:
        assert set(changes[EVIDENCE].deleted) == {evidence(w, ctx)}
        assert audit_actions(changes) == ["evidence_deleted"]
        row = one_created(changes, AUDIT)
        assert row["assessment_id"] == w.a.open.pk

    return check


# --- action plans

ACTION = "assessment.Action"
FEED = "assessment.CalendarFeed"


def action_data(w: World, ctx: Context) -> dict[str, str]:
    """A new action of A's approved assessment, owned by A's second manager."""
    return {
        "title": "Call back within a day",
        "section": str(first_section(w.a.approved).pk),
        "question": "",
        "owner": str(w.a.manager2.pk),
        "owner_name": "",
        "owner_email": "",
        "due_date": str(timezone.localdate() + timedelta(days=21)),
        "status": "in_progress",
        "notes": "Start with the phones.",
    }


def check_action_created(w: World, ctx: Context, changes: Changes) -> None:
    row = one_created(changes, ACTION)
    assert (row["assessment_id"], row["section_id"], row["question_id"]) == (
        w.a.approved.pk,
        first_section(w.a.approved).pk,
        None,
    )
    assert (row["title"], row["status"], row["notes"]) == (
        "Call back within a day",
        "in_progress",
        "Start with the phones.",
    )
    assert (row["owner_id"], row["owner_name"], row["owner_email"]) == (w.a.manager2.pk, "", "")
    assert row["due_date"] == timezone.localdate() + timedelta(days=21)
    assert (row["created_by_id"], row["required_by_id"]) == (w.a.manager.pk, None)


def action_edit_data(w: World, ctx: Context) -> dict[str, str]:
    """A's action renamed, given to a named person, started; its section and date kept."""
    action = w.a.action
    return {
        "title": "Call back within the hour",
        "section": str(action.section_id),
        "question": "",
        "owner": "",
        "owner_name": "Nora Named",
        "owner_email": "nora@example.com",
        "due_date": str(action.due_date),
        "status": "in_progress",
        "notes": "Phones first.",
    }


def check_action_edited(w: World, ctx: Context, changes: Changes) -> None:
    action = w.a.action
    (fields,) = [changed(changes, ACTION)[action.pk]]
    assert set(changed(changes, ACTION)) == {action.pk}
    assert {name: new for name, (_old, new) in fields.items() if name != "updated_at"} == {
        "title": "Call back within the hour",
        "owner_name": "Nora Named",
        "owner_email": "nora@example.com",
        "status": "in_progress",
        "notes": "Phones first.",
    }


def check_action_deleted(w: World, ctx: Context, changes: Changes) -> None:
    assert set(changes[ACTION].deleted) == {w.a.action.pk}


def check_feed_created(w: World, ctx: Context, changes: Changes) -> None:
    row = one_created(changes, FEED)
    assert (row["organisation_id"], row["created_by_id"], row["revoked_at"]) == (
        w.a.organisation.pk,
        w.a.manager.pk,
        None,
    )
    assert len(row["token_hash"]) == 64
    assert row["token_hash"] != hostile(w)["token_hash"]


def check_feed_revoked(w: World, ctx: Context, changes: Changes) -> None:
    fields = changed(changes, FEED)
    assert set(fields) == {w.a.calendar_feed.pk}
    assert close_to(fields[w.a.calendar_feed.pk]["revoked_at"][1], timezone.now())


# --- languages


def check_language_chosen(w: World, ctx: Context, changes: Changes) -> None:
    row = one_created(changes, "assessment.PersonalPreference")
    assert (row["user_id"], row["language"]) == (w.a.manager.pk, "de")


def check_invitee_language(w: World, ctx: Context, changes: Changes) -> None:
    fields = changed(changes, "assessment.Invitation")
    assert list(fields.values()) == [{"language": ("", "de")}]


a_ = lambda attr: lambda w, ctx: getattr(w.a, attr).pk  # noqa: E731 - a table of one-liners
ctx_ = lambda key: lambda w, ctx: ctx[key]  # noqa: E731

# Sending an invitation: its link's fields, and one SentMail row (the sending caps' record).
INVITATION_CHANGE = {"assessment.Invitation": INVITATION_LINK_FIELDS, "assessment.SentMail": {"+"}}

CASES = [
    # The language switcher: a signed-in person's preference, an invitee's invitation.
    Case(
        "set_language",
        "manager",
        to("set_language"),
        lambda w, ctx: {"language": "de", "next": "/dashboard/"},
        {"assessment.PersonalPreference": {"+"}},
        check_language_chosen,
    ),
    Case(
        "set_language",
        "anonymous",
        to("set_language"),
        lambda w, ctx: {"language": "de", "next": "/"},
        {"assessment.Invitation": {"language"}},
        check_invitee_language,
        prepare=redeem,
        suffix="_invitee",
    ),
    # --- sign-up and managers
    Case(
        "assessment:signup",
        "anonymous",
        to("assessment:signup"),
        signup_data,
        {"auth.User": {"+"}, "assessment.Organisation": {"+"}, "assessment.Membership": {"+"}},
        check_signup,
    ),
    Case(
        "assessment:manager_invite",
        "manager",
        to("assessment:manager_invite"),
        lambda w, ctx: {"email": "new.manager@example.com"},
        {"assessment.ManagerInvitation": {"+"}, "assessment.SentMail": {"+"}},
        check_manager_invite,
    ),
    Case(
        "assessment:email_confirm",
        "anonymous",
        lambda w, ctx: reverse("assessment:email_confirm", args=[ctx["token"]]),
        lambda w, ctx: {},
        {"assessment.Organisation": {"email_confirmed_at"}},
        check_email_confirmed,
        prepare=confirmation_prepare,
    ),
    Case(
        "assessment:email_confirm_resend",
        "manager",
        to("assessment:email_confirm_resend"),
        lambda w, ctx: {},
        {"assessment.SentMail": {"+"}},  # the record the confirmation cool-down reads
        check_confirmation_resent,
        prepare=confirmation_prepare,
    ),
    Case(
        "assessment:manager_join_clean",
        "anonymous",
        to("assessment:manager_join_clean"),
        lambda w, ctx: account_data("joiner"),
        {
            "auth.User": {"+"},
            "assessment.Membership": {"+"},
            "assessment.ManagerInvitation": {"accepted_at"},
        },
        check_manager_join,
        prepare=open_join_link,
    ),
    # --- teams and rosters
    Case(
        "assessment:team_create",
        "manager",
        to("assessment:team_create"),
        lambda w, ctx: {"name": "Night shift"},
        {"assessment.Team": {"+"}},
        check_team_create,
    ),
    Case(
        "assessment:roster_add",
        "manager",
        to("assessment:roster_add", pk=a_("front")),
        lambda w, ctx: {"name": "Nina Newman", "email": "nina@example.com"},
        {"assessment.RosterEntry": {"+"}},
        check_roster_add,
    ),
    Case(
        "assessment:roster_remove",
        "manager",
        to("assessment:roster_remove", team_pk=a_("front"), pk=ctx_("entry")),
        lambda w, ctx: {},
        {"assessment.RosterEntry": {"-"}},
        check_roster_remove,
        prepare=roster_prepare,
    ),
    # --- assessments and invitations
    Case(
        "assessment:assessment_create",
        "manager",
        to("assessment:assessment_create"),
        lambda w, ctx: {
            "title": "Spring check",
            "team": w.a.back.pk,
            "frameworks": ctx["slugs"],
            "due_date": ctx["due"],
        },
        {
            "assessment.Assessment": {"+"},
            "assessment.Assessment_framework_versions": {"+"},
            "assessment.Invitation": {"+"},
        },
        check_assessment_create,
        prepare=assessment_create_prepare,
    ),
    Case(
        "assessment:invitations_add",
        "manager",
        to("assessment:invitations_add", pk=a_("draft")),
        lambda w, ctx: {"addresses": "ann@example.com, bob@example.com"},
        {"assessment.Invitation": {"+"}},
        check_invitations_add,
    ),
    Case(
        "assessment:open",
        "manager",
        to("assessment:open", pk=a_("draft")),
        lambda w, ctx: {},
        {
            "assessment.Assessment": {"status", "opened_at"},
            AUDIT: {"+"},
            **INVITATION_CHANGE,
        },
        check_open,
    ),
    Case(
        "assessment:submit",
        "manager",
        to("assessment:submit", pk=a_("open")),
        # The open assessment has fewer completions than the minimum: closing is explicit.
        lambda w, ctx: {"close_without_results": "on"},
        {
            "assessment.Assessment": {"status", "submitted_at"},
            "assessment.Response": {"status"},
            AUDIT: {"+"},
        },
        check_submit,
    ),
    Case(
        "assessment:targets",
        "manager",
        to("assessment:targets", pk=a_("in_review")),
        lambda w, ctx: {f"target-{ctx['section']}": "2"},
        {"assessment.SectionTarget": {"+"}},
        check_targets,
        prepare=section_prepare,
    ),
    Case(
        "assessment:respond_as_manager",
        "manager",
        to("assessment:respond_as_manager", pk=a_("open")),
        lambda w, ctx: {},
        {"assessment.Response": {"+"}},
        check_respond_as_manager,
        prepare=drop_self_response,
    ),
    Case(
        "assessment:invitation_resend",
        "manager",
        to("assessment:invitation_resend", pk=lambda w, ctx: ctx["invitation"].pk),
        lambda w, ctx: {},
        INVITATION_CHANGE,
        check_resend,
        prepare=resend_prepare,
    ),
    Case(
        "assessment:send_unsent",
        "manager",
        to("assessment:send_unsent", pk=a_("open")),
        lambda w, ctx: {},
        INVITATION_CHANGE,
        check_resend,
        prepare=unsent_prepare,
    ),
    Case(
        "assessment:invitation_revoke",
        "manager",
        to("assessment:invitation_revoke", pk=lambda w, ctx: ctx["invitation"].pk),
        lambda w, ctx: {},
        {"assessment.Invitation": {"revoked_at"}, "assessment.Response": {"status"}},
        check_revoke,
        prepare=resend_prepare,
    ),
    Case(
        "assessment:reopen",
        "manager",
        to("assessment:reopen", pk=a_("returned")),
        lambda w, ctx: {"sections": [first_section(w.a.returned).pk], "note": "Look again."},
        {
            "assessment.Assessment": {"status", "submitted_at", "round"},
            "assessment.Response": {"status", "completed_at"},
            "assessment.Reopening": {"+"},
            "assessment.Reopening_sections": {"+"},
            AUDIT: {"+"},
        },
        check_reopen,
    ),
    Case(
        "assessment:assessor_choose",
        "manager",
        to("assessment:assessor_choose", pk=a_("submitted")),
        lambda w, ctx: {"assessor": w.free_assessor.pk},
        {"assessment.Assignment": {"+"}, "assessment.Assessment": {"status"}, AUDIT: {"+"}},
        check_assigned_to_free_assessor(lambda w: w.a.manager),
    ),
    # --- consultants
    Case(
        "assessment:consultant_grants",
        "manager",
        to("assessment:consultant_grants"),
        lambda w, ctx: {"consultancy": w.neutral_consultancy.pk, "days": "30"},
        {"assessment.ConsultantGrant": {"+"}},
        check_grant,
    ),
    Case(
        "assessment:consultant_grant_revoke",
        "manager",
        to("assessment:consultant_grant_revoke", pk=a_("grant")),
        lambda w, ctx: {},
        {"assessment.ConsultantGrant": {"revoked_at"}},
        check_grant_revoke,
    ),
    Case(
        "assessment:bulk_new",
        "consultant",
        to("assessment:bulk_new"),
        lambda w, ctx: {"assessments": [w.a.approved.pk]},
        {"assessment.BulkExport": {"+"}, "assessment.BulkExport_assessments": {"+"}},
        check_bulk_new,
    ),
    Case(
        "assessment:branding",
        "consultant",
        to("assessment:branding"),
        lambda w, ctx: {"name": "Alpha & Co", "accent_colour": "#123456"},
        {"assessment.Consultancy": {"name", "accent_colour"}},
        check_branding,
    ),
    # --- staff and assessors
    Case(
        "assessment:staff_assign",
        "staff",
        to("assessment:staff_assign", pk=a_("submitted")),
        lambda w, ctx: {"assessor": w.free_assessor.pk},
        {"assessment.Assignment": {"+"}, "assessment.Assessment": {"status"}, AUDIT: {"+"}},
        check_assigned_to_free_assessor(lambda w: w.staff),
    ),
    Case(
        "assessment:moderate",
        "assessor",
        to("assessment:moderate", pk=a_("in_review")),
        lambda w, ctx: {
            "section": ctx["section"],
            "score": "62.5",
            "rationale": "Seen the evidence.",
        },
        {"assessment.Moderation": {"+"}, AUDIT: {"+"}},
        check_moderate,
        prepare=section_prepare,
    ),
    Case(
        "assessment:keep_moderation",
        "assessor",
        to("assessment:keep_moderation", pk=a_("in_review")),
        lambda w, ctx: {"section": ctx["section"]},
        {"assessment.Moderation": {"+"}, AUDIT: {"+"}},
        check_keep_moderation,
        prepare=earlier_round_prepare,
    ),
    Case(
        "assessment:approve",
        "assessor",
        to("assessment:approve", pk=a_("in_review")),
        lambda w, ctx: {"level": "3", "summary": "Well balanced."},
        {"assessment.Decision": {"+"}, "assessment.Assessment": {"status"}, AUDIT: {"+"}},
        check_decision("approved", 3),
        prepare=criteria_judged_prepare,
    ),
    Case(
        "assessment:review_criteria",
        "assessor",
        to(
            "assessment:review_criteria",
            pk=a_("in_review"),
            section_pk=lambda w, ctx: ctx["section"],
        ),
        lambda w, ctx: {
            f"verdict_{ctx['question']}": "partly",
            f"note_{ctx['question']}": "Half of it shown.",
        },
        {"assessment.Judgement": {"+"}, AUDIT: {"+"}},
        check_judgement,
        prepare=criterion_prepare,
    ),
    Case(
        "assessment:review_require_action",
        "assessor",
        to("assessment:review_require_action", pk=a_("in_review")),
        lambda w, ctx: {"title": "Publish the rota", "section": ctx["section"]},
        {"assessment.Action": {"+"}, AUDIT: {"+"}},
        check_required_action,
        prepare=section_prepare,
    ),
    Case(
        "assessment:return",
        "assessor",
        to("assessment:return", pk=a_("in_review")),
        lambda w, ctx: {"required_changes": "Ask the owners too."},
        {"assessment.Decision": {"+"}, "assessment.Assessment": {"status"}, AUDIT: {"+"}},
        check_decision("returned", None),
    ),
    # --- respondents
    Case(
        "assessment:invitation_landing",
        "anonymous",
        to("assessment:invitation_landing"),
        lambda w, ctx: {},
        {"assessment.Response": {"+"}, "assessment.Invitation": {"token_used_at"}},
        check_landing,
        prepare=open_invitation_link,
    ),
    Case(
        "assessment:invitation_renew",
        "anonymous",
        to("assessment:invitation_renew"),
        lambda w, ctx: {},
        INVITATION_CHANGE,
        check_renew,
        prepare=renew_ready,
        status=200,
    ),
    Case(
        "assessment:section",
        "anonymous",
        to("assessment:section", pk=ctx_("response"), section_pk=ctx_("section")),
        lambda w, ctx: {
            name: value
            for q in ctx["questions"]
            for name, value in answer_fields(q, "3", f"Mine {q.pk}").items()
        },
        {"assessment.Answer": {"+"}},
        check_answers(count=None),
        prepare=redeem,
    ),
    Case(
        "assessment:answers",
        "anonymous",
        to("assessment:answers", pk=ctx_("response")),
        # One answer: a batch saves each answer on its own (tests/assessment/views/
        # test_respond_autosave.py), so only a batch of one is refused as a whole.
        lambda w, ctx: answer_fields(ctx["questions"][0], "3", f"Mine {ctx['questions'][0].pk}"),
        {"assessment.Answer": {"+"}},
        check_answers(count=1),
        prepare=redeem,
        status=200,
    ),
    Case(
        "assessment:autosave",
        "anonymous",
        to(
            "assessment:autosave",
            pk=ctx_("response"),
            question_pk=lambda w, c: c["questions"][0].pk,
        ),
        lambda w, ctx: answer_fields(ctx["questions"][0], "3", f"Mine {ctx['questions'][0].pk}"),
        {"assessment.Answer": {"+"}},
        check_answers(count=1),
        prepare=redeem,
        status=200,
    ),
    Case(
        "assessment:complete",
        "anonymous",
        to("assessment:complete", pk=ctx_("response")),
        lambda w, ctx: {"confirm": "yes"},
        {
            "assessment.Response": {"status", "completed_at", "completed_round"},
            "assessment.Answer": {
                "submitted_level",
                "submitted_not_applicable",
                "submitted_comment",
            },
        },
        check_complete,
        prepare=redeem,
    ),
    Case(
        "assessment:customer_prediction",
        "anonymous",
        to("assessment:customer_prediction", pk=ctx_("response")),
        prediction_data,
        {"assessment.CustomerPrediction": {"+"}},
        check_prediction,
        prepare=redeem,
    ),
    Case(
        "assessment:revise",
        "anonymous",
        to("assessment:revise", pk=ctx_("response")),
        lambda w, ctx: {},
        {"assessment.Response": {"status"}},
        check_revise,
        prepare=completed_last_round,
    ),
    # --- customer surveys: a manager opens one; a customer answers it (no account)
    Case(
        "assessment:customer_survey_create",
        "manager",
        to("assessment:customer_survey_create", pk=a_("draft")),
        survey_create_data,
        {SURVEY: {"+"}},
        check_survey_opened(lambda w: w.a.draft.team, lambda w: w.a.draft),
    ),
    Case(
        "assessment:team_survey_create",
        "manager",
        to("assessment:team_survey_create", pk=a_("back")),
        survey_create_data,
        {SURVEY: {"+"}},
        check_survey_opened(lambda w: w.a.back, lambda w: None),
    ),
    Case(
        "assessment:customer_survey_edit",
        "manager",
        to("assessment:customer_survey_edit", pk=a_("customer_survey")),
        survey_edit_data,
        {SURVEY: {"title", "opens_on", "closes_on", "max_responses", "allow_repeat"}},
        check_survey_edited,
    ),
    Case(
        "assessment:customer_survey_close",
        "manager",
        to("assessment:customer_survey_close", pk=a_("customer_survey")),
        lambda w, ctx: {},
        {SURVEY: {"opens_on", "closes_on"}},
        check_survey_closed,
    ),
    Case(
        "customer_survey_public",
        "anonymous",
        lambda w, ctx: w.a.customer_survey.public_path(),
        customer_answers,
        {CUSTOMER_RESPONSE: {"+"}, THROTTLE: {"+"}},
        check_customer_response,
        refused=counted_refusal(lambda w: w.a.customer_survey),
    ),
    Case(
        "customer_survey_personal",
        "anonymous",
        lambda w, ctx: reverse("customer_survey_personal", args=[w.a.customer_link_token]),
        customer_answers,
        {CUSTOMER_RESPONSE: {"+"}, LINK: {"used"}},
        check_personal_response,
        status=200,  # the thanks are the page itself: nothing to come back to
        refused=counted_refusal(lambda w: w.a.customer_survey),
    ),
    # --- customer surveys: personal links, uploaded and sent by a manager
    Case(
        "assessment:customer_links_upload",
        "manager",
        to("assessment:customer_links_upload", pk=a_("customer_survey")),
        links_file,
        {LINK: {"+"}},
        check_links_added,
    ),
    Case(
        "assessment:customer_links_send",
        "manager",
        to("assessment:customer_links_send", pk=a_("customer_survey")),
        lambda w, ctx: {},
        {LINK: {"token_hash", "sent_at"}, "assessment.SentMail": {"+"}},
        check_links_sent,
    ),
    # --- action plans: a manager's action, changed and deleted; the calendar feed
    Case(
        "assessment:action_create",
        "manager",
        to("assessment:action_create", pk=a_("approved")),
        action_data,
        {ACTION: {"+"}},
        check_action_created,
    ),
    Case(
        "assessment:action_edit",
        "manager",
        to("assessment:action_edit", pk=a_("action")),
        action_edit_data,
        {ACTION: {"title", "owner_name", "owner_email", "status", "notes", "updated_at"}},
        check_action_edited,
    ),
    Case(
        "assessment:action_delete",
        "manager",
        to("assessment:action_delete", pk=a_("action")),
        lambda w, ctx: {},
        {ACTION: {"-"}},
        check_action_deleted,
    ),
    Case(
        "assessment:calendar_feeds",
        "manager",
        to("assessment:calendar_feeds"),
        lambda w, ctx: {},
        {FEED: {"+"}},
        check_feed_created,
        status=200,  # the new address is shown on this response, once
    ),
    Case(
        "assessment:calendar_feed_revoke",
        "manager",
        to("assessment:calendar_feed_revoke", pk=a_("calendar_feed")),
        lambda w, ctx: {},
        {FEED: {"revoked_at"}},
        check_feed_revoked,
    ),
    # --- evidence: a manager's file, a leadership invitee's note; each deleted (audited)
    Case(
        "assessment:evidence",
        "manager",
        to("assessment:evidence", pk=a_("open")),
        evidence_data,
        {EVIDENCE: {"+"}, BLOB: {"+"}},
        check_evidence_added,
    ),
    Case(
        "assessment:evidence_delete",
        "manager",
        to("assessment:evidence_delete", pk=a_("open"), evidence_pk=a_("evidence")),
        lambda w, ctx: {},
        {EVIDENCE: {"-"}, BLOB: {"-"}, AUDIT: {"+"}},
        check_evidence_deleted(a_("evidence")),
    ),
    Case(
        "assessment:response_evidence",
        "anonymous",
        to("assessment:response_evidence", pk=ctx_("response")),
        leader_note_data,
        {EVIDENCE: {"+"}},
        check_leader_note,
        prepare=fresh_leader,
    ),
    Case(
        "assessment:response_evidence_delete",
        "anonymous",
        to(
            "assessment:response_evidence_delete",
            pk=ctx_("response"),
            evidence_pk=ctx_("evidence"),
        ),
        lambda w, ctx: {},
        {EVIDENCE: {"-"}, AUDIT: {"+"}},
        check_evidence_deleted(ctx_("evidence")),
        prepare=fresh_leader_with_note,
    ),
    # --- django.contrib.auth
    Case(
        "login",
        "anonymous",
        to("login"),
        lambda w, ctx: {"username": w.a.manager.username, "password": PASSWORD},
        {"auth.User": {"last_login"}},
        check_login,
    ),
    Case("logout", "manager", to("logout"), lambda w, ctx: {}, {}, check_nothing),
    Case(
        "password_change",
        "manager",
        to("password_change"),
        lambda w, ctx: {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase-77",
            "new_password2": "another-long-passphrase-77",
        },
        {"auth.User": {"password"}},
        check_password_changed,
    ),
    Case(
        "password_reset",
        "anonymous",
        to("password_reset"),
        lambda w, ctx: {"email": w.a.manager.email},
        {},
        check_password_reset,
    ),
    Case(
        "password_reset_confirm",
        "anonymous",
        lambda w, ctx: ctx["url"],
        lambda w, ctx: {
            "new_password1": "another-long-passphrase-77",
            "new_password2": "another-long-passphrase-77",
        },
        {"auth.User": {"password"}},
        check_password_changed,
        prepare=reset_link,
    ),
]


class MassAssignmentTests(TestCase):
    """One test per case in CASES (added below the class), on one shared world."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.world = build_world()

    def client_for(self, who: str) -> Client:
        client = Client()
        user = {
            "manager": self.world.a.manager,
            "assessor": self.world.a.assessor,
            "consultant": self.world.a.consultant,
            "staff": self.world.staff,
        }.get(who)
        if user is not None:
            client.force_login(user)
        return client

    def run_case(self, case: Case) -> None:
        w = self.world
        client = self.client_for(case.who)
        ctx = case.prepare(w, client)
        legit = case.data(w, ctx)
        payload = {**hostile(w), **legit}  # a field the form does use keeps its legit value
        assert len(set(payload) - set(legit)) > 70
        mail.outbox = []
        before = db_state()
        response = client.post(case.url(w, ctx), payload)
        changes = diff(before, db_state())

        messages = [str(m) for m in getattr(response.wsgi_request, "_messages", [])]
        assert response.status_code == case.status, (response.status_code, messages)
        assert_only(changes, case.allowed)
        case.check(w, ctx, changes)


def _test_for(case: Case) -> Callable[[MassAssignmentTests], None]:
    def test(self: MassAssignmentTests) -> None:
        self.run_case(case)

    test.__doc__ = f"POST {case.url_name} with hostile extra fields changes only its own rows."
    return test


for _case in CASES:
    setattr(MassAssignmentTests, f"test_{_case.name}_ignores_extra_fields", _test_for(_case))


# --- the guard ---------------------------------------------------------------------------


def test_every_post_accepting_url_has_a_case():
    accepting = {
        route.key
        for route in routes()
        if not route.is_admin and "POST" in allowed_methods(route.callback)
    }
    covered = {case.url_name for case in CASES}

    assert accepting - covered == set(), "POST-accepting URLs without a mass-assignment case"
    assert covered - accepting == set(), "cases for URLs that no longer accept POST"


def test_the_guard_sees_which_views_accept_post():
    from django.contrib.auth.views import LoginView, PasswordChangeDoneView

    from assessment.views import manager, public

    assert allowed_methods(manager.roster_add) == {"POST"}
    assert allowed_methods(manager.team_create) == {"GET", "POST"}
    assert "POST" not in allowed_methods(public.home)
    assert "POST" in allowed_methods(LoginView.as_view())
    assert "POST" not in allowed_methods(PasswordChangeDoneView.as_view())
    assert "POST" in allowed_methods(lambda request: None)  # no wrapper: every method


def test_a_counted_refusal_accounts_for_its_counter_and_nothing_more():
    """The customers' page's refusal rule is narrow: one counter of its own survey by one,
    matching the status, and the sender's throttle rows; never a stored response, and
    nothing at all for the form's own refusal (400). Every other case writes nothing."""
    w = SimpleNamespace(a=SimpleNamespace(customer_survey=SimpleNamespace(pk=7)))
    rule = counted_refusal(lambda w: w.a.customer_survey)

    def counter(pk: int, name: str, old: int, new: int) -> Changes:
        return {SURVEY: TableChanges(changed={pk: {name: (old, new)}})}

    bumped = TableChanges(changed={3: {"count": (4, 5)}}, created={4: {"survey_id": 7}})
    assert rule(w, {}, counter(7, "refused_bot", 2, 3), 403) == {}
    assert rule(w, {}, {**counter(7, "refused_rate", 0, 1), THROTTLE: bumped}, 429) == {}
    other = {"assessment.Assessment": TableChanges(changed={1: {"status": ("open", "x")}})}
    assert rule(w, {}, {**counter(7, "refused_bot", 0, 1), **other}, 403) == other
    assert rule(w, {}, counter(7, "refused_bot", 0, 1), 400) == counter(7, "refused_bot", 0, 1)
    for status, changes in [
        (403, {**counter(7, "refused_bot", 0, 1), CUSTOMER_RESPONSE: TableChanges({1: {}})}),
        (403, counter(7, "refused_bot", 0, 2)),
        (403, counter(7, "refused_rate", 0, 1)),
        (403, counter(8, "refused_bot", 0, 1)),
        (403, {SURVEY: TableChanges(changed={7: {"refused_bot": (0, 1), "title": ("a", "b")}})}),
        (410, {}),
        (429, {**counter(7, "refused_rate", 0, 1), THROTTLE: TableChanges({5: {"survey_id": 8}})}),
        (429, {**counter(7, "refused_rate", 0, 1), THROTTLE: TableChanges(changed={3: {"x": 1}})}),
    ]:
        with pytest.raises(AssertionError):
            rule(w, {}, changes, status)
    changes = counter(7, "refused_bot", 0, 1)
    assert nothing_written(w, {}, changes, 403) == changes
    counted = {case.url_name for case in CASES if case.refused is not nothing_written}
    assert counted == {"customer_survey_public", "customer_survey_personal"}
