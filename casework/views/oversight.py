"""Oversight pages: break-glass and its review by the admins, containing a compromised
account, and flagging a suspected provocation. Thin: selectors decide what is seen,
services.oversight what may change."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions as account_permissions
from accounts import selectors as account_selectors
from accounts.http import AuthenticatedHttpRequest
from casework import permissions
from casework.forms import BreakGlassForm, BreakGlassReviewForm, ContainForm, ProvocationForm
from casework.selectors import cases as case_selectors
from casework.selectors import oversight as oversight_selectors
from casework.selectors.oversight import QUEUE_LIMIT, REVIEWED_LIMIT
from casework.services import oversight
from config.step_up import require_step_up

# Where the "since" field starts: a month back covers most phishing found late.
DEFAULT_LOOKBACK = timedelta(days=30)
OWN_ACCOUNT = _lazy("You cannot contain your own account. Ask another admin to do it.")


def _require_account_manager(request: AuthenticatedHttpRequest) -> None:
    if not account_permissions.can_manage_accounts(request.user):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("reason")
@require_step_up
def account_contain(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """GET asks (with the reason and "since"), POST contains."""
    _require_account_manager(request)
    member = account_selectors.member_for(request.user, pk)
    own = member.pk == request.user.pk
    if request.method == "POST":
        form = ContainForm(request.POST)
    else:
        since = timezone.localtime() - DEFAULT_LOOKBACK
        form = ContainForm(initial={"since": since.replace(second=0, microsecond=0)})
    if own and form.is_bound:
        # Refused with what was typed kept; the page offers no button for oneself anyway.
        form.add_error(None, OWN_ACCOUNT)
    if form.is_bound and not own and form.is_valid():
        try:
            done = oversight.account_contain(
                target=member,
                by=request.user,
                since=form.cleaned_data["since"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(username)s is contained: locked, signed out, second factor removed.")
                % {"username": member.username},
            )
            return redirect("casework:containment_detail", pk=done.pk)
    context = {"member": member, "form": form, "own": own}
    status = 400 if form.is_bound else 200
    return render(request, "casework/containment_confirm.html", context, status=status)


def containment_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_account_manager(request)
    rows = oversight_selectors.containments_for(request.user)[:200]
    return render(request, "casework/containment_list.html", {"rows": rows})


def containment_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The affected list, by reference only; the same page whenever it is opened again."""
    _require_account_manager(request)
    done = get_object_or_404(oversight_selectors.containments_for(request.user), pk=pk)
    context = {"containment": done, "affected": oversight_selectors.affected(done)}
    return render(request, "casework/containment_detail.html", context)


@sensitive_post_parameters("reason")
@require_step_up
def break_glass(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A coordinator opens another team's case for an hour by giving a reason."""
    if not request.user.has_perm("accounts.break_glass"):
        raise PermissionDenied
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = oversight.case_break_glass(
                reference=form.cleaned_data["reference"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.warning(
                request, _("Opened for one hour, read-only. Your reason was recorded.")
            )
            return redirect("casework:case_detail", reference=grant.case.reference)
    return render(request, "casework/break_glass.html", {"form": form})


def _review_page(
    request, *, form=None, form_pk=None, revealed: tuple[int, str] | None = None, status=200
) -> HttpResponse:
    queue = list(oversight_selectors.break_glass_queue(request.user)[:QUEUE_LIMIT])
    context = {
        # The one reason asked for, as (grant pk, reason); the lists carry none.
        "revealed_pk": revealed[0] if revealed else None,
        "revealed_reason": revealed[1] if revealed else "",
        "queue": queue,
        # Reviewed by someone else meanwhile: the grant left the queue, the words must not.
        "form_elsewhere": form is not None and form_pk not in {grant.pk for grant in queue},
        "reviewed": list(oversight_selectors.break_glass_reviewed(request.user)[:REVIEWED_LIMIT]),
        "form": form,
        "form_pk": form_pk,
    }
    return render(request, "casework/break_glass_reviews.html", context, status=status)


def break_glass_reviews(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _review_page(request)


@require_POST
@sensitive_post_parameters("comment")
def break_glass_review(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    grant = oversight_selectors.break_glass_for_review(request.user, pk)
    form = BreakGlassReviewForm(request.POST)
    if form.is_valid():
        try:
            oversight.break_glass_review(
                grant=grant, by=request.user, comment=form.cleaned_data["comment"]
            )
        except ValidationError as error:
            form.add_error("comment", error)
        else:
            messages.success(
                request,
                _("Break-glass on %(reference)s marked reviewed.")
                % {"reference": grant.case.reference},
            )
            return redirect("casework:break_glass_reviews")
    return _review_page(request, form=form, form_pk=grant.pk, status=400)


@require_POST
def break_glass_reason(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Shows one grant's reason, on a POST: reading it is recorded, so no link prefetch,
    history reload or crawler reads it behind the admin's back."""
    grant = oversight_selectors.break_glass_for_review(request.user, pk)
    reason = oversight.break_glass_reason_reveal(grant=grant, by=request.user)
    return _review_page(request, revealed=(grant.pk, reason))


@sensitive_post_parameters("reason")
def case_provocation(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """Flags the case as a suspected provocation, or clears the flag, with a reason."""
    case = case_selectors.case_for(request.user, reference)
    offered = ProvocationForm.CLEAR if case.is_frozen else ProvocationForm.FLAG
    allowed = (
        permissions.can_clear_provocation
        if offered == ProvocationForm.CLEAR
        else permissions.can_flag_provocation
    )
    if not allowed(request.user, case):
        raise PermissionDenied
    form = ProvocationForm(request.POST or None, initial={"action": offered})
    if request.method == "POST" and form.is_valid():
        clear = form.cleaned_data["action"] == ProvocationForm.CLEAR
        change = oversight.provocation_clear if clear else oversight.provocation_flag
        try:
            change(case=case, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied:
            form.add_error(None, _("Only a coordinator of the case's team can clear the flag."))
        else:
            if clear:
                messages.success(request, _("Flag cleared: the case can move again."))
            else:
                messages.warning(
                    request,
                    _(
                        "Flagged as a suspected provocation: the case is frozen and its route "
                        "is shown to coordinators only."
                    ),
                )
            return redirect("casework:case_detail", reference=case.reference)
    context = {"case": case, "form": form, "clearing": offered == ProvocationForm.CLEAR}
    status = 400 if request.method == "POST" else 200
    return render(request, "casework/provocation.html", context, status=status)
