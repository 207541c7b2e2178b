"""Opaque references: the only identifiers of cases and requests in URLs and messages."""

import secrets

from django.db import connection
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
    """C-2026-00042: numbered per prefix and year, without gaps between concurrent callers.

    Call it inside the transaction that saves the reference: the counter row stays locked
    until then, and a rollback gives the number back.
    """
    year = timezone.now().year
    number = _count_on(prefix, year)
    if number is None:
        # The year's first: make its counter (get_or_create survives a racing twin).
        ReferenceCounter.objects.get_or_create(prefix=prefix, year=year)
        number = _count_on(prefix, year)
    return f"{prefix}-{year}-{number:05d}"


def _count_on(prefix: str, year: int) -> int | None:
    """The counter moved on and read in one statement (which takes its row lock first);
    None when the year has no counter yet."""
    table, prefix_, year_, last = (
        connection.ops.quote_name(name)
        for name in (ReferenceCounter._meta.db_table, "prefix", "year", "last")
    )
    sql = (
        f"UPDATE {table} SET {last} = {last} + 1 "  # noqa: S608 (names from the model)
        f"WHERE {prefix_} = %s AND {year_} = %s RETURNING {last}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix, year])
        row = cursor.fetchone()
    return None if row is None else row[0]


def new_codename() -> str:
    for _attempt in range(20):
        candidate = f"{secrets.choice(CODENAME_WORDS)}-{secrets.randbelow(9000) + 1000}"
        if not Person.objects.filter(codename=candidate).exists():
            return candidate
    return f"{secrets.choice(CODENAME_WORDS)}-{secrets.token_hex(4)}"
