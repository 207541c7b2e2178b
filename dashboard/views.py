"""The dashboard, each role's first page, and the health page of the background work."""

from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from accounts import selectors as account_selectors
from accounts.http import AuthenticatedHttpRequest
from accounts.roles import Role
from audit import selectors as audit_selectors
from casework import emails
from casework.models import EmailState, Heartbeat, Notification, Reminder, ReminderState, Stage
from dashboard import case_rows, charts, search, selectors
from dashboard.forms import SearchForm
from dashboard.health import silent_limit
from intake import replies
from intake.channels import bot_api, telegram
from intake.selectors import intake_queue_for, oldest_waiting


def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What each role needs first: a volunteer their next steps, a coordinator the state
    of their teams, an admin accounts and the audit log (numbers, no personal data)."""
    user = request.user
    role = user.role
    context: dict[str, Any] = {"role": role}
    if role == Role.ADMIN:
        context.update(
            accounts=account_selectors.account_counts(),
            security_events=audit_selectors.security_events(),
            audit=audit_selectors.audit_health(),
            unreviewed_break_glass=selectors.unreviewed_break_glass_count(),
            funnel=_funnel_chart(selectors.group_stage_counts()),
        )
    elif role in (Role.COORDINATOR, Role.VOLUNTEER):
        context.update(
            cases=case_rows.dashboard_cases(user),
            weekly=_weekly_chart(selectors.weekly_activity(user)),
        )
    if role == Role.COORDINATOR:
        context.update(
            action_overdue=selectors.action_overdue_count(user),
            funnel=_funnel_chart(selectors.team_stage_counts(user)),
        )
    if role == Role.VOLUNTEER:
        context["funnel"] = _funnel_chart(selectors.own_stage_counts(user))
    if role != Role.ADMIN and user.has_perm("accounts.log_intake"):
        queue = intake_queue_for(user)
        context["intake_waiting"] = queue.count()
        if role == Role.COORDINATOR:
            context["intake_oldest"] = oldest_waiting(user, 5)
    return render(request, "dashboard/dashboard.html", context)


def _funnel_chart(counts: list[tuple[Stage, int]]) -> charts.Funnel:
    return charts.funnel([(stage.value, str(stage.label), count) for stage, count in counts])


def _weekly_chart(weekly: selectors.Weekly) -> charts.Grouped:
    return charts.grouped(
        weekly.starts,
        [
            ("requests", _("Requests received"), weekly.requests),
            ("crossings", _("Crossings completed"), weekly.crossings),
        ],
    )


def health(request: AuthenticatedHttpRequest) -> HttpResponse:
    """For admins: is the dispatcher running, is the worker alive, is anything stuck."""
    if not request.user.has_perm("accounts.manage_accounts"):
        raise PermissionDenied
    now = timezone.now()
    beats = {beat.name: beat for beat in Heartbeat.objects.all()}
    stale = now - silent_limit()
    context = {
        "dispatcher": beats.get("dispatcher"),
        "worker": beats.get("worker"),
        "stale": stale,
        "pending": Reminder.objects.filter(state=ReminderState.PENDING).count(),
        "overdue": Reminder.objects.filter(
            state=ReminderState.PENDING, due_at__lt=now - timedelta(minutes=2)
        ).count(),
        "alarms": Reminder.objects.filter(state=ReminderState.SENT, urgent=True).count(),
        # Only the open copies are read (a partial index holds them): not the whole inbox.
        **Notification.objects.filter(
            email_state__in=[EmailState.PENDING, EmailState.FAILED]
        ).aggregate(
            emails_late=Count(
                "pk",
                filter=Q(email_state=EmailState.PENDING, created_at__lt=now - emails.LATE_AFTER),
            ),
            emails_failed=Count("pk", filter=Q(email_state=EmailState.FAILED)),
        ),
        **replies.reply_counts(now),
        # The bot's last day: messages stored, updates left, webhook calls refused.
        "telegram": telegram.bot_counts(now - timedelta(days=1)) if bot_api.is_on() else None,
    }
    return render(request, "dashboard/health.html", context)


@sensitive_post_parameters("query")
def search_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The search box and what it found. A GET shows the empty box whatever its address
    says: a query only ever comes by POST, so it is never in a URL or a browser's history."""
    if not search.can_search(request.user):
        raise PermissionDenied
    form = SearchForm(request.POST if request.method == "POST" else None)
    found = None
    if form.is_bound and form.is_valid():
        try:
            found = search.search_run(by=request.user, query=form.cleaned_data["query"])
        except ValidationError as error:
            form.add_error("query", error)
    status = 400 if form.errors else 200
    return render(request, "dashboard/search.html", {"form": form, "found": found}, status=status)
