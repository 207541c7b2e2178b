"""The case page's documents panel: the list and the upload form, asking the documents
app itself so the case page's view (in casework, below this app) needs no change for it."""

from django import template
from django.urls import reverse

from documents import permissions, selectors
from documents.forms import DocumentForm

register = template.Library()

# The panel's URLs for a case's files (a request's are intake's own).
CASE_URLS = {
    "download_view": "documents:document_download",
    "preview_view": "documents:document_preview",
}


@register.inclusion_tag("documents/_documents.html", takes_context=True)
def documents_panel(context) -> dict:
    case, user = context["case"], context["request"].user
    return {
        **CASE_URLS,
        "reference": case.reference,
        "documents": selectors.documents_of(user, case),
        "form": DocumentForm() if permissions.can_attach(user, case) else None,
        "action": reverse("documents:document_attach", args=[case.reference]),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("documents/_documents.html", takes_context=True)
def leg_documents_panel(context) -> dict:
    """On a leg's page, for those who see its details: the leg's own files."""
    case, leg, user = context["case"], context["leg"].details, context["request"].user
    return {
        **CASE_URLS,
        "reference": case.reference,
        "documents": selectors.documents_of_leg(user, case, leg),
        "form": DocumentForm() if permissions.can_attach(user, case, leg) else None,
        "action": reverse("documents:leg_document_attach", args=[case.reference, leg.pk]),
        "csrf_token": context.get("csrf_token"),
    }
