"""Pages for role and team changes (two people each) and for inviting a member."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions as account_permissions
from accounts import selectors as account_selectors
from accounts.forms import AccessChangeForm, InviteForm, RefuseForm
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Team
from accounts.views import link_issued
from casework.selectors import access as access_selectors
from casework.services import access
from config.step_up import require_step_up


def _proposable_teams(user):
    """Admins may name any team; a coordinator their own."""
    if account_permissions.can_manage_accounts(user):
        return Team.objects.order_by("name")
    return Team.objects.filter(pk__in=user.team_ids).order_by("name")


@require_http_methods(["GET", "POST"])
@require_step_up
def access_change_new(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    member = account_selectors.member_for(request.user, pk)
    form = AccessChangeForm(request.POST or None, teams=_proposable_teams(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            change = access.access_change_propose(
                target=member,
                by=request.user,
                kind=data["kind"],
                role=data["role"],
                team=data["team"],
            )
        except PermissionDenied:
            form.add_error(None, _("You may not propose this change for this account."))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Proposed as %(reference)s: it takes effect when a second person approves it.")
                % {"reference": change.reference},
            )
            return redirect("casework:access_changes")
    context = {"member": member, "form": form}
    return render(
        request, "casework/access_change_new.html", context, status=400 if form.errors else 200
    )


def access_change_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not account_permissions.can_see_member_list(request.user):
        raise PermissionDenied
    changes = list(access_selectors.changes_visible_to(request.user)[:100])
    rows = [
        {
            "change": change,
            "can_decide": account_permissions.can_decide_change(request.user, change),
            "can_withdraw": change.is_pending and change.proposed_by_id == request.user.pk,
        }
        for change in changes
    ]
    return render(
        request, "casework/access_changes.html", {"rows": rows, "refuse_form": RefuseForm()}
    )


def _change_for(request: AuthenticatedHttpRequest, pk: int):
    return get_object_or_404(access_selectors.changes_visible_to(request.user), pk=pk)


@require_POST
@require_step_up(back="casework:access_changes")
def access_change_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    change = _change_for(request, pk)
    decision = request.POST.get("decision")
    try:
        if decision == "approve":
            access.access_change_approve(change=change, by=request.user)
            messages.success(
                request, _("%(reference)s approved.") % {"reference": change.reference}
            )
        elif decision == "refuse":
            form = RefuseForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Say why the change is refused."))
            access.access_change_refuse(
                change=change, by=request.user, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("%(reference)s refused.") % {"reference": change.reference})
        elif decision == "withdraw":
            access.access_change_withdraw(change=change, by=request.user)
            messages.success(
                request, _("%(reference)s withdrawn.") % {"reference": change.reference}
            )
        else:
            raise ValidationError(_("Choose approve, refuse or withdraw."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(f"{reverse('casework:access_changes')}#{change.reference}")


@require_http_methods(["GET", "POST"])
@require_step_up
@never_cache
def member_invite(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not account_permissions.can_manage_accounts(request.user):
        raise PermissionDenied
    form = InviteForm(request.POST or None, teams=Team.objects.order_by("name"))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member, token = access.member_invite(
                by=request.user, username=data["username"], role=data["role"], team=data["team"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return link_issued(request, member, token)
    return render(
        request, "casework/member_invite.html", {"form": form}, status=400 if form.errors else 200
    )
