"""Every field of every form of the project, as rendered, asks a phone for the right keyboard
and the browser for the right kind of help: a tel field for a phone number, an e-mail field
for an address, a date picker for a date, the one-time-code hint for a sign-in code, the
password manager's hints at sign-in and on a password change, and no field that grabs focus.

The forms are the ones the fuzz test finds (tests/security/test_fuzz_forms.py: every Form
and ModelForm of the project must have a row there), built the way their views build them;
so a new phone, e-mail or date field with the wrong widget fails here on its first day.
"""

from html.parser import HTMLParser

import pytest
from django import forms
from django.contrib.auth.forms import ReadOnlyPasswordHashField

from privacy.forms import REMEMBERED_TYPES
from tests.security.conftest import build_world
from tests.security.test_fuzz_forms import EXTRA_TARGETS, TARGETS

pytestmark = pytest.mark.django_db

# A sign-in code field that also takes a backup code: those have letters, which a phone's
# number pad (inputmode=numeric) could not type.
TAKES_BACKUP_CODES = {("accounts.forms.StepUpForm", "code")}
# The backup code's own field at sign-in: letters, and nothing for the browser to offer
# (a code from a text message is not one of these).
BACKUP_CODE_ONLY = {("accounts.forms.BackupCodeForm", "code")}
# The password manager's hints, by the names Django gives these fields.
CURRENT_PASSWORD = {"password", "old_password"}
NEW_PASSWORD = {"new_password1", "new_password2", "password1", "password2"}


class FirstControl(HTMLParser):
    """The attributes of the first input, select or textarea in a piece of HTML."""

    def __init__(self):
        super().__init__()
        self.tag: str | None = None
        self.attrs: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        if self.tag is None and tag in {"input", "select", "textarea"}:
            self.tag = tag
            self.attrs = {name: value or "" for name, value in attrs}


def control(bound_field) -> tuple[str, dict[str, str]]:
    parser = FirstControl()
    parser.feed(str(bound_field))
    assert parser.tag is not None, f"{bound_field.name} renders no control"
    attrs = dict(parser.attrs)
    if parser.tag == "input":
        attrs.setdefault("type", "text")
    return parser.tag, attrs


def is_text(form_field: forms.Field) -> bool:
    return isinstance(form_field, forms.CharField) and not isinstance(
        form_field.widget, forms.Textarea | forms.PasswordInput
    )


def expected(form_name: str, name: str, form_field: forms.Field) -> dict[str, str | None]:
    """The attributes the field's control must have (None: must not have it)."""
    wanted: dict[str, str | None] = {"autofocus": None}
    if isinstance(form_field, forms.DateTimeField):
        wanted["type"] = "datetime-local"
    elif isinstance(form_field, forms.DateField):
        wanted["type"] = "date"
    elif isinstance(form_field, forms.EmailField) or ("email" in name and is_text(form_field)):
        wanted["type"] = "email"
    elif "phone" in name and is_text(form_field):
        wanted["type"] = "tel"
    elif isinstance(form_field, forms.IntegerField):
        wanted["type"] = "number"
    if (form_name, name) in BACKUP_CODE_ONLY:
        wanted["autocomplete"] = "off"
        wanted["inputmode"] = "text"
    elif name == "code":  # a sign-in code
        wanted["autocomplete"] = "one-time-code"
        if (form_name, name) not in TAKES_BACKUP_CODES:
            wanted["inputmode"] = "numeric"
        else:
            wanted["inputmode"] = None
    if isinstance(form_field.widget, forms.PasswordInput):
        if name in CURRENT_PASSWORD:
            wanted["autocomplete"] = "current-password"
        elif name in NEW_PASSWORD:
            wanted["autocomplete"] = "new-password"
        else:
            raise AssertionError(f"{form_name}.{name}: a password field of a kind unknown here")
    if form_name == "accounts.forms.LoginForm" and name == "username":
        wanted["autocomplete"] = "username"
    return wanted


@pytest.fixture
def built_forms(settings) -> dict[str, forms.BaseForm]:
    world = build_world()
    return {name: target.make(world) for name, target in {**TARGETS, **EXTRA_TARGETS}.items()}


def controls(built_forms):
    """(form name, bound field, tag, attributes) of every field a person fills in."""
    for form_name, form in built_forms.items():
        for bound_field in form:
            # A hidden field is not typed; the admin's password hash is text, not a field.
            if bound_field.is_hidden or isinstance(bound_field.field, ReadOnlyPasswordHashField):
                continue
            yield (form_name, bound_field, *control(bound_field))


def test_every_field_has_the_input_type_and_hints_of_its_kind(built_forms):
    wrong = []
    checked = 0
    for form_name, bound_field, tag, attrs in controls(built_forms):
        checked += 1
        name = bound_field.name
        for attribute, value in expected(form_name, name, bound_field.field).items():
            if value is None and attribute in attrs:
                wrong.append(f"{form_name}.{name}: has {attribute}={attrs[attribute]!r}")
            elif value is not None and attrs.get(attribute) != value:
                wrong.append(
                    f"{form_name}.{name}: <{tag}> {attribute}={attrs.get(attribute)!r}, "
                    f"should be {value!r}"
                )
    assert checked > 50
    assert not wrong, "\n".join(wrong)


def test_the_rules_meet_the_fields_they_are_for(built_forms):
    """Each kind is met at least once: a renamed field cannot slip past the rules unseen."""
    kinds = {
        (form_name, bound_field.name): attrs.get("type")
        for form_name, bound_field, _tag, attrs in controls(built_forms)
    }
    assert kinds[("casework.forms.PersonForm", "phone")] == "tel"
    assert kinds[("casework.forms.PersonForm", "email")] == "email"
    assert kinds[("accounts.forms.ProfileForm", "notification_email")] == "email"
    assert kinds[("casework.forms.PersonForm", "birth_date")] == "date"
    assert kinds[("casework.forms.FollowUpForm", "due_at")] == "datetime-local"
    assert kinds[("accounts.forms.LoginForm", "password")] == "password"
    assert kinds[("accounts.forms.PasswordChangeForm", "new_password1")] == "password"
    # The contact a request came from may be a phone number, an @handle or an e-mail.
    assert kinds[("intake.forms.IntakeForm", "contact")] == "text"


# The account holder's own data, which the browser may help with; everything else typed into
# a one-line field is about someone else, and stays out of the browser's form history.
OWN_DATA = {"username", "email", "current-password", "new-password", "one-time-code"}


def test_nothing_typed_about_a_person_stays_in_the_browsers_history(built_forms):
    """A stolen, unlocked laptop must not offer a person's name, number or route to whoever
    types the first letter: every one-line field says autocomplete, and it says "off" unless
    it is the account holder's own data."""
    remembered = []
    for form_name, bound_field, tag, attrs in controls(built_forms):
        if tag != "input" or attrs["type"] not in REMEMBERED_TYPES:
            continue
        hint = attrs.get("autocomplete")
        if hint != "off" and hint not in OWN_DATA:
            remembered.append(f"{form_name}.{bound_field.name}: autocomplete={hint!r}")
    assert not remembered, "\n".join(remembered)
