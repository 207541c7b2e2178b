"""The inbox, follow-ups, snoozing and dismissing reminders."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from casework.forms import FollowUpForm, NotificationChoice, SnoozeForm
from casework.models import Notification, Reminder
from casework.selectors import cases as case_selectors
from casework.services import reminders as reminder_services
from casework.views.cases import case_page


def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    # Unread first, urgent first among them, newest first within each.
    notifications = (
        Notification.objects.filter(user=request.user)
        .only("kind", "subject", "urgent", "created_at", "read_at")
        .order_by(F("read_at").desc(nulls_first=True), "-urgent", "-created_at", "-id")
    )
    page = Paginator(notifications, 50).get_page(request.GET.get("page"))
    return render(request, "casework/inbox.html", {"page": page})


@require_POST
def inbox_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Marks one notification (or, without an id, all of them) read."""
    mine = Notification.objects.filter(user=request.user, read_at__isnull=True)
    if request.POST.get("id"):
        chosen = NotificationChoice(request.POST)
        if not chosen.is_valid():
            return redirect("casework:inbox")
        mine = mine.filter(pk=chosen.cleaned_data["id"])
    mine.update(read_at=timezone.now())
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
