"""Reads of the destination-risk register."""

from django.db.models import QuerySet
from django.http import Http404

from destinations.models import DestinationRisk


def register() -> QuerySet[DestinationRisk]:
    """Every entry, by country code; the list page reads no encrypted column."""
    return DestinationRisk.objects.select_related("updated_by").only(
        "country", "extradites", "version", "updated_at", "updated_by__username"
    )


def entry_for(country: str) -> DestinationRisk:
    """One entry by its country code, or 404."""
    entry = None
    if len(country) == 2:
        entry = (
            DestinationRisk.objects.select_related("updated_by")
            .filter(country=country.upper())
            .first()
        )
    if entry is None:
        raise Http404
    return entry


def warning_for(country: str, *, wanted: bool) -> DestinationRisk | None:
    """The entry planning must warn about: a wanted person and a country marked as
    extraditing. None when there is nothing to warn about."""
    if not wanted or not country:
        return None
    entry = DestinationRisk.objects.filter(country=country.upper()).only("country", "extradites")
    found = entry.first()
    return found if found is not None and found.warns else None
