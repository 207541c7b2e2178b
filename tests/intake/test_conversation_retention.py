"""Retention and erasure cover conversations: every path that removes a case's personal data
(the nightly purge, an erasure, an erasure after a merge) and the requests' own retention
leaves no message text, no reply address and no digest to find the chat by."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from casework.models import Case, Outcome, Stage
from casework.services import retention
from casework.services.cases import case_transition
from casework.services.merge import case_merge
from casework.tasks import purge_expired_cases
from intake.conversations import conversation_receive, open_conversation, reply_send
from intake.models import Channel, Delivery, IntakeRequest, Message
from intake.services import intake_accept, intake_reject
from intake.tasks import purge_expired_requests
from privacy import seal
from privacy.fields import decrypt_bytes

pytestmark = pytest.mark.django_db

RETENTION_DAYS = 30
FIRST = "My unit leaves for the front on the 14th, I am in flat 12"
LATER = "I am hiding at my aunt's place near the station"
REPLY = "Stay there; a volunteer will meet you at the old bridge"
SECRETS = [FIRST, LATER, REPLY]


@pytest.fixture(autouse=True)
def _settings(settings, team):
    settings.RETENTION_DAYS = RETENTION_DAYS
    settings.CHANNEL_TEAM = team.name


def talk(address: str, by) -> IntakeRequest:
    request = conversation_receive(
        channel=Channel.WEB_FORM, address=address, text=FIRST, source="198.51.100.7"
    ).request
    conversation_receive(channel=Channel.WEB_FORM, address=address, text=LATER)
    reply_send(request=request, by=by, text=REPLY)
    request.refresh_from_db()
    assert request.address_digest and request.text_digest and request.source_digest
    return request


def message_texts() -> list[str]:
    """Every message's text as a dump and the key would give it."""
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT text FROM {table}")  # noqa: S608
        stored = [value for (value,) in cursor.fetchall()]
    return [seal.unwrap(decrypt_bytes(value))[2] for value in stored if value]


def assert_forgotten(*requests: IntakeRequest, address: str = "form-1") -> None:
    leaked = [text for text in message_texts() if any(s in text for s in SECRETS)]
    assert not leaked
    for request in requests:
        request.refresh_from_db()
        assert request.purged_at is not None
        assert request.messages.exists()  # the rows stay, as statistics
        assert set(request.messages.values_list("text", flat=True)) == {""}
        assert (request.reply_address, request.address_digest) == ("", "")
        assert (request.text_digest, request.source_digest) == ("", "")
        assert not request.messages.filter(state__in=[Delivery.QUEUED, Delivery.HELD]).exists()
    # The chat is not found again: writing anew opens a new request.
    assert open_conversation(Channel.WEB_FORM, address) is None


def fresh(case: Case) -> Case:
    return Case.objects.select_related("person").get(pk=case.pk)


def close(case: Case, by) -> Case:
    case = fresh(case)
    case_transition(
        case=case,
        to_stage=Stage.CLOSED,
        by=by,
        expected_version=case.version,
        outcome=Outcome.SAFE,
    )
    return fresh(case)


def test_the_nightly_purge_of_a_case_forgets_its_conversation(coordinator):
    request = talk("form-1", coordinator)
    close(intake_accept(request=request, by=coordinator), coordinator)
    assert any(FIRST in text for text in message_texts())  # the check can see them
    with time_machine.travel(timezone.now() + timedelta(days=RETENTION_DAYS + 1)):
        assert purge_expired_cases.apply().get() == 1
    assert_forgotten(request)
    # A reply still waiting is not sent to an address that is gone.
    assert request.messages.filter(state=Delivery.FAILED, error="purged").exists()


def test_an_erasure_forgets_the_conversation(coordinator):
    request = talk("form-1", coordinator)
    case = intake_accept(request=request, by=coordinator)
    retention.case_erase(case=fresh(case), by=coordinator, reason="Asked through the form")
    assert_forgotten(request)


def test_an_erasure_after_a_merge_forgets_the_folded_cases_conversation(coordinator):
    kept_request = talk("form-1", coordinator)
    folded_request = talk("form-2", coordinator)
    keep = fresh(intake_accept(request=kept_request, by=coordinator))
    fold = fresh(intake_accept(request=folded_request, by=coordinator, confirmed_new=True))
    case_merge(
        keep=keep,
        fold=fold,
        by=coordinator,
        keep_version=keep.version,
        fold_version=fold.version,
    )
    folded_request.refresh_from_db()
    assert folded_request.case_id == keep.pk  # the conversation went with the merge
    retention.case_erase(case=fresh(keep), by=coordinator, reason="Asked by phone")
    assert_forgotten(kept_request, address="form-1")
    assert_forgotten(folded_request, address="form-2")


def test_the_retention_of_a_rejected_request_forgets_its_conversation(coordinator):
    request = talk("form-1", coordinator)
    intake_reject(request=request, by=coordinator, reason="Not for us")
    with time_machine.travel(timezone.now() + timedelta(days=RETENTION_DAYS + 1)):
        assert purge_expired_requests.apply().get() == 1
    assert_forgotten(request)


def test_held_messages_are_forgotten_too_and_never_let_in_afterwards(coordinator, settings):
    settings.VOLUME_ADDRESS_MESSAGES = 1
    request = talk("form-1", coordinator)
    assert request.messages.filter(state=Delivery.HELD).exists()
    case = intake_accept(request=request, by=coordinator)
    retention.case_erase(case=fresh(case), by=coordinator, reason="Asked through the form")
    assert_forgotten(request)
