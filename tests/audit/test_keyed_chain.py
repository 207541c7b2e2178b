"""The audit chain against whoever holds the database: what they did, and what names it.

Each attack is done the way the database's owner would, in SQL with the append-only trigger
switched off for the session, and without AUDIT_KEY, which is not in the database."""

import hashlib
import json
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as MemoryBackend
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.db import connection

from accounts.tasks import email_audit_checkpoint
from audit import checkpoints, log
from audit.log import canonical
from audit.models import AccessEvent, Action, ChainHead, InsiderAlert
from audit.tasks import verify_chain
from config.environment import generate_keys
from tests.conftest import as_database_owner
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TABLE = AccessEvent._meta.db_table


def as_owner(sql: str, params=()) -> None:
    """What the database's owner (or a superuser) can do: triggers off for the session."""
    with as_database_owner(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


def events(count: int, actor) -> None:
    """`count` events, sealed into the chain as the sealer does every few seconds."""
    for number in range(count):
        log.record(Action.CASE_VIEWED, actor=actor, target_type="case", target_ref=f"C-{number}")
    log.seal()


def set_head(seq: int, link: str) -> None:
    """Within the app's own role: it moves the head with every seal."""
    ChainHead.objects.filter(id=1).update(seq=seq, last_hash=link)


def alerts(kind) -> int:
    return InsiderAlert.objects.filter(kind=kind).count()


def test_a_chain_recomputed_without_the_key_is_named(coordinator):
    """Delete three events, renumber the rest, link them again with the old plain SHA-256
    and set the head: what made verify_audit say "intact" before."""
    events(10, coordinator)
    as_owner(f"DELETE FROM {TABLE} WHERE position BETWEEN 4 AND 6")  # noqa: S608
    previous = AccessEvent.objects.get(position=3).hash
    for event in AccessEvent.objects.filter(position__gt=6).order_by("position"):
        event.position -= 3
        event.prev_hash = previous
        event.hash = previous = hashlib.sha256(canonical(event)).hexdigest()
        as_owner(
            f"UPDATE {TABLE} SET position = %s, prev_hash = %s, hash = %s WHERE seq = %s",  # noqa: S608
            [event.position, event.prev_hash, event.hash, event.seq],
        )
    set_head(7, previous)
    result = log.verify()
    assert (result.broken_seq, result.checked) == (4, 3)
    assert "AUDIT_KEY" in result.problem
    with pytest.raises(CommandError, match="#4"):
        call_command("verify_audit")
    assert alerts(InsiderAlert.Kind.CHAIN_BROKEN) == 1


def test_a_chain_linked_under_a_guessed_key_is_named(coordinator, settings):
    events(3, coordinator)
    event = AccessEvent.objects.get(position=2)
    event.target_ref = "C-forged"
    forged = log.link(event, bytes.fromhex(generate_keys()["AUDIT_KEY"]))
    as_owner(
        f"UPDATE {TABLE} SET target_ref = 'C-forged', hash = %s WHERE position = 2",  # noqa: S608
        [forged],
    )
    assert log.verify().broken_seq == 2


def test_a_truncated_log_with_its_head_reset_is_named_by_the_checkpoint(coordinator):
    events(5, coordinator)
    log.checkpoint()
    as_owner(f"DELETE FROM {TABLE}")  # noqa: S608 - TRUNCATE, as far as the rows go
    set_head(0, log.GENESIS)
    result = log.verify()
    assert result.checked == 0
    assert result.broken_seq == 1
    assert "checkpoint" in result.problem and "#5" in result.problem
    with pytest.raises(CommandError, match="#1"):
        call_command("verify_audit")


def test_a_cut_off_end_is_named_from_the_first_missing_event(coordinator):
    events(6, coordinator)
    log.checkpoint()
    as_owner(f"DELETE FROM {TABLE} WHERE position > 4")  # noqa: S608
    set_head(4, AccessEvent.objects.get(position=4).hash)
    result = log.verify()
    assert (result.broken_seq, result.checked) == (5, 4)


def test_a_log_cut_and_written_again_is_named_from_the_last_good_checkpoint(coordinator):
    events(3, coordinator)
    log.checkpoint()
    events(3, coordinator)
    log.checkpoint()
    # Everything after the first checkpoint replaced by events the app wrote afterwards.
    as_owner(f"DELETE FROM {TABLE} WHERE position > 3")  # noqa: S608
    set_head(3, AccessEvent.objects.get(position=3).hash)
    events(3, coordinator)
    result = log.verify()
    assert result.broken_seq == 4
    assert "#6" in result.problem


def test_a_checkpoint_from_an_email_names_a_cut_the_file_lost_too(coordinator, tmp_path):
    events(4, coordinator)
    seq, link = checkpoints.current_head()
    as_owner(f"DELETE FROM {TABLE} WHERE position > 2")  # noqa: S608
    set_head(2, AccessEvent.objects.get(position=2).hash)
    checkpoints.path().unlink(missing_ok=True)
    assert log.verify().intact  # nothing on the server remembers
    with pytest.raises(CommandError, match="#3"):
        call_command("verify_audit", checkpoint=[f"{seq}:{link}"])
    with pytest.raises(CommandError, match="SEQ:LINK"):
        call_command("verify_audit", checkpoint=["4:not-a-link"])


def test_an_edited_or_forged_checkpoint_line_is_named(coordinator):
    events(2, coordinator)
    log.checkpoint()
    with open(checkpoints.path(), "a") as handle:
        handle.write(json.dumps({"seq": 9, "link": "0" * 64, "at": "x", "mac": "0" * 64}))
        handle.write("\nnot json at all\n")
    result = log.verify()
    assert result.broken_seq is None and not result.intact
    assert "line 2" in result.problem and "line 3" in result.problem
    with pytest.raises(CommandError, match="line 2"):
        call_command("verify_audit")
    assert alerts(InsiderAlert.Kind.CHAIN_BROKEN) == 1


def test_garbage_in_the_reason_is_a_broken_link_not_a_crash(coordinator):
    events(2, coordinator)
    log.record(Action.BREAK_GLASS, actor=coordinator, target_ref="C-1", reason="Unreachable")
    events(2, coordinator)
    as_owner(f"UPDATE {TABLE} SET reason = %s WHERE position = 3", ["garbage\x01 not a token"])  # noqa: S608
    result = log.verify()
    assert (result.broken_seq, result.checked) == (3, 2)
    assert "unreadable" in result.problem
    assert verify_chain()["broken_seq"] == 3  # the nightly task, not a traceback
    assert alerts(InsiderAlert.Kind.CHAIN_BROKEN) == 1


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="only SQLite stores a time as text anyone can edit"
)
def test_a_time_that_does_not_parse_is_a_broken_link(coordinator):
    events(3, coordinator)
    as_owner(f"UPDATE {TABLE} SET created_at = 'yesterday-ish' WHERE position = 2")  # noqa: S608
    result = log.verify()
    assert (result.broken_seq, result.checked) == (2, 1)


def test_the_nightly_check_alerts_when_it_cannot_run(coordinator, monkeypatch):
    events(1, coordinator)

    def fails(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(log, "verify", fails)
    with pytest.raises(RuntimeError):
        verify_chain()
    assert alerts(InsiderAlert.Kind.CHECK_FAILED) == 1


def test_an_intact_check_writes_a_checkpoint(coordinator):
    events(3, coordinator)
    assert verify_chain()["intact"]
    written, problems = checkpoints.read()
    head = ChainHead.objects.get()
    assert problems == []
    assert [(mark.seq, mark.link) for mark in written] == [(head.seq, head.last_hash)]
    # The head did not move: no second line.
    log.checkpoint()
    assert len(checkpoints.read()[0]) == 1


def test_a_rotated_key_verifies_the_old_events_and_links_the_new(coordinator, settings):
    events(3, coordinator)
    old = settings.AUDIT_KEY[0]
    new = bytes.fromhex(generate_keys()["AUDIT_KEY"])
    settings.AUDIT_KEY = [new, old]
    events(3, coordinator)
    assert log.verify().intact
    assert log.key_problem() is None
    settings.AUDIT_KEY = [new]  # the old key removed too soon
    assert log.verify().broken_seq == 1
    assert log.key_problem() is None  # the newest event is under the new key


def test_an_old_key_cannot_link_after_the_new_one_took_over(coordinator, settings):
    """An old key that leaked must not let anyone append events behind the new ones."""
    old = settings.AUDIT_KEY[0]
    new = bytes.fromhex(generate_keys()["AUDIT_KEY"])
    settings.AUDIT_KEY = [new, old]
    events(2, coordinator)
    settings.AUDIT_KEY = [old]  # what someone holding only the old key can write
    events(1, coordinator)
    settings.AUDIT_KEY = [new, old]
    assert log.verify().broken_seq == 3


def test_a_wrong_audit_key_fails_the_system_check(coordinator, settings):
    events(1, coordinator)
    call_command("check")
    settings.AUDIT_KEY = [bytes.fromhex(generate_keys()["AUDIT_KEY"])]
    with pytest.raises(SystemCheckError, match="AUDIT_KEY does not verify"):
        call_command("check")


def test_admins_get_the_checkpoint_by_email(coordinator, admin_user):
    events(2, coordinator)
    admin_user.email_notifications = True
    admin_user.notification_email = "watch@example.org"
    admin_user.save()
    quiet = UserFactory(username="quiet-admin")
    quiet.groups.set(admin_user.groups.all())
    assert email_audit_checkpoint() == 1
    (message,) = mail.outbox
    head = ChainHead.objects.get()
    assert message.to == ["watch@example.org"]
    assert f"{head.seq}:{head.last_hash}" in message.body
    assert checkpoints.read()[0][-1].link == head.last_hash


class RefusingBackend(MemoryBackend):
    """Delivers, except to one address it refuses."""

    def send_messages(self, email_messages):
        if any("gone@example.org" in message.to for message in email_messages):
            raise smtplib.SMTPRecipientsRefused({"gone@example.org": (550, b"no such")})
        return super().send_messages(email_messages)


def test_an_admin_whose_address_is_refused_does_not_cost_the_others_their_checkpoint(
    coordinator, admin_user, settings, caplog
):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    events(2, coordinator)
    # The refused address comes first: the admins after it used to get nothing, every day.
    admin_user.email_notifications = True
    admin_user.notification_email = "gone@example.org"
    admin_user.save()
    other = UserFactory(
        username="admin2", email_notifications=True, notification_email="watch@example.org"
    )
    other.groups.set(admin_user.groups.all())
    assert email_audit_checkpoint() == 1
    assert [message.to for message in mail.outbox] == [["watch@example.org"]]
    assert "SMTPRecipientsRefused" in caplog.text and "gone@" not in caplog.text
