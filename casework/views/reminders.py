"""The inbox, follow-ups, snoozing and dismissing reminders."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from casework.forms import FollowUpForm, InboxGroupChoice, NotificationChoice, SnoozeForm
from casework.models import Notification, Reminder
from casework.selectors import cases as case_selectors
from casework.selectors import notifications as notification_selectors
from casework.services import reminders as reminder_services
from casework.views.cases import case_page

# How the form names the group of notifications about no case or request.
OTHER_GROUP = "other"


def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Notifications grouped by the case they are about; urgent groups first."""
    page, groups = notification_selectors.inbox_groups(request.user, request.GET.get("page"))
    return render(
        request,
        "casework/inbox.html",
        {"page": page, "groups": groups, "other": OTHER_GROUP},
    )


@require_POST
def inbox_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Marks one notification (an id), one group (a reference, or "other"), or, with
    neither, all of them read; back to the same page of the inbox."""
    mine = Notification.objects.filter(user=request.user)
    if request.POST.get("id"):
        chosen = NotificationChoice(request.POST)
        if not chosen.is_valid():
            return redirect("casework:inbox")
        mine = mine.filter(pk=chosen.cleaned_data["id"])
    elif request.POST.get("group"):
        group = InboxGroupChoice(request.POST)
        if not group.is_valid():
            return redirect("casework:inbox")
        key = group.cleaned_data["group"]
        mine = notification_selectors.inbox_group_rows(
            request.user, notification_selectors.OTHER if key == OTHER_GROUP else key
        )
    mine.filter(read_at__isnull=True).update(read_at=timezone.now())
    return redirect("casework:inbox")


@require_POST
@sensitive_post_parameters("note")
def follow_up(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = case_selectors.case_for(request.user, reference)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            reminder_services.follow_up_set(
                case=case,
                by=request.user,
                due_at=form.cleaned_data["due_at"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form.add_error("due_at", error)
        else:
            messages.success(request, _("Follow-up set."))
            return redirect("casework:case_detail", reference=case.reference)
    return case_page(request, case, status=400, follow_up_form=form)


@require_POST
@sensitive_post_parameters("reason")
def reminder_change(request: AuthenticatedHttpRequest, reference: str, pk: int) -> HttpResponse:
    case = case_selectors.case_for(request.user, reference)
    reminder = get_object_or_404(Reminder, pk=pk, case=case)
    form = SnoozeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["action"] == "snooze":
                reminder_services.reminder_snooze(
                    reminder=reminder, by=request.user, until=data["until"], reason=data["reason"]
                )
            else:
                reminder_services.reminder_dismiss(
                    reminder=reminder, by=request.user, reason=data["reason"]
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Reminder updated."))
            return redirect("casework:case_detail", reference=case.reference)
    return case_page(request, case, status=400, reminder_form=form, reminder_pk=reminder.pk)
