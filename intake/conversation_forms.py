"""The forms of the staff side of a conversation: a reply to the person, and the rejection
of a possible flood in one go."""

from django import forms
from django.utils.translation import gettext_lazy as _

from intake.conversations import MAX_TEXT
from privacy.fields import refuse_token
from privacy.forms import OffTheRecord


class ReplyForm(OffTheRecord, forms.Form):
    # Where the reply was written, to go back there: the request's page or its case's.
    REQUEST = "request"
    CASE = "case"

    text = forms.CharField(
        label=_("Reply"),
        max_length=MAX_TEXT,
        validators=[refuse_token],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "It goes to the person through the channel they wrote from. Write nothing that "
            "would harm them if their phone were seized: no route, place or volunteer's name."
        ),
        error_messages={
            "required": _("Write the reply first."),
            "max_length": _(
                "A reply can be at most %(limit_value)d characters long (this one has "
                "%(show_value)d)."
            ),
        },
    )
    back = forms.ChoiceField(
        choices=[(REQUEST, REQUEST), (CASE, CASE)],
        required=False,
        widget=forms.HiddenInput,
    )


class FloodRejectForm(OffTheRecord, forms.Form):
    requests = forms.MultipleChoiceField(
        label=_("Requests"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose the requests to reject.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        validators=[refuse_token],
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give a reason for rejecting the request.")},
    )

    def __init__(self, *args, references=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requests"].choices = [(reference, reference) for reference in references]
