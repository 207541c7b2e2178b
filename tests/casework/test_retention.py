"""Retention: the nightly purge, legal hold and erasure on request."""

import logging
from datetime import date, timedelta

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessEvent, Action
from casework.models import (
    BreakGlass,
    Case,
    CaseEvent,
    EventKind,
    Notification,
    Outcome,
    Person,
    PersonIndex,
    PurgeKind,
    Reminder,
    ReminderKind,
    Stage,
)
from casework.services import retention
from casework.services.cases import (
    case_assign,
    case_note_add,
    case_transition,
    case_update,
)
from casework.services.oversight import case_break_glass
from casework.services.reminders import follow_up_set
from casework.tasks import purge_expired_cases
from intake.models import IntakeIndex, IntakeRequest, TriageState
from intake.selectors import possible_duplicates
from intake.services import intake_accept, intake_log, intake_mark_duplicate, intake_reject
from intake.tasks import purge_expired_requests
from privacy import seal
from privacy.fields import FailClosedMixin, decrypt_bytes
from tests.conftest import verified_client
from tests.factories import CaseFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

RETENTION_DAYS = 30
SECRETS = {
    "legal_name": "Fakeperson Testerovich Placeholdov",
    "phone": "+7 900 765-43-21",
    "messenger_handles": "@hidden_otter_77",
    "email": "otter.seventyseven@example.org",
    "current_location": "Nowheregrad, Imaginary street 5",
    "military_unit": "unit 90210-fictional",
    "notes": "Sleeps at a cousin's flat on weekdays",
}
BIRTH_DATE = date(1990, 4, 17)
ROUTE = "Night train to Fictionville, then the old bridge"
NOTE = "Promised to call from a neighbour's phone"
CHECK_IN = "Reached the safe flat above the bakery"
FOLLOW_UP = "Ask about the sister in Otterburg"
MESSAGE = "Summons arrived for the reservist in flat 12"
REPEAT_MESSAGE = "Writing again from my brother's number"
BREAK_GLASS = "Their coordinator is unreachable and he is at the border"
STEP_BACK = "Crossing postponed, the guard at Fictionville changed shift"
EVERY_SECRET = [
    *SECRETS.values(),
    "1990-04-17",
    ROUTE,
    NOTE,
    CHECK_IN,
    FOLLOW_UP,
    MESSAGE,
    REPEAT_MESSAGE,
    BREAK_GLASS,
    STEP_BACK,
]


@pytest.fixture(autouse=True)
def retention_days(settings):
    settings.RETENTION_DAYS = RETENTION_DAYS


def decrypt(stored: str) -> str:
    """The value in a stored token, without its place (privacy.seal)."""
    return seal.unwrap(decrypt_bytes(stored))[2]


def decrypted_columns() -> str:
    """Every encrypted column of casework and intake, read raw and decrypted: what someone
    holding a dump and the key would find."""
    values = []
    for app in ("casework", "intake"):
        for model in apps.get_app_config(app).get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, FailClosedMixin)]
            if not fields:
                continue
            columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
            table = connection.ops.quote_name(model._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {columns} FROM {table}")  # noqa: S608
                values += [decrypt(value) for row in cursor.fetchall() for value in row if value]
    return "\n".join(values)


def raw_person(person_id: int) -> dict:
    fields = [*SECRETS, "birth_date", "preferred_language", "category", "codename"]
    columns = ", ".join(connection.ops.quote_name(name) for name in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM casework_person WHERE id = %s", [person_id])  # noqa: S608
        return dict(zip(fields, cursor.fetchone(), strict=True))


def fresh(case: Case) -> Case:
    return Case.objects.select_related("person").get(pk=case.pk)


def close(case: Case, by, outcome=Outcome.SAFE, days_ago: int = 0) -> Case:
    case = fresh(case)
    case_transition(
        case=case, to_stage=Stage.CLOSED, by=by, expected_version=case.version, outcome=outcome
    )
    if days_ago:
        age(case, days=days_ago)
    return fresh(case)


def age(case: Case, *, days: int) -> None:
    """Moves the case's closing and everything that happened on it `days` into the past."""
    ago = timedelta(days=days)
    Case.objects.filter(pk=case.pk).update(stage_entered_at=timezone.now() - ago)
    CaseEvent.objects.filter(case=case).update(created_at=F("created_at") - ago)
    Reminder.objects.filter(case=case).update(
        created_at=F("created_at") - ago, sent_at=F("sent_at") - ago
    )
    IntakeRequest.objects.filter(case=case).update(
        received_at=F("received_at") - ago, triaged_at=F("triaged_at") - ago
    )


@pytest.fixture
def other_coordinator(other_team):
    return UserFactory(username="coordinator2", role=Role.COORDINATOR, teams=[other_team])


@pytest.fixture
def lived_case(coordinator, volunteer, team, other_coordinator) -> Case:
    """A case with everything personal a real one gathers, made through the services: the
    request it came from and a repeat one, details, route, notes, a check-in, a follow-up
    with its notification, a step back with a reason and another team's break-glass."""
    now = timezone.now()
    request = intake_log(
        by=volunteer,
        team=team,
        channel="telegram",
        received_at=now,
        contact=SECRETS["messenger_handles"],
        message=MESSAGE,
    )
    case = intake_accept(request=request, by=coordinator)
    case_assign(case=case, assignee=volunteer, by=coordinator, expected_version=case.version)
    case = fresh(case)
    case_update(
        case=case,
        by=volunteer,
        expected_version=case.version,
        changes={
            **SECRETS,
            "birth_date": BIRTH_DATE,
            "route_summary": ROUTE,
            "destination_country": "GE",
            "flag_wanted": True,
            "flag_health": True,
        },
    )
    case = fresh(case)
    case_transition(
        case=case, to_stage=Stage.SCREENING, by=volunteer, expected_version=case.version
    )
    case = fresh(case)
    case_transition(
        case=case,
        to_stage=Stage.NEW,
        by=volunteer,
        expected_version=case.version,
        reason=STEP_BACK,
    )
    case = fresh(case)
    case_note_add(case=case, by=volunteer, kind=EventKind.NOTE, text=NOTE)
    case_note_add(case=case, by=volunteer, kind=EventKind.CHECK_IN, text=CHECK_IN)
    reminder = follow_up_set(
        case=case, by=volunteer, due_at=now + timedelta(days=1), note=FOLLOW_UP
    )
    Notification.objects.create(
        user=volunteer, reminder=reminder, kind=ReminderKind.FOLLOW_UP, subject=case.reference
    )
    repeat = intake_log(
        by=volunteer,
        team=team,
        channel="phone",
        received_at=now,
        contact=SECRETS["phone"],
        message=REPEAT_MESSAGE,
    )
    intake_mark_duplicate(request=repeat, reference=case.reference, by=coordinator)
    case_break_glass(reference=case.reference, by=other_coordinator, reason=BREAK_GLASS)
    return fresh(case)


# --- The nightly purge -----------------------------------------------------------------


def test_a_case_closed_longer_than_the_retention_period_loses_everything_personal(
    lived_case, coordinator
):
    case = close(lived_case, coordinator)
    before = decrypted_columns()
    assert all(secret in before for secret in EVERY_SECRET)  # the check can see them

    with time_machine.travel(timezone.now() + timedelta(days=RETENTION_DAYS + 1)):
        assert purge_expired_cases.apply().get() == 1

    after = decrypted_columns()
    leaked = [secret for secret in EVERY_SECRET if secret in after]
    assert not leaked
    person = raw_person(case.person_id)
    assert person["birth_date"] is None
    for name in SECRETS:
        assert person[name] == "", name  # blanked: no token, nothing to decrypt
    case.refresh_from_db()
    assert case.is_purged
    assert case.purge_kind == PurgeKind.RETENTION
    assert case.route_summary == ""
    assert case.destination_country == ""
    assert not case.risk_flags
    assert not PersonIndex.objects.filter(person_id=case.person_id).exists()
    assert not IntakeIndex.objects.filter(request__case=case).exists()
    assert IntakeRequest.objects.filter(case=case, purged_at__isnull=False).count() == 2
    assert not Reminder.objects.filter(case=case).exists()
    assert not Notification.objects.filter(subject=case.reference).exists()
    assert BreakGlass.objects.get(case=case).reason == ""
    assert Person.objects.get(pk=case.person_id).purged_at is not None


def test_a_purged_person_is_no_longer_found_at_triage(lived_case, coordinator, volunteer, team):
    close(lived_case, coordinator, days_ago=RETENTION_DAYS + 1)
    retention.purge_expired_cases()
    for contact in (SECRETS["messenger_handles"], SECRETS["phone"]):
        again = intake_log(
            by=volunteer, team=team, channel="phone", received_at=timezone.now(), contact=contact
        )
        found = possible_duplicates(again)
        assert found["cases"] == []
        assert [request.reference for request in found["requests"]] == [], contact


def test_the_purge_keeps_anonymous_statistics(lived_case, coordinator, volunteer, team):
    case = close(lived_case, coordinator, days_ago=RETENTION_DAYS + 1)
    stages_before = list(
        case.events.filter(kind=EventKind.STAGE).values_list("created_at", "from_stage", "to_stage")
    )
    retention.purge_expired_cases()
    case = fresh(case)
    assert case.stage == Stage.CLOSED
    assert case.outcome == Outcome.SAFE
    assert case.team == team
    assert case.assignee == volunteer
    assert case.person.codename == lived_case.person.codename
    assert case.person.category == lived_case.person.category
    stages_after = list(
        case.events.filter(kind=EventKind.STAGE).values_list("created_at", "from_stage", "to_stage")
    )
    assert stages_after == stages_before
    assert all(event.text == "" for event in case.events.all())
    kinds = set(case.events.values_list("kind", flat=True))
    assert not kinds & {EventKind.NOTE, EventKind.CHECK_IN, EventKind.REMINDER, EventKind.EDIT}
    assert EventKind.ANONYMISED in kinds
    requests = IntakeRequest.objects.filter(case=case).order_by("pk")
    assert [(r.channel, r.state) for r in requests] == [
        ("telegram", TriageState.ACCEPTED),
        ("phone", TriageState.DUPLICATE),
    ]


def test_a_case_closed_less_than_the_retention_period_ago_is_untouched(lived_case, coordinator):
    case = close(lived_case, coordinator, days_ago=RETENTION_DAYS - 1)
    assert retention.purge_expired_cases() == 0
    case = fresh(case)
    assert not case.is_purged
    assert case.person.legal_name == SECRETS["legal_name"]
    assert case.route_summary == ROUTE
    assert PersonIndex.objects.filter(person_id=case.person_id).exists()


def test_open_cases_are_never_purged(lived_case):
    Case.objects.filter(pk=lived_case.pk).update(
        stage_entered_at=timezone.now() - timedelta(days=RETENTION_DAYS * 10)
    )
    assert retention.purge_expired_cases() == 0
    assert fresh(lived_case).person.phone == SECRETS["phone"]


def test_a_case_on_legal_hold_is_untouched_until_the_hold_is_lifted(lived_case, coordinator):
    case = close(lived_case, coordinator, days_ago=RETENTION_DAYS + 100)
    retention.legal_hold_set(case=case, by=coordinator, reason="Appeal hearing in March")
    assert retention.purge_expired_cases() == 0
    assert fresh(case).person.legal_name == SECRETS["legal_name"]
    assert NOTE in decrypted_columns()

    retention.legal_hold_lift(case=fresh(case), by=coordinator, reason="Appeal decided")
    assert retention.purge_expired_cases() == 1
    assert fresh(case).is_purged


def test_the_task_is_idempotent(lived_case, coordinator):
    case = close(lived_case, coordinator, days_ago=RETENTION_DAYS + 1)
    assert purge_expired_cases.apply().get() == 1
    version = fresh(case).version
    assert purge_expired_cases.apply().get() == 0
    assert retention.case_purge(case_id=case.pk) is False
    assert fresh(case).version == version
    purges = AccessEvent.objects.filter(action=Action.CASE_PURGED, target_ref=case.reference)
    assert purges.count() == 1
    assert case.events.filter(kind=EventKind.ANONYMISED).count() == 1


def test_the_purge_is_audited_without_an_actor(lived_case, coordinator):
    case = close(lived_case, coordinator, days_ago=RETENTION_DAYS + 1)
    retention.purge_expired_cases()
    event = AccessEvent.objects.get(action=Action.CASE_PURGED, target_ref=case.reference)
    assert event.actor is None
    assert event.team_id == case.team_id


def test_the_log_says_how_many_and_nothing_else(lived_case, coordinator, caplog):
    case = close(lived_case, coordinator, days_ago=RETENTION_DAYS + 1)
    with caplog.at_level(logging.INFO, logger="casework.services.retention"):
        retention.purge_expired_cases()
    assert "1 cases purged, 0 failed" in caplog.text
    assert case.reference not in caplog.text
    assert not [secret for secret in EVERY_SECRET if secret in caplog.text]


def test_purging_in_batches_takes_every_expired_case(coordinator, team):
    old = timezone.now() - timedelta(days=RETENTION_DAYS + 1)
    cases = [
        CaseFactory(team=team, stage=Stage.CLOSED, outcome=Outcome.SAFE, stage_entered_at=old)
        for _ in range(5)
    ]
    assert retention.purge_expired_cases(batch=2) == 5
    assert Case.objects.filter(pk__in=[c.pk for c in cases], purged_at__isnull=True).count() == 0


def test_a_case_that_fails_is_named_and_left_for_the_next_night(
    coordinator, team, monkeypatch, caplog
):
    old = timezone.now() - timedelta(days=RETENTION_DAYS + 1)
    broken, fine = (
        CaseFactory(team=team, stage=Stage.CLOSED, outcome=Outcome.SAFE, stage_entered_at=old)
        for _ in range(2)
    )
    purge = retention.case_purge

    def failing(*, case_id, now=None):
        if case_id == broken.pk:
            raise RuntimeError("disk full")
        return purge(case_id=case_id, now=now)

    monkeypatch.setattr(retention, "case_purge", failing)
    with caplog.at_level(logging.INFO, logger="casework.services.retention"):
        assert retention.purge_expired_cases(batch=1) == 1
    assert fresh(fine).is_purged and not fresh(broken).is_purged
    assert f"purging {broken.reference} failed (RuntimeError)" in caplog.text
    assert "1 cases purged, 1 failed" in caplog.text
    assert "disk full" not in caplog.text


def test_a_person_with_another_live_case_keeps_their_details_until_it_is_purged(coordinator, team):
    person = PersonFactory(legal_name=SECRETS["legal_name"], phone=SECRETS["phone"])
    PersonIndex.objects.create(person=person, kind="phone", digest="d" * 64)
    old = timezone.now() - timedelta(days=RETENTION_DAYS + 1)
    first = CaseFactory(
        person=person, team=team, stage=Stage.CLOSED, outcome=Outcome.SAFE, stage_entered_at=old
    )
    second = CaseFactory(person=person, team=team, stage=Stage.PLANNING)

    assert retention.purge_expired_cases() == 1
    assert fresh(first).is_purged
    person.refresh_from_db()
    assert person.legal_name == SECRETS["legal_name"]  # still needed by the open case
    assert PersonIndex.objects.filter(person=person).exists()

    close(second, coordinator, days_ago=RETENTION_DAYS + 1)
    assert retention.purge_expired_cases() == 1
    person.refresh_from_db()
    assert person.legal_name == ""
    assert person.purged_at is not None
    assert not PersonIndex.objects.filter(person=person).exists()


def test_beat_runs_both_purges_every_night(settings):
    from config.celery import app

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"casework.tasks.purge_expired_cases", "intake.tasks.purge_expired_requests"} <= tasks
    app.loader.import_default_modules()
    assert {"casework.tasks.purge_expired_cases", "intake.tasks.purge_expired_requests"} <= set(
        app.tasks
    )


# --- Requests that never became a case -------------------------------------------------


def test_a_rejected_request_is_purged_after_the_retention_period(volunteer, coordinator, team):
    request = intake_log(
        by=volunteer,
        team=team,
        channel="signal",
        received_at=timezone.now(),
        contact=SECRETS["phone"],
        message=MESSAGE,
    )
    intake_reject(request=request, by=coordinator, reason="Asked about a different country")
    waiting = intake_log(
        by=volunteer, team=team, channel="phone", received_at=timezone.now(), contact="@untriaged"
    )
    assert purge_expired_requests.apply().get() == 0

    with time_machine.travel(timezone.now() + timedelta(days=RETENTION_DAYS + 1)):
        assert purge_expired_requests.apply().get() == 1
        assert purge_expired_requests.apply().get() == 0

    request.refresh_from_db()
    assert (request.contact, request.message, request.rejection_reason) == ("", "", "")
    assert (request.channel, request.state, request.team) == ("signal", "rejected", team)
    assert request.purged_at is not None
    assert not IntakeIndex.objects.filter(request=request).exists()
    waiting.refresh_from_db()
    assert waiting.contact == "@untriaged"  # nobody decided yet: it waits for triage
    event = AccessEvent.objects.get(action=Action.CASE_PURGED, target_ref=request.reference)
    assert event.actor is None


def test_a_request_of_an_open_case_stays_with_the_case(lived_case):
    with time_machine.travel(timezone.now() + timedelta(days=RETENTION_DAYS * 3)):
        assert purge_expired_requests.apply().get() == 0
    assert IntakeRequest.objects.filter(case=lived_case, purged_at__isnull=True).count() == 2


# --- Legal hold ------------------------------------------------------------------------


def hold_url(case: Case) -> str:
    return reverse("casework:case_legal_hold", args=[case.reference])


def erase_url(case: Case) -> str:
    return reverse("casework:case_erase", args=[case.reference])


def test_a_coordinator_sets_a_legal_hold_with_an_encrypted_reason(
    lived_case, coordinator, coordinator_client
):
    reason = "Lawyer Fictionson needs the file for the extradition hearing"
    assert coordinator_client.get(hold_url(lived_case)).status_code == 200
    response = coordinator_client.post(hold_url(lived_case), {"action": "set", "reason": reason})
    assert response.status_code == 302
    case = fresh(lived_case)
    assert case.on_legal_hold
    assert case.legal_hold_by == coordinator
    assert case.legal_hold_reason == reason
    with connection.cursor() as cursor:
        cursor.execute("SELECT legal_hold_reason FROM casework_case WHERE id = %s", [case.pk])
        assert "Fictionson" not in cursor.fetchone()[0]
    event = AccessEvent.objects.get(action=Action.LEGAL_HOLD, target_ref=case.reference)
    assert (event.actor, event.reason) == (coordinator, f"set: {reason}")
    page = coordinator_client.get(reverse("casework:case_detail", args=[case.reference]))
    assert "On legal hold since" in page.content.decode()
    assert "Fictionson" in page.content.decode()


def test_a_coordinator_lifts_the_hold_and_its_reason_goes(lived_case, coordinator_client):
    coordinator_client.post(hold_url(lived_case), {"action": "set", "reason": "Hearing"})
    response = coordinator_client.post(
        hold_url(lived_case), {"action": "lift", "reason": "Hearing over"}
    )
    assert response.status_code == 302
    case = fresh(lived_case)
    assert not case.on_legal_hold
    assert case.legal_hold_reason == ""
    reasons = AccessEvent.objects.filter(action=Action.LEGAL_HOLD).order_by("seq")
    assert [event.reason for event in reasons] == ["set: Hearing", "lifted: Hearing over"]


def test_setting_the_hold_twice_does_not_lift_it(lived_case, coordinator_client):
    coordinator_client.post(hold_url(lived_case), {"action": "set", "reason": "Hearing"})
    again = coordinator_client.post(hold_url(lived_case), {"action": "set", "reason": "Again"})
    assert again.status_code == 400
    assert "already on legal hold" in again.content.decode()
    assert fresh(lived_case).on_legal_hold


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_hold_without_a_reason_is_refused_with_a_clear_message(
    lived_case, coordinator_client, reason
):
    response = coordinator_client.post(hold_url(lived_case), {"action": "set", "reason": reason})
    assert response.status_code == 400
    assert "Give a reason" in response.content.decode()
    assert not fresh(lived_case).on_legal_hold


def test_bad_input_never_breaks_the_hold_page(lived_case, coordinator_client):
    response = coordinator_client.post(hold_url(lived_case), {"action": "explode", "reason": "x"})
    assert response.status_code == 400
    assert not fresh(lived_case).on_legal_hold


def test_a_volunteer_cannot_set_a_legal_hold_or_erase(lived_case, volunteer_client):
    for url in (hold_url(lived_case), erase_url(lived_case)):
        assert volunteer_client.get(url).status_code == 403
        data = {"action": "set", "reason": "I think so", "confirm": "on"}
        assert volunteer_client.post(url, data).status_code == 403
    case = fresh(lived_case)
    assert not case.on_legal_hold
    assert not case.is_purged


def test_a_coordinator_of_another_team_gets_404(lived_case, other_team):
    client = verified_client(UserFactory(role=Role.COORDINATOR, teams=[other_team]))
    for url in (hold_url(lived_case), erase_url(lived_case)):
        assert client.get(url).status_code == 404
        data = {"action": "set", "reason": "Curious", "confirm": "on"}
        assert client.post(url, data).status_code == 404
    assert not fresh(lived_case).on_legal_hold


def test_break_glass_reads_but_cannot_hold_or_erase(lived_case, other_coordinator):
    client = verified_client(other_coordinator)  # opened the case with break-glass
    for url in (hold_url(lived_case), erase_url(lived_case)):
        data = {"action": "set", "reason": "Curious", "confirm": "on"}
        assert client.post(url, data).status_code == 403
    case = fresh(lived_case)
    assert not case.on_legal_hold
    assert not case.is_purged


def test_the_case_page_offers_hold_and_erasure_to_coordinators_only(
    lived_case, coordinator_client, volunteer_client
):
    detail = reverse("casework:case_detail", args=[lived_case.reference])
    page = coordinator_client.get(detail).content.decode()
    assert hold_url(lived_case) in page
    assert erase_url(lived_case) in page
    page = volunteer_client.get(detail).content.decode()
    assert hold_url(lived_case) not in page
    assert erase_url(lived_case) not in page


# --- Erasure on request ----------------------------------------------------------------


def test_the_confirmation_page_says_what_will_be_deleted(lived_case, coordinator_client):
    response = coordinator_client.get(erase_url(lived_case))
    assert response.status_code == 200
    page = response.content.decode()
    assert "What will be deleted" in page
    assert "What stays" in page
    assert "4 notes, check-ins, contacts and changes" in page  # note, check-in, edit, follow-up
    assert "The contacts and messages of 2 incoming requests" in page
    assert "it will be closed with the outcome" in page
    assert SECRETS["legal_name"] not in page  # the page itself shows nothing personal
    assert not fresh(lived_case).is_purged  # looking is not erasing


def test_erasure_closes_an_open_case_and_leaves_nothing_personal(
    lived_case, coordinator, coordinator_client
):
    response = coordinator_client.post(
        erase_url(lived_case), {"reason": "Asked by Signal on 3 May", "confirm": "on"}
    )
    assert response.status_code == 302
    case = fresh(lived_case)
    assert (case.stage, case.outcome) == (Stage.CLOSED, Outcome.WITHDREW)
    assert case.purge_kind == PurgeKind.ERASURE
    assert not [secret for secret in EVERY_SECRET if secret in decrypted_columns()]
    assert not PersonIndex.objects.filter(person_id=case.person_id).exists()
    erased = AccessEvent.objects.get(action=Action.CASE_ERASED, target_ref=case.reference)
    assert (erased.actor, erased.reason) == (coordinator, "Asked by Signal on 3 May")
    assert AccessEvent.objects.filter(action=Action.CASE_MOVED, target_ref=case.reference).exists()

    page = coordinator_client.get(response.url).content.decode()
    assert "Anonymised on" in page
    assert "Erased at the person&#x27;s request" in page
    assert not [secret for secret in EVERY_SECRET if secret in page]
    edit = reverse("casework:case_edit", args=[case.reference])
    assert coordinator_client.get(edit).status_code == 403
    assert coordinator_client.get(erase_url(case)).status_code == 403


def test_erasure_works_on_a_closed_case_and_keeps_its_outcome(lived_case, coordinator):
    case = close(lived_case, coordinator, outcome=Outcome.DETAINED)
    assert retention.case_erase(case=case, by=coordinator, reason="Asked by phone") == [
        case.reference
    ]
    case = fresh(case)
    assert case.outcome == Outcome.DETAINED
    assert case.person.legal_name == ""


def test_erasure_is_refused_under_legal_hold(lived_case, coordinator, coordinator_client):
    retention.legal_hold_set(case=lived_case, by=coordinator, reason="Hearing")
    page = coordinator_client.get(erase_url(lived_case))
    assert page.status_code == 200
    assert "cannot be erased until a coordinator lifts the hold" in page.content.decode()
    assert 'name="confirm"' not in page.content.decode()
    response = coordinator_client.post(
        erase_url(lived_case), {"reason": "Asked by phone", "confirm": "on"}
    )
    assert response.status_code == 400
    assert "cannot be erased until a coordinator lifts the hold" in response.content.decode()
    case = fresh(lived_case)
    assert not case.is_purged
    assert case.person.legal_name == SECRETS["legal_name"]
    assert not AccessEvent.objects.filter(action=Action.CASE_ERASED).exists()


def test_erasure_without_a_reason_says_so_and_keeps_the_confirmation(
    lived_case, coordinator_client
):
    response = coordinator_client.post(erase_url(lived_case), {"reason": "", "confirm": "on"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give the reason for the erasure" in page
    assert "checked" in page
    assert not fresh(lived_case).is_purged


def test_erasure_without_the_confirmation_says_so_and_keeps_the_reason(
    lived_case, coordinator_client
):
    response = coordinator_client.post(erase_url(lived_case), {"reason": "Asked by phone"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Confirm that the person asked for this themselves" in page
    assert "Asked by phone" in page
    assert not fresh(lived_case).is_purged


def test_erasure_covers_the_persons_other_case_in_the_same_team(coordinator, team):
    person = PersonFactory(legal_name=SECRETS["legal_name"])
    first = CaseFactory(person=person, team=team, stage=Stage.CLOSED, outcome=Outcome.SAFE)
    second = CaseFactory(person=person, team=team, stage=Stage.SCREENING)
    erased = retention.case_erase(case=fresh(first), by=coordinator, reason="Asked by phone")
    assert erased == [first.reference, second.reference]
    assert fresh(second).outcome == Outcome.WITHDREW
    assert fresh(second).is_purged
    person.refresh_from_db()
    assert person.legal_name == ""


def test_erasure_leaves_another_teams_case_and_the_details_it_needs(
    coordinator, coordinator_client, team, other_team
):
    person = PersonFactory(legal_name=SECRETS["legal_name"])
    mine = CaseFactory(person=person, team=team, stage=Stage.PLANNING)
    theirs = CaseFactory(person=person, team=other_team, stage=Stage.PLANNING)
    page = coordinator_client.get(erase_url(mine)).content.decode()
    assert theirs.reference in page
    assert "until that team" in page
    assert retention.case_erase(case=fresh(mine), by=coordinator, reason="Asked") == [
        mine.reference
    ]
    assert fresh(mine).is_purged
    assert not fresh(theirs).is_purged
    person.refresh_from_db()
    assert person.legal_name == SECRETS["legal_name"]


def test_a_purged_case_can_no_longer_be_worked(lived_case, coordinator, volunteer):
    retention.case_erase(case=lived_case, by=coordinator, reason="Asked by phone")
    case = fresh(lived_case)
    with pytest.raises(PermissionDenied):
        case_note_add(case=case, by=volunteer, kind=EventKind.NOTE, text="Back again")
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.NOTE).exists()


def test_a_note_from_a_page_opened_before_the_erasure_is_refused(lived_case, coordinator):
    stale = Case.objects.get(pk=lived_case.pk)  # loaded before the erasure, as a form was
    retention.case_erase(case=lived_case, by=coordinator, reason="Asked by phone")
    with pytest.raises(PermissionDenied):
        case_note_add(case=stale, by=coordinator, kind=EventKind.NOTE, text="New address")
    assert not CaseEvent.objects.filter(case=lived_case, kind=EventKind.NOTE).exists()


# --- Route legs and the provocation flag --------------------------------------------------

LEG_SECRETS = {
    "origin": "Fictionville bus station",
    "destination": "Otterburg old bridge",
    "means": "Blue minibus of a cousin",
    "contact": "Driver Pavel, +7 900 222-33-44",
    "safe_house": "Flat above the Otterburg bakery",
    "notes": "Knock twice, ask for Lena",
}
SUSPICION = "Wanted the safe house address before anything else"


def test_the_purge_removes_route_legs_and_the_provocation_reason(lived_case, coordinator):
    from casework.models import RouteLeg
    from casework.services.oversight import provocation_flag

    RouteLeg.objects.create(case=lived_case, position=1, volunteer=coordinator, **LEG_SECRETS)
    case = provocation_flag(case=fresh(lived_case), by=coordinator, reason=SUSPICION)
    close(case, coordinator, outcome=Outcome.PROVOCATION, days_ago=RETENTION_DAYS + 1)
    before = decrypted_columns()
    assert all(secret in before for secret in [*LEG_SECRETS.values(), SUSPICION])
    assert retention.purge_expired_cases() == 1
    after = decrypted_columns()
    assert not [secret for secret in [*LEG_SECRETS.values(), SUSPICION] if secret in after]
    assert not RouteLeg.objects.filter(case=case).exists()
    # The contacts the request and the details gave stay findable; nothing else does.
    kinds = set(PersonIndex.objects.filter(person_id=case.person_id).values_list("kind", flat=True))
    assert kinds == {"phone", "handle", "email"}


def test_an_erasure_of_a_frozen_open_case_is_refused_with_the_reason(
    lived_case, coordinator, coordinator_client
):
    from casework.services.oversight import provocation_flag

    provocation_flag(case=fresh(lived_case), by=coordinator, reason=SUSPICION)
    response = coordinator_client.post(
        reverse("casework:case_erase", args=[lived_case.reference]),
        {"reason": "Asked on Signal", "confirm": "on"},
    )
    assert response.status_code == 400
    assert "frozen as a suspected provocation" in response.content.decode()
    assert not fresh(lived_case).is_purged


# The retention clock runs from the last work on a case, not from its closing ---------------

AGAIN = "Writing again: the asylum interview is next week"


def writes_again(volunteer, team, channel="telegram", contact=SECRETS["messenger_handles"]):
    """The person of the lived case writes again, from a contact on file."""
    return intake_log(
        by=volunteer,
        team=team,
        channel=channel,
        received_at=timezone.now(),
        contact=contact,
        message=AGAIN,
    )


def purges_after(days: int) -> int:
    """What the nightly purge takes `days` from now."""
    with time_machine.travel(timezone.now() + timedelta(days=days)):
        return retention.purge_expired_cases()


def test_a_request_attached_to_a_case_closed_long_ago_reopens_it_and_nothing_is_purged(
    lived_case, coordinator, volunteer, team, coordinator_client
):
    """The operator's report: the person wrote again, triage attached the request to their
    old closed case, a contact and a follow-up were logged, and the next purge wiped it all."""
    case = close(lived_case, coordinator, days_ago=RETENTION_DAYS + 100)
    again = writes_again(volunteer, team)
    page = coordinator_client.get(reverse("intake:detail", args=[again.reference]))
    assert "Attach and reopen this case" in page.content.decode()

    response = coordinator_client.post(
        reverse("intake:detail", args=[again.reference]),
        {"action": "attach", "case_reference": case.reference},
        follow=True,
    )

    assert "it is open again, in New" in response.content.decode()
    case = fresh(case)
    assert (case.stage, case.outcome) == (Stage.NEW, "")
    reopened = case.events.get(kind=EventKind.STAGE, from_stage=Stage.CLOSED)
    assert (reopened.to_stage, reopened.detail) == (Stage.NEW, again.reference)
    moved = AccessEvent.objects.filter(action=Action.CASE_MOVED, target_ref=case.reference)
    assert moved.latest("seq").reason == f"reopened by {again.reference}"
    case_note_add(case=case, by=coordinator, kind=EventKind.CONTACT, text=NOTE)
    follow_up_set(
        case=case, by=coordinator, due_at=timezone.now() + timedelta(days=3), note=FOLLOW_UP
    )

    assert retention.purge_expired_cases() == 0
    assert purge_expired_requests.apply().get() == 0
    case = fresh(case)
    assert not case.is_purged
    assert case.person.legal_name == SECRETS["legal_name"]
    assert IntakeRequest.objects.get(pk=again.pk).message == AGAIN
    assert case.events.filter(kind=EventKind.CONTACT).exists()
    assert case.reminders.filter(kind=ReminderKind.FOLLOW_UP, state="pending").exists()


def test_work_on_a_closed_case_restarts_its_retention_clock(lived_case, coordinator):
    case = close(lived_case, coordinator, days_ago=RETENTION_DAYS + 100)
    case_note_add(case=case, by=coordinator, kind=EventKind.CONTACT, text=NOTE)

    assert retention.purge_expired_cases() == 0
    assert purges_after(RETENTION_DAYS - 1) == 0
    assert fresh(case).person.phone == SECRETS["phone"]
    assert purges_after(RETENTION_DAYS + 1) == 1
    assert fresh(case).person.phone == ""


def test_a_follow_up_set_after_the_closing_keeps_the_case_until_it_is_sent_and_past(
    lived_case, coordinator
):
    case = close(lived_case, coordinator, days_ago=RETENTION_DAYS + 100)
    reminder = follow_up_set(
        case=case,
        by=coordinator,
        due_at=timezone.now() + timedelta(days=RETENTION_DAYS * 2),
        note=FOLLOW_UP,
    )
    # Still pending long after it was set: the purge waits for it.
    assert purges_after(RETENTION_DAYS + 10) == 0
    sent = timezone.now() + timedelta(days=RETENTION_DAYS * 2)
    Reminder.objects.filter(pk=reminder.pk).update(state="sent", sent_at=sent)
    assert purges_after(RETENTION_DAYS * 3 - 1) == 0
    assert purges_after(RETENTION_DAYS * 3 + 1) == 1


def test_a_repeat_request_marked_as_a_duplicate_restarts_the_clock(
    lived_case, coordinator, volunteer, team
):
    case = close(lived_case, coordinator, days_ago=RETENTION_DAYS + 100)
    again = writes_again(volunteer, team, channel="phone", contact=SECRETS["phone"])
    intake_mark_duplicate(request=again, reference=case.reference, by=coordinator)
    assert fresh(case).is_closed
    assert retention.purge_expired_cases() == 0
    assert purges_after(RETENTION_DAYS + 1) == 1


def test_a_case_closed_as_a_provocation_is_not_reopened_by_a_request(
    lived_case, coordinator, volunteer, team, coordinator_client
):
    case = close(lived_case, coordinator, outcome=Outcome.PROVOCATION)
    again = writes_again(volunteer, team)
    response = coordinator_client.post(
        reverse("intake:detail", args=[again.reference]),
        {"action": "attach", "case_reference": case.reference},
    )
    assert response.status_code == 400
    assert "stays closed: mark the request as its duplicate" in response.content.decode()
    assert fresh(case).is_closed
    assert IntakeRequest.objects.get(pk=again.pk).state == TriageState.NEW


def test_the_case_page_says_from_when_a_closed_case_is_purged(lived_case, coordinator_client):
    coordinator = lived_case.coordinator or lived_case.team.memberships.first().user
    case = close(lived_case, coordinator, days_ago=10)
    due = timezone.localtime(timezone.now() + timedelta(days=RETENTION_DAYS - 10))
    page = coordinator_client.get(reverse("casework:case_detail", args=[case.reference]))
    assert f"its personal data is purged from {due.day} {due:%b %Y}" in page.content.decode()
