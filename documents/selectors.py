from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from casework.models import Case, RouteLeg
from casework.selectors import cases as case_selectors
from casework.selectors import routes as route_selectors
from documents import permissions
from documents.models import Document

LISTED_FIELDS = (
    "id",
    "seal",
    "case_id",
    "leg_id",
    "number",
    "kind",
    "description",
    "content_type",
    "size",
    "added_at",
    "added_by__username",
    "leg__id",
    "leg__case_id",
    "leg__volunteer_id",
)


def documents_of(user: User, case: Case) -> list[Document]:
    """The documents of a case the user sees (the caller found it through a casework
    selector): a leg's only where the user may see that leg. One query, whatever the count."""
    found = (
        Document.objects.filter(case=case)
        .select_related("added_by", "leg")
        .only(*LISTED_FIELDS)
        .order_by("-added_at", "-pk")
    )
    return [
        document
        for document in found
        if document.leg is None or permissions.can_read_leg_document(user, case, document.leg)
    ]


def document_for(user: User, reference: str, pk: int) -> tuple[Case, Document]:
    """One document to download, with its case; the same 404 for a missing document, one
    of a case the user does not see, and a leg's file the user may not read."""
    document = (
        Document.objects.select_related("case", "case__team", "leg")
        .filter(pk=pk, case__reference=reference)
        .first()
    )
    if document is None:
        raise Http404
    if document.leg is not None:
        case = document.case
        if not permissions.can_read_leg_document(user, case, document.leg):
            raise Http404
        return case, document
    # The case exactly as its page finds it: team, assignment, break-glass.
    case = case_selectors.case_for_action(user, reference)
    return case, document


def leg_to_attach(user: User, reference: str, pk: int) -> tuple[Case, RouteLeg]:
    """A leg the user may attach files to (its volunteer, the team's coordinators, as the
    leg's page finds it), with its case; 404 otherwise."""
    case, view = route_selectors.leg_for(user, reference, pk)
    if view.details is None or not permissions.can_attach(user, case, view.details):
        raise Http404
    return case, view.details


def documents_of_leg(user: User, case: Case, leg: RouteLeg) -> list[Document]:
    """A leg's documents, for a user the caller found may see the leg: one query."""
    if not permissions.can_read_leg_document(user, case, leg):
        return []
    return list(listed(Document.objects.filter(case_id=leg.case_id, leg=leg)))


def listed(documents: QuerySet[Document]) -> QuerySet[Document]:
    """These documents as a panel lists them, newest first, in one query; for documents the
    caller already decided the user may see (a leg's, a request's)."""
    return (
        documents.select_related("added_by")
        .only(*(name for name in LISTED_FIELDS if not name.startswith("leg__")))
        .order_by("-added_at", "-pk")
    )
