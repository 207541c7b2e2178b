"""The rate limits hold with several processes at once (real PostgreSQL connections): the
decisions are made one at a time, so two arrivals never both take the last place, and two
releases never let in more than the limit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from intake.conversations import conversation_receive, held_release
from intake.models import Channel, Delivery, Direction, IntakeRequest, Message, TriageState
from tests.concurrency import needs_postgres, run_together

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _channels_bring_to_north(settings, team):
    settings.CHANNEL_TEAM = team.name


def test_messages_racing_from_one_chat_never_pass_its_limit(team, settings):
    settings.VOLUME_ADDRESS_MESSAGES = 5
    conversation_receive(channel=Channel.TELEGRAM, address="700", text="first")

    def burst():
        return [
            conversation_receive(channel=Channel.TELEGRAM, address="700", text="again").held
            for _ in range(6)
        ]

    results = run_together(burst, times=4)
    incoming = Message.objects.filter(direction=Direction.IN)
    assert incoming.count() == 25  # nothing lost
    assert incoming.filter(state=Delivery.RECEIVED).count() == 5
    assert sum(held for result in results for held in result) == 20

    later = timezone.now() + timedelta(minutes=11)
    released = run_together(lambda: held_release(later).messages, times=2)
    assert sorted(released) == [0, 5]


def test_new_requests_racing_never_pass_the_overall_limit(team, settings):
    settings.VOLUME_ALL_REQUESTS = 3
    counter = iter(range(1000))

    def open_two():
        return [
            conversation_receive(
                channel=Channel.TELEGRAM, address=f"chat-{next(counter)}", text="Help me please"
            ).held
            for _ in range(2)
        ]

    run_together(open_two, times=4)
    assert IntakeRequest.objects.count() == 8
    assert IntakeRequest.objects.filter(state=TriageState.NEW).count() == 3
    assert IntakeRequest.objects.filter(state=TriageState.HELD).count() == 5
