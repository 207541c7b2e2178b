"""Ciphertext bound to its place (issue 18, part 4): someone holding the database role but
no key copies a token by SQL into a row or column they can see. The application refuses it,
shows whoever opened it a page saying so, and alerts the admins naming the place and the
row, never the value. All names and numbers here are made up."""

import io
import logging
from datetime import date, timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import AuthenticatorDevice, User
from audit.log import record
from audit.models import AccessEvent, Action, InsiderAlert
from audit.tasks import verify_chain
from casework.models import BreakGlass, CaseEvent, Notification, Person, ReminderKind
from casework.scheduling import dispatch_due
from intake.models import IntakeRequest
from privacy import canary, seal
from privacy.fields import DecryptionError, bound_to, encrypt_bytes
from privacy.keys import crypter
from privacy.models import CANARY_TEXT, KeyCanary
from tests.conftest import current_code, verified_client
from tests.factories import AuthenticatorFactory, CaseFactory, IntakeRequestFactory, PersonFactory

pytestmark = pytest.mark.django_db

MINE = "Testov Ivan Petrovich"
THEIRS = "Otherov Pyotr Semyonovich"
SECRET_NOTE = "Hides at the cousin's dacha near Fakeville"
UNREADABLE = "This record could not be read"


def column(model, name: str) -> tuple[str, str, str]:
    quote = connection.ops.quote_name
    options = model._meta
    return (
        quote(options.db_table),
        quote(options.get_field(name).column),
        quote(options.pk.column),
    )


def raw(model, name: str, pk) -> str:
    table, col, pk_col = column(model, name)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {col} FROM {table} WHERE {pk_col} = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def plant(model, name: str, pk, value: str) -> None:
    """What the attacker does, holding the database role: an UPDATE around the app."""
    table, col, pk_col = column(model, name)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {col} = %s WHERE {pk_col} = %s", [value, pk])  # noqa: S608


def tampered() -> list[InsiderAlert]:
    return list(InsiderAlert.objects.filter(kind=InsiderAlert.Kind.TAMPERED))


@pytest.fixture
def my_case(volunteer, team):
    person = PersonFactory(legal_name=MINE, notes="Calls on Tuesdays.")
    return CaseFactory(person=person, team=team, assignee=volunteer)


@pytest.fixture
def their_person(other_team):
    person = PersonFactory(legal_name=THEIRS, notes=SECRET_NOTE)
    CaseFactory(person=person, team=other_team)
    return person


def case_url(case) -> str:
    return reverse("casework:case_detail", args=[case.reference])


def opened_refused(client, url: str, *hidden: str):
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 500
    assert UNREADABLE in html
    for value in hidden:
        assert value not in html
    return response


# Moved values, opened through the pages --------------------------------------------------


def test_an_unchanged_case_opens_as_before(volunteer_client, my_case):
    response = volunteer_client.get(case_url(my_case))
    assert response.status_code == 200
    assert MINE in response.content.decode()
    assert tampered() == []


def test_another_persons_name_copied_into_mine_is_refused_and_alerted(
    volunteer_client, volunteer, my_case, their_person
):
    plant(Person, "legal_name", my_case.person_id, raw(Person, "legal_name", their_person.pk))

    opened_refused(volunteer_client, case_url(my_case), THEIRS, MINE)

    [alert] = tampered()
    assert alert.actor == volunteer
    assert alert.detail == (
        f"casework.person.legal_name row {my_case.person_id}: sealed for another row "
        f"(sealed for casework.person.legal_name row {their_person.pk})"
    )


def test_a_name_copied_into_the_notes_of_the_same_person_is_refused(volunteer_client, my_case):
    # The attack: notes := legal_name. Here the same row, another column.
    plant(Person, "notes", my_case.person_id, raw(Person, "legal_name", my_case.person_id))

    opened_refused(volunteer_client, case_url(my_case), MINE)

    [alert] = tampered()
    assert alert.detail == (
        f"casework.person.notes row {my_case.person_id}: sealed for another place "
        f"(sealed for casework.person.legal_name row {my_case.person_id})"
    )


def test_another_persons_name_copied_into_my_notes_is_refused(
    volunteer_client, my_case, their_person
):
    plant(Person, "notes", my_case.person_id, raw(Person, "legal_name", their_person.pk))

    opened_refused(volunteer_client, case_url(my_case), THEIRS)

    [alert] = tampered()
    assert alert.detail.startswith(f"casework.person.notes row {my_case.person_id}: ")
    assert f"casework.person.legal_name row {their_person.pk}" in alert.detail


def test_a_value_of_another_model_copied_into_my_notes_is_refused(
    volunteer_client, my_case, other_team, coordinator
):
    request = IntakeRequestFactory(team=other_team, logged_by=coordinator, message=SECRET_NOTE)
    plant(Person, "notes", my_case.person_id, raw(IntakeRequest, "message", request.pk))

    opened_refused(volunteer_client, case_url(my_case), SECRET_NOTE)

    [alert] = tampered()
    assert f"(sealed for intake.intakerequest.message row {request.pk})" in alert.detail


def test_a_timeline_entry_moved_to_my_case_is_refused(volunteer_client, my_case, their_person):
    theirs = CaseEvent.objects.create(case=their_person.cases.get(), kind="note", text=SECRET_NOTE)
    mine = CaseEvent.objects.create(case=my_case, kind="note", text="Called back.")
    plant(CaseEvent, "text", mine.pk, raw(CaseEvent, "text", theirs.pk))

    opened_refused(volunteer_client, case_url(my_case), SECRET_NOTE)

    [alert] = tampered()
    assert alert.detail.startswith(f"casework.caseevent.text row {mine.pk}: sealed for another row")


def test_an_admins_totp_key_pasted_into_a_visible_field_gives_nothing(
    volunteer_client, volunteer, my_case, admin_user
):
    device = AuthenticatorFactory(user=admin_user)
    plant(Person, "notes", my_case.person_id, raw(AuthenticatorDevice, "key", device.pk))

    opened_refused(volunteer_client, case_url(my_case), device.key, device.base32_secret)

    [alert] = tampered()
    assert alert.actor == volunteer
    assert f"(sealed for accounts.authenticatordevice.key row {device.pk})" in alert.detail
    assert device.key not in alert.detail


def test_an_admins_totp_key_copied_into_my_own_device_is_not_shown_on_enrolment(
    volunteer_client, volunteer, admin_user
):
    admins = AuthenticatorFactory(user=admin_user)
    mine = AuthenticatorFactory(user=volunteer, confirmed=False, name="new phone")
    plant(AuthenticatorDevice, "key", mine.pk, raw(AuthenticatorDevice, "key", admins.pk))

    secret = " ".join(admins.base32_secret[i : i + 4] for i in range(0, 32, 4))
    opened_refused(volunteer_client, reverse("accounts:enrol"), admins.base32_secret, secret)

    [alert] = tampered()
    assert alert.detail.startswith(f"accounts.authenticatordevice.key row {mine.pk}: ")
    assert f"row {admins.pk})" in alert.detail


def test_an_admins_totp_key_copied_into_my_device_does_not_take_the_admins_codes(
    volunteer, admin_user
):
    admins = AuthenticatorFactory(user=admin_user)
    mine = AuthenticatorFactory(user=volunteer)
    plant(AuthenticatorDevice, "key", mine.pk, raw(AuthenticatorDevice, "key", admins.pk))
    client = Client()
    client.force_login(volunteer)  # the password step done; the code step to come

    response = client.post(reverse("accounts:verify"), {"code": current_code(admins)})

    assert response.status_code == 500
    assert UNREADABLE in response.content.decode()
    assert DEVICE_ID_SESSION_KEY not in client.session  # the code step not passed
    [alert] = tampered()
    assert alert.detail.startswith(f"accounts.authenticatordevice.key row {mine.pk}: ")


def test_a_token_from_before_sealing_is_refused(volunteer_client, my_case):
    # What the database held before the seal migration: the bare value, encrypted.
    plant(Person, "notes", my_case.person_id, encrypt_bytes(THEIRS.encode()))

    opened_refused(volunteer_client, case_url(my_case), THEIRS)

    [alert] = tampered()
    assert "not bound to a place" in alert.detail


def test_an_empty_totp_key_planted_by_sql_is_refused(volunteer):
    # An empty key would give codes anyone can compute: only purgeable fields read "" so.
    device = AuthenticatorFactory(user=volunteer)
    plant(AuthenticatorDevice, "key", device.pk, "")
    with pytest.raises(DecryptionError, match="empty"):
        AuthenticatorDevice.objects.get(pk=device.pk)


def test_plaintext_planted_in_the_notes_is_refused(volunteer_client, my_case):
    plant(Person, "notes", my_case.person_id, "planted in clear")
    opened_refused(volunteer_client, case_url(my_case), "planted in clear")
    assert len(tampered()) == 1


# The alert -------------------------------------------------------------------------------


def test_the_alert_becomes_an_urgent_notification_for_the_admins(
    volunteer_client, my_case, their_person, admin_user
):
    plant(Person, "legal_name", my_case.person_id, raw(Person, "legal_name", their_person.pk))
    opened_refused(volunteer_client, case_url(my_case))

    dispatch_due()

    told = Notification.objects.get(user=admin_user)
    assert told.kind == ReminderKind.SECURITY_ALERT and told.urgent
    assert told.subject == f"alert #{InsiderAlert.objects.get().pk}"  # not "A-0"
    page = verified_client(admin_user).get(reverse("audit:alerts"))
    html = page.content.decode()
    assert "Encrypted value found out of its place" in html
    assert f"casework.person.legal_name row {my_case.person_id}" in html
    assert THEIRS not in html and MINE not in html
    # The inbox links it to the alerts page (its subject is no case reference).
    inbox = verified_client(admin_user).get(reverse("casework:inbox")).content.decode()
    assert f'<a href="{reverse("audit:alerts")}">security alerts</a>' in inbox


def test_opening_it_again_within_the_hour_raises_no_second_alert(
    volunteer_client, my_case, their_person
):
    plant(Person, "legal_name", my_case.person_id, raw(Person, "legal_name", their_person.pk))
    for _ in range(3):
        opened_refused(volunteer_client, case_url(my_case))
    assert len(tampered()) == 1


def test_the_log_line_names_the_place_and_row_never_the_value(
    volunteer_client, my_case, their_person, caplog
):
    token = raw(Person, "legal_name", their_person.pk)
    plant(Person, "notes", my_case.person_id, token)
    with caplog.at_level(logging.ERROR, logger="privacy.tampering"):
        opened_refused(volunteer_client, case_url(my_case))
    [line] = [r.getMessage() for r in caplog.records if r.name == "privacy.tampering"]
    assert f"casework.person.notes row {my_case.person_id}" in line
    for value in (THEIRS, MINE, token):
        assert value not in line


@pytest.mark.django_db(transaction=True)
def test_the_alert_outlives_the_transaction_the_read_broke(admin_user, coordinator, other_team):
    """The reason is read inside the service's transaction, which also records that it was
    read; the refusal rolls that back, and the alert is written after it."""
    case = CaseFactory(team=other_team)
    expires = timezone.now() + timedelta(hours=1)
    first = BreakGlass.objects.create(
        case=case, user=coordinator, reason="Night shift", expires_at=expires
    )
    second = BreakGlass.objects.create(
        case=case, user=coordinator, reason=SECRET_NOTE, expires_at=expires
    )
    plant(BreakGlass, "reason", first.pk, raw(BreakGlass, "reason", second.pk))

    client = verified_client(admin_user)
    response = client.post(reverse("casework:break_glass_reason", args=[first.pk]))

    assert response.status_code == 500
    assert SECRET_NOTE not in response.content.decode()
    assert not AccessEvent.objects.filter(action=Action.REASON_VIEWED).exists()
    [alert] = tampered()
    assert alert.actor == admin_user
    assert alert.detail.startswith(f"casework.breakglass.reason row {first.pk}: ")


# Reading and writing through the ORM -------------------------------------------------------


def test_the_row_is_checked_when_a_deferred_field_is_loaded_later(my_case, their_person):
    plant(Person, "notes", my_case.person_id, raw(Person, "notes", their_person.pk))
    person = Person.objects.defer("notes").get(pk=my_case.person_id)
    assert person.legal_name == MINE
    with pytest.raises(DecryptionError, match="another row"):
        person.notes  # noqa: B018


def test_the_row_is_checked_when_only_the_value_is_loaded(my_case, their_person):
    plant(Person, "notes", my_case.person_id, raw(Person, "notes", their_person.pk))
    with pytest.raises(DecryptionError, match="another row"):
        Person.objects.only("notes").get(pk=my_case.person_id)


def test_values_still_read_and_check_the_place(my_case, their_person):
    assert list(Person.objects.filter(pk=my_case.person_id).values_list("legal_name", flat=True))
    assert Person.objects.values("legal_name").get(pk=my_case.person_id) == {"legal_name": MINE}
    plant(Person, "notes", my_case.person_id, raw(Person, "legal_name", my_case.person_id))
    with pytest.raises(DecryptionError, match="another place"):
        list(Person.objects.values_list("notes", flat=True))


def test_instances_hold_plain_values(my_case):
    person = Person.objects.get(pk=my_case.person_id)
    assert type(person.legal_name) is str
    person = Person.objects.get(pk=my_case.person_id)
    person.birth_date = timezone.localdate()
    person.save(update_fields=["birth_date"])
    assert type(Person.objects.get(pk=person.pk).birth_date) is date


def test_an_update_without_the_row_is_refused_with_a_clear_error(my_case):
    with pytest.raises(FieldError, match="bound to its row"):
        Person.objects.filter(pk=my_case.person_id).update(notes="written around the row")
    with pytest.raises(FieldError, match="purgeable"):
        User.objects.update(notification_email="")


def test_an_update_of_one_row_with_its_seal_reads_back(my_case):
    person = Person.objects.get(pk=my_case.person_id)
    Person.objects.filter(pk=person.pk).update(notes=bound_to(person, "Moved to Tbilisi."))
    assert Person.objects.get(pk=person.pk).notes == "Moved to Tbilisi."


def test_a_purge_blanks_without_a_key_and_reads_back_empty(my_case):
    Person.objects.filter(pk=my_case.person_id).update(notes="")
    assert raw(Person, "notes", my_case.person_id) == ""
    assert Person.objects.get(pk=my_case.person_id).notes == ""


def test_the_stored_value_names_its_place_and_row_inside_the_encryption(my_case):
    person = Person.objects.get(pk=my_case.person_id)
    data = crypter().decrypt(raw(Person, "legal_name", person.pk).encode())
    assert seal.unwrap(data) == ("casework.person.legal_name", person.seal, MINE)
    assert str(person.seal) not in raw(Person, "legal_name", person.pk)


def test_each_row_has_its_own_seal():
    people = Person.objects.bulk_create(Person(codename=f"Bulk-{n}", notes="x") for n in range(3))
    assert len({person.seal for person in people}) == 3
    assert [p.notes for p in Person.objects.filter(codename__startswith="Bulk-")] == ["x"] * 3


# Rotation, the canary, the worker ---------------------------------------------------------


def test_rotation_reports_a_moved_value_and_leaves_it_unrotated(settings, my_case, their_person):
    moved = raw(Person, "legal_name", their_person.pk)
    plant(Person, "notes", my_case.person_id, moved)
    old_keys = list(settings.FIELD_ENCRYPTION_KEY)
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode(), *old_keys]

    with pytest.raises(CommandError) as refused:
        call_command("rotate_keys", stdout=io.StringIO(), stderr=io.StringIO())

    message = str(refused.value)
    assert f"casework_person.notes (primary key {my_case.person_id}): sealed for another" in message
    assert moved not in message and THEIRS not in message
    assert raw(Person, "notes", my_case.person_id) == moved  # not laundered under the new key
    settings.FIELD_ENCRYPTION_KEY = settings.FIELD_ENCRYPTION_KEY[:1]
    assert Person.objects.get(pk=their_person.pk).legal_name == THEIRS  # the rest rotated
    [alert] = tampered()
    assert alert.detail.startswith(f"casework.person.notes row {my_case.person_id}: ")


def test_a_canary_moved_by_sql_is_named_as_such_not_as_a_wrong_key(my_case):
    KeyCanary.objects.get_or_create(id=1, defaults={"token": CANARY_TEXT})
    plant(KeyCanary, "token", 1, raw(Person, "legal_name", my_case.person_id))
    assert canary.problem() == canary.MOVED_CANARY


def test_a_worker_task_that_meets_a_moved_value_alerts_too(volunteer, my_case, their_person):
    # The reason of one event copied into another: on PostgreSQL too, the append-only
    # trigger lets an UPDATE of the reason through (rotation re-encrypts it).
    first = record(
        Action.BREAK_GLASS, actor=volunteer, target_ref=my_case.reference, reason="Mine."
    )
    theirs = record(Action.BREAK_GLASS, actor=volunteer, target_ref="C-1", reason=SECRET_NOTE)
    plant(AccessEvent, "reason", first.pk, raw(AccessEvent, "reason", theirs.pk))

    verdict = verify_chain.apply().result  # a verdict, not a crash (audit/log.py)

    assert not verdict["intact"]
    assert InsiderAlert.objects.filter(kind=InsiderAlert.Kind.CHAIN_BROKEN).exists()
    [alert] = tampered()
    assert alert.detail.startswith(
        f"audit.accessevent.reason row {first.pk}: sealed for another row"
    )
