import itertools
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.db.utils import DatabaseError
from django.urls import reverse
from django.utils import timezone

from audit import log
from audit.models import AccessEvent, Action, ChainHead, InsiderAlert
from casework import scheduling
from casework.models import EventKind, Notification, Stage
from casework.services import cases as case_services
from casework.services import oversight
from casework.services import reminders as reminder_services
from intake.services import intake_accept, intake_log
from privacy.fields import bound_to
from tests.concurrency import needs_postgres, run_together
from tests.conftest import as_database_owner, current_code, verified_client
from tests.factories import PASSWORD, AuthenticatorFactory, CaseFactory

pytestmark = pytest.mark.django_db


def count(action, **filters) -> int:
    return AccessEvent.objects.filter(action=action, **filters).count()


@pytest.fixture
def case(volunteer, coordinator, team):
    return CaseFactory(team=team, assignee=volunteer, coordinator=coordinator)


def test_sign_in_steps_are_each_recorded_once(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    client.post(reverse("accounts:login"), {"username": "nobody-here", "password": "x" * 12})
    assert count(Action.LOGIN_FAILED, actor=None) == 1
    client.post(reverse("accounts:login"), {"username": volunteer.username, "password": PASSWORD})
    assert count(Action.LOGIN, actor=volunteer) == 1
    client.post(reverse("accounts:verify"), {"code": "000000"})
    assert count(Action.SECOND_FACTOR_FAILED, actor=volunteer) == 1
    assert count(Action.LOGIN_FAILED, actor=volunteer) == 0
    device.refresh_from_db()
    AuthenticatorFactory._meta.model.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    client.post(reverse("accounts:verify"), {"code": current_code(device)})
    assert count(Action.SECOND_FACTOR, actor=volunteer) == 1
    client.post(reverse("accounts:logout"))
    assert count(Action.LOGOUT, actor=volunteer) == 1


def test_a_lock_out_is_recorded(client, volunteer):
    for _ in range(6):
        client.post(reverse("accounts:login"), {"username": volunteer.username, "password": "bad"})
    assert count(Action.LOCKED_OUT, actor=volunteer) >= 1


def test_failed_logins_never_store_what_was_typed(client):
    client.post(reverse("accounts:login"), {"username": "MySecretPassw0rd", "password": "x"})
    assert "MySecretPassw0rd" not in repr(list(AccessEvent.objects.values()))


def test_account_actions_are_recorded(coordinator_client, admin_client_verified, volunteer):
    coordinator_client.post(reverse("accounts:member_second_factor_reset", args=[volunteer.pk]))
    admin_client_verified.post(reverse("accounts:member_sessions_end", args=[volunteer.pk]))
    assert count(Action.DEVICE_RESET, target_ref=str(volunteer.pk)) == 1
    assert count(Action.SESSIONS_ENDED, target_ref=str(volunteer.pk)) == 1


@pytest.mark.parametrize(
    ("action", "do"),
    [
        (
            Action.CASE_MOVED,
            lambda c, u: case_services.case_transition(
                case=c, to_stage=Stage.SCREENING, by=u, expected_version=c.version
            ),
        ),
        (
            Action.CASE_NOTE,
            lambda c, u: case_services.case_note_add(case=c, by=u, kind=EventKind.NOTE, text="n"),
        ),
        (
            Action.CASE_CHANGED,
            lambda c, u: case_services.case_update(
                case=c, by=u, expected_version=c.version, changes={"destination_country": "GE"}
            ),
        ),
        (
            Action.CASE_ASSIGNED,
            lambda c, u: case_services.case_assign(
                case=c, assignee=c.assignee, by=u, expected_version=c.version
            ),
        ),
        (
            Action.REMINDER_CHANGED,
            lambda c, u: reminder_services.follow_up_set(
                case=c, by=u, due_at=timezone.now() + timedelta(days=1)
            ),
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_each_case_change_writes_exactly_one_event(case, coordinator, action, do):
    do(case, coordinator)
    events = AccessEvent.objects.filter(target_ref=case.reference)
    assert [event.action for event in events] == [action]
    assert events.get().actor == coordinator
    assert events.get().team_id == case.team_id


def test_intake_and_opening_a_case_are_recorded(volunteer, team):
    request = intake_log(
        by=volunteer, team=team, channel="phone", received_at=timezone.now(), contact="@x"
    )
    case = intake_accept(request=request, by=volunteer)
    assert count(Action.REQUEST_LOGGED, target_ref=request.reference) == 1
    assert count(Action.REQUEST_TRIAGED, target_ref=request.reference) == 1
    assert count(Action.CASE_OPENED, target_ref=case.reference) == 1


@pytest.mark.parametrize("name", ["case_detail", "case_edit"])
def test_every_view_of_a_case_is_recorded(coordinator, coordinator_client, case, name):
    response = coordinator_client.get(reverse(f"casework:{name}", args=[case.reference]))
    assert response.status_code == 200
    assert count(Action.CASE_VIEWED, target_ref=case.reference, actor=coordinator) == 1


def test_every_view_of_a_request_is_recorded(volunteer, volunteer_client, team):
    request = intake_log(
        by=volunteer, team=team, channel="phone", received_at=timezone.now(), contact="@v"
    )
    volunteer_client.get(reverse("intake:detail", args=[request.reference]))
    assert count(Action.REQUEST_VIEWED, target_ref=request.reference) == 1


def test_no_case_page_shows_personal_data_without_an_event(coordinator_client, case):
    """Walks every GET-able case URL: a 200 that shows the person is always recorded."""
    case.person.legal_name = "Fakename Auditovich"
    case.person.save()
    from tests.casework.test_access import CASE_URLS, case_url

    showing = []
    for name in CASE_URLS:
        before = AccessEvent.objects.aggregate(last=Max("seq"))["last"] or 0
        response = coordinator_client.get(case_url(name, case))
        if response.status_code == 200 and "Fakename" in response.content.decode():
            showing.append(name)
            viewed = AccessEvent.objects.filter(action=Action.CASE_VIEWED, seq__gt=before)
            assert viewed.filter(target_ref=case.reference).exists(), name
    # The walk checked something: at least the case page shows the name.
    assert "casework:case_detail" in showing


def test_a_change_whose_audit_write_fails_does_not_happen(case, coordinator, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("audit storage unavailable")

    monkeypatch.setattr("casework.services.cases.record", broken)
    with pytest.raises(DatabaseError):
        case_services.case_transition(
            case=case, to_stage=Stage.SCREENING, by=coordinator, expected_version=case.version
        )
    case.refresh_from_db()
    assert case.stage == Stage.NEW
    assert not case.events.exists()


def test_the_chain_links_every_event_and_verifies(case, coordinator):
    for _ in range(5):
        case_services.case_note_add(case=case, by=coordinator, kind=EventKind.NOTE, text="x")
    assert AccessEvent.objects.filter(position=None).count() == 5  # written, not chained yet
    assert log.seal() == 5
    events = list(AccessEvent.objects.order_by("seq"))
    assert [event.position for event in events] == list(range(1, 6))
    for earlier, later in itertools.pairwise(events):
        assert later.prev_hash == earlier.hash
    assert log.verify().broken_seq is None
    call_command("verify_audit")
    # The verdict is itself written down, chained like the rest, for admins to see.
    verdict = AccessEvent.objects.order_by("-seq").first()
    assert (verdict.action, verdict.target_ref) == (Action.AUDIT_VERIFIED, "5")
    assert log.verify().broken_seq is None


def tamper(position: int, column: str, value, *, where: str = "position") -> None:
    table = AccessEvent._meta.db_table
    with as_database_owner(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What a database superuser could do: switch triggers off for the session.
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE {where} = %s",  # noqa: S608
            [value, position],
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


def test_verify_audit_names_a_row_changed_behind_the_triggers_back(case, coordinator):
    for _ in range(4):
        case_services.case_note_add(case=case, by=coordinator, kind=EventKind.NOTE, text="x")
    log.seal()
    tamper(3, "target_ref", "C-2026-99999")
    result = log.verify()
    assert (result.broken_seq, result.checked) == (3, 2)
    with pytest.raises(CommandError, match="#3"):
        call_command("verify_audit")
    assert InsiderAlert.objects.filter(kind=InsiderAlert.Kind.CHAIN_BROKEN).exists()
    assert not AccessEvent.objects.filter(action=Action.AUDIT_VERIFIED).exists()


@needs_postgres
def test_postgresql_refuses_update_and_delete_of_audit_rows(case, coordinator):
    """Refused to the app (by its role's grants, where it runs as the restricted role, and
    by the trigger), and by the trigger to the tables' owner as well."""
    case_services.case_note_add(case=case, by=coordinator, kind=EventKind.NOTE, text="x")
    for attempt in (
        lambda: AccessEvent.objects.update(target_ref="C-2026-00000"),
        lambda: AccessEvent.objects.all().delete(),
    ):
        refused = "append-only|permission denied"
        with pytest.raises(DatabaseError, match=refused), transaction.atomic():
            attempt()
        owner_refused = pytest.raises(DatabaseError, match="append-only")
        with as_database_owner(), owner_refused, transaction.atomic():
            attempt()
    assert AccessEvent.objects.get().target_ref == case.reference


@needs_postgres
def test_postgresql_lets_through_only_a_reencrypted_reason(case, coordinator):
    """Key rotation rewrites the reason's ciphertext; nothing else may change, and a reason
    changed in substance (not only re-encrypted) is still caught by the chain."""
    event = log.record(
        Action.BREAK_GLASS,
        actor=coordinator,
        target_ref=case.reference,
        reason="Assignee unreachable",
    )
    log.seal()
    event.refresh_from_db()
    event.reason = "Assignee unreachable"  # a fresh ciphertext of the same text
    event.save(update_fields=["reason"])
    # The trigger's work, as the owner: the app's role may not even try (its grants).
    refused = pytest.raises(DatabaseError, match="append-only")
    with as_database_owner(), refused, transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).update(
            reason=bound_to(event, "x"), target_ref="C-2026-00000"
        )
    # Nor the seal the reason is bound to (privacy.seal).
    refused = pytest.raises(DatabaseError, match=r"append-only|permission denied")
    with refused, transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).update(seal=uuid.uuid4())
    assert log.verify().broken_seq is None
    AccessEvent.objects.filter(pk=event.pk).update(reason=bound_to(event, "Curiosity"))
    assert log.verify().broken_seq == event.position


@needs_postgres
def test_postgresql_lets_the_sealer_seal_an_event_once(case, coordinator):
    """The one other UPDATE the trigger allows: an event with no link gets its position and
    links. A sealed event's links are never written again, nor other columns with them."""
    event = log.record(Action.CASE_VIEWED, actor=coordinator, target_ref=case.reference)
    # Refused by the trigger, or before it by the app role's column grants.
    refused = "append-only|permission denied"
    with pytest.raises(DatabaseError, match=refused), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).update(hash="1" * 64, target_ref="C-0")
    log.seal()
    for change in ({"hash": "2" * 64}, {"position": 99}, {"prev_hash": "3" * 64}):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AccessEvent.objects.filter(pk=event.pk).update(**change)
    assert log.verify().intact


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_the_chain_linear(volunteer):
    with as_database_owner():  # as after a flush: the writers must recreate it safely
        ChainHead.objects.all().delete()

    def write_ten():
        for _ in range(10):
            log.record(Action.CASE_VIEWED, actor=volunteer, target_ref="C-2026-00001")

    def write_and_seal():
        write_ten()
        log.seal()

    run_together(write_and_seal, times=4)
    assert AccessEvent.objects.count() == 40
    log.seal()
    assert sorted(AccessEvent.objects.values_list("position", flat=True)) == list(range(1, 41))
    assert log.verify().intact


def test_the_insider_alert_fires_at_the_threshold(team, coordinator, settings, admin_user):
    settings.INSIDER_CASES_PER_HOUR = 3
    client = verified_client(coordinator)
    cases = [CaseFactory(team=team) for _ in range(5)]
    for case in cases[:3]:
        client.get(reverse("casework:case_detail", args=[case.reference]))
        client.get(reverse("casework:case_detail", args=[case.reference]))  # same case again
    assert not InsiderAlert.objects.filter(kind=InsiderAlert.Kind.MANY_CASES).exists()
    client.get(reverse("casework:case_detail", args=[cases[3].reference]))
    client.get(reverse("casework:case_detail", args=[cases[4].reference]))
    client.get(reverse("casework:case_detail", args=[cases[3].reference]))  # seen already
    assert InsiderAlert.objects.filter(kind=InsiderAlert.Kind.MANY_CASES).count() == 1
    made = scheduling.dispatch_due()
    alert = Notification.objects.get(pk__in=made, user=admin_user)
    assert alert.urgent and alert.kind == "security_alert"


def test_break_glass_alerts_the_admins(coordinator, other_team, admin_user):
    case = CaseFactory(team=other_team)
    oversight.case_break_glass(
        reference=case.reference, by=coordinator, reason="Family called the hotline."
    )
    assert InsiderAlert.objects.filter(kind=InsiderAlert.Kind.BREAK_GLASS).count() == 1
    event = AccessEvent.objects.get(action=Action.BREAK_GLASS)
    assert event.reason == "Family called the hotline."


def test_a_sign_in_from_a_new_address_alerts_the_admins(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)

    def sign_in(address, step):
        client.post(
            reverse("accounts:login"),
            {"username": volunteer.username, "password": PASSWORD},
            REMOTE_ADDR=address,
        )
        client.post(
            reverse("accounts:verify"),
            {"code": current_code(device, offset_steps=step)},
            REMOTE_ADDR=address,
        )
        client.post(reverse("accounts:logout"))

    sign_in("203.0.113.1", -1)
    sign_in("203.0.113.1", 0)
    assert not InsiderAlert.objects.exists()
    sign_in("198.51.100.9", 1)
    assert InsiderAlert.objects.get().kind == InsiderAlert.Kind.NEW_ADDRESS
