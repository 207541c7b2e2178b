"""Merging two cases of one person, and undoing it: for the coordinators of their team."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from casework import permissions
from casework.forms import MergeForm
from casework.models import Case
from casework.selectors import merge as merge_selectors
from casework.services import merge as merge_services
from casework.services.cases import CaseConflict


def _sides(case: Case, other: Case, keep: str) -> tuple[Case, Case]:
    return (case, other) if keep != MergeForm.OTHER else (other, case)


def _confirm_form(case: Case, other: Case, keep: str) -> MergeForm:
    return MergeForm(
        initial={
            "other": other.reference,
            "keep": keep or MergeForm.THIS,
            "version": case.version,
            "other_version": other.version,
            "confirm": True,
        }
    )


def case_merge(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """Names the other case, shows both side by side, and merges once confirmed."""
    user = request.user
    case = merge_selectors.case_for_merge(user, reference)
    if not permissions.can_merge(user, case):
        raise PermissionDenied
    form = MergeForm(request.POST or None)
    context: dict = {"case": case, "form": form, "merges": merge_selectors.merges_into(case)}
    if request.method != "POST":
        return render(request, "casework/case_merge.html", context)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        other = merge_selectors.merge_candidate_for(user, data["other"])
        if other is None:
            form.add_error(
                "other",
                _("There is no case %(reference)s that you can see. Check the reference.")
                % {"reference": data["other"]},
            )
        elif other.pk == case.pk:
            form.add_error("other", merge_services.merge_problems(case, other))
        else:
            keep, fold = _sides(case, other, data["keep"])
            problems = merge_services.merge_problems(keep, fold)
            context.update(other=other, problems=problems)
            if not problems and not data["confirm"]:
                context["confirm_form"] = _confirm_form(case, other, data["keep"])
                return render(request, "casework/case_merge.html", context)
            if not problems:
                versions = {case.pk: data["version"], other.pk: data["other_version"]}
                try:
                    merge_services.case_merge(
                        keep=keep,
                        fold=fold,
                        by=user,
                        keep_version=versions[keep.pk],
                        fold_version=versions[fold.pk],
                    )
                except CaseConflict:
                    status = 409
                    form.add_error(
                        None,
                        _(
                            "One of the cases changed since this page was opened: nothing was "
                            "merged. Check them again below, then confirm."
                        ),
                    )
                    case = merge_selectors.case_for_merge(user, reference)
                    other = merge_selectors.merge_candidate_for(user, data["other"]) or other
                    context.update(case=case, other=other)
                    context["confirm_form"] = _confirm_form(case, other, data["keep"])
                except ValidationError as refused:
                    for message in refused.messages:
                        form.add_error(None, message)
                else:
                    messages.success(
                        request,
                        _(
                            "%(folded)s was merged into %(kept)s. Until the next nightly purge "
                            "it can be undone from %(folded)s's page."
                        )
                        % {"folded": fold.reference, "kept": keep.reference},
                    )
                    return redirect("casework:case_detail", reference=keep.reference)
    return render(request, "casework/case_merge.html", context, status=status)


def merged_page(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """A merged case's reference: where it went, for whoever may see that case (else 404)."""
    folded, kept = merge_selectors.merged_case_for(request.user, reference)
    merge = merge_selectors.merge_of(folded)
    context = {
        "folded": folded,
        "kept": kept,
        "merge": merge,
        "can_undo": merge is not None and permissions.can_merge(request.user, kept),
    }
    return render(request, "casework/case_merged.html", context)


@require_POST
def case_merge_undo(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """Undoes the merge of the case `reference` (the folded one) into its kept case."""
    folded, kept = merge_selectors.merged_case_for(request.user, reference)
    if not permissions.is_team_coordinator(request.user, kept):
        raise PermissionDenied
    merge = merge_selectors.merge_of(folded)
    if merge is None:
        messages.error(request, _("This merge was already undone."))
        return redirect("casework:case_detail", reference=reference)
    try:
        merge_services.case_merge_undo(merge=merge, by=request.user)
    except ValidationError as refused:
        for message in refused.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("The merge is undone: %(folded)s is back as it was, apart from %(kept)s.")
            % {"folded": folded.reference, "kept": kept.reference},
        )
    return redirect("casework:case_detail", reference=reference)
