"""Forms for the public pages: sign-up, signing in, joining as a manager and passwords."""

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import (
    password_validators_help_text_html,
    validate_password,
)
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from assessment import languages
from assessment.forms import base
from assessment.services.organisations import CONFIRMATION_LINK_DAYS, CONFIRMATION_SALT


class AccountForm(base.Form):
    """A new account: full name, a free username and a confirmed, validated password."""

    full_name = forms.CharField(label=_("Full name"), max_length=150)
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("You sign in with this. Letters, digits and @ . + - _ only."),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        user_model = get_user_model()
        field = user_model._meta.get_field(user_model.USERNAME_FIELD)
        for validator in field.validators:
            validator(username)
        if user_model._default_manager.filter(username__iexact=username).exists():
            raise ValidationError(_("That username is taken. Choose another."), code="taken")
        return username

    def account_email(self) -> str:
        return ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password1 = cleaned.get("password1")
        password2 = cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
        elif password1:
            full_name = cleaned.get("full_name", "")
            first, _sep, last = full_name.partition(" ")
            candidate = get_user_model()(
                username=cleaned.get("username", ""),
                email=self.account_email(),
                first_name=first,
                last_name=last,
            )
            try:
                validate_password(password1, user=candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class SignUpForm(AccountForm):
    """A new organisation and its first manager."""

    organisation_name = forms.CharField(label=_("Organisation name"), max_length=200)
    email = forms.EmailField(label=_("E-mail"), max_length=254)

    field_order = ["organisation_name", "full_name", "email", "username", "password1", "password2"]

    def account_email(self) -> str:
        return self.cleaned_data.get("email", "")


class ConfirmationLinkForm(base.Form):
    """The token of an e-mailed confirmation link; ``cleaned_data["token"]`` is its claim
    (organisation, user and e-mail), once its signature and age are checked."""

    token = forms.CharField(max_length=1000)

    def clean_token(self) -> dict[str, Any]:
        try:
            claim = signing.loads(
                self.cleaned_data["token"],
                salt=CONFIRMATION_SALT,
                max_age=timedelta(days=CONFIRMATION_LINK_DAYS),
            )
        except signing.SignatureExpired:
            raise ValidationError(
                _(
                    "This link has expired. Sign in and ask for a new one from your "
                    "dashboard: it comes to the same address."
                ),
                code="expired",
            ) from None
        except signing.BadSignature:
            raise ValidationError(
                _("This link is not valid. Check that you copied all of it."), code="invalid"
            ) from None
        if not (
            isinstance(claim, dict)
            and isinstance(claim.get("organisation"), int)
            and isinstance(claim.get("user"), int)
            and isinstance(claim.get("email"), str)
        ):
            raise ValidationError(_("This link is not valid."), code="invalid")
        return claim


class ManagerJoinForm(AccountForm):
    """The account an invited manager creates; the e-mail comes from the invitation."""

    def __init__(self, *args: Any, email: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def account_email(self) -> str:
        return self.email


class _BoundedSignIn:
    """Django's sign-in forms show a username's maximum length in the widget but never
    check it, so any length reached ``authenticate()`` and django-axes' record of the
    failure (at most 255 characters: a server error on PostgreSQL). Here an overlong
    username or password is refused beside its field before anyone is asked."""

    PASSWORD_MAX_LENGTH = 4096  # hashing a megabyte-long password is a cheap attack

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, limit in (
            ("username", self.fields["username"].max_length),
            ("password", self.PASSWORD_MAX_LENGTH),
        ):
            self.fields[name].max_length = limit
            self.fields[name].validators.append(MaxLengthValidator(limit))


class SignInForm(base.TextRuleMixin, _BoundedSignIn, AuthenticationForm):
    """The sign-in page's form."""


class AdminSignInForm(base.TextRuleMixin, _BoundedSignIn, AdminAuthenticationForm):
    """The admin's sign-in form, bounded the same way."""


# Django's password forms, with the base's rule: a password the sign-in form would refuse
# (a control character) cannot be set, and the reset form's address is held to the rule
# of every other e-mail field. ``assessment/urls.py`` names them for Django's password
# views; ``views.public.password_reset`` uses the reset form.


class PasswordResetForm(base.TextRuleMixin, auth_forms.PasswordResetForm):
    """The address to send a reset link to."""


class SetPasswordForm(base.TextRuleMixin, auth_forms.SetPasswordForm):
    """A new password, from a reset link."""


class PasswordChangeForm(base.TextRuleMixin, auth_forms.PasswordChangeForm):
    """A signed-in user's new password."""


def language_choices() -> list[tuple[str, str]]:
    """The shipped languages, each named in itself ("Deutsch"), as a switcher shows them."""
    return [(code, translation.get_language_info(code)["name_local"]) for code in languages.codes()]


class LanguageSelect(forms.Select):
    """A select of languages, each option marked with its own language (it is named in
    itself), so a screen reader says "Deutsch" in German."""

    def create_option(self, name, value, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if value:
            option["attrs"]["lang"] = value
        return option


class LanguageForm(base.Form):
    """The language switcher: a shipped language, and the page to go back to."""

    language = forms.ChoiceField(label=_("Language"), choices=language_choices)
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, request: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_next(self) -> str:
        """Back to the page the switcher was on, if it is one of ours; else home."""
        target = self.cleaned_data["next"]
        # A path on this site only ("/..."): anything else is not a page to go back to.
        if target.startswith("/") and url_has_allowed_host_and_scheme(
            target,
            allowed_hosts={self.request.get_host()} if self.request else set(),
            require_https=self.request.is_secure() if self.request else False,
        ):
            return target
        return ""


class ReportLanguageForm(base.Form):
    """Which language a PDF report is written in (``?language=``); none: the page's."""

    language = forms.ChoiceField(
        label=_("Report language"),
        choices=language_choices,
        required=False,
        widget=LanguageSelect,
    )
