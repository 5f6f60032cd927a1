"""Action plans: creating, changing and deleting actions, the assessor's required actions,
the owners' weekly digest and the organisation's calendar feeds.

A refusal raises ``ServiceError`` and changes nothing. An action the assessor required
(``Action.required_by``) keeps its title and linked section or question, and cannot be
dropped or deleted by the manager.
"""

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessment import access, languages
from assessment.models import Assessment, Organisation, SentMail
from assessment.models.actions import Action, ActionDigest, CalendarFeed
from assessment.selectors.actions import Digest, digest_week
from assessment.services.common import ServiceError, absolute_url, new_token_pair
from assessment.services.mail import mail_reserve, mail_send
from frameworks.models import Question, Section

logger = logging.getLogger(__name__)

# The fields the manager may set; of a required action, only the first four.
MANAGER_FIELDS = ("owner", "owner_name", "owner_email", "due_date", "status", "notes")
FIXED_WHEN_REQUIRED = ("title", "section", "question")


def _linked(
    assessment: Assessment, section: Section | None, question: Question | None
) -> tuple[Section | None, Question | None]:
    """The section and question an action answers, both of the assessment's frameworks;
    a question brings its section. Refuses anything else."""
    versions = set(assessment.framework_versions.values_list("pk", flat=True))
    if question is not None:
        if question.version_id not in versions:
            raise ServiceError(_("Choose a question of this assessment's frameworks."))
        if section is not None and question.section_id != section.pk:
            raise ServiceError(_("The question is not in the section chosen."))
        section = question.section
    if section is not None and section.version_id not in versions:
        raise ServiceError(_("Choose a section of this assessment's frameworks."))
    return section, question


def _check_owner(
    organisation: Organisation, owner: AbstractBaseUser | None, owner_name: str, owner_email: str
) -> None:
    if owner is not None and owner_name:
        raise ServiceError(_("Choose a member or name someone without an account, not both."))
    if owner_email and not owner_name:
        raise ServiceError(_("An e-mail address goes with a named person without an account."))
    if owner is not None and not access.organisation_members(organisation).filter(pk=owner.pk):
        raise ServiceError(_("The owner must be a member of your organisation."))


@transaction.atomic
def action_create(
    *,
    assessment: Assessment,
    by: AbstractBaseUser,
    title: str,
    section: Section | None = None,
    question: Question | None = None,
    owner: AbstractBaseUser | None = None,
    owner_name: str = "",
    owner_email: str = "",
    due_date: datetime.date | None = None,
    status: str = Action.Status.PLANNED,
    notes: str = "",
) -> Action:
    """A new action of ``assessment``, created by its manager ``by``."""
    section, question = _linked(assessment, section, question)
    _check_owner(assessment.organisation, owner, owner_name, owner_email)
    return Action.objects.create(
        assessment=assessment,
        title=title,
        section=section,
        question=question,
        owner=owner,
        owner_name=owner_name,
        owner_email=owner_email,
        due_date=due_date,
        status=status,
        notes=notes,
        created_by=by,
    )


@transaction.atomic
def action_update(
    *,
    action: Action,
    by: AbstractBaseUser,
    title: str,
    section: Section | None = None,
    question: Question | None = None,
    owner: AbstractBaseUser | None = None,
    owner_name: str = "",
    owner_email: str = "",
    due_date: datetime.date | None = None,
    status: str = Action.Status.PLANNED,
    notes: str = "",
) -> Action:
    """Change an action. Of an action the assessor required, the title and the linked
    section or question stay as the assessor set them, and it cannot be dropped."""
    locked = Action.objects.select_for_update().select_related("assessment").get(pk=action.pk)
    section, question = _linked(locked.assessment, section, question)
    _check_owner(locked.assessment.organisation, owner, owner_name, owner_email)
    if locked.is_required:
        if (title, section, question) != (locked.title, locked.section, locked.question):
            raise ServiceError(
                _("The assessor set this action's title and section; they cannot be changed.")
            )
        if status == Action.Status.DROPPED:
            raise ServiceError(
                _(
                    "The assessor required this action as a condition of approval: "
                    "it cannot be dropped."
                )
            )
    values = {
        "title": title,
        "section": section,
        "question": question,
        "owner": owner,
        "owner_name": owner_name,
        "owner_email": owner_email,
        "due_date": due_date,
        "status": status,
        "notes": notes,
    }
    for name, value in values.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*values, "updated_at"])
    return locked


@transaction.atomic
def action_delete(*, action: Action, by: AbstractBaseUser) -> None:
    """Delete an action the manager created; one the assessor required stays."""
    deleted, _rows = Action.objects.filter(pk=action.pk, required_by__isnull=True).delete()
    if not deleted:
        raise ServiceError(
            _("The assessor required this action as a condition of approval: it cannot be deleted.")
        )


@transaction.atomic
def action_require(
    *,
    assessment: Assessment,
    assessor: AbstractBaseUser,
    title: str,
    section: Section | None = None,
    question: Question | None = None,
) -> Action:
    """An action the assessor requires as a condition of approval: planned, without an
    owner or date yet (the manager sets those)."""
    section, question = _linked(assessment, section, question)
    return Action.objects.create(
        assessment=assessment,
        title=title,
        section=section,
        question=question,
        status=Action.Status.PLANNED,
        required_by=assessor,
        created_by=assessor,
    )


# --- calendar feeds ---------------------------------------------------------------------


@transaction.atomic
def calendar_feed_create(
    *, organisation: Organisation, by: AbstractBaseUser
) -> tuple[CalendarFeed, str]:
    """A new private feed of the organisation's due dates, and its token: shown once,
    only its digest is kept."""
    token, digest = new_token_pair()
    feed = CalendarFeed.objects.create(organisation=organisation, token_hash=digest, created_by=by)
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, feed: CalendarFeed, by: AbstractBaseUser) -> None:
    """Stop a feed: its address answers 404 from now on."""
    if not CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    ):
        raise ServiceError(_("This feed was already revoked."))


# --- the weekly digest ------------------------------------------------------------------


@dataclass
class DigestRun:
    """What one run of the digest did: addresses sent to, already sent this week, and
    those that could not be sent (address and reason), to try again on a later run."""

    week: datetime.date
    sent: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def _line(text: str) -> str:
    """People's text on one line (``mail_send`` folds only the context's own strings)."""
    return " ".join(text.split())


def _digest_context(digest: Digest) -> dict:
    def item(action: Action) -> dict:
        return {
            "title": _line(action.title),
            "assessment": _line(action.assessment.title),
            "team": _line(action.assessment.team.name),
            "organisation": _line(action.assessment.organisation.name),
            "section": _line(action.section.name) if action.section else "",
            "due_date": action.due_date,
            "status": action.get_status_display(),
            "required": action.is_required,
            # A named person without an account cannot open the page.
            "link": absolute_url(reverse("assessment:action_plan", args=[action.assessment_id]))
            if action.owner_id
            else "",
        }

    return {
        "name": digest.name,
        "week": digest.week,
        "organisations": ", ".join(sorted({o.name for o in digest.organisations})),
        "overdue": [item(a) for a in digest.overdue],
        "due_soon": [item(a) for a in digest.due_soon],
        "others": [item(a) for a in digest.others],
    }


def _digest_language(digest: Digest) -> str:
    """A digest goes out in its owner's language: an account holder's own choice, else
    the language of the assessment their first action belongs to."""
    first = digest.actions[0] if digest.actions else None
    owner = next((a.owner for a in digest.actions if a.owner_id), None)
    return languages.for_user(owner, first.assessment.language if first else None)


def _digest_send(digest: Digest) -> None:
    """Send one digest on behalf of the organisations its actions belong to, each counting
    it against its sending caps. The ``ActionDigest`` row goes first, in the same
    transaction: a second run this week finds it (the unique constraint) and sends
    nothing; a refused message rolls the row back, so a later run tries again."""
    # Written in the owner's language; a refusal to send stays in the operator's.
    language = _digest_language(digest)
    with translation.override(language):
        subject = ngettext(
            "Your actions this week: %(overdue)d overdue, %(soon)d due soon",
            "Your actions this week: %(overdue)d overdue, %(soon)d due soon",
            len(digest.overdue),
        ) % {"overdue": len(digest.overdue), "soon": len(digest.due_soon)}
        context = _digest_context(digest)
    with transaction.atomic():
        # Keyed on the address in lower case: the same address typed in another case on
        # another action is the same owner (``owner_digests`` groups them so), and its
        # digest must still go once.
        ActionDigest.objects.create(
            email=digest.email.lower(),
            week=digest.week,
            actions=min(len(digest.actions), 32767),
        )
        first, *others = digest.organisations
        for organisation in others:
            mail_reserve(organisation=organisation, kind=SentMail.Kind.ACTION_DIGEST)
        mail_send(
            organisation=first,
            kind=SentMail.Kind.ACTION_DIGEST,
            to=digest.email,
            subject=subject,
            template="assessment/email/action_digest.txt",
            html_template="assessment/email/action_digest.html",
            context=context,
            language=language,
        )


def action_digests_send(
    *, digests: list[Digest], on_sent: Callable[[Digest], None] | None = None
) -> DigestRun:
    """Send each owner's digest once this week (``selectors.actions.owner_digests``)."""
    run = DigestRun(week=digest_week())
    for digest in digests:
        if ActionDigest.objects.filter(email=digest.email.lower(), week=digest.week).exists():
            run.already.append(digest.email)
            continue
        try:
            _digest_send(digest)
        except IntegrityError:  # another run took it between the check and the insert
            run.already.append(digest.email)
        except ServiceError as error:
            logger.warning("Action digest to %s not sent: %s", digest.email, error)
            run.failed.append((digest.email, str(error)))
        else:
            run.sent.append(digest.email)
            if on_sent is not None:
                on_sent(digest)
    return run
