"""Opaque references: the only identifiers of cases and requests in URLs and messages."""

import secrets

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from casework.models import Person, ReferenceCounter

CASE_PREFIX = "C"
REQUEST_PREFIX = "R"

# Codenames are what people say aloud about a case: short, neutral, never derived from
# anything about the person.
CODENAME_WORDS = (
    "Alder", "Aspen", "Birch", "Cedar", "Elm", "Fir", "Hazel", "Juniper", "Larch", "Linden",
    "Maple", "Oak", "Pine", "Rowan", "Spruce", "Willow", "Amber", "Cobalt", "Coral", "Indigo",
    "Jade", "Onyx", "Opal", "Quartz", "Slate", "Topaz", "Falcon", "Heron", "Kestrel", "Lark",
    "Merlin", "Osprey", "Plover", "Raven", "Swift", "Wren", "Brook", "Delta", "Fjord", "Glacier",
    "Harbor", "Lagoon", "Meadow", "Prairie", "Ridge", "Summit", "Tundra", "Valley",
)  # fmt: skip


def next_reference(prefix: str) -> str:
    """C-2026-00042: numbered per prefix and year, without gaps between concurrent callers."""
    year = timezone.now().year
    for _attempt in range(3):
        try:
            with transaction.atomic():
                counter, _created = ReferenceCounter.objects.select_for_update().get_or_create(
                    prefix=prefix, year=year
                )
                ReferenceCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
                counter.refresh_from_db(fields=["last"])
                return f"{prefix}-{year}-{counter.last:05d}"
        except IntegrityError:
            continue  # two first-of-the-year callers raced to create the counter
    raise RuntimeError("could not allocate a reference")


def new_codename() -> str:
    for _attempt in range(20):
        candidate = f"{secrets.choice(CODENAME_WORDS)}-{secrets.randbelow(9000) + 1000}"
        if not Person.objects.filter(codename=candidate).exists():
            return candidate
    return f"{secrets.choice(CODENAME_WORDS)}-{secrets.token_hex(4)}"
