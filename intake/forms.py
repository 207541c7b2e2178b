from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from casework.forms import DateTimeInput
from casework.models import Category
from intake.models import Channel
from privacy import blind_index
from privacy.fields import refuse_token
from privacy.forms import OffTheRecord

# The hint and the error say the same thing: what the contact field accepts
# (privacy.blind_index.contact_digests), by example.
CONTACT_FORMATS = _(
    "Write a phone number with its country code (+995 555 12 34 56; a Russian one may start "
    "with 8), an @handle or t.me link, or an e-mail address."
)


class IntakeForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    received_at = forms.DateTimeField(label=_("Received"), widget=DateTimeInput)
    contact = forms.CharField(
        label=_("Contact"),
        max_length=200,
        validators=[refuse_token],
        help_text=CONTACT_FORMATS,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    message = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=10000,
        validators=[refuse_token],
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    category_guess = forms.ChoiceField(
        label=_("Category (a guess)"),
        required=False,
        choices=[("", _("Not clear yet")), *Category.choices],
    )

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        if teams is not None and len(teams) > 1:
            self.fields["team"] = forms.ModelChoiceField(label=_("Team"), queryset=teams)

    def clean_contact(self) -> str:
        contact = self.cleaned_data["contact"].strip()
        if not blind_index.contact_digests(contact):
            raise forms.ValidationError(
                format_lazy("{} {}", _("We cannot read this as a contact."), CONTACT_FORMATS)
            )
        return contact

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError(_("The time received cannot be in the future."))
        return value


class TriageForm(OffTheRecord, forms.Form):
    ACCEPT = "accept"
    ATTACH = "attach"
    DUPLICATE = "duplicate"
    REJECT = "reject"

    action = forms.ChoiceField(
        choices=[
            (ACCEPT, _("Open a new case")),
            (ATTACH, _("Attach to an existing case")),
            (DUPLICATE, _("Mark as a duplicate")),
            (REJECT, _("Reject")),
        ],
        widget=forms.HiddenInput,
    )
    case_reference = forms.CharField(label=_("Case"), required=False, max_length=16)
    # Asked (and required by intake.services.intake_accept) when duplicates are listed.
    confirm_new = forms.BooleanField(
        label=_("None of these is the same person: open a new case anyway."), required=False
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        validators=[refuse_token],
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if action in {self.ATTACH, self.DUPLICATE} and not cleaned.get("case_reference"):
            self.add_error("case_reference", _("Choose the case."))
        if action == self.REJECT and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Give a reason for rejecting the request."))
        return cleaned
