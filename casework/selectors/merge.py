"""Reads for merging duplicates: the other case named on the merge page, a merged case's
reference, and the merges into a case. Scoped as every case read is (unseen = 404)."""

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User
from casework.models import Case, CaseMerge
from casework.selectors.cases import _one_visible, one_visible_with_merged

# What the merge page shows of each case: no more than the case page's header does.
SIDE_BY_SIDE = (
    "reference",
    "team_id",
    "person_id",
    "stage",
    "stage_entered_at",
    "outcome",
    "version",
    "created_at",
    "updated_at",
    "last_contact_at",
    "assignee_id",
    "merged_into_id",
    "legal_hold_at",
    "purged_at",
    "provocation_flagged_at",
    "person__codename",
    "team__name",
    "assignee__username",
)


def merge_candidate_for(user: User, reference: str) -> Case | None:
    """The case a coordinator named to merge with, if they may see it; None for a
    reference that does not exist and for one they may not see alike, so the page says
    the same for both."""
    return (
        _one_visible(user)
        .select_related("person", "team", "assignee")
        .only(*SIDE_BY_SIDE)
        .filter(reference=reference)
        .first()
    )


def case_for_merge(user: User, reference: str) -> Case:
    """The case whose page the merge starts from, as the side-by-side shows it."""
    return get_object_or_404(
        _one_visible(user).select_related("person", "team", "assignee").only(*SIDE_BY_SIDE),
        reference=reference,
    )


def merged_case_for(user: User, reference: str) -> tuple[Case, Case]:
    """A merged case and the case it was merged into, for whoever may see the latter:
    the same 404 as a missing case for everyone else."""
    folded = (
        Case.objects.filter(reference=reference, merged_into__isnull=False)
        .only("reference", "merged_into_id", "merged_at")
        .first()
    )
    if folded is None or folded.merged_into_id is None:
        raise Http404
    kept = (
        one_visible_with_merged(user)
        .filter(pk=folded.merged_into_id)
        .only("reference", "merged_into_id", "team_id", "purged_at")
        .first()
    )
    if kept is None:
        raise Http404
    return folded, kept


def merges_into(case: Case) -> QuerySet[CaseMerge]:
    """The merges into the case, newest first, with the folded case's reference."""
    return (
        CaseMerge.objects.filter(kept=case)
        .select_related("folded", "by", "undone_by")
        .only(
            "merged_at",
            "settled_at",
            "undone_at",
            "kept_id",
            "folded__reference",
            "by__username",
            "undone_by__username",
        )
    )


def merge_for(case: Case, pk: int) -> CaseMerge:
    """One merge into `case` (found through the case, so scoped as the case is)."""
    return get_object_or_404(CaseMerge.objects.select_related("kept", "folded"), kept=case, pk=pk)


def merge_of(folded: Case) -> CaseMerge | None:
    """The merge that folded this case, while it stands (not undone)."""
    return CaseMerge.objects.filter(folded=folded, undone_at__isnull=True).order_by("-pk").first()
