"""The request page's documents panel: the files attached at triage and, for those who may
triage the request, the upload form. The list and the form are the documents app's own
(documents/_documents.html), pointed at the request's URLs."""

from django import template
from django.urls import reverse

from documents.forms import DocumentForm
from intake import selectors

register = template.Library()


@register.inclusion_tag("documents/_documents.html", takes_context=True)
def request_documents_panel(context) -> dict:
    """Shown while the request holds files or takes them: once triage has decided, its
    files are on its case (a rejected request keeps its own until they are purged)."""
    intake = context["intake"]
    return {
        "download_view": "intake:document_download",
        "preview_view": "intake:document_preview",
        "reference": intake.reference,
        "documents": selectors.request_documents(intake),
        "form": DocumentForm() if context["can_triage"] else None,
        "action": reverse("intake:document_attach", args=[intake.reference]),
        "csrf_token": context.get("csrf_token"),
        "hide_empty": True,
    }
