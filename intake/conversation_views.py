"""The staff side of a conversation: a reply sent from a request's page or its case's, and
the triage queue's review of a possible flood. Thin: a selector, a service, a page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from audit.models import Action
from intake import conversation_selectors, conversations, permissions, services, volume
from intake.conversation_forms import FloodRejectForm, ReplyForm
from intake.models import Channel, IntakeRequest


def _works_intake(request: AuthenticatedHttpRequest) -> None:
    """Admins have no path to a request: refused before anything is looked up."""
    if not request.user.has_perm("accounts.log_intake"):
        raise PermissionDenied


def _back(intake: IntakeRequest, where: str) -> tuple[str, str]:
    """The page the reply was written on, and its name: the case's, or the request's."""
    if where == ReplyForm.CASE and intake.case is not None:
        return reverse("casework:case_detail", args=[intake.case.reference]), intake.case.reference
    return reverse("intake:detail", args=[intake.reference]), intake.reference


@require_POST
@sensitive_post_parameters("text")
def reply_send(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    _works_intake(request)
    intake = conversation_selectors.request_to_reply(request.user, reference)
    form = ReplyForm(request.POST)
    where = form.data.get("back", "")
    if intake.purged_at is not None:
        # Opened before the retention purge or an erasure: say so, and show what was typed.
        form.add_error(
            None,
            _(
                "The personal data of %(reference)s was removed (retention or an erasure): "
                "there is no one to send a reply to any more."
            )
            % {"reference": intake.reference},
        )
        return _refused(request, intake, form, where, status=409)
    if not permissions.can_reply(request.user, intake):
        raise PermissionDenied
    if form.is_valid():
        try:
            conversations.reply_send(
                request=intake, by=request.user, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if intake.channel == Channel.WEB_FORM:
                said = _(
                    "Reply saved: the person reads it when they come back with their passphrase."
                )
            else:
                said = _("Reply queued: it goes out through %(channel)s in a moment.") % {
                    "channel": intake.get_channel_display()
                }
            messages.success(request, said)
            return redirect(_back(intake, form.cleaned_data["back"])[0] + "#conversation")
    return _refused(request, intake, form, where, status=400)


def _refused(
    request: AuthenticatedHttpRequest, intake: IntakeRequest, form: ReplyForm, where: str, status
) -> HttpResponse:
    back, back_label = _back(intake, where)
    form.fields["text"].label = _("Reply through %(channel)s") % {
        "channel": intake.get_channel_display()
    }
    context = {
        "intake": intake,
        "form": form,
        "back": back,
        "back_label": back_label,
        "can_send": permissions.can_reply(request.user, intake),
    }
    return render(request, "intake/reply.html", context, status=status)


@sensitive_post_parameters("reason")
def intake_flood(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The requests of the queue marked as a possible flood, one group per text, to reject
    together with one reason. Each group's text is read from one request: audited."""
    _works_intake(request)
    user = request.user
    groups = conversation_selectors.flood_groups(user)
    listed = {item.reference: item for group in groups for item in group.requests}
    form = FloodRejectForm(request.POST or None, references=list(listed))
    if request.method == "POST" and form.is_valid():
        chosen = [listed[reference] for reference in form.cleaned_data["requests"]]
        try:
            result = volume.flood_reject(
                requests=chosen, by=user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            count = len(result.rejected)
            messages.success(
                request,
                ngettext("%(count)s request rejected.", "%(count)s requests rejected.", count)
                % {"count": count},
            )
            if result.skipped:
                messages.warning(
                    request,
                    _("Left as they are (someone else decided them meanwhile): %(references)s.")
                    % {"references": ", ".join(result.skipped)},
                )
            return redirect("intake:flood")
    for group in groups:
        services.audit_request(group.sample, user, Action.REQUEST_VIEWED)
    chosen_now = set(request.POST.getlist("requests")) if form.is_bound else set(listed)
    context = {"groups": groups, "form": form, "chosen": chosen_now}
    return render(request, "intake/flood.html", context, status=400 if form.errors else 200)
