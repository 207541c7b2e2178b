from collections.abc import Iterable
from typing import cast

from django import forms
from django.db.models import Field
from django.utils import timezone
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from casework.languages import language_choices
from casework.models import RISK_FLAGS, Case, EventKind, Outcome, Person, RouteLeg, Stage
from casework.references import CASE_PREFIX
from casework.services.cases import CASE_FIELDS, PERSON_FIELDS
from casework.services.routes import LEG_FIELDS
from destinations.countries import CountryChoiceField
from privacy.forms import OffTheRecord
from privacy.normalise import normalise_phone, readable_email


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class CaseFilterForm(forms.Form):
    """The case list's and the board's filters, from the address (GET): stage, assignee,
    risk and two switches. An assignee is "me", "none" or the id of an active member of
    the user's teams (`members`); anyone else is refused with a message, never searched."""

    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("Any stage")), *Stage.choices]
    )
    assignee = forms.ChoiceField(
        label=_("Assignee"),
        required=False,
        error_messages={
            "invalid_choice": _("Choose an assignee from the list: someone of your teams.")
        },
    )
    risk = forms.ChoiceField(
        label=_("Risk"),
        required=False,
        error_messages={"invalid_choice": _("Choose a risk from the list.")},
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    lost_contact = forms.BooleanField(label=_("Lost contact only"), required=False)

    def __init__(self, *args, members: Iterable[User] = (), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", _("Anyone")),
            ("me", _("Only mine")),
            ("none", _("Nobody yet")),
            *[(str(member.pk), member.username) for member in members],
        ]
        cast(forms.ChoiceField, self.fields["risk"]).choices = [
            ("", _("Any")),
            *[(name, cast(Field, Case._meta.get_field(name)).verbose_name) for name in RISK_FLAGS],
        ]

    def valid_filters(self) -> dict:
        """The filters that were valid (all, when the form is): a bad one is dropped and
        explained beside its field, and the others still apply."""
        if not self.is_valid() and not self.is_bound:
            return {}
        return {name: value for name, value in self.cleaned_data.items() if name not in self.errors}


class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


WARNING_SEEN_LABEL = _(
    "I have seen this warning: the person is on a wanted list and the destination is marked "
    "as extraditing to Russia."
)


class MoveForm(VersionedForm):
    to_stage = forms.ChoiceField(label=_("Move to"), choices=Stage.choices)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed for a step back or for putting the case on hold."),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("(only when closing)")), *Outcome.choices],
    )

    warning_seen = forms.BooleanField(label=WARNING_SEEN_LABEL, required=False)

    def __init__(self, *args, targets=None, warning=None, **kwargs):
        super().__init__(*args, **kwargs)
        if targets:  # offer only the moves the workflow allows from here
            self.fields["to_stage"].choices = [(stage.value, stage.label) for stage in targets]
        if warning is None:  # asked only when the register has something to warn about
            del self.fields["warning_seen"]


class AssignForm(VersionedForm):
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=User.objects.none())

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = members


class TimelineForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What"),
        choices=[
            (EventKind.NOTE, _("Note")),
            (EventKind.CHECK_IN, _("Check-in")),
            (EventKind.CONTACT, _("Contact logged")),
        ],
    )
    text = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, mentionable: Iterable[str] = (), **kwargs):
        """`mentionable`: the usernames of the people who may see the case, offered as
        `@username` in the text's help (which the textarea is described by)."""
        super().__init__(*args, **kwargs)
        handles = ", ".join(f"@{name}" for name in mentionable)
        if handles:
            self.fields["text"].help_text = _(
                "To tell someone, write their @username. You can mention: %(handles)s."
            ) % {"handles": handles}


class PersonForm(OffTheRecord, forms.ModelForm):
    preferred_language = forms.ChoiceField(
        label=capfirst(Person._meta.get_field("preferred_language").verbose_name),
        required=False,
    )

    class Meta:
        model = Person
        fields = list(PERSON_FIELDS)
        widgets = {
            "birth_date": DateInput,
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "messenger_handles": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.preferred_language if self.instance.pk else ""
        self.fields["preferred_language"].choices = lambda: [
            ("", _("Not known")),
            *language_choices(keep=stored),
        ]
        if not self.instance.pk:
            self.fields["preferred_language"].initial = "ru"

    def clean_email(self) -> str:
        """The address as people read it: a Cyrillic domain in Cyrillic, whether typed so
        or sent by the browser as punycode (xn--...)."""
        return readable_email(self.cleaned_data["email"])

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and normalise_phone(phone) is None:
            raise forms.ValidationError(
                _(
                    "This is not a phone number we can read. Write it with the country code, "
                    "e.g. +7 900 123-45-67."
                )
            )
        return phone

    def clean_birth_date(self):
        from django.utils import timezone

        value = self.cleaned_data["birth_date"]
        if value and value >= timezone.localdate():
            raise forms.ValidationError(_("A date of birth is in the past."))
        return value


class CaseDetailsForm(OffTheRecord, forms.ModelForm):
    # Chosen by name in the reader's language, stored as the code (destinations.countries).
    destination_country = CountryChoiceField(
        label=capfirst(Case._meta.get_field("destination_country").verbose_name),
        required=False,
    )

    # Shown when the register warns about the destination chosen (casework.views.cases.case_edit).
    warning_seen = forms.BooleanField(
        label=WARNING_SEEN_LABEL, required=False, widget=forms.HiddenInput
    )

    class Meta:
        model = Case
        fields = list(CASE_FIELDS)
        widgets = {
            "route_summary": forms.Textarea(attrs={"rows": 3}),
            "crossing_window_start": DateTimeInput,
            "crossing_window_end": DateTimeInput,
            "next_action_due": DateInput,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.destination_country:
            self.fields["destination_country"] = CountryChoiceField(
                label=self.fields["destination_country"].label,
                required=False,
                keep=self.instance.destination_country,
            )

    def ask_warning_seen(self) -> None:
        self.fields["warning_seen"].widget = forms.CheckboxInput()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("crossing_window_start"), cleaned.get("crossing_window_end")
        if start and end and end <= start:
            self.add_error(
                "crossing_window_end", _("The crossing window must close after it opens.")
            )
        if bool(start) != bool(end) and not self.has_error("crossing_window_end"):
            self.add_error(
                "crossing_window_end" if start else "crossing_window_start",
                _("Give both ends of the crossing window."),
            )
        return cleaned


class BreakGlassForm(OffTheRecord, forms.Form):
    reference = forms.CharField(
        label=_("Case reference"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"placeholder": "C-2026-00042", "autocapitalize": "characters"}
        ),
    )
    reason = forms.CharField(
        label=_("Why you need to open it"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        # The reason is stored, and read by admins who see no personal data otherwise.
        help_text=format_lazy(
            "{} {}",
            _("Do not write names or contacts: say why you need this case."),
            _("Recorded and reviewed by admins. Access lasts one hour and is read-only."),
        ),
    )

    def clean_reference(self) -> str:
        return self.cleaned_data["reference"].strip().upper()


class FollowUpForm(forms.Form):
    due_at = forms.DateTimeField(label=_("Contact again on"), widget=DateTimeInput)
    note = forms.CharField(
        label=_("Short note"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class SnoozeForm(OffTheRecord, forms.Form):
    action = forms.ChoiceField(
        choices=[("snooze", "snooze"), ("dismiss", "dismiss")], widget=forms.HiddenInput
    )
    until = forms.DateTimeField(label=_("Until"), required=False, widget=DateTimeInput)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        error_messages={"required": _("Give a reason: it goes on the timeline.")},
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "snooze" and not cleaned.get("until"):
            self.add_error("until", _("Choose until when."))
        return cleaned


class LegalHoldForm(forms.Form):
    SET, LIFT = "set", "lift"

    # What the page offered: a second click on "set" must not lift the hold.
    action = forms.ChoiceField(choices=[(SET, SET), (LIFT, LIFT)], widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Stored encrypted; shown to the team's coordinators and in the audit log."),
        error_messages={"required": _("Give a reason: it is recorded, encrypted, with the hold.")},
    )


class ErasureForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "How and when the person asked, e.g. 'asked by Signal on 3 May'. It stays in the "
            "audit log after the erasure: write nothing that identifies them."
        ),
        error_messages={
            "required": _("Give the reason for the erasure, e.g. how the person asked.")
        },
    )
    confirm = forms.BooleanField(
        label=_(
            "The request came from the person themselves, through a contact we already know "
            "them by."
        ),
        error_messages={
            "required": _(
                "Confirm that the person asked for this themselves: a fake request must not "
                "erase anyone."
            )
        },
    )


class VersionForm(forms.Form):
    """The case version a page was loaded at (optimistic locking); hidden in every form."""

    version = forms.IntegerField(min_value=1, max_value=2**31 - 1)


class UndoForm(VersionForm):
    """Which contact or check-in to take back (casework.services.undo)."""

    undo = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class NotificationChoice(forms.Form):
    """One notification of the inbox, by id."""

    id = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class InboxGroupChoice(forms.Form):
    """One group of the inbox: a case's or request's reference, or "other" for the rest."""

    group = forms.CharField(max_length=16, widget=forms.HiddenInput)


class ContainForm(forms.Form):
    """Contain a compromised account: from when to list what it touched, and why."""

    since = forms.DateTimeField(
        label=_("List what it touched since"),
        widget=DateTimeInput,
        help_text=_(
            "When the account may first have been in someone else's hands. If unsure, choose "
            "earlier: the list only grows."
        ),
    )
    reason = forms.CharField(
        label=_("Why you believe it is compromised"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Stored encrypted with the containment and in the audit log."),
        error_messages={"required": _("Say why the account is believed compromised.")},
    )

    def clean_since(self):
        since = self.cleaned_data["since"]
        if since > timezone.now():
            raise forms.ValidationError(
                _("Choose a moment in the past: nothing has been touched yet.")
            )
        return since


class BreakGlassReviewForm(forms.Form):
    comment = forms.CharField(
        label=_("Review comment"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Stored encrypted; shown on this page only."),
        error_messages={"required": _("Write what you concluded, e.g. 'justified: night shift'.")},
    )


class LegForm(OffTheRecord, forms.ModelForm):
    """A route leg, with its place in the route and the case version it was opened at."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    number = forms.IntegerField(
        label=_("Place in the route"),
        required=False,
        min_value=1,
        max_value=999,
        help_text=_("1 is the first leg. Leave empty to put it last."),
    )

    class Meta:
        model = RouteLeg
        fields = list(LEG_FIELDS)
        widgets = {
            "planned_on": DateInput,
            "contact": forms.Textarea(attrs={"rows": 2}),
            "safe_house": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = members
        self.fields["volunteer"].required = False


class ProvocationForm(forms.Form):
    FLAG, CLEAR = "flag", "clear"

    # What the page offered: a second click on "flag" must not clear the flag.
    action = forms.ChoiceField(choices=[(FLAG, FLAG), (CLEAR, CLEAR)], widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Stored encrypted; shown to the team's coordinators and in the audit log."),
        error_messages={
            "required": _(
                "Give a reason: say what makes you suspect this request, or why it is genuine."
            )
        },
    )


class MergeForm(forms.Form):
    """Merging this case with another of the person's: the other's reference first, then,
    with both shown side by side, which one to keep."""

    THIS, OTHER = "this", "other"

    other = forms.RegexField(
        label=_("Reference of the other case"),
        regex=rf"^\s*(?i:{CASE_PREFIX})-[0-9]{{4}}-[0-9]{{5,9}}\s*$",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("e.g. C-2026-00042: another case of the same person, in the same team."),
        error_messages={
            "required": _("Give the reference of the other case, e.g. C-2026-00042."),
            "invalid": _("A case reference looks like C-2026-00042."),
        },
    )
    keep = forms.ChoiceField(
        label=_("Which case to keep"),
        choices=[(THIS, _("Keep this case")), (OTHER, _("Keep the other case"))],
        initial=THIS,
        required=False,
        widget=forms.RadioSelect,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    other_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    confirm = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def clean_other(self) -> str:
        return self.cleaned_data["other"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        confirming = cleaned.get("confirm")
        if confirming and (cleaned.get("version") is None or cleaned.get("other_version") is None):
            raise forms.ValidationError(
                _("This page is out of date: nothing was merged. Reload it and try again.")
            )


class ApprovalAskForm(OffTheRecord, VersionedForm):
    """Asking the team's coordinator for a move only they may make."""

    to_stage = forms.ChoiceField(label=_("Move to"), choices=Stage.choices)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("(only when closing)")), *Outcome.choices],
    )
    note = forms.CharField(
        label=_("Note for the coordinator"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Optional; stored encrypted. For a step back or a hold it is the move's reason."
        ),
    )

    def __init__(self, *args, targets=None, **kwargs):
        # Ids of its own: the move form beside it on the case page has the same fields, and
        # an error's link must lead to this one (config.form_errors).
        kwargs.setdefault("auto_id", "ask_%s")
        super().__init__(*args, **kwargs)
        if targets is not None:  # only the moves that wait for the coordinator
            self.fields["to_stage"].choices = [(stage.value, stage.label) for stage in targets]
            if Stage.CLOSED not in targets:
                del self.fields["outcome"]


class ApprovalDecisionForm(forms.Form):
    """A coordinator's answer to a request: the button pressed says which."""

    APPROVE, DECLINE = "approve", "decline"

    decision = forms.ChoiceField(
        choices=[(APPROVE, APPROVE), (DECLINE, DECLINE)], widget=forms.HiddenInput
    )
    reason = forms.CharField(
        label=_("Reason for declining"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed to decline; stored encrypted and shown to the one who asked."),
    )
    warning_seen = forms.BooleanField(label=WARNING_SEEN_LABEL, required=False)

    def __init__(self, *args, warning=None, **kwargs):
        kwargs.setdefault("auto_id", "decide_%s")  # the move form has a reason too
        super().__init__(*args, **kwargs)
        if warning is None:  # asked only when the register has something to warn about
            del self.fields["warning_seen"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == self.DECLINE and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Say why the move is declined."))
        return cleaned


# Handover and transfer ---------------------------------------------------------------------


class HandOverForm(OffTheRecord, VersionedForm):
    """The assignee hands the case to another volunteer of the team, with a note. The
    colleague is named by username, not chosen from a list: a volunteer is not shown their
    team's roster (who works with whom is what a hostile service wants to learn)."""

    to = forms.CharField(
        label=_("Hand over to"),
        max_length=40,
        help_text=_("The username of the volunteer of your team who agreed to take the case."),
        error_messages={"required": _("Name the volunteer who takes the case.")},
    )
    note = forms.CharField(
        label=_("Handover note"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "What the next volunteer must know: where things stand, what was promised, what "
            "to watch for. Stored encrypted, on the case's timeline."
        ),
        error_messages={"required": _("Write a handover note: what the next volunteer must know.")},
    )


class TransferAskForm(OffTheRecord, VersionedForm):
    """A coordinator proposes moving the case to another team."""

    to_team = forms.ModelChoiceField(label=_("Transfer to team"), queryset=Team.objects.none())
    note = forms.CharField(
        label=_("Note for the other team"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Why the case should move, and what its coordinators need to know to decide. "
            "They see it with the reference, stage and risk flags, not the person's details."
        ),
        error_messages={
            "required": _("Write a note for the other team: why, and what they must know.")
        },
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_team"].queryset = teams


class TransferDecideForm(OffTheRecord, VersionedForm):
    """The receiving team's answer: accept (optionally choosing an assignee) or decline."""

    ACCEPT, DECLINE = "accept", "decline"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(ACCEPT, _("Accept the case")), (DECLINE, _("Decline"))],
        widget=forms.RadioSelect,
    )
    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("nobody yet"),
        help_text=_("When accepting; you can also assign it later."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed to decline; the asking team sees it."),
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = members

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.DECLINE and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the transfer is declined."))
        return data
