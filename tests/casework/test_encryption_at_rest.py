"""A raw dump of the tables shows none of the personal data written through the app."""

from datetime import date

import pytest
from django.db import connection
from django.utils import timezone

from casework.models import BreakGlass, EventKind, Person
from casework.services.cases import case_note_add, case_update
from casework.services.oversight import case_break_glass
from intake.models import IntakeRequest
from intake.services import intake_accept, intake_log, intake_reject

pytestmark = pytest.mark.django_db

SECRETS = {
    "legal_name": "Fakeperson Testerovich Placeholdov",
    "phone": "+7 900 765-43-21",
    "messenger_handles": "@hidden_otter_77",
    "email": "otter.seventyseven@example.org",
    "current_location": "Nowheregrad, Imaginary street 5",
    "military_unit": "unit 90210-fictional",
    "notes": "Sleeps at a cousin's flat on weekdays",
}
ROUTE = "Night train to Fictionville, then the old bridge"
NOTE = "Promised to call from a neighbour's phone"
MESSAGE = "Summons arrived for the reservist in flat 12"
REASON = "Duplicate of a request logged by phone"


def dump() -> str:
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows)


def test_no_personal_data_in_clear_anywhere_in_the_database(coordinator, team):
    request = intake_log(
        by=coordinator,
        team=team,
        channel="telegram",
        received_at=timezone.now(),
        contact=SECRETS["messenger_handles"],
        message=MESSAGE,
    )
    case = intake_accept(request=request, by=coordinator)
    case_update(
        case=case,
        by=coordinator,
        expected_version=case.version,
        changes={**SECRETS, "birth_date": date(1990, 4, 17), "route_summary": ROUTE},
    )
    case_note_add(case=case, by=coordinator, kind=EventKind.NOTE, text=NOTE)
    rejected = intake_log(
        by=coordinator,
        team=team,
        channel="phone",
        received_at=timezone.now(),
        contact=SECRETS["phone"],
        message=MESSAGE,
    )
    intake_reject(request=rejected, by=coordinator, reason=REASON)

    person = Person.objects.get()
    assert person.legal_name == SECRETS["legal_name"]  # the app still reads it

    text = dump()
    for value in [*SECRETS.values(), ROUTE, NOTE, MESSAGE, REASON, "1990-04-17", "otter"]:
        assert value not in text, value
    for fragment in ("900 765", "79007654321", "Fakeperson", "Fictionville", "hidden_otter"):
        assert fragment not in text
    assert IntakeRequest.objects.count() == 2


def test_break_glass_reasons_are_encrypted(coordinator, other_team):
    from tests.factories import CaseFactory

    case = CaseFactory(team=other_team)
    case_break_glass(
        reference=case.reference,
        by=coordinator,
        reason="Family called our hotline about Fakeperson",
    )
    assert BreakGlass.objects.get().reason.startswith("Family called")
    assert "Fakeperson" not in dump()
