from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.http import AuthenticatedHttpRequest
from destinations import selectors, services
from destinations.forms import DestinationRiskForm
from destinations.models import DestinationRisk
from destinations.permissions import can_edit_register, can_read_register


def _require_read(request: AuthenticatedHttpRequest) -> None:
    if not can_read_register(request.user):
        raise PermissionDenied


def _require_edit(request: AuthenticatedHttpRequest) -> None:
    if not can_edit_register(request.user):
        raise PermissionDenied


def register(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_read(request)
    context = {"entries": selectors.register(), "can_edit": can_edit_register(request.user)}
    return render(request, "destinations/register.html", context)


def entry(request: AuthenticatedHttpRequest, country: str) -> HttpResponse:
    _require_read(request)
    context = {"entry": selectors.entry_for(country), "can_edit": can_edit_register(request.user)}
    return render(request, "destinations/entry.html", context)


def entry_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_edit(request)
    form = DestinationRiskForm(request.POST or None, adding=True)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in services.FIELDS}
        try:
            added = services.destination_add(
                by=request.user, country=form.cleaned_data["country"], **values
            )
        except ValidationError as error:
            form.add_error("country", error)
        else:
            messages.success(request, _("Added to the register."))
            return redirect("destinations:entry", country=added.country)
    status = 400 if request.method == "POST" else 200
    return render(request, "destinations/edit.html", {"form": form, "adding": True}, status=status)


def entry_edit(request: AuthenticatedHttpRequest, country: str) -> HttpResponse:
    _require_edit(request)
    entry = selectors.entry_for(country)
    data = request.POST if request.method == "POST" else None
    form = DestinationRiskForm(data, instance=entry, initial={"version": entry.version})
    conflict = False
    if data and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in services.FIELDS}
        try:
            services.destination_update(
                entry=DestinationRisk.objects.get(pk=entry.pk),
                by=request.user,
                expected_version=form.cleaned_data["version"],
                changes=changes,
            )
        except services.EntryConflict as error:
            conflict = True
            # What was typed stays; the next save goes through on the new version.
            typed = data.copy()
            typed["version"] = str(error.entry.version)
            form.data = typed
            form.add_error(
                None,
                _(
                    "Someone saved this entry since you opened it: nothing was saved. Read it "
                    "again (open it in another tab), then save once more to keep your text."
                ),
            )
        else:
            messages.success(request, _("Saved."))
            return redirect("destinations:entry", country=entry.country)
    status = 409 if conflict else (400 if data else 200)
    context = {"form": form, "entry": entry, "adding": False}
    return render(request, "destinations/edit.html", context, status=status)
