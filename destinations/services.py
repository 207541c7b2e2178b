"""Changes to the destination-risk register: coordinators only, audited, version-checked."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.log import record
from audit.models import Action
from destinations.models import DestinationRisk
from destinations.permissions import can_edit_register

FIELDS = ("extradites", "incidents", "passport_needed", "notes")


class EntryConflict(Exception):
    """Someone saved the entry since the form was opened."""

    def __init__(self, entry: DestinationRisk):
        super().__init__(f"{entry.country} changed since it was opened")
        self.entry = entry


def _audit(entry: DestinationRisk, by: User) -> None:
    record(Action.DESTINATION_CHANGED, actor=by, target_type="country", target_ref=entry.country)


def destination_add(*, by: User, country: str, **values) -> DestinationRisk:
    """A new country in the register; refused if it is there already."""
    if not can_edit_register(by):
        raise PermissionDenied
    entry = DestinationRisk(country=country.upper(), updated_by=by, updated_at=timezone.now())
    for name, value in values.items():
        if name not in FIELDS:
            raise ValueError(f"not a register field: {name}")
        setattr(entry, name, value)
    try:
        with transaction.atomic():
            entry.save()
            _audit(entry, by)
    except IntegrityError:
        raise ValidationError(
            _("%(country)s is in the register already: edit it instead.") % {"country": country},
            code="exists",
        ) from None
    return entry


@transaction.atomic
def destination_update(
    *, entry: DestinationRisk, by: User, expected_version: int, changes: dict
) -> DestinationRisk:
    """Saves changed fields of an entry, if nobody saved it since `expected_version`."""
    if not can_edit_register(by):
        raise PermissionDenied
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValueError(f"not register fields: {sorted(unknown)}")
    claimed = DestinationRisk.objects.filter(pk=entry.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now(), updated_by=by
    )
    if not claimed:
        raise EntryConflict(DestinationRisk.objects.get(pk=entry.pk))
    for name, value in changes.items():
        setattr(entry, name, value)
    entry.save(update_fields=list(changes))
    entry.refresh_from_db(fields=["version", "updated_at", "updated_by"])
    _audit(entry, by)
    return entry
