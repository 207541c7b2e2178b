"""Key rotation, as an operator (and an attacker holding the old key) would notice it:
after `rotate_keys` the old field key can be removed and every value still reads the same;
after `rotate_keys --blind-index` triage finds people under the new index key and nothing
under the old one. All names, numbers and handles here are made up."""

import datetime
import io
import time
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from encrypted_model_fields.fields import EncryptedMixin

from accounts.models import AccessChange, Containment
from audit.log import record, seal, verify
from audit.models import AccessEvent, Action
from casework.models import (
    ApprovalRequest,
    BreakGlass,
    CaseEvent,
    CaseTransfer,
    Person,
    PersonIndex,
    Reminder,
    RouteLeg,
)
from casework.services.cases import case_update, person_digests
from destinations.models import DestinationRisk
from documents import vault
from documents.models import Document
from intake.conversations import conversation_receive
from intake.models import Channel, Direction, IntakeIndex, IntakeRequest, Message
from intake.selectors import possible_duplicates
from intake.services import intake_accept, intake_log
from operations.rotation import encrypted_columns
from operations.rotation.blind_indexes import rotate_blind_indexes
from operations.rotation.encrypted_columns import encrypted_tables, rotate_encrypted_columns
from privacy.blind_index import contact_digests, phone_digest
from privacy.fields import DecryptionError
from privacy.models import BlindIndexKey, KeyCanary
from tests.factories import (
    AuthenticatorFactory,
    CaseFactory,
    IntakeRequestFactory,
    PersonFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

OLD_INDEX_KEY = bytes.fromhex("31" * 32)
NEW_INDEX_KEY = bytes.fromhex("32" * 32)
PHONE = "+7 900 123-45-67"


class Interrupted(Exception):
    """Stands in for Ctrl-C or a lost connection between two batches."""


def stop_after_first_batch(label, rows):
    """Called once the first batch is committed."""
    raise Interrupted


def new_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def old_keys(settings):
    return list(settings.FIELD_ENCRYPTION_KEY)


@pytest.fixture
def index_key(settings):
    settings.BLIND_INDEX_KEY = OLD_INDEX_KEY


def rotate(**options) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_keys", stdout=out, stderr=err, **options)
    return out.getvalue()


def raw_tokens() -> dict[tuple[str, str, object], str]:
    """Every stored value of every encrypted column, as the database holds it."""
    quote = connection.ops.quote_name
    tokens = {}
    with connection.cursor() as cursor:
        for table in encrypted_tables():
            for column in table.columns:
                cursor.execute(
                    f"SELECT {quote(table.pk)}, {quote(column)} FROM {quote(table.name)}"  # noqa: S608
                )
                for pk, token in cursor.fetchall():
                    if token is not None:
                        tokens[(table.name, column, pk)] = token
    return tokens


def encrypted_models():
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]
        if names and not model._meta.proxy:
            yield model, names


def plaintexts() -> dict:
    """Every encrypted value, decrypted the way the application reads it."""
    values = {}
    for model, names in encrypted_models():
        for pk, *row in model._base_manager.values_list("pk", *names):
            for name, value in zip(names, row, strict=True):
                values[(model._meta.label, pk, name)] = value
    return values


def a_row_in_every_encrypted_table(volunteer):
    """At least one stored value in every encrypted column there is."""
    UserFactory(notification_email="volunteer@example.org")
    AuthenticatorFactory(user=volunteer)
    person = PersonFactory(
        legal_name="Test Person-One",
        birth_date=datetime.date(1999, 3, 14),
        phone=PHONE,
        messenger_handles="@test_person_one",
        email="person-one@example.org",
        current_location="Somewhere",
        military_unit="Unit 00000",
        notes="Needs a passport.",
    )
    case = CaseFactory(
        person=person,
        team=volunteer.teams.get(),
        route_summary="By bus.",
        provocation_reason="Asked for the safe house address first.",
    )
    CaseEvent.objects.create(case=case, kind="note", actor=volunteer, text="Called back.")
    BreakGlass.objects.create(
        case=case,
        user=volunteer,
        reason="Urgent check-in.",
        expires_at=timezone.now() + timedelta(hours=1),
        review_comment="Justified.",
    )
    RouteLeg.objects.create(
        case=case,
        position=1,
        origin="Town A",
        destination="Town B",
        means="Bus",
        contact="The driver",
        safe_house="Flat 1",
        notes="Night bus.",
    )
    ApprovalRequest.objects.create(
        case=case,
        to_stage="closed",
        asked_by=volunteer,
        asked_version=case.version,
        note="Please close.",
        state="declined",
        decline_reason="Not yet.",
    )
    Containment.objects.create(
        user=volunteer, by=volunteer, since=timezone.now(), reason="Phished.", audit_seq=0
    )
    CaseTransfer.objects.create(
        case=case,
        from_team=case.team,
        to_team=TeamFactory(name="Transfer target"),
        asked_by=volunteer,
        note="The person moved south.",
        state="declined",
        reason="No one speaks their language.",
    )
    AccessChange.objects.create(
        target=volunteer,
        kind=AccessChange.Kind.REMOVE_TEAM,
        team=case.team,
        proposed_by=volunteer,
        state=AccessChange.State.REFUSED,
        reason="Not vetted yet.",
    )
    Reminder.objects.create(
        kind="follow_up",
        due_at=timezone.now(),
        team=case.team,
        subject=case.reference,
        note="Call on Friday.",
    )
    request = IntakeRequestFactory(
        team=case.team,
        logged_by=volunteer,
        message="Please help.",
        rejection_reason="Not ours.",
        reply_address="700100200",
    )
    Message.objects.create(request=request, direction=Direction.IN, text="Are you there?")
    Document.objects.create(
        case=case,
        number=1,
        kind="summons",
        description="Summons, March.",
        original_name="scan.jpg",
        content_type="image/jpeg",
        size=1,
        storage_name=vault.store(b"not a real photo"),
        added_by=volunteer,
    )
    record(Action.BREAK_GLASS, actor=volunteer, target_ref=case.reference, reason="Urgent.")
    DestinationRisk.objects.create(
        country="KZ", incidents="Detained in 2023.", passport_needed="Internal.", notes="Note."
    )
    KeyCanary.objects.get_or_create(id=1, defaults={"token": "safe-passage key canary"})


# Re-encrypting the fields ------------------------------------------------------------------


def test_every_encrypted_field_of_every_app_is_rotated():
    found = {(table.name, column) for table in encrypted_tables() for column in table.columns}
    declared = {
        (model._meta.db_table, model._meta.get_field(name).column)
        for model, names in encrypted_models()
        for name in names
    }
    assert found == declared
    assert {
        ("casework_person", "legal_name"),
        ("intake_intakerequest", "contact"),
        ("accounts_authenticatordevice", "key"),
        ("audit_accessevent", "reason"),
        ("privacy_keycanary", "token"),
    } <= found


def test_after_rotation_only_the_new_key_reads_every_value_unchanged(settings, old_keys, volunteer):
    a_row_in_every_encrypted_table(volunteer)
    before, readable = raw_tokens(), plaintexts()
    stored_columns = {(table, column) for table, column, _pk in before}
    every_column = {
        (table.name, column) for table in encrypted_tables() for column in table.columns
    }
    # Fails when a new encrypted field appears: give it a row above so it is proven too.
    assert stored_columns == every_column

    new = new_key()
    settings.FIELD_ENCRYPTION_KEY = [new, *old_keys]
    rotate()
    settings.FIELD_ENCRYPTION_KEY = [new]

    after = raw_tokens()
    assert after.keys() >= before.keys()
    for where, token in before.items():
        assert after[where] != token, where
        Fernet(new).decrypt(after[where].encode())
    assert {where: value for where, value in plaintexts().items() if where in readable} == readable
    for token in after.values():
        with pytest.raises(InvalidToken):
            Fernet(old_keys[0]).decrypt(token.encode())


def test_an_interrupted_rotation_resumes_where_it_stopped(settings, old_keys):
    people = [PersonFactory(legal_name=f"Person {n}", notes="") for n in range(5)]
    new = new_key()
    settings.FIELD_ENCRYPTION_KEY = [new, *old_keys]

    with pytest.raises(Interrupted):
        rotate_encrypted_columns(batch_size=2, on_batch=stop_after_first_batch)
    done_first = Person.objects.filter(pk__in=[p.pk for p in people[:2]]).order_by("pk")
    rest = Person.objects.filter(pk__in=[p.pk for p in people[2:]])
    settings.FIELD_ENCRYPTION_KEY = [new]
    assert [p.legal_name for p in done_first] == ["Person 0", "Person 1"]
    with pytest.raises(DecryptionError):
        list(rest)

    settings.FIELD_ENCRYPTION_KEY = [new, *old_keys]
    summary = rotate(batch_size=2)
    settings.FIELD_ENCRYPTION_KEY = [new]
    assert [p.legal_name for p in Person.objects.order_by("pk")] == [
        f"Person {n}" for n in range(5)
    ]
    # Seven stored values a person (no date of birth): 2 people done, 3 left.
    assert summary.startswith("21 values re-encrypted in 3 rows")
    assert "14 already current" in summary


def test_a_second_run_finds_nothing_left_to_do(settings, old_keys):
    PersonFactory(legal_name="Test Person-Two")
    settings.FIELD_ENCRYPTION_KEY = [new_key(), *old_keys]
    first = rotate()
    second = rotate()
    assert not first.startswith("0 values re-encrypted")
    assert second.startswith("0 values re-encrypted in 0 rows")


def test_an_edit_saved_during_the_rotation_is_not_overwritten(settings, old_keys, monkeypatch):
    person = PersonFactory(legal_name="Test Person-Two", notes="old note")
    settings.FIELD_ENCRYPTION_KEY = [new_key(), *old_keys]
    write = encrypted_columns._write

    def volunteer_saves_first(cursor, table, column, params):
        if column == "notes":
            edited = Person.objects.get(pk=person.pk)
            edited.notes = "new note"
            edited.save(update_fields=["notes"])
        return write(cursor, table, column, params)

    monkeypatch.setattr(encrypted_columns, "_write", volunteer_saves_first)
    summary = rotate()

    person.refresh_from_db()
    assert (person.legal_name, person.notes) == ("Test Person-Two", "new note")
    assert "1 rewritten by the application meanwhile" in summary


def test_a_value_no_key_decrypts_stops_the_run_naming_where_but_not_what(settings, old_keys):
    person = PersonFactory(legal_name="Test Person-Two")
    planted = Fernet(new_key()).encrypt(b"planted by hand").decode()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE casework_person SET notes = %s WHERE id = %s", [planted, person.pk])
    settings.FIELD_ENCRYPTION_KEY = [new_key(), *old_keys]

    with pytest.raises(CommandError) as refused:
        rotate()
    message = str(refused.value)
    assert f"casework_person.notes (primary key {person.pk})" in message
    assert planted not in message
    assert "planted" not in message


def test_rotation_is_audited_and_the_audit_chain_still_verifies(settings, old_keys, volunteer):
    reasoned = record(Action.BREAK_GLASS, actor=volunteer, target_ref="C-1", reason="Urgent.")
    settings.FIELD_ENCRYPTION_KEY = [new := new_key(), *old_keys]
    rotate()
    settings.FIELD_ENCRYPTION_KEY = [new]

    event = AccessEvent.objects.filter(action=Action.KEYS_ROTATED).get()
    assert event.actor is None
    assert event.target_ref == "FIELD_ENCRYPTION_KEY"
    assert "values re-encrypted" in event.reason
    assert AccessEvent.objects.get(pk=reasoned.pk).reason == "Urgent."
    seal()
    result = verify()
    assert result.broken_seq is None
    assert result.checked == AccessEvent.objects.count()


def test_the_operator_sees_a_progress_bar_and_the_final_count(settings, old_keys):
    PersonFactory(legal_name="Test Person-Two")
    settings.FIELD_ENCRYPTION_KEY = [new_key(), *old_keys]
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_keys", stdout=out, stderr=err)
    assert "100%" in err.getvalue()
    assert "values re-encrypted in 1 rows across" in out.getvalue()
    assert "Person-Two" not in out.getvalue() + err.getvalue()


# Recomputing the blind indexes -------------------------------------------------------------


def logged(volunteer, contact):
    return intake_log(
        by=volunteer,
        team=volunteer.teams.get(),
        channel="phone",
        received_at=timezone.now(),
        contact=contact,
    )


def found_cases(request):
    return [case.reference for case in possible_duplicates(request)["cases"]]


def test_after_blind_index_rotation_triage_finds_the_person_under_the_new_key_only(
    settings, index_key, volunteer
):
    case = intake_accept(request=logged(volunteer, PHONE), by=volunteer)
    settings.BLIND_INDEX_KEY = NEW_INDEX_KEY
    assert found_cases(logged(volunteer, "8 900 123 45 67")) == []

    rotate(blind_index=True)

    assert found_cases(logged(volunteer, "8 900 123 45 67")) == [case.reference]
    settings.BLIND_INDEX_KEY = OLD_INDEX_KEY
    assert found_cases(logged(volunteer, PHONE)) == []


def test_after_blind_index_rotation_the_same_chat_writes_on_to_its_request(
    settings, index_key, volunteer
):
    first = conversation_receive(channel=Channel.TELEGRAM, address="700100200", text="Help")
    settings.BLIND_INDEX_KEY = NEW_INDEX_KEY

    rotate(blind_index=True)

    again = conversation_receive(channel=Channel.TELEGRAM, address="700100200", text="Still here")
    assert not again.opened
    assert again.request == first.request


def test_a_request_contact_kept_on_the_person_is_carried_over(settings, index_key, volunteer):
    case = intake_accept(request=logged(volunteer, "@old_handle"), by=volunteer)
    # The person's details no longer name the handle: only the request's copy does.
    case_update(
        case=case,
        by=volunteer,
        expected_version=case.version,
        changes={"messenger_handles": "@new_handle"},
    )
    settings.BLIND_INDEX_KEY = NEW_INDEX_KEY

    rotate(blind_index=True)

    assert found_cases(logged(volunteer, "@old_handle")) == [case.reference]
    assert found_cases(logged(volunteer, "@new_handle")) == [case.reference]


def test_a_contact_whose_request_is_gone_cannot_be_recomputed_and_is_counted(
    settings, index_key, volunteer
):
    first = logged(volunteer, "@gone_handle")
    case = intake_accept(request=logged(volunteer, PHONE), by=volunteer)
    # As if a request attached to the case were later deleted: its contact only lives on
    # in the person's copy of its digest, which no plaintext can give again.
    PersonIndex.objects.create(
        person=case.person, kind="handle", digest=first.indexes.get().digest, source="intake"
    )
    first.delete()
    settings.BLIND_INDEX_KEY = NEW_INDEX_KEY

    summary = rotate(blind_index=True)

    assert "1 request contacts of people dropped" in summary
    assert not PersonIndex.objects.filter(person=case.person, kind="handle").exists()
    assert found_cases(logged(volunteer, PHONE)) == [case.reference]


def test_a_run_under_an_unchanged_key_drops_nothing(index_key, volunteer):
    first = logged(volunteer, "@gone_handle")
    case = intake_accept(request=logged(volunteer, PHONE), by=volunteer)
    PersonIndex.objects.create(
        person=case.person, kind="handle", digest=first.indexes.get().digest, source="intake"
    )
    first.delete()
    rows = set(PersonIndex.objects.values_list("person_id", "kind", "digest", "source"))

    summary = rotate(blind_index=True)

    assert summary.startswith("0 people and 0 requests re-indexed")
    assert set(PersonIndex.objects.values_list("person_id", "kind", "digest", "source")) == rows


def test_an_interrupted_blind_index_rotation_resumes_and_finishes(settings, index_key, volunteer):
    first = logged(volunteer, "@gone_handle")
    cases = [
        intake_accept(request=logged(volunteer, f"@person_{n}"), by=volunteer) for n in range(3)
    ]
    PersonIndex.objects.create(
        person=cases[0].person, kind="handle", digest=first.indexes.get().digest, source="intake"
    )
    first.delete()
    settings.BLIND_INDEX_KEY = NEW_INDEX_KEY

    with pytest.raises(Interrupted):
        rotate_blind_indexes(batch_size=1, on_batch=stop_after_first_batch)
    assert not BlindIndexKey.objects.get().complete
    counts = rotate_blind_indexes(batch_size=1)

    assert BlindIndexKey.objects.get().complete
    assert (counts.people_reindexed, counts.contacts_dropped) == (2, 1)
    for n, case in enumerate(cases):
        assert found_cases(logged(volunteer, f"@person_{n}")) == [case.reference]
    event = AccessEvent.objects.filter(action=Action.KEYS_ROTATED).get()
    assert event.target_ref == "BLIND_INDEX_KEY"
    assert verify().broken_seq is None


# The size we must handle -------------------------------------------------------------------

PEOPLE = 10_000


def ten_thousand_people() -> None:
    """Each came in through one request from their phone, kept on the person as intake
    does (`intake_accept`), written the fast way."""
    people = [
        Person(
            codename=f"Load-{n:05d}",
            legal_name=f"Name {n}",
            birth_date=datetime.date(1990, 1, 1) + timedelta(days=n),
            phone=f"+7 900 {n:07d}",
            messenger_handles=f"@load_{n}",
            email=f"load{n}@example.org",
            current_location="Somewhere",
            military_unit=f"Unit {n}",
            notes="",
        )
        for n in range(PEOPLE)
    ]
    Person.objects.bulk_create(people, batch_size=1000)
    team, user = TeamFactory(), UserFactory()
    requests = IntakeRequest.objects.bulk_create(
        (
            IntakeRequest(
                reference=f"R-2026-{n:05d}",
                team=team,
                channel="phone",
                received_at=timezone.now(),
                contact=person.phone,
                logged_by=user,
            )
            for n, person in enumerate(people)
        ),
        batch_size=1000,
    )
    indexes, request_indexes = [], []
    for person, request in zip(people, requests, strict=True):
        for kind, digest in person_digests(person):
            indexes.append(PersonIndex(person=person, kind=kind, digest=digest))
        for kind, digest in contact_digests(request.contact):
            request_indexes.append(IntakeIndex(request=request, kind=kind, digest=digest))
            indexes.append(PersonIndex(person=person, kind=kind, digest=digest, source="intake"))
    PersonIndex.objects.bulk_create(indexes, batch_size=2000)
    IntakeIndex.objects.bulk_create(request_indexes, batch_size=2000)


def test_ten_thousand_people_rotate_and_the_old_key_is_removed(
    settings, old_keys, index_key, capsys
):
    ten_thousand_people()
    new = new_key()
    settings.FIELD_ENCRYPTION_KEY = [new, *old_keys]
    settings.BLIND_INDEX_KEY = NEW_INDEX_KEY

    started = time.perf_counter()
    fields = rotate()
    fields_took = time.perf_counter() - started
    started = time.perf_counter()
    indexes = rotate(blind_index=True)
    indexes_took = time.perf_counter() - started
    settings.FIELD_ENCRYPTION_KEY = [new]

    people = Person.objects.order_by("pk")
    assert people.count() == PEOPLE
    for n, person in enumerate(people.iterator(chunk_size=2000)):
        assert (person.legal_name, person.email) == (f"Name {n}", f"load{n}@example.org")
    assert IntakeRequest.objects.get(reference="R-2026-04242").contact == "+7 900 0004242"
    # Eight a person, four a request (contact, empty message, reason and reply address),
    # and the e-mail of the user who logged them.
    assert fields.startswith(f"{PEOPLE * 12 + 1:,} values re-encrypted in {PEOPLE * 2 + 1:,} rows")
    assert indexes.startswith(
        f"{PEOPLE:,} people and {PEOPLE:,} requests re-indexed "
        f"({PEOPLE:,} request contacts of people carried over)"
    )
    assert ("; 0 request contacts of people dropped") in indexes
    found = PersonIndex.objects.filter(digest=phone_digest("8 900 000 42 42"))
    assert sorted(found.values_list("person__codename", "source")) == [
        ("Load-04242", "details"),
        ("Load-04242", "intake"),
    ]
    with capsys.disabled():
        print(
            f"\n[{connection.vendor}] {PEOPLE:,} people: fields rotated in {fields_took:.1f} s "
            f"({fields.strip()}), blind indexes in {indexes_took:.1f} s ({indexes.strip()})"
        )
