"""Writes of a person's language choice (the rule of which language applies lives in
``assessment.languages``)."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from assessment import languages
from assessment.models import Invitation, PersonalPreference


@transaction.atomic
def language_choose(
    *, language: str, user: AbstractBaseUser | None, held_responses: Iterable[int] = ()
) -> None:
    """Keep a chosen language: as a signed-in user's preference, and on the invitations
    whose responses this browser holds, so that their reminders and fresh links come in
    it. ``language`` must be a shipped language (the form checked it)."""
    code = languages.supported(language)
    if code is None:
        raise ValueError(f"not a shipped language: {language!r}")
    if user is not None and user.is_authenticated:
        PersonalPreference.objects.update_or_create(user=user, defaults={"language": code})
    held = list(held_responses)
    if held:
        Invitation.objects.filter(response__pk__in=held).exclude(language=code).update(
            language=code
        )
