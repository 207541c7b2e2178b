"""Route legs. Thin: selectors decide what is seen, services.routes what may change."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from audit.models import Action
from casework import permissions
from casework.forms import LegForm, VersionForm
from casework.models import Case, RouteLeg
from casework.selectors import cases as case_selectors
from casework.selectors import routes as route_selectors
from casework.services import cases as case_services
from casework.services import routes as route_services
from casework.services.cases import CaseConflict
from casework.views.cases import OUT_OF_DATE

LEG_SECRETS = ("origin", "destination", "means", "contact", "safe_house", "notes")


def leg_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The legs the user handles: reference, place and date; details one click further."""
    legs = route_selectors.legs_handled_by(request.user)
    return render(request, "casework/leg_list.html", {"legs": legs})


def leg_detail(request: AuthenticatedHttpRequest, reference: str, pk: int) -> HttpResponse:
    """One leg, for its volunteer (who may not be on the case otherwise) and the team's
    coordinators. Showing the details is an audited read."""
    case, leg = route_selectors.leg_for(request.user, reference, pk)
    if leg.details is not None:
        case_services.audit_case(case, request.user, Action.ROUTE_VIEWED)
    context = {
        "case": case,
        "leg": leg,
        "can_manage": permissions.can_manage_legs(request.user, case),
        "on_case": permissions.can_view_case(request.user, case),
    }
    return render(request, "casework/leg_detail.html", context)


def _managed_case(request: AuthenticatedHttpRequest, reference: str) -> Case:
    case = case_selectors.case_for(request.user, reference)
    if not permissions.can_manage_legs(request.user, case):
        raise PermissionDenied
    return case


def _leg_details(form: LegForm) -> tuple[dict, int | None]:
    data = dict(form.cleaned_data)
    data.pop("version")
    return data, data.pop("number")


def _leg_form_page(request, case, form, leg=None, conflict=None, status=200) -> HttpResponse:
    context = {"case": case, "form": form, "leg": leg, "conflict": conflict}
    return render(request, "casework/leg_form.html", context, status=status)


def _save_leg(request: AuthenticatedHttpRequest, case: Case, form: LegForm, leg: RouteLeg | None):
    """Saves the form through the service; answers with a redirect, or None after putting
    what went wrong on the form (which keeps everything typed)."""
    details, number = _leg_details(form)
    version = form.cleaned_data["version"]
    try:
        if leg is None:
            route_services.leg_add(
                case=case, by=request.user, expected_version=version, details=details, number=number
            )
        else:
            route_services.leg_change(
                case=case,
                leg=leg,
                by=request.user,
                expected_version=version,
                details=details,
                number=number,
            )
    except ValidationError as error:
        form.add_error(None, error)
        return None
    messages.success(request, _("Route saved."))
    return redirect("casework:case_detail", reference=case.reference)


def _leg_form_answer(request, case, form, leg=None) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            if response := _save_leg(request, case, form, leg):
                return response
        except CaseConflict as conflict:
            data = form.data.copy()
            data["version"] = conflict.case.version
            form.data = data
            return _leg_form_page(
                request, conflict.case, form, leg, conflict=conflict.events, status=409
            )
    status = 400 if request.method == "POST" else 200
    return _leg_form_page(request, case, form, leg, status=status)


@sensitive_post_parameters(*LEG_SECRETS)
@sensitive_variables("details")
def leg_new(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = _managed_case(request, reference)
    form = LegForm(
        request.POST or None,
        initial={"version": case.version},
        members=case_selectors.assignable_members(case),
    )
    if case.is_frozen and request.method == "GET":
        messages.warning(
            request, _("This case is frozen as a suspected provocation: no legs can be added.")
        )
    return _leg_form_answer(request, case, form)


@sensitive_post_parameters(*LEG_SECRETS)
@sensitive_variables("details")
def leg_edit(request: AuthenticatedHttpRequest, reference: str, pk: int) -> HttpResponse:
    case = _managed_case(request, reference)
    leg = route_selectors.leg_to_change(request.user, case, pk)
    form = LegForm(
        request.POST or None,
        instance=leg,
        initial={"version": case.version, "number": leg.position},
        members=case_selectors.assignable_members(case),
    )
    case_services.audit_case(case, request.user, Action.ROUTE_VIEWED)
    # The form writes what was typed into `leg`: the service compares a fresh copy.
    fresh = (
        route_selectors.leg_to_change(request.user, case, pk) if request.method == "POST" else leg
    )
    return _leg_form_answer(request, case, form, fresh)


@require_POST
def leg_remove(request: AuthenticatedHttpRequest, reference: str, pk: int) -> HttpResponse:
    case = _managed_case(request, reference)
    leg = route_selectors.leg_to_change(request.user, case, pk)
    version = VersionForm(request.POST)
    if not version.is_valid():
        messages.error(request, OUT_OF_DATE)
        return redirect("casework:case_detail", reference=case.reference)
    try:
        route_services.leg_remove(
            case=case, leg=leg, by=request.user, expected_version=version.cleaned_data["version"]
        )
    except CaseConflict:
        messages.error(request, OUT_OF_DATE)
    else:
        messages.success(request, _("Leg removed."))
    return redirect("casework:case_detail", reference=case.reference)
