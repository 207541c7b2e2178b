"""Coming back with the reference and passphrase: the person reads the replies that went
out and writes again on the same request; wrong tries are throttled, a right one included
while the throttle holds; a purged conversation says so; bad input never a 500."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessEvent, Action
from casework.models import CaseEvent, EventKind
from casework.services.cases import case_note_add
from intake.conversations import conversation_receive, reply_send
from intake.models import Delivery, Direction, IntakeRequest, Message
from intake.public.models import PassphraseFailure
from intake.services import intake_accept, intake_reject
from tests.intake.public.conftest import submit

pytestmark = pytest.mark.django_db

WRONG = "The reference or the passphrase is not right."
LOCKED = "Too many wrong tries"


def sent_reply(request: IntakeRequest, by, text: str) -> Message:
    """A reply as the sender leaves it once delivered (web-form replies go out at once)."""
    reply = reply_send(request=request, by=by, text=text)
    Message.objects.filter(pk=reply.pk).update(state=Delivery.SENT, sent_at=timezone.now())
    return reply


@pytest.fixture
def sent(public, team):
    """A request sent through the form: (reference, passphrase)."""
    return submit(public, message="I got a summons for Monday.")


def open_with(client, reference, passphrase, **extra):
    return client.post("/back/", {"reference": reference, "passphrase": passphrase}, **extra)


def test_the_come_back_form_is_a_plain_post_form(public):
    html = public.get("/back/").content.decode()
    assert 'method="post"' in html
    assert 'name="reference"' in html and 'name="passphrase"' in html


def test_the_person_reads_a_sent_reply_and_nothing_of_who_wrote_it(public, sent, coordinator):
    reference, passphrase = sent
    request = IntakeRequest.objects.get(reference=reference)
    reply = sent_reply(request, coordinator, "We can help. Do not travel yet.")
    reply_send(request=request, by=coordinator, text="Still queued, not yet sent.")

    response = open_with(public, reference, passphrase)
    html = response.content.decode()
    assert response.status_code == 200
    assert "I got a summons for Monday." in html
    assert "We can help. Do not travel yet." in html
    assert "Still queued" not in html
    assert coordinator.username not in html
    assert "coordinator" not in html.lower()
    assert "no-store" in response["Cache-Control"]

    reply.refresh_from_db()
    assert reply.read_at is not None
    queued = request.messages.get(direction=Direction.OUT, state=Delivery.QUEUED)
    assert queued.read_at is None
    event = AccessEvent.objects.filter(
        target_ref=reference, action=Action.REQUEST_VIEWED, actor=None
    )
    assert event.count() == 1


def test_a_case_note_never_reaches_the_person(public, sent, coordinator):
    reference, passphrase = sent
    case = intake_accept(request=IntakeRequest.objects.get(reference=reference), by=coordinator)
    case_note_add(
        case=case, by=coordinator, kind=EventKind.NOTE, text="Internal: check the unit number."
    )
    html = open_with(public, reference, passphrase).content.decode()
    assert "Internal" not in html


def test_the_reference_and_passphrase_are_forgiving_of_how_they_are_typed(public, sent):
    reference, passphrase = sent
    typed = f"  {reference.lower().replace('r', 'Р')}  "  # noqa: RUF001 (a Cyrillic Er)
    shouted = "-".join(word.upper() for word in passphrase.split())
    assert open_with(public, typed, shouted).status_code == 200


def test_a_passphrase_typed_on_the_russian_layout_still_opens(public, sent):
    reference, passphrase = sent
    russian = passphrase.translate(
        str.maketrans("qwertyuiopasdfghjklzxcvbnm", "йцукенгшщзфывапролдячсмить")
    )
    assert open_with(public, reference, russian).status_code == 200


def test_writing_again_joins_the_same_request(public, sent):
    reference, passphrase = sent
    response = public.post(
        "/back/write/", {"reference": reference, "passphrase": passphrase, "text": "Any news?"}
    )
    assert response.status_code == 200
    assert "Sent. We will answer here." in response.content.decode()
    assert "Any news?" in response.content.decode()
    assert IntakeRequest.objects.count() == 1
    request = IntakeRequest.objects.get()
    assert [m.text for m in request.messages.filter(direction=Direction.IN)] == [
        "I got a summons for Monday.",
        "Any news?",
    ]
    assert AccessEvent.objects.filter(
        target_ref=reference, action=Action.MESSAGE_RECEIVED, actor=None
    ).exists()
    # The box is empty again; the way back in rides along for the next message.
    assert response.context["form"]["text"].value() in (None, "")
    assert f'name="passphrase" value="{passphrase}"' in response.content.decode()


def test_writing_again_after_a_rejection_reopens_the_request_the_passphrase_opens(
    public, sent, coordinator
):
    reference, passphrase = sent
    intake_reject(
        request=IntakeRequest.objects.get(reference=reference), by=coordinator, reason="Unclear"
    )
    public.post(
        "/back/write/",
        {"reference": reference, "passphrase": passphrase, "text": "I explain better now."},
    )
    request = IntakeRequest.objects.get()
    assert request.state == "new"
    page = open_with(public, reference, passphrase).content.decode()
    assert "I explain better now." in page


def test_writing_again_on_an_accepted_request_reaches_the_case_timeline(public, sent, coordinator):
    reference, passphrase = sent
    case = intake_accept(request=IntakeRequest.objects.get(reference=reference), by=coordinator)
    public.post(
        "/back/write/", {"reference": reference, "passphrase": passphrase, "text": "Any news?"}
    )
    assert CaseEvent.objects.filter(case=case, kind=EventKind.MESSAGE).exists()


def test_writing_nothing_keeps_the_conversation_and_says_so(public, sent):
    reference, passphrase = sent
    response = public.post(
        "/back/write/", {"reference": reference, "passphrase": passphrase, "text": " "}
    )
    assert response.status_code == 400
    assert "Write your message first." in response.content.decode()
    assert "I got a summons for Monday." in response.content.decode()
    assert Message.objects.count() == 1


def test_an_overlong_message_is_kept_on_the_conversation_page(public, sent):
    reference, passphrase = sent
    typed = "x" * 5000
    response = public.post(
        "/back/write/", {"reference": reference, "passphrase": passphrase, "text": typed}
    )
    assert response.status_code == 400
    assert typed in response.content.decode()


def test_writing_again_needs_the_passphrase(public, sent):
    reference, _passphrase = sent
    response = public.post(
        "/back/write/",
        {"reference": reference, "passphrase": "apple apple apple apple apple", "text": "Hi"},
    )
    assert response.status_code == 400
    assert WRONG in response.content.decode()
    assert ">\nHi</textarea>" in response.content.decode()  # what was written, kept
    assert Message.objects.count() == 1


def test_writing_again_is_a_post(public):
    response = public.get("/back/write/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_a_wrong_passphrase_and_an_unknown_reference_read_the_same(public, sent):
    reference, _passphrase = sent
    wrong = open_with(public, reference, "apple apple apple apple apple")
    unknown = open_with(public, "R-2026-09999", "apple apple apple apple apple")
    assert wrong.status_code == unknown.status_code == 400
    assert WRONG in wrong.content.decode() and WRONG in unknown.content.decode()
    assert "apple apple" in wrong.content.decode()  # what was typed, kept


def test_another_channels_reference_does_not_open(public, team):
    telegram = conversation_receive(channel="telegram", address="7001", text="Hi").request
    response = open_with(public, telegram.reference, "")
    assert response.status_code == 400  # no passphrase: refused by the form
    assert open_with(public, telegram.reference, "apple pie").status_code == 400
    assert "Hi" not in open_with(public, telegram.reference, "apple pie").content.decode()


def test_wrong_tries_are_throttled_per_reference_and_then_a_right_one_is_refused(
    public, sent, settings
):
    reference, passphrase = sent
    for _try in range(settings.PUBLIC_FAILURES_PER_REFERENCE):
        assert open_with(public, reference, "apple apple apple apple apple").status_code == 400
    refused = open_with(public, reference, passphrase)
    assert refused.status_code == 429
    assert LOCKED in refused.content.decode()
    assert "Your conversation" not in refused.content.decode()
    # Writing is refused alike.
    write = public.post(
        "/back/write/", {"reference": reference, "passphrase": passphrase, "text": "Hi"}
    )
    assert write.status_code == 429
    assert Message.objects.count() == 1


def test_the_throttle_holds_across_addresses_for_one_reference(public, sent, settings):
    reference, passphrase = sent
    for number in range(settings.PUBLIC_FAILURES_PER_REFERENCE):
        open_with(public, reference, "apple", REMOTE_ADDR=f"198.51.100.{number}")
    assert open_with(public, reference, passphrase, REMOTE_ADDR="203.0.113.9").status_code == 429


def test_the_throttle_holds_across_references_for_one_address(public, team, settings):
    settings.PUBLIC_FAILURES_PER_ADDRESS = 3
    reference, passphrase = submit(public)
    for number in range(3):
        open_with(public, f"R-2026-0990{number}", "apple", REMOTE_ADDR="198.51.100.7")
    assert open_with(public, reference, passphrase, REMOTE_ADDR="198.51.100.7").status_code == 429
    assert open_with(public, reference, passphrase, REMOTE_ADDR="198.51.100.8").status_code == 200


def test_an_ipv6_client_is_one_client_across_its_64(public, team, settings):
    settings.PUBLIC_FAILURES_PER_ADDRESS = 2
    reference, passphrase = submit(public)
    open_with(public, "R-2026-09901", "apple", REMOTE_ADDR="2001:db8:1:2::1")
    open_with(public, "R-2026-09902", "apple", REMOTE_ADDR="2001:db8:1:2::ffff")
    assert (
        open_with(public, reference, passphrase, REMOTE_ADDR="2001:db8:1:2::42").status_code == 429
    )


def test_the_throttle_keeps_no_address_or_reference_in_clear(public, sent):
    reference, _passphrase = sent
    open_with(public, reference, "apple", REMOTE_ADDR="198.51.100.77")
    digests = list(PassphraseFailure.objects.values_list("digest", flat=True))
    assert len(digests) == 2
    for digest in digests:
        assert "198.51.100" not in digest and reference not in digest


def test_the_throttle_ends_when_the_wrong_tries_age_out(public, sent, settings):
    reference, passphrase = sent
    for _try in range(settings.PUBLIC_FAILURES_PER_REFERENCE):
        open_with(public, reference, "apple")
    assert open_with(public, reference, passphrase).status_code == 429
    # Knocking on while locked does not extend the lock.
    PassphraseFailure.objects.update(
        failed_at=timezone.now() - timedelta(minutes=settings.PUBLIC_FAILURE_MINUTES, seconds=1)
    )
    assert open_with(public, reference, passphrase).status_code == 200


def test_old_failures_are_purged(public, sent, settings):
    reference, _passphrase = sent
    open_with(public, reference, "apple")
    PassphraseFailure.objects.update(failed_at=timezone.now() - timedelta(days=1))
    open_with(public, reference, "apple")
    assert (
        PassphraseFailure.objects.filter(failed_at__lt=timezone.now() - timedelta(hours=1)).count()
        == 0
    )


def test_a_purged_conversation_says_it_was_deleted(public, sent):
    reference, passphrase = sent
    IntakeRequest.objects.filter(reference=reference).purge(timezone.now())
    response = open_with(public, reference, passphrase)
    assert response.status_code == 410
    assert "This conversation has been deleted." in response.content.decode()
    write = public.post(
        "/back/write/", {"reference": reference, "passphrase": passphrase, "text": "Hello?"}
    )
    assert write.status_code == 410
    assert [m.text for m in Message.objects.all()] == [""]  # nothing new, nothing kept


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"reference": "", "passphrase": ""},
        {"reference": "C-2026-00001", "passphrase": "apple"},
        {"reference": "R-2026-00001%00", "passphrase": "apple"},
        {"reference": "R-2026-00001", "passphrase": "apple\x00pie"},
        {"reference": "x" * 5000, "passphrase": "y" * 5000},
        {"reference": ["R-2026-00001", "R-2026"], "passphrase": "apple"},
    ],
)
def test_bad_input_is_a_clear_refusal_never_a_500(public, team, data):
    for path in ("/back/", "/back/write/"):
        response = public.post(f"{path}?lang=en", data)
        assert response.status_code == 400
        assert "There is a problem" in response.content.decode()
    assert not PassphraseFailure.objects.exists()  # malformed is not a guess


def test_the_conversation_page_reads_a_fixed_number_of_queries(
    public, sent, coordinator, django_assert_max_num_queries
):
    reference, passphrase = sent
    request = IntakeRequest.objects.get(reference=reference)
    for number in range(20):
        sent_reply(request, coordinator, f"Reply {number}")
        conversation_receive(
            channel="web_form", address=request.reply_address, text=f"Message {number}"
        )
    with django_assert_max_num_queries(8):
        response = open_with(public, reference, passphrase)
    assert response.status_code == 200
    assert response.content.decode().count('<li class="out">') == 20


@pytest.mark.parametrize("path", ["/", "/back/", "/back/write/"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_every_public_page_answers_a_stranger_without_sending_them_to_sign_in(
    public, team, path, method
):
    response = getattr(public, method)(path)
    assert response.status_code in (200, 400, 405)
    assert "Location" not in response
