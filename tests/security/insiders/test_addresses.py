"""A dump does not tell the security service where volunteers sign in from.

Attacker replays: volunteers sign in through the real sign-in and code pages from known
addresses, then the database is read as a dump would read it (every column of every row of
every table, the sessions decoded). The clear address may sit only in the lock-out's failure
records, and only until the lock-out ends; what the audit log keeps instead (a network and,
on a sign-in, a keyed digest) is gone ADDRESS_RETENTION_DAYS later. The new-address alert
still works on what is kept.
"""

import hashlib
import logging
from datetime import timedelta
from ipaddress import ip_address

import pytest
import time_machine
from axes.models import AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuthenticatorDevice
from audit.models import AccessEvent, Action, InsiderAlert
from config.celery import app as celery_app
from privacy.log_filter import ScrubPersonalData
from tests.concurrency import needs_postgres
from tests.conftest import current_code
from tests.factories import PASSWORD, AuthenticatorFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:verify")
LOGOUT = reverse("accounts:logout")
HOME = "203.0.113.77"
AWAY = "198.51.100.23"
PHONE = "2001:db8:1234:5678::9"


def sign_in(client, user, address: str, *, minutes: int = 0) -> None:
    """Password, then code, then sign out, from that address; `minutes` on from now, so
    each sign-in has a code of its own (a code is accepted once)."""
    device = AuthenticatorDevice.objects.filter(user=user).first() or AuthenticatorFactory(
        user=user
    )
    with time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False):
        client.post(LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR=address)
        response = client.post(VERIFY, {"code": current_code(device)}, REMOTE_ADDR=address)
        assert response.status_code == 302, response.content.decode()[:300]
        client.get(reverse("dashboard:home"), REMOTE_ADDR=address)
        client.post(LOGOUT, REMOTE_ADDR=address)


def fail_until_locked_out(client, user, address: str) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": user.username, "password": "wrong"}, REMOTE_ADDR=address)
    response = client.post(
        LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR=address
    )
    assert response.status_code == 429


def _text(value) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def tables_holding(*needles: str) -> set[str]:
    """The tables in which any of these strings appears, reading every value of every row
    as a dump shows it; the sessions' data (signed base64) decoded too."""
    found = set()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            text = "\n".join(_text(value) for row in cursor.fetchall() for value in row)
            if any(needle in text for needle in needles):
                found.add(table)
    decoded = "\n".join(repr(session.get_decoded()) for session in Session.objects.all())
    if any(needle in decoded for needle in needles):
        found.add("django_session (decoded)")
    return found


def forms_of(address: str) -> tuple[str, ...]:
    parsed = ip_address(address)
    return (str(parsed), parsed.exploded)


def run_beat_task(entry: str) -> None:
    """What Celery beat runs, by its schedule entry: the entry must exist."""
    celery_app.loader.import_default_modules()  # the apps' tasks, as a worker finds them
    celery_app.tasks[settings.CELERY_BEAT_SCHEDULE[entry]["task"]].apply()


def new_address_alerts() -> int:
    return InsiderAlert.objects.filter(kind=InsiderAlert.Kind.NEW_ADDRESS).count()


@pytest.mark.parametrize(
    ("address", "network"), [(HOME, "203.0.113.0/24"), (PHONE, "2001:db8:1234::/48")]
)
def test_a_sign_in_leaves_its_address_nowhere_in_a_dump(client, volunteer, address, network):
    sign_in(client, volunteer, address)
    assert tables_holding(*forms_of(address)) == set()
    events = AccessEvent.objects.filter(actor=volunteer)
    assert {Action.LOGIN, Action.SECOND_FACTOR, Action.LOGOUT} <= {e.action for e in events}
    assert {event.source_network for event in events} == {network}


def test_failed_sign_ins_keep_the_address_only_in_the_lock_out_until_it_ends(client, volunteer):
    AuthenticatorFactory(user=volunteer)
    fail_until_locked_out(client, volunteer, AWAY)
    assert AccessEvent.objects.filter(action=Action.LOCKED_OUT, actor=volunteer).exists()
    # While the lock-out lasts it needs the address: there, and nowhere else.
    assert tables_holding(AWAY) == {"axes_accessattempt"}
    assert not AccessLog.objects.exists() and not AccessFailureLog.objects.exists()
    # The lock-out's hour ends; the ten-minute purge runs.
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=10)):
        run_beat_task("purge-expired-lockouts")
        assert tables_holding(AWAY) == set()


def test_a_sign_in_after_failures_leaves_the_address_nowhere(client, volunteer):
    """A right code resets that address's failures for the account at once."""
    AuthenticatorFactory(user=volunteer)
    client.post(LOGIN, {"username": volunteer.username, "password": "wrong"}, REMOTE_ADDR=HOME)
    assert tables_holding(HOME) == {"axes_accessattempt"}
    sign_in(client, volunteer, HOME)
    assert tables_holding(HOME) == set()


def console_lines(records) -> list[str]:
    """The records as the console handler writes them, through its filter."""
    console = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    scrubber = ScrubPersonalData()
    return [console.format(record) for record in records if scrubber.filter(record)]


def test_the_log_shows_no_address_even_with_axes_turned_up(client, volunteer, caplog):
    for name in ("", "django", "axes", "audit", "accounts"):
        caplog.set_level(logging.DEBUG, logger=name or None)
    AuthenticatorFactory(user=volunteer)
    fail_until_locked_out(client, volunteer, AWAY)
    sign_in(client, volunteer, PHONE)
    assert any(record.name.startswith("axes") for record in caplog.records)
    for address in (AWAY, *forms_of(PHONE)):
        assert not [record for record in caplog.records if address in record.getMessage()]
        assert not [line for line in console_lines(caplog.records) if address in line]


def test_an_address_a_library_logs_is_blanked_on_the_console(caplog):
    caplog.set_level(logging.INFO)
    logger = logging.getLogger("some.library")
    logger.warning("Refused %s and %s", HOME, PHONE)
    logger.warning("Client %s, full %s", AWAY, ip_address(PHONE).exploded)
    lines = "\n".join(console_lines(caplog.records))
    assert lines.count("[redacted]") == 4
    for address in (HOME, AWAY, *forms_of(PHONE)):
        assert address not in lines


def test_the_new_address_alert_fires_for_a_second_address_not_the_same_one(client, volunteer):
    sign_in(client, volunteer, HOME, minutes=0)
    sign_in(client, volunteer, HOME, minutes=1)
    assert new_address_alerts() == 0
    sign_in(client, volunteer, AWAY, minutes=2)
    assert new_address_alerts() == 1
    sign_in(client, volunteer, AWAY, minutes=3)
    sign_in(client, volunteer, HOME, minutes=4)
    assert new_address_alerts() == 1


def test_another_address_in_the_same_network_is_still_new(client, volunteer):
    """The alert compares digests of the whole address, not the coarse network."""
    sign_in(client, volunteer, HOME, minutes=0)
    sign_in(client, volunteer, "203.0.113.78", minutes=1)
    assert new_address_alerts() == 1


def test_two_volunteers_at_one_address_leave_unrelated_digests(client, volunteer, coordinator):
    """A dump cannot link colleagues who sign in from one flat, nor test a guessed address
    without the key, which is not in the database."""
    sign_in(client, volunteer, HOME, minutes=0)
    sign_in(client, coordinator, HOME, minutes=1)
    mine, theirs = (
        AccessEvent.objects.get(actor=user, action=Action.SECOND_FACTOR).source_digest
        for user in (volunteer, coordinator)
    )
    assert len(mine) == 64 and mine != theirs
    for guess in (HOME, f"{volunteer.pk}\x00{HOME}"):
        assert hashlib.sha256(guess.encode()).hexdigest() != mine
    # Only the sign-in itself keeps a digest.
    assert not AccessEvent.objects.exclude(action=Action.SECOND_FACTOR).exclude(source_digest="")


def test_the_digest_depends_on_the_key(settings, volunteer):
    from audit import addresses

    before = addresses.digest_of(volunteer.pk, ip_address(HOME))
    settings.BLIND_INDEX_KEY = bytes(32)
    assert addresses.digest_of(volunteer.pk, ip_address(HOME)) != before


def test_after_the_retention_the_network_and_digest_are_gone(client, volunteer, settings):
    settings.ADDRESS_RETENTION_DAYS = 30
    sign_in(client, volunteer, HOME)
    digest = AccessEvent.objects.get(action=Action.SECOND_FACTOR).source_digest
    network = "203.0.113.0/24"
    assert tables_holding(digest, network) == {"audit_accessevent"}
    later = timezone.now() + timedelta(days=30, hours=1)
    with time_machine.travel(later, tick=False):
        sign_in(client, volunteer, AWAY)  # a fresh sign-in keeps its own
        run_beat_task("purge-expired-addresses")
    assert tables_holding(digest, network) == set()
    kept = AccessEvent.objects.exclude(source_network="")
    assert {event.source_network for event in kept} == {"198.51.100.0/24"}
    assert kept.filter(action=Action.SECOND_FACTOR).exclude(source_digest="").count() == 1


def test_an_address_unused_for_the_retention_is_new_again(client, volunteer, settings):
    """Whether or not the purge has run yet: the alert reads only what the retention keeps."""
    settings.ADDRESS_RETENTION_DAYS = 30
    sign_in(client, volunteer, HOME, minutes=0)
    sign_in(client, volunteer, HOME, minutes=1)
    assert new_address_alerts() == 0
    with time_machine.travel(timezone.now() + timedelta(days=31), tick=False):
        sign_in(client, volunteer, HOME)
    assert new_address_alerts() == 1


def test_the_admins_see_the_network_not_the_address(client, volunteer, admin_client_verified):
    sign_in(client, volunteer, HOME)
    page = admin_client_verified.get(reverse("audit:events")).content.decode()
    export = b"".join(admin_client_verified.get(reverse("audit:export")).streaming_content)
    for shown in (page, export.decode()):
        assert "203.0.113.0/24" in shown
        assert HOME not in shown


@needs_postgres
def test_the_database_lets_the_purge_blank_a_network_but_nobody_rewrite_it(client, volunteer):
    sign_in(client, volunteer, HOME)
    event = AccessEvent.objects.get(action=Action.SECOND_FACTOR)
    for change in ({"source_network": "192.0.2.0/24"}, {"source_digest": "0" * 64}):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AccessEvent.objects.filter(pk=event.pk).update(**change)
    AccessEvent.objects.filter(pk=event.pk).update(source_network="", source_digest="")
    event.refresh_from_db()
    assert (event.source_network, event.source_digest) == ("", "")
