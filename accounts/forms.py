from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import AccessChange, Team, User
from accounts.roles import Role

# No field takes focus on its own (Django's sign-in and password forms do): a screen reader
# would start mid-page, past the heading and the instructions, and Tab past the skip link.


def without_autofocus(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        field.widget.attrs.pop("autofocus", None)


class LoginForm(AuthenticationForm):
    error_messages = {
        # The same words whether the username exists or not.
        "invalid_login": _("That username and password do not match. Please try again."),
        "inactive": _("That username and password do not match. Please try again."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        without_autofocus(self)
        username = self.fields["username"]
        # AuthenticationForm sets max_length after the field is built, so nothing checks it:
        # a longer name went on to the lock-out table (255 characters), a 500 on PostgreSQL.
        username.validators.append(MaxLengthValidator(username.max_length))
        username.widget.attrs.update(
            {"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        )
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class CodeForm(forms.Form):
    """The daily code from the authenticator app (a backup code typed here works too)."""

    code = forms.CharField(
        label=_("Code"),
        max_length=64,
        help_text=_("The 6-digit code your authenticator app shows now."),
        widget=forms.TextInput(
            attrs={
                # A phone shows its number pad; a backup code has its own form
                # (BackupCodeForm), whose keyboard has letters.
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )


class BackupCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Backup code"),
        max_length=64,
        help_text=_(
            "One of the backup codes you wrote down. Spaces, dashes and capitals do not matter."
        ),
        widget=forms.TextInput(
            attrs={
                "inputmode": "text",
                "autocomplete": "off",
                "autocapitalize": "none",
                "autocorrect": "off",
                "spellcheck": "false",
            }
        ),
    )


# Step-up takes either kind of code in one field, so its keyboard has letters.
ANY_CODE_FIELD = forms.CharField(
    label=_("Code"),
    max_length=64,
    help_text=_("The 6-digit code from your authenticator app, or one of your backup codes."),
    widget=forms.TextInput(
        attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
    ),
)


class StepUpForm(forms.Form):
    """The password and a code again, before something a stolen session could make last."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = ANY_CODE_FIELD


class EnrolmentForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=6,
        min_length=6,
        help_text=_("Type the 6-digit code your authenticator app shows now."),
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "pattern": "[0-9]{6}",
                "autocomplete": "one-time-code",
            }
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not code.isdigit():
            raise forms.ValidationError(_("The code is six digits."))
        return code


# Each language named in itself, so someone lost in the other one still finds theirs.
LANGUAGE_CHOICES = [("", _("As my browser asks")), ("en", "English"), ("ru", "Русский")]


def notification_kind_groups() -> list:
    """The kinds of notification in their groups, as casework's Notification declares them:
    found through the user's reverse relation, since accounts does not import casework."""
    notification = User._meta.get_field("notifications").related_model
    assert not isinstance(notification, str)
    kind = notification._meta.get_field("kind")
    assert isinstance(kind, models.Field)
    return list(kind.choices or ())


def notification_kinds() -> set[str]:
    return {value for _group, kinds in notification_kind_groups() for value, _label in kinds}


class GroupedCheckboxes(forms.CheckboxSelectMultiple):
    template_name = "accounts/widgets/grouped_checkboxes.html"


class ProfileForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
    email_kinds = forms.MultipleChoiceField(
        label=_("Which notifications also go by e-mail"),
        choices=notification_kind_groups,
        required=False,
        widget=GroupedCheckboxes,
        help_text=_("Copies go only while sending them by e-mail is on."),
    )

    class Meta:
        model = User
        fields = ["language", "email_notifications", "notification_email"]
        widgets = {"notification_email": forms.EmailInput(attrs={"autocomplete": "email"})}
        help_texts = {
            "notification_email": _(
                "Copies carry a case reference and a link, nothing about the person. "
                "Use an address only you can read."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        off = set(self.instance.email_kinds_off)
        self.fields["email_kinds"].initial = sorted(notification_kinds() - off)

    @property
    def changes_email(self) -> bool:
        return bool({"notification_email", "email_notifications"} & set(self.changed_data))

    def save(self, commit: bool = True) -> User:
        # Kept as the kinds turned off, so a kind added later is copied to whoever wants copies.
        chosen = set(self.cleaned_data.get("email_kinds") or ())
        self.instance.email_kinds_off = sorted(notification_kinds() - chosen)
        return super().save(commit)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("email_notifications") and not cleaned.get("notification_email"):
            self.add_error("notification_email", _("Give the address to send copies to."))
        return cleaned


class PasswordChangeForm(DjangoPasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        without_autofocus(self)


ROLE_CHOICES = [("", "—"), *Role.choices]


class MemberState(models.TextChoices):
    """What the member list can be narrowed to; the admin dashboard's counts link here."""

    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Deactivated")
    LOCKED = "locked", _("Locked out now")
    NO_SECOND_FACTOR = "no_second_factor", _("Active without a second factor")
    CONTAINED = "contained", _("Contained")


class MemberFilterForm(forms.Form):
    """Staff usernames are working pseudonyms, not data about the people helped: searching
    them logs nothing."""

    q = forms.CharField(
        label=_("Username"),
        required=False,
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        required=False,
        choices=[("", _("Any role")), *Role.choices, ("none", _("No role"))],
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("Any state")), *MemberState.choices]
    )


class AccessChangeForm(forms.Form):
    """One proposed change of role or team; a second person approves it."""

    kind = forms.ChoiceField(label=_("Change"), choices=AccessChange.Kind.choices)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind in (AccessChange.Kind.ADD_ROLE, AccessChange.Kind.REMOVE_ROLE):
            if not cleaned.get("role"):
                self.add_error("role", _("Choose a role."))
            cleaned["team"] = None
        elif kind in (AccessChange.Kind.ADD_TEAM, AccessChange.Kind.REMOVE_TEAM):
            if not cleaned.get("team"):
                self.add_error("team", _("Choose a team."))
            cleaned["role"] = ""
        else:
            cleaned["role"], cleaned["team"] = "", None
        return cleaned


class InviteForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=40,
        validators=[UnicodeUsernameValidator()],
        help_text=_("A working pseudonym, never a real name."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams

    def clean_username(self) -> str:
        # As the account will store it: Unicode compatibility forms can lengthen a name or
        # make it another account's.
        username = User.normalize_username(self.cleaned_data["username"])
        max_length = User._meta.get_field("username").max_length
        if max_length is not None and len(username) > max_length:
            raise forms.ValidationError(_("That username is too long."))
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("That username is taken."))
        return username


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why refused"),
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name"]
        widgets = {"name": forms.TextInput(attrs={"autocomplete": "off"})}
        help_texts = {"name": _("A working name that says nothing about where the team is.")}
