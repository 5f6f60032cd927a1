"""Assessor review: assignment, moderation, decisions, and reopening for revision.

Every state change is a conditional update and writes its audit record in the same
transaction. An illegal transition is refused with a message and changes nothing.
"""

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessment import languages
from assessment.models import (
    Action,
    Assessment,
    AssessorProfile,
    Assignment,
    AuditEvent,
    Decision,
    Judgement,
    Membership,
    Moderation,
    Reopening,
    Response,
)
from assessment.selectors.common import current_reopening
from assessment.selectors.manager import unsent_invitations
from assessment.selectors.review import (
    assessment_award_rule,
    assessor_conflict,
    awarded_levels,
    earlier_round_moderations,
    from_earlier_round,
)
from assessment.services.actions import action_require
from assessment.services.assessments import invitations_send, review_start
from assessment.services.audit import assessment_transition, audit_record
from assessment.services.common import ServiceError, absolute_url, notify_after_commit
from assessment.services.reports import reports_render_ahead
from assessment.validators import is_clean
from frameworks.models import Question, Section

TEXT_LIMIT = 4000


class FieldServiceError(ServiceError):
    """A refusal that belongs beside one field of the form (``field``, its name)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@transaction.atomic
def assessor_assign(
    *, assessment: Assessment, assessor: AbstractBaseUser, by: AbstractBaseUser
) -> Assignment:
    """Assign (or reassign) the reviewing assessor of a submitted assessment."""
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.status not in (Assessment.Status.SUBMITTED, Assessment.Status.IN_REVIEW):
        raise ServiceError(_("Only a submitted assessment can be assigned to an assessor."))
    profile = AssessorProfile.objects.filter(user=assessor).first()
    if profile is None or not profile.is_current():
        raise ServiceError(_("This person has no current accreditation as an assessor."))
    if assessor_conflict(assessor=assessor, assessment=locked):
        raise ServiceError(
            _("An assessor cannot review an organisation they belong to (conflict of interest).")
        )
    previous = Assignment.objects.filter(assessment=locked).first()
    if previous is not None and previous.assessor_id == assessor.pk:
        return previous
    assignment, _created = Assignment.objects.update_or_create(
        assessment=locked, defaults={"assessor": assessor, "assigned_by": by}
    )
    audit_record(
        assessment=locked,
        actor=by,
        action=AuditEvent.Action.ASSIGNED,
        before={"assessor": previous.assessor_id if previous else None},
        after={"assessor": assessor.pk},
    )
    review_start(assessment=locked, assignment=assignment, by=by)
    return assignment


def _section_of(locked: Assessment, section_id: int, *, field: str | None = None) -> Section:
    """The section ``section_id`` of the assessment's frameworks; anything else is refused
    (beside ``field`` when given). The one check of the review's services."""
    section = Section.objects.filter(pk=section_id, version__assessments=locked).first()
    if section is None:
        message = _("That section is not part of this assessment.")
        if field is not None:
            raise FieldServiceError(message, field=field)
        raise ServiceError(message)
    return section


def _in_review(assessment: Assessment) -> Assessment:
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.status != Assessment.Status.IN_REVIEW:
        raise ServiceError(
            _("This assessment is not in review (it is %(status)s).")
            % {"status": locked.get_status_display().lower()}
        )
    return locked


@transaction.atomic
def moderation_record(
    *,
    assessment: Assessment,
    section_id: int,
    assessor: AbstractBaseUser,
    score: str | float | Decimal,
    rationale: str,
) -> Moderation:
    """The assessor's moderated score for a section (0-100), with a required rationale."""
    locked = _in_review(assessment)
    rationale = (rationale or "").strip()
    if not rationale:
        raise ServiceError(_("Give a rationale for the moderated score."))
    if len(rationale) > TEXT_LIMIT:
        raise ServiceError(_("The rationale can be at most %(n)d characters.") % {"n": TEXT_LIMIT})
    try:
        value = Decimal(str(score).strip()).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ServiceError(_("The moderated score must be a number from 0 to 100.")) from None
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        raise ServiceError(_("The moderated score must be a number from 0 to 100."))
    section = _section_of(locked, section_id)
    previous = Moderation.objects.latest_per_section(locked).filter(section=section).first()
    moderation = Moderation.objects.create(
        assessment=locked,
        section=section,
        assessor=assessor,
        score=value,
        rationale=rationale,
        round=locked.round,
    )
    audit_record(
        assessment=locked,
        actor=assessor,
        action=AuditEvent.Action.MODERATED,
        before={"section": section.key, "score": str(previous.score) if previous else None},
        after={"section": section.key, "score": str(value), "rationale": rationale},
    )
    return moderation


JUDGEMENT_NOTE_LIMIT = 2000


@transaction.atomic
def judgements_record(
    *,
    assessment: Assessment,
    section_id: int,
    assessor: AbstractBaseUser,
    judgements: dict[int, tuple[str, str]],
) -> list[Judgement]:
    """Record the assessor's judgements of a section's criteria: ``judgements`` maps a
    question's id to (verdict, note). Only a change from the question's current judgement
    is recorded (a new row, audited); an unchanged one records nothing. All or nothing:
    a question outside the section, an unknown verdict or an over-long note refuses the
    whole set. Returns the judgements recorded."""
    locked = _in_review(assessment)
    section = _section_of(locked, section_id)
    questions = {
        question.pk: question
        for question in Question.objects.filter(section=section, version__format=2)
    }
    current = {
        judgement.question_id: judgement
        for judgement in Judgement.objects.latest_per_question(locked).filter(
            question__section=section
        )
    }
    recorded = []
    for question_id, (verdict, note) in judgements.items():
        question = questions.get(question_id)
        if question is None:
            raise ServiceError(_("That question is not part of this section."))
        if verdict not in Judgement.Verdict.values:
            raise ServiceError(_("Choose met, partly met, not met or not evidenced."))
        note = (note or "").strip()
        if len(note) > JUDGEMENT_NOTE_LIMIT:
            raise ServiceError(
                _("A note can be at most %(n)d characters.") % {"n": JUDGEMENT_NOTE_LIMIT}
            )
        previous = current.get(question_id)
        if (
            previous is not None
            and (previous.verdict, previous.note) == (verdict, note)
            and previous.round == locked.round
        ):
            continue  # unchanged in this round; one from an earlier round is confirmed
        recorded.append(
            Judgement.objects.create(
                assessment=locked,
                question=question,
                assessor=assessor,
                verdict=verdict,
                note=note,
                round=locked.round,
            )
        )
        audit_record(
            assessment=locked,
            actor=assessor,
            action=AuditEvent.Action.JUDGED,
            before={
                "section": section.key,
                "question": question.code,
                "verdict": previous.verdict if previous else None,
            },
            after={"verdict": verdict, "judgement_note": note},
        )
    return recorded


ACTION_TITLE_LIMIT = 200


@transaction.atomic
def action_require_in_review(
    *,
    assessment: Assessment,
    assessor: AbstractBaseUser,
    title: str,
    section_id: int | None = None,
) -> Action:
    """An action the assessor requires as a condition of approval, while the assessment
    is in review: the manager gives it an owner and a date (``services.actions``);
    audited."""
    locked = _in_review(assessment)
    title = (title or "").strip()
    if not title:
        raise FieldServiceError(_("Give the action a title."), field="title")
    if len(title) > ACTION_TITLE_LIMIT:
        raise FieldServiceError(
            _("The title can be at most %(n)d characters.") % {"n": ACTION_TITLE_LIMIT},
            field="title",
        )
    section = None
    if section_id is not None:
        section = _section_of(locked, section_id, field="section")
    action = action_require(assessment=locked, assessor=assessor, title=title, section=section)
    audit_record(
        assessment=locked,
        actor=assessor,
        action=AuditEvent.Action.ACTIONS_REQUIRED,
        after={"actions": title, **({"section": section.key} if section else {})},
    )
    return action


@transaction.atomic
def moderation_keep(
    *, assessment: Assessment, section_id: int, assessor: AbstractBaseUser
) -> Moderation:
    """Keep a section's moderation from an earlier round: the same score and rationale,
    recorded again in this round (and audited), so approval may rely on it. A second
    click keeps nothing twice: the moderation already of this round is returned."""
    locked = _in_review(assessment)
    previous = (
        Moderation.objects.latest_per_section(locked)
        .filter(section_id=section_id)
        .select_related("section")
        .first()
    )
    if previous is None:
        raise ServiceError(_("This section has no moderated score to keep."))
    if not from_earlier_round(previous.round, locked):
        return previous
    moderation = Moderation.objects.create(
        assessment=locked,
        section=previous.section,
        assessor=assessor,
        score=previous.score,
        rationale=previous.rationale,
        round=locked.round,
    )
    audit_record(
        assessment=locked,
        actor=assessor,
        action=AuditEvent.Action.MODERATED,
        before={"section": previous.section.key, "score": str(previous.score)},
        after={
            "section": previous.section.key,
            "score": str(previous.score),
            "kept_from_round": previous.round,
        },
    )
    return moderation


def _decide(
    *,
    assessment: Assessment,
    assessor: AbstractBaseUser,
    outcome: Decision.Outcome,
    snapshot: dict,
    sections: list[Section] | None = None,
    **fields: object,
) -> Decision:
    locked = _in_review(assessment)
    round_number = Decision.objects.filter(assessment=locked).count() + 1
    try:
        with transaction.atomic():
            decision = Decision.objects.create(
                assessment=locked,
                round=round_number,
                assessor=assessor,
                outcome=outcome,
                snapshot=snapshot,
                **fields,
            )
    except IntegrityError:
        raise ServiceError(_("A decision on this review round was already made.")) from None
    recorded: dict[str, object] = {"round": round_number, **fields}
    if sections:
        decision.required_sections.set(sections)
        # By key, as the reopening records them; the audit trail shows their names.
        recorded["sections"] = [section.key for section in sections]
    changed = assessment_transition(
        assessment=locked,
        by=assessor,
        action=AuditEvent.Action(outcome),
        recorded=recorded,
    )
    if not changed:
        raise ServiceError(_("A decision on this review round was already made."))
    reports_render_ahead(assessment=locked)
    for membership in Membership.objects.filter(organisation=locked.organisation).select_related(
        "user", "user__personal_preference"
    ):
        # Each manager reads it in their own language (the assessment's if they chose none).
        language = languages.for_user(membership.user, locked.language)
        with translation.override(language):
            subject = _("Review decision: %(outcome)s") % {
                "outcome": decision.get_outcome_display()
            }
            names = [str(section.name) for section in sections or []]
        notify_after_commit(
            to=membership.user.email,
            subject=subject,
            template="assessment/email/review_decision.txt",
            context={
                "assessment": locked,
                "decision": decision,
                "sections": names,
                "link": absolute_url(locked.get_absolute_url()),
            },
            language=language,
        )
    return decision


@transaction.atomic
def decision_approve(
    *,
    assessment: Assessment,
    assessor: AbstractBaseUser,
    level: int | str,
    summary: str,
    snapshot: dict,
    deviation_reason: str = "",
) -> Decision:
    """Approve with an awarded maturity level on the assessment's scale (0-5 when its
    frameworks are format 2, 1-5 otherwise: ``selectors.review.assessment_levels``) and a
    summary.

    Format 2 only: the level follows the awarded-level rule
    (``selectors.review.assessment_award_rule``); another level needs
    ``deviation_reason`` (refused beside that field, nothing written). When the rule gives
    no level (a section has no score), the choice is free and the reason optional. The
    rule's level and the reason are stored on the decision and recorded in the audit
    trail. Format 1 keeps the free choice: the reason is ignored."""
    levels = awarded_levels(assessment)
    try:
        value: int | None = int(str(level).strip())
    except ValueError:
        value = None
    if value not in levels:
        raise ServiceError(
            _("Choose the awarded maturity level, from %(low)d to %(high)d.")
            % {"low": levels[0], "high": levels[-1]}
        )
    summary = (summary or "").strip()
    if not summary:
        raise ServiceError(_("Write a short summary of the review."))
    if len(summary) > TEXT_LIMIT:
        raise ServiceError(_("The summary can be at most %(n)d characters.") % {"n": TEXT_LIMIT})
    earlier = earlier_round_moderations(_in_review(assessment))
    if earlier:
        raise ServiceError(
            _(
                "Keep or replace the moderated scores from an earlier round before you "
                "approve: %(sections)s."
            )
            % {"sections": ", ".join(moderation.section.name for moderation in earlier)}
        )
    rule = assessment_award_rule(assessment)
    ruled: dict[str, object] = {}
    if rule is not None and rule.unjudged:
        # An accredited award rests on evidence: every criterion judged first.
        raise ServiceError(
            ngettext(
                "Judge every criterion before you approve: %(n)d is not judged yet.",
                "Judge every criterion before you approve: %(n)d are not judged yet.",
                rule.unjudged,
            )
            % {"n": rule.unjudged}
        )
    if rule is not None:
        reason = (deviation_reason or "").strip()
        # Not backed by the rule: another level than it gives, or it gives none (a
        # section without a score; the page asks the assessor to moderate it).
        unruled = rule.level is None or value != rule.level
        if rule.level is not None and unruled and not reason:
            raise FieldServiceError(
                _(
                    "The rule gives level %(rule)d; write the reason for awarding level "
                    "%(chosen)d instead."
                )
                % {"rule": rule.level, "chosen": value},
                field="deviation_reason",
            )
        if len(reason) > TEXT_LIMIT:
            raise FieldServiceError(
                _("The reason can be at most %(n)d characters.") % {"n": TEXT_LIMIT},
                field="deviation_reason",
            )
        if unruled and not is_clean(reason, multiline=True):
            raise FieldServiceError(
                _("The reason contains a control character; please remove it."),
                field="deviation_reason",
            )
        # A reason typed for the rule's own level is no deviation: not kept. The audit
        # trail records a reason only when one is kept.
        ruled = {"rule_level": rule.level}
        if unruled and reason:
            ruled["deviation_reason"] = reason
    return _decide(
        assessment=assessment,
        assessor=assessor,
        outcome=Decision.Outcome.APPROVED,
        snapshot=snapshot,
        awarded_level=value,
        summary=summary,
        **ruled,
    )


@transaction.atomic
def decision_return(
    *,
    assessment: Assessment,
    assessor: AbstractBaseUser,
    required_changes: str,
    snapshot: dict,
    sections: Iterable[Section] = (),
) -> Decision:
    """Return for revision with the changes the organisation must make, naming the
    sections the team should look at again (``Decision.required_sections``; the
    manager's reopening starts from them)."""
    chosen = sorted(set(sections), key=lambda section: (section.version_id, section.position))
    ours = Section.objects.filter(
        pk__in=[section.pk for section in chosen], version__assessments=assessment
    )
    if chosen and ours.count() != len(chosen):
        raise ServiceError(_("That section is not part of this assessment."))
    required_changes = (required_changes or "").strip()
    if not required_changes:
        raise ServiceError(_("List the changes required before the assessment can be approved."))
    if len(required_changes) > TEXT_LIMIT:
        raise ServiceError(
            _("The required changes can be at most %(n)d characters.") % {"n": TEXT_LIMIT}
        )
    return _decide(
        assessment=assessment,
        assessor=assessor,
        outcome=Decision.Outcome.RETURNED,
        snapshot=snapshot,
        sections=chosen,
        required_changes=required_changes,
    )


def assessment_reopen(
    *,
    assessment: Assessment,
    by: AbstractBaseUser,
    sections: Iterable[Section | int],
    note: str,
) -> Reopening:
    """Returned to open, in a new round, for the chosen sections, with a note to the team.

    Nobody drops out of the figures: a completed response stays completed, and its
    answers as last completed keep counting; its owner may change only the chosen
    sections (``Response.changeable_section_ids``). Otherwise someone who did not come
    back would be missing from the next round's figures, and comparing the two rounds
    would give their answers away. Responses closed unfinished may be finished now.

    Once committed, every invitee not revoked is e-mailed a fresh link with the note and
    the sections. A send that is refused (cool-down, sending cap, unconfirmed address) or
    fails stays unsent, to be sent from the assessment's page: the returned reopening's
    ``unsent`` says how many and ``send_problem`` why (set once the transaction commits,
    which for a caller outside a transaction is before this returns).
    """
    reopening = _reopen(assessment=assessment, by=by, sections=sections, note=note)
    reopening.unsent, reopening.send_problem = 0, ""
    transaction.on_commit(partial(_resend_quietly, reopening))
    return reopening


@transaction.atomic
def _reopen(
    *,
    assessment: Assessment,
    by: AbstractBaseUser,
    sections: Iterable[Section | int],
    note: str,
) -> Reopening:
    note = (note or "").strip()
    if not note:
        raise ServiceError(_("Write a note telling the team what the assessor asked for."))
    if len(note) > TEXT_LIMIT:
        raise ServiceError(_("The note can be at most %(n)d characters.") % {"n": TEXT_LIMIT})
    if not is_clean(note, multiline=True):
        raise ServiceError(_("The note contains a control character; please remove it."))
    wanted = {getattr(section, "pk", section) for section in sections}
    if not wanted:
        raise ServiceError(_("Choose at least one section for the team to look at again."))
    chosen = list(
        Section.objects.filter(pk__in=wanted, version__assessments=assessment).order_by(
            "version__name", "position"
        )
    )
    if len(chosen) != len(wanted):
        raise ServiceError(_("One of those sections is not part of this assessment."))
    # Reopened first, so the trail can say how many; a refused reopen raises and this
    # transaction undoes it.
    reopened_count = (
        Response.objects.filter(assessment=assessment, status=Response.Status.CLOSED)
        .exclude(invitation__revoked_at__isnull=False)
        .update(status=Response.Status.IN_PROGRESS, completed_at=None)
    )
    reopened = assessment_transition(
        assessment=assessment,
        by=by,
        action=AuditEvent.Action.REOPENED,
        fields={"submitted_at": None, "round": F("round") + 1},
        recorded={
            "responses_reopened": reopened_count,
            "sections": [section.key for section in chosen],
            "note": note,
        },
    )
    if not reopened:
        raise ServiceError(_("Only an assessment returned for revision can be reopened."))
    # The conditional transition above lets one reopening through per round; the unique
    # (assessment, round) constraint stands behind it.
    reopening = Reopening.objects.create(
        assessment=assessment, round=assessment.round, note=note, created_by=by
    )
    reopening.sections.set(chosen)
    return reopening


def _resend_quietly(reopening: Reopening) -> None:
    """The reopening's e-mail to every invitee not revoked, each with a fresh link; what was
    not sent is counted on ``reopening`` (and stays unsent, to be sent from the page)."""
    assessment = reopening.assessment
    invitations = list(assessment.invitations.filter(revoked_at__isnull=True))
    current = current_reopening(assessment)
    try:
        invitations_send(invitations, reopening=current)
    except ServiceError as problem:  # PartlySent names each address and why; Unconfirmed
        reopening.send_problem = str(problem)
    reopening.unsent = unsent_invitations(assessment).count()
