"""Admins contain a compromised account and come back to what it touched."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import permissions as account_permissions
from accounts import selectors as account_selectors
from casework.forms import ContainForm
from casework.selectors import oversight as oversight_selectors
from casework.services import oversight
from config.step_up import require_step_up

# Where the "since" field starts: a month back covers most phishing found late.
DEFAULT_LOOKBACK = timedelta(days=30)
OWN_ACCOUNT = _lazy("You cannot contain your own account. Ask another admin to do it.")


def _require_account_manager(request: HttpRequest) -> None:
    if not account_permissions.can_manage_accounts(request.user):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("reason")
@require_step_up
def account_contain(request: HttpRequest, pk: int) -> HttpResponse:
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


def containment_list(request: HttpRequest) -> HttpResponse:
    _require_account_manager(request)
    rows = oversight_selectors.containments_for(request.user)[:200]
    return render(request, "casework/containment_list.html", {"rows": rows})


def containment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The affected list, by reference only; the same page whenever it is opened again."""
    _require_account_manager(request)
    done = get_object_or_404(oversight_selectors.containments_for(request.user), pk=pk)
    context = {"containment": done, "affected": oversight_selectors.affected(done)}
    return render(request, "casework/containment_detail.html", context)
