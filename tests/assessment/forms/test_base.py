"""The base form: every text and e-mail field refuses control characters, in one place."""

import pytest
from django import forms
from django.urls import reverse

from assessment import validators
from assessment.errors import ServiceError
from assessment.forms import base
from assessment.forms.manager import AddressesForm, RosterEntryForm
from assessment.forms.public import PasswordResetForm, SetPasswordForm, SignInForm
from assessment.forms.respondent import parse_answer_input
from assessment.forms.review import ModerationForm
from assessment.models import Moderation
from tests.factories import PASSWORD, make_assessment, make_organisation, make_team, make_user

QUOTED_VERTICAL_TAB = '"a\x0bb"@x.example'  # Django's EmailValidator accepts it
CONTROL_CHARACTERS = ["\x00", "\x01", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"]


class Sample(base.Form):
    name = forms.CharField()
    email = forms.EmailField()
    notes = forms.CharField(widget=forms.Textarea, required=False)
    password = forms.CharField(widget=forms.PasswordInput, strip=False, required=False)
    count = forms.IntegerField(required=False)


def sample(**data: str) -> Sample:
    return Sample({"name": "Ann", "email": "ann@example.com", **data})


def test_clean_input_passes():
    form = sample(notes="First line\r\nsecond\tline", password="pass word")

    assert form.is_valid(), form.errors
    assert form.cleaned_data["notes"] == "First line\r\nsecond\tline"


@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=repr)
def test_a_control_character_in_a_one_line_field_is_refused_beside_the_field(char):
    form = sample(name=f"An{char}n", password=f"pass{char}word")

    assert not form.is_valid()
    assert set(form.errors) == {"name", "password"}
    # One message, the rule's (Django's own "Null characters are not allowed" gives way).
    assert [e.code for e in form.errors.as_data()["name"]] == ["control_character"]
    assert "control character" in form.errors["name"][0]


@pytest.mark.parametrize("char", ["\n", "\r", "\t"], ids=repr)
def test_line_breaks_and_tabs_are_refused_in_one_line_fields_only(char):
    form = sample(name=f"An{char}n", notes=f"An{char}n")

    assert not form.is_valid()
    assert set(form.errors) == {"name"}


@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=repr)
def test_long_text_refuses_the_other_control_characters(char):
    form = sample(notes=f"Fine\n and{char} then")

    assert not form.is_valid()
    assert set(form.errors) == {"notes"}
    assert form.errors["notes"] == [str(validators.NoControlCharacters.message_multiline)]


def test_an_email_field_refuses_a_quoted_vertical_tab_that_django_alone_accepts():
    class Plain(forms.Form):
        email = forms.EmailField()

    assert Plain({"email": QUOTED_VERTICAL_TAB}).is_valid()  # why the rule is needed

    form = sample(email=QUOTED_VERTICAL_TAB)

    assert not form.is_valid()
    assert set(form.errors) == {"email"}


def test_each_field_gets_the_rule_once_and_the_class_fields_are_not_changed():
    form = sample()
    form.is_valid()
    form.full_clean()

    assert form.fields["name"].validators.count(validators.single_line) == 1
    assert form.fields["email"].validators.count(validators.single_line) == 1
    assert form.fields["notes"].validators.count(validators.multiline) == 1
    assert validators.single_line not in form.fields["notes"].validators
    assert not any(
        isinstance(v, validators.NoControlCharacters) for v in form.fields["count"].validators
    )
    assert validators.single_line not in Sample.base_fields["name"].validators


def test_a_field_added_after_init_gets_the_rule():
    class Dynamic(base.Form):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["late"] = forms.CharField()

    form = Dynamic({"late": "a\x1bb"})

    assert not form.is_valid()
    assert set(form.errors) == {"late"}


def test_the_mixin_puts_the_rule_on_a_django_form_class():
    form = SignInForm(data={"username": "ann\x1b", "password": "pass\x7fword"})

    assert not form.is_valid()
    assert {"username", "password"} <= set(form.errors)


@pytest.mark.django_db
def test_a_model_form_gets_the_rule_on_its_model_fields():
    class RationaleForm(base.ModelForm):
        class Meta:
            model = Moderation
            fields = ["rationale"]

    form = RationaleForm({"rationale": "Seen\nthe\x00evidence"})

    assert isinstance(form.fields["rationale"].widget, forms.Textarea)
    assert not form.is_valid()
    assert set(form.errors) == {"rationale"}
    assert RationaleForm({"rationale": "Seen\nthe evidence"}).is_valid()


# --- the project's forms, through the base -------------------------------------------------


def test_a_roster_address_with_a_control_character_is_refused():
    form = RosterEntryForm({"name": "Ann", "email": QUOTED_VERTICAL_TAB})

    assert not form.is_valid()
    assert set(form.errors) == {"email"}


def test_pasted_addresses_may_span_lines_but_not_hold_other_control_characters():
    assert AddressesForm({"addresses": "ann@example.com\r\nbob@example.com"}).is_valid()

    form = AddressesForm({"addresses": f"ann@example.com\n{QUOTED_VERTICAL_TAB}"})

    assert not form.is_valid()
    assert set(form.errors) == {"addresses"}


@pytest.mark.django_db
def test_a_moderation_rationale_with_a_control_character_is_refused(world_assessment):
    form = ModerationForm(
        {"section": "", "score": "50", "rationale": "Seen\x1b the evidence"},
        assessment=world_assessment,
    )

    assert not form.is_valid()
    assert "rationale" in form.errors


@pytest.mark.parametrize("char", ["\x00", "\x0b", "\x1b", "\x85"], ids=repr)
def test_an_answer_comment_with_a_control_character_is_refused(char):
    data = {"q7-level": "3", "q7-comment": f"Good{char}service", "q7-revision": "0"}

    with pytest.raises(ServiceError, match="control character"):
        parse_answer_input(data, 7)


def test_an_answer_comment_keeps_its_line_breaks_and_tabs():
    data = {"q7-level": "3", "q7-comment": "Good\r\nservice\tindeed", "q7-revision": "0"}

    assert parse_answer_input(data, 7).comment == "Good\nservice\tindeed"


@pytest.mark.django_db
def test_a_new_password_the_sign_in_form_would_refuse_cannot_be_set(client):
    user = make_user("maria")
    client.force_login(user)
    new = "another-long\x1bpassphrase-77"

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )

    assert response.status_code == 200
    assert "control character" in response.text
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_the_password_forms_refuse_control_characters():
    user = make_user("maria")
    new = "another-long\x7fpassphrase-77"

    set_form = SetPasswordForm(user, {"new_password1": new, "new_password2": new})
    reset_form = PasswordResetForm({"email": QUOTED_VERTICAL_TAB})

    assert not set_form.is_valid()
    assert "new_password1" in set_form.errors
    assert not reset_form.is_valid()
    assert set(reset_form.errors) == {"email"}


@pytest.fixture
def world_assessment():
    return make_assessment(make_team(make_organisation()))


# --- several objects by id --------------------------------------------------------------

HUGE_IDS = ["1" * 30, "-1", "0", "²", "٣", "\uff13", "1.5", "x", " 1"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", HUGE_IDS)
def test_a_choice_by_id_that_no_database_can_hold_is_refused_before_any_query(
    value, django_assert_num_queries
):
    from frameworks.models import Section

    class Choose(base.Form):
        sections = base.ChoicesByIdField(queryset=Section.objects.all())

    form = Choose({"sections": [value]})
    with django_assert_num_queries(0):
        assert not form.is_valid()
    assert form.errors["sections"]


@pytest.mark.django_db
def test_reopening_with_a_thirty_digit_section_is_refused_beside_the_field(client):
    """Found by the fuzz test: the reopen form's sections answered 500 (OverflowError)."""
    organisation = make_organisation()
    assessment = make_assessment(make_team(organisation), status="returned")
    client.force_login(organisation.manager)

    page = client.post(
        reverse("assessment:reopen", args=[assessment.pk]),
        {"sections": ["1" * 30], "note": "Look again."},
    )

    assert page.status_code == 200
    assert page.context["form"].errors["sections"]
    assessment.refresh_from_db()
    assert assessment.status == "returned"


@pytest.mark.django_db
@pytest.mark.parametrize("value", HUGE_IDS)
def test_one_choice_by_id_refuses_what_is_not_an_id(value):
    from frameworks.models import Section

    section = Section.objects.order_by("pk").first()

    class Choose(base.Form):
        section = base.ChoiceByIdField(queryset=Section.objects.all())

    assert Choose({"section": str(section.pk)}).is_valid()
    form = Choose({"section": value})
    assert not form.is_valid()
    assert form.errors["section"]


def test_a_tick_box_with_a_control_character_is_refused_not_ticked():
    """Found by the fuzz test: "o\\x00n" in the submit page's "Close without results" box
    closed the assessment (any non-empty value read as ticked)."""

    class Tick(base.Form):
        sure = base.CheckboxField(required=False)

    assert Tick({"sure": "on"}).is_valid()
    ticked = Tick({"sure": "on"})
    ticked.is_valid()
    assert ticked.cleaned_data["sure"] is True
    refused = Tick({"sure": "o\x00n"})
    assert not refused.is_valid()
    assert refused.errors["sure"]


def test_every_choice_of_objects_and_tick_box_checks_its_input_first():
    import inspect

    from assessment import forms as forms_package

    modules = [
        module
        for name, module in inspect.getmembers(forms_package, inspect.ismodule)
        if name != "base"
    ]
    unchecked = [
        f"{module.__name__}.{form.__name__}.{field_name}"
        for module in modules
        for form in vars(module).values()
        if inspect.isclass(form) and issubclass(form, forms.BaseForm)
        for field_name, field in getattr(form, "base_fields", {}).items()
        if (
            isinstance(field, forms.ModelMultipleChoiceField)
            and not isinstance(field, base.ChoicesByIdField)
        )
        or (
            type(field) is forms.ModelChoiceField  # a framework by slug is no id
            and field.to_field_name is None
        )
        or type(field) is forms.BooleanField
    ]
    assert modules
    assert not unchecked, unchecked
