import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from documents.models import DocumentKind
from documents.services import too_large_message
from privacy.fields import TextFormField
from privacy.forms import OffTheRecord

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What the file picker offers: a hint only (documents.cleaning decides by the bytes). The
# extensions too, as some browsers know no type for a .heic.
ACCEPT = "image/jpeg,image/png,image/heic,image/heif,.heic,.heif,application/pdf"


class DocumentForm(OffTheRecord, forms.Form):
    # Prefixed: the case page has other forms with a "kind" field, and ids must not clash.
    prefix = "document"

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", _("Choose…")), *DocumentKind.choices],
        error_messages={
            "required": _("Choose what kind of document this is."),
            "invalid_choice": _("Choose what kind of document this is."),
        },
    )
    description = TextFormField(
        label=_("Short description"),
        required=False,
        max_length=200,
        help_text=_("Encrypted. Say what it is, e.g. “summons to the enlistment office, March”."),
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_("A photo (JPEG, PNG or HEIC) or a PDF. Its name is not kept."),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        error_messages={
            "required": _("Choose a file to attach."),
            "empty": _("This file is empty."),
        },
        allow_empty_file=False,
        max_length=None,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.DOCUMENT_MAX_BYTES:
            raise ValidationError(too_large_message(), code="size")
        # Kept (encrypted) for the record only; never shown, never a path.
        upload.name = CONTROL.sub("", upload.name or "").replace("/", "").replace("\\", "")
        return upload
