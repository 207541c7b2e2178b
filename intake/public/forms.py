"""The public form's three forms. Every field is plain HTML: no script checks anything in
the browser, so each rule is here, with a message that says how to mend it."""

import re
import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from intake.conversations import MAX_TEXT
from intake.public.once import is_token, token_new
from privacy.fields import refuse_token
from privacy.forms import OffTheRecord

# What the person may type between lines: tabs and line breaks; no other control character.
ALLOWED_CONTROLS = {"\t", "\n", "\r"}
REFERENCE = re.compile(r"^R-[0-9]{4}-[0-9]{5,9}$")
# A reference typed on a Russian layout (Cyrillic Ka sits on R's key), with a Cyrillic Er
# that looks like R, or with the dashes a phone's keyboard puts in.
REFERENCE_LOOKALIKES = str.maketrans(
    {"\u041a": "R", "\u0420": "R", "\u2013": "-", "\u2014": "-", "\u2011": "-"}
)


def refuse_control_characters(value: str) -> None:
    if any(unicodedata.category(char) == "Cc" and char not in ALLOWED_CONTROLS for char in value):
        raise forms.ValidationError(
            _("Remove the invisible control characters from this text."), code="control"
        )


def _text_input(**attrs) -> forms.TextInput:
    return forms.TextInput(
        attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false", **attrs}
    )


class RequestForm(OffTheRecord, forms.Form):
    contact = forms.CharField(
        label=_("How can we reach you?"),
        required=False,
        max_length=200,
        validators=[refuse_token, refuse_control_characters],
        help_text=_(
            "Optional: a Telegram or Signal @handle, a phone number or an e-mail address. "
            "Leave it empty to read our reply here, with your passphrase."
        ),
        widget=_text_input(),
    )
    message = forms.CharField(
        label=_("What do you need?"),
        max_length=MAX_TEXT,
        validators=[refuse_token, refuse_control_characters],
        help_text=_("A few sentences about your situation are enough for a first message."),
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": _("Write what you need first.")},
    )
    # The page's one-time token: the same page sent twice opens one request (intake.public.
    # once). Never typed, never refused.
    once = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        """A page without a well-formed token is sent as a new request, with a new token.

        That is a page shown before tokens existed (a tab kept open, a page the browser
        restored) or one somebody altered. Refusing it would make a frightened person type
        everything again, or give up, for nothing: the token guards against a reload, not
        against anyone, who could fetch a fresh page for every post. A request too many is
        a nuisance at triage (its contact is matched there, and it can be marked a
        duplicate); a request lost is a person not helped. The new token goes into the page
        should it be shown again (a mistake to mend), so from then on that page counts once.
        """
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["once"] = token_new()
        elif not is_token(self.data.get("once")):
            self.data = self.data.copy()
            self.data["once"] = token_new()


class ComeBackForm(OffTheRecord, forms.Form):
    reference = forms.CharField(
        label=_("Reference"),
        max_length=32,
        help_text=_("It looks like R-2026-00042."),
        widget=_text_input(),
        error_messages={"required": _("Type the reference you were given.")},
    )
    passphrase = forms.CharField(
        label=_("Passphrase"),
        max_length=200,
        validators=[refuse_control_characters],
        help_text=_("The five words you were given, in their order."),
        widget=_text_input(),
        error_messages={"required": _("Type the passphrase you were given.")},
    )

    def clean_reference(self) -> str:
        typed = "".join(self.cleaned_data["reference"].split())
        reference = typed.upper().translate(REFERENCE_LOOKALIKES)
        if not REFERENCE.match(reference):
            raise forms.ValidationError(
                _("A reference looks like R-2026-00042: the letter R, the year and a number."),
                code="reference",
            )
        return reference


class WriteForm(ComeBackForm):
    """Writing again: the reference and passphrase ride along as hidden fields of the
    conversation page (there is no session to keep them), with the new text."""

    text = forms.CharField(
        label=_("Write to us again"),
        max_length=MAX_TEXT,
        validators=[refuse_token, refuse_control_characters],
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Write your message first.")},
    )
