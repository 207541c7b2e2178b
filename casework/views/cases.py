from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from audit import selectors as audit_selectors
from audit.models import Action
from casework import permissions, workflow
from casework.forms import (
    AssignForm,
    CaseDetailsForm,
    CaseFilterForm,
    FollowUpForm,
    MoveForm,
    PersonForm,
    TimelineForm,
    UndoForm,
    VersionForm,
)
from casework.models import Case, EventKind, Stage
from casework.selectors import approvals as approval_selectors
from casework.selectors import cases as case_selectors
from casework.selectors import handover as handover_selectors
from casework.selectors import reminders as reminder_selectors
from casework.selectors import routes as route_selectors
from casework.services import cases as case_services
from casework.services import undo as undo_services
from casework.services.cases import CaseConflict
from casework.views import merge as merge_views
from casework.views.approval_panel import approval_context

PAGE_SIZE = 25
TIMELINE_ADDED = {
    EventKind.NOTE: gettext_lazy("Note added."),
    EventKind.CHECK_IN: gettext_lazy("Check-in recorded."),
    EventKind.CONTACT: gettext_lazy("Contact logged."),
}
STAGE_BAR = (*workflow.FORWARD, Stage.CLOSED)
# Where each of the case page's forms sits, for the notice at the top when one was refused.
REFUSED_AT = {
    "move_form": "move",
    "assign_form": "assignment",
    "ask_form": "ask-approval",
    "decision_form": "approval",
    "timeline_form": "add-entry",
    "follow_up_form": "reminders",
    "reminder_form": "reminders",
}
OUT_OF_DATE = gettext_lazy("This page is out of date: nothing was saved. Reload it and try again.")


def _filter_form(request: AuthenticatedHttpRequest) -> CaseFilterForm:
    members = case_selectors.filter_members(request.user)
    return CaseFilterForm(request.GET or None, members=members)


def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = _filter_form(request)
    filters = case_selectors.CaseFilters(**form.valid_filters())
    page = case_selectors.case_list_page(request.user, filters, request.GET.get("page"), PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "casework/case_list.html", context, status=400 if form.errors else 200)


def board(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = _filter_form(request)
    filters = case_selectors.CaseFilters(**form.valid_filters())
    columns = case_selectors.board_columns(request.user, filters=filters)
    shown = [case.pk for _stage, cases, _total in columns for case in cases]
    context = {
        "form": form,
        "filtered": any(form.valid_filters().values()),
        "columns": columns,
        "awaiting": approval_selectors.awaiting_approval(shown),
    }
    return render(request, "casework/board.html", context, status=400 if form.errors else 200)


def _tomorrow_morning():
    tomorrow = timezone.localtime() + timedelta(days=1)
    return tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)


def _mentionable(case: Case) -> list[str]:
    return [user.username for user in case_selectors.case_viewers(case)]


def _fixes(case: Case, *, assignable: bool) -> dict[str, str]:
    """Each requirement's problem ("Needs the readiness checklist first.") and the link to
    where it is mended: a field of the edit page, or a part of the case page shown here."""
    pages = {"case": "", "edit": reverse("casework:case_edit", args=[case.reference])}
    fixes = {}
    for requirement in workflow.REQUIREMENTS:
        page, anchor = requirement.fix
        if page and (anchor != "assignment" or assignable):
            fixes[requirement.problem] = f"{pages[page]}#{anchor}"
    return fixes


def case_page(
    request: AuthenticatedHttpRequest, case: Case, status: int = 200, **forms
) -> HttpResponse:
    """Renders the case with its person's details: every render is an audited read."""
    user = request.user
    case_services.audit_case(case, user, Action.CASE_VIEWED)
    can_work = permissions.can_work_case(user, case)
    is_coordinator = permissions.is_team_coordinator(user, case)
    warning = workflow.destination_warning(case) if not case.is_purged else None
    moves = (
        workflow.moves_for(case, is_coordinator=is_coordinator, warning=warning) if can_work else []
    )
    version = {"version": case.version}
    suggested = workflow.next_move(case, moves)
    events, older_count = case_selectors.timeline_newest(case)
    context: dict[str, Any] = {
        "case": case,
        "person": case.person,
        "events": events,
        "requests_openable": case_selectors.requests_openable(user, case, events),
        "older_count": older_count,
        "can_work": can_work,
        "read_only": not can_work,
        "moves": moves,
        "next_move": suggested,
        # The forward path and its end: a closed case shows Closed as its current step.
        "stages": STAGE_BAR,
        "stage_position": (STAGE_BAR.index(Stage(case.stage)) if case.stage in STAGE_BAR else None),
        "move_form": forms.get("move_form")
        or MoveForm(
            initial={**version, "to_stage": suggested.stage if suggested else ""},
            targets=[move.stage for move in moves],
            warning=warning if any(move.needs_warning_seen for move in moves) else None,
        ),
        "destination_warning": warning,
        "timeline_form": forms.get("timeline_form")
        or TimelineForm(mentionable=_mentionable(case) if can_work else ()),
        "conflict": forms.get("conflict"),
        "reminders": list(reminder_selectors.upcoming_for_case(case)) if can_work else [],
        "can_see_history": is_coordinator,
        "follow_up_form": forms.get("follow_up_form")
        or FollowUpForm(initial={"due_at": _tomorrow_morning()}),
        "reminder_form": forms.get("reminder_form"),
        "reminder_pk": forms.get("reminder_pk"),
        "undo": undo_services.undo_offered(case, user) if can_work else None,
    }
    context["move_asks_warning"] = "warning_seen" in context["move_form"].fields
    if permissions.can_assign(user, case):
        context["assign_form"] = forms.get("assign_form") or AssignForm(
            initial={**version, "assignee": case.assignee_id},
            members=case_selectors.assignable_members(case),
        )
    context["fixes"] = _fixes(case, assignable="assign_form" in context)
    context["refused_at"] = next(
        (where for key, where in REFUSED_AT.items() if getattr(forms.get(key), "errors", None)),
        "",
    )
    context["can_take"] = permissions.can_take(user, case)
    context.update(
        can_hand_over=permissions.can_hand_over(user, case),
        can_ask_transfer=permissions.can_ask_transfer(user, case),
        pending_transfer=handover_selectors.pending_transfer_of(case) if is_coordinator else None,
    )
    context.update(
        route=route_selectors.route_for(user, case),
        can_see_route=permissions.can_see_route(user, case),
        can_manage_legs=permissions.can_manage_legs(user, case),
        can_flag=permissions.can_flag_provocation(user, case) and not case.is_frozen,
        can_clear_flag=permissions.can_clear_provocation(user, case) and case.is_frozen,
    )
    context.update(approval_context(user, case, forms))
    return render(request, "casework/case_detail.html", context, status=status)


def case_detail(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    try:
        case = case_selectors.case_for(request.user, reference)
    except Http404:
        # A merged case's reference leads to the case it went into, for those who see it.
        return merge_views.merged_page(request, reference)
    return case_page(request, case)


@require_GET
def case_timeline_older(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """The timeline entries the case page folds away, newest first: the fragment htmx puts
    in place when the fold is opened, or a page of their own without JavaScript. Reading
    the notes is an audited read, as the case page is; the person's details are not read."""
    case = case_selectors.case_for_action(request.user, reference)
    case_services.audit_case(case, request.user, Action.CASE_VIEWED)
    events = list(case_selectors.timeline(case, offset=case_selectors.TIMELINE_NEWEST))
    context = {
        "case": case,
        "events": events,
        "requests_openable": case_selectors.requests_openable(request.user, case, events),
    }
    if request.headers.get("HX-Request") == "true":
        # Rendered without the request: the fragment has no navigation, so the context
        # processors (and their unread count query) are not run for it.
        response = HttpResponse(render_to_string("casework/_timeline_older.html", context))
    else:
        response = render(request, "casework/case_timeline_older.html", context)
    # One address, two answers: no cache may hand the fragment to a plain page load.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _require_work(request: AuthenticatedHttpRequest, case: Case) -> None:
    if not permissions.can_work_case(request.user, case):
        raise PermissionDenied


@require_POST
@sensitive_post_parameters("reason")
def case_move(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = case_selectors.case_for_action(request.user, reference)
    _require_work(request, case)
    form = MoveForm(request.POST, warning=workflow.destination_warning(case))
    if form.is_valid():
        try:
            case_services.case_transition(
                case=case,
                to_stage=Stage(form.cleaned_data["to_stage"]),
                by=request.user,
                expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
                outcome=form.cleaned_data["outcome"],
                warning_seen=form.cleaned_data.get("warning_seen", False),
            )
        except case_services.MoveRefused as refused:
            for message in refused.messages:
                form.add_error(None, message)
        except CaseConflict as conflict:
            return _conflict_page(request, conflict, move_form=form)
        else:
            messages.success(
                request, _("Moved to %(stage)s.") % {"stage": case.get_stage_display()}
            )
            return redirect("casework:case_detail", reference=case.reference)
    shown = case_selectors.case_for(request.user, reference)
    return case_page(request, shown, status=400, move_form=form)


def _conflict_page(
    request: AuthenticatedHttpRequest, conflict: CaseConflict, **forms
) -> HttpResponse:
    """Someone saved first: show what they did, keep what this user typed, and let the
    next submit go through on the new version once they have read it."""
    case = case_selectors.case_for(request.user, conflict.case.reference)
    for form in forms.values():
        data = form.data.copy()
        data["version"] = case.version
        form.data = data
    return case_page(request, case, status=409, conflict=conflict.events, **forms)


@require_POST
def case_assign(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = case_selectors.case_for(request.user, reference)
    if not permissions.can_assign(request.user, case):
        raise PermissionDenied
    form = AssignForm(request.POST, members=case_selectors.assignable_members(case))
    if form.is_valid():
        try:
            case_services.case_assign(
                case=case,
                assignee=form.cleaned_data["assignee"],
                by=request.user,
                expected_version=form.cleaned_data["version"],
            )
        except CaseConflict as conflict:
            return _conflict_page(request, conflict, assign_form=form)
        messages.success(request, _("Assigned."))
        return redirect("casework:case_detail", reference=case.reference)
    return case_page(request, case, status=400, assign_form=form)


@require_POST
def case_take(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """Taking works from the unassigned list, where the case is not yet visible in full."""
    case = case_selectors.unassigned_case_for(request.user, reference)
    try:
        case_services.case_take(case=case, by=request.user, expected_version=case.version)
    except (PermissionDenied, CaseConflict):
        messages.error(request, _("Someone else took this case first."))
        return redirect("dashboard:home")
    messages.success(request, _("The case is yours now."))
    return redirect("casework:case_detail", reference=case.reference)


@require_POST
@sensitive_post_parameters("text")
def case_timeline_add(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = case_selectors.case_for(request.user, reference)
    _require_work(request, case)
    form = TimelineForm(request.POST, mentionable=_mentionable(case))
    if form.is_valid():
        try:
            case_services.case_note_add(
                case=case,
                by=request.user,
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as error:
            form.add_error("text", error)
        else:
            messages.success(request, TIMELINE_ADDED[form.cleaned_data["kind"]])
            return redirect("casework:case_detail", reference=case.reference)
    return case_page(request, case, status=400, timeline_form=form)


@require_POST
def case_timeline_undo(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """Takes back the user's own contact or check-in, within minutes of logging it."""
    case = case_selectors.case_for(request.user, reference)
    _require_work(request, case)
    form = UndoForm(request.POST)
    if not form.is_valid():
        messages.error(request, OUT_OF_DATE)
        return redirect("casework:case_detail", reference=case.reference)
    try:
        undone = undo_services.case_note_undo(
            case=case,
            by=request.user,
            undo_id=form.cleaned_data["undo"],
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except CaseConflict:
        messages.error(
            request,
            _("Someone else changed this case since you loaded it: nothing was undone."),
        )
    else:
        messages.success(request, _("Undone: %(what)s.") % {"what": _(undone.detail)})
    return redirect("casework:case_detail", reference=case.reference)


@require_POST
def case_risk_reviewed(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = case_selectors.case_for(request.user, reference)
    _require_work(request, case)
    version = VersionForm(request.POST)
    if not version.is_valid():
        messages.error(request, OUT_OF_DATE)
        return redirect("casework:case_detail", reference=case.reference)
    try:
        case_services.case_risk_reviewed(
            case=case, by=request.user, expected_version=version.cleaned_data["version"]
        )
    except CaseConflict as conflict:
        return _conflict_page(request, conflict)
    messages.success(request, _("Risk review recorded."))
    return redirect("casework:case_detail", reference=case.reference)


@sensitive_post_parameters()
@sensitive_variables("changes")
def case_edit(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = case_selectors.case_for(request.user, reference)
    _require_work(request, case)
    data = request.POST if request.method == "POST" else None
    person_form = PersonForm(data, instance=case.person, prefix="person")
    details_form = CaseDetailsForm(data, instance=case, prefix="case")
    if not permissions.can_see_route(request.user, case):
        # Hidden while a provocation is suspected: not on the page, not in what is saved.
        del details_form.fields["route_summary"]
    version, conflict, readable = case.version, None, True
    # The warning for the case as saved; a change that brings one is asked about below.
    warning = workflow.destination_warning(case)
    if data:
        posted = VersionForm(data)
        if readable := posted.is_valid():
            version = posted.cleaned_data["version"]
        else:
            messages.error(request, OUT_OF_DATE)  # shown again with what was typed
    if data and readable and person_form.is_valid() and details_form.is_valid():
        changes = {**person_form.cleaned_data, **details_form.cleaned_data}
        warning_seen = changes.pop("warning_seen", False)
        # Forms wrote into the instances; compare against fresh copies, not these.
        fresh = case_selectors.case_for(request.user, reference)
        try:
            case_services.case_update(
                case=fresh,
                by=request.user,
                expected_version=version,
                changes=changes,
                warning_seen=warning_seen,
            )
        except CaseConflict as error:
            conflict = error.events
            version = error.case.version
        except case_services.WarningNotSeen as error:
            # Shown before anything is saved, with everything typed kept.
            warning = workflow.destination_warning(fresh)
            details_form.ask_warning_seen()
            details_form.add_error("warning_seen", error)
        else:
            messages.success(request, _("Saved."))
            return redirect("casework:case_detail", reference=case.reference)
    context = {
        "case": case,
        "person_form": person_form,
        "details_form": details_form,
        "version": version,
        "conflict": conflict,
        "destination_warning": warning,
    }
    status = 409 if conflict else (400 if data else 200)
    case_services.audit_case(case, request.user, Action.CASE_VIEWED)
    return render(request, "casework/case_edit.html", context, status=status)


def case_history(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """Who saw and changed this case: for the coordinators of its team."""
    case = case_selectors.case_for(request.user, reference)
    if not permissions.is_team_coordinator(request.user, case):
        raise PermissionDenied
    rows = audit_selectors.page_before(
        audit_selectors.case_history(case.reference, case.team_id),
        audit_selectors.before_from(request.GET.get("before", "")),
    )
    has_more = len(rows) > audit_selectors.PAGE
    rows = rows[: audit_selectors.PAGE]
    context = {
        "case": case,
        "rows": audit_selectors.event_rows(rows),
        "next_before": rows[-1].seq if has_more else None,
    }
    return render(request, "casework/case_history.html", context)
