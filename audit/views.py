import csv
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import selectors
from audit.forms import EventFilterForm
from audit.log import record
from audit.models import Action
from audit.spreadsheet import spreadsheet_safe
from config.step_up import require_step_up


def _require_auditor(request: HttpRequest) -> None:
    if not request.user.has_perm("accounts.review_audit"):
        raise PermissionDenied


def _filters(form: EventFilterForm) -> selectors.EventFilters:
    if not form.is_bound:
        return selectors.EventFilters()
    if not form.is_valid():
        return selectors.EventFilters(target="-invalid-")  # show nothing, say why
    data = form.cleaned_data

    def day(value, plus=0):
        if value is None:
            return None
        start = datetime.combine(value + timedelta(days=plus), time.min)
        return timezone.make_aware(start)

    return selectors.EventFilters(
        actor=data["actor"].strip(),
        target=data["target"],
        action=data["action"],
        since=day(data["since"]),
        until=day(data["until"], plus=1),
    )


def event_list(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    form = EventFilterForm(request.GET or None)
    before = selectors.before_from(request.GET.get("before", ""))
    rows = selectors.page_before(selectors.events(_filters(form)), before)
    has_more = len(rows) > selectors.PAGE
    rows = rows[: selectors.PAGE]
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "rows": selectors.event_rows(rows),
        "next_before": rows[-1].seq if has_more and rows else None,
        "query": query.urlencode(),
    }
    return render(request, "audit/event_list.html", context)


@require_step_up
def export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered log as CSV, at most EXPORT_LIMIT rows; the export is itself audited."""
    _require_auditor(request)
    form = EventFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        messages.error(request, _("Fix the filters before exporting."))
        return event_list(request)
    rows = selectors.events(_filters(form))[: selectors.EXPORT_LIMIT]
    with transaction.atomic():
        record(Action.AUDIT_EXPORTED, actor=request.user, target_type="audit")
    # Accounts are few: their names in one query, for the rows about an account.
    usernames = selectors.all_usernames()

    def lines():
        buffer = _Echo()
        writer = csv.writer(buffer)
        yield writer.writerow(
            ["seq", "time", "actor", "action", "target", "target_user", "network", "request"]
        )
        for event in rows.iterator(chunk_size=2000):
            cells = [
                event.seq,
                event.created_at.isoformat(),
                event.actor.username if event.actor else "",
                event.action,
                event.target_ref,
                usernames.get(event.target_ref, "") if event.target_type == "user" else "",
                event.source_network,
                event.request_id,
            ]
            # Usernames and references are typed by people: opened in a spreadsheet, none
            # of them may run as a formula.
            yield writer.writerow([spreadsheet_safe(cell) for cell in cells])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response


class _Echo:
    def write(self, value):
        return value


def alert_list(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    return render(request, "audit/alerts.html", {"alerts": selectors.alerts()})
