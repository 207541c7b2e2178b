"""A timeline reads in the reader's language, whoever wrote it and in whichever language:
field names, reminder lines, outcomes and dates ("6 декабря 14:00", never 2026-12-06)."""

import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from casework.event_details import describe
from casework.models import CaseEvent, EventKind, Outcome, Reminder, ReminderKind, Stage
from casework.services import cases as case_services
from casework.services import reminders as reminder_services
from casework.services import retention
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

ISO_DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")
RU_MONTHS_GENITIVE = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]


@pytest.fixture
def case(volunteer, team):
    return CaseFactory(team=team, assignee=volunteer, stage=Stage.SCREENING)


def timeline(client, case, language: str) -> str:
    page = client.get(
        reverse("casework:case_detail", args=[case.reference]), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    match = re.search(r'<ol class="timeline".*?</ol>', page, re.S)
    assert match, "no timeline"
    return match.group(0)


def write_events_in_english(case, volunteer, coordinator) -> datetime:
    """Events written by someone reading English: the stored facts must not be English."""
    due = timezone.localtime().replace(month=12, day=5, hour=14, minute=30) + timedelta(days=365)
    with translation.override("en"):
        case_services.case_update(
            case=case,
            by=volunteer,
            expected_version=case.version,
            changes={"phone": "+7 900 000-00-00", "military_unit": "unit 1"},
        )
        reminder_services.follow_up_set(case=case, by=volunteer, due_at=due, note="")
        follow_up = Reminder.objects.get(case=case, kind=ReminderKind.FOLLOW_UP)
        reminder_services.reminder_snooze(
            reminder=follow_up, by=volunteer, until=due + timedelta(days=1), reason="Busy"
        )
        reminder_services.reminder_dismiss(reminder=follow_up, by=volunteer, reason="Done")
        retention.legal_hold_set(case=case, by=coordinator, reason="Court")
    return due


def test_details_written_in_english_read_in_russian(volunteer_client, case, volunteer, coordinator):
    write_events_in_english(case, volunteer, coordinator)
    russian = timeline(volunteer_client, case, "ru")
    assert not ISO_DATE.search(russian)
    assert "5 декабря 14:30" in russian  # the follow-up's time, the month in the genitive
    assert "6 декабря 14:30" in russian  # snoozed until
    for english in ("Phone", "phone", "Follow-up", "snoozed", "dismissed", "legal hold set"):
        assert english not in russian, english
    # The reminder named for what it asks, not with the stage's word (Сопровождение).
    assert "«связаться снова»: снято" in russian
    assert "Телефон" in russian or "телефон" in russian


def test_the_same_details_read_in_english(volunteer_client, case, volunteer, coordinator):
    write_events_in_english(case, volunteer, coordinator)
    english = timeline(volunteer_client, case, "en")
    assert not ISO_DATE.search(english)
    assert "5 Dec 14:30" in english
    assert "Follow-up snoozed until 6 Dec 14:30" in english
    assert "Follow-up dismissed" in english
    assert "legal hold set" in english


def test_facts_store_codes_not_words(case, volunteer):
    with translation.override("ru"):
        event = case_services.case_update(
            case=case, by=volunteer, expected_version=case.version, changes={"phone": "+7 1"}
        )
    assert event.facts == {"code": "edited", "fields": ["phone"]}
    assert event.detail == ""


def test_an_outcome_is_named_in_the_readers_language(case, coordinator):
    event = CaseEvent.objects.create(
        case=case,
        kind=EventKind.STAGE,
        from_stage=Stage.SCREENING,
        to_stage=Stage.CLOSED,
        facts={"code": "closed", "outcome": Outcome.DETAINED},
    )
    with translation.override("ru"):
        assert describe(event) == str(Outcome.DETAINED.label) != "Detained"
    with translation.override("en"):
        assert describe(event) == "Detained"


def test_old_rows_stay_readable(case):
    """Rows written before the facts: an English message id is translated, a sentence
    stored in Russian is shown as it was, a username as it is."""
    english = CaseEvent.objects.create(
        case=case, kind=EventKind.LEGAL_HOLD, detail="legal hold set"
    )
    russian = CaseEvent.objects.create(case=case, kind=EventKind.EDIT, detail="телефон, почта")
    named = CaseEvent.objects.create(case=case, kind=EventKind.ASSIGNMENT, detail="Note")
    with translation.override("ru"):
        assert describe(english) != "legal hold set"
        assert describe(russian) == "телефон, почта"
        assert describe(named) == "Note"  # a username, never translated


def test_facts_a_message_no_longer_fits_never_break_the_page(volunteer_client, case):
    CaseEvent.objects.create(case=case, kind=EventKind.ROUTE, facts={"code": "leg_added"})
    CaseEvent.objects.create(case=case, kind=EventKind.ROUTE, facts={"code": "gone", "x": 1})
    response = volunteer_client.get(reverse("casework:case_detail", args=[case.reference]))
    assert response.status_code == 200


@pytest.mark.parametrize("month", range(1, 13))
def test_russian_dates_write_the_month_in_the_genitive(month):
    from django.utils import formats

    moment = datetime(2026, month, 5, 8, 38)
    with translation.override("ru"):
        short = formats.date_format(moment, "SHORT_DATETIME_FORMAT")
        full = formats.date_format(moment, "DATETIME_FORMAT")
    assert short == f"5 {RU_MONTHS_GENITIVE[month - 1]} 08:38"
    assert full == f"5 {RU_MONTHS_GENITIVE[month - 1]} 2026 08:38"


def test_no_template_writes_a_month_format_of_its_own():
    """A literal "j M" would show "5 Дек" to a Russian reader: templates name a format."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    formats = re.compile(r"""\|date:["']([^"']*)["']""")
    offenders = [
        f"{path.relative_to(root)}: {used}"
        for path in root.rglob("*.html")
        for used in formats.findall(path.read_text())
        if not used.endswith("_FORMAT") and re.search("[MNFEb]", used)
    ]
    assert offenders == []
