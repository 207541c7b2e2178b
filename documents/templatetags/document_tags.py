"""The case page's documents panel: the list and the upload form, asking the documents
app itself so the case page's view (in casework, below this app) needs no change for it."""

from django import template

from documents import permissions, selectors
from documents.forms import DocumentForm

register = template.Library()


@register.inclusion_tag("documents/_case_documents.html", takes_context=True)
def documents_panel(context) -> dict:
    case, user = context["case"], context["request"].user
    return {
        "case": case,
        "documents": selectors.documents_of(user, case),
        "form": DocumentForm() if permissions.can_attach(user, case) else None,
        "csrf_token": context.get("csrf_token"),
    }
