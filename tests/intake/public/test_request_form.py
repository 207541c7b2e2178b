"""Sending the public form: a request in the channel team's triage queue, a reference and a
passphrase shown once, the passphrase kept only as a hash; bad input mended, never a 500."""

import pytest
from django.db import connection
from django.test import Client

from audit.models import AccessEvent, Action
from intake.models import Channel, Direction, IntakeRequest, TriageState
from intake.public.passphrases import WORD_COUNT, words
from tests.intake.public.conftest import submit

pytestmark = pytest.mark.django_db


def raw_row(request: IntakeRequest) -> tuple:
    """The request's row as a dump shows it."""
    with connection.cursor() as cursor:
        table = IntakeRequest._meta.db_table
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [request.pk])  # noqa: S608
        return cursor.fetchone()


def test_sending_opens_a_web_form_request_in_the_teams_triage_queue(
    public, team, other_team, volunteer_client
):
    reference, _passphrase = submit(
        public, message="I got a summons for Monday.", contact="@quiet_fox"
    )
    request = IntakeRequest.objects.get(reference=reference)
    assert request.channel == Channel.WEB_FORM
    assert request.team == team
    assert request.state == TriageState.NEW
    assert request.logged_by is None
    assert request.message == "I got a summons for Monday."
    assert request.contact == "@quiet_fox"
    assert request.language == "en"  # the language the person read the form in
    assert [(m.direction, m.text) for m in request.messages.all()] == [
        (Direction.IN, "I got a summons for Monday.")
    ]

    queue = volunteer_client.get("/intake/")
    assert reference in queue.content.decode()
    assert "Web form" in queue.content.decode()
    detail = volunteer_client.get(f"/intake/{reference}/")
    assert "I got a summons for Monday." in detail.content.decode()


def test_the_reference_and_passphrase_are_shown_once_and_never_stored_in_clear(public, team):
    response = public.post("/", {"message": "Help me, please."})
    reference, passphrase = response.context["reference"], response.context["passphrase"]
    assert len(passphrase.split()) == WORD_COUNT
    assert set(passphrase.split()) <= set(words())
    html = response.content.decode()
    assert reference in html and passphrase in html
    assert "cannot tell it to you again" in html
    assert "no-store" in response["Cache-Control"]

    request = IntakeRequest.objects.get(reference=reference)
    assert request.passphrase_hash.startswith("md5$")  # the project's hasher (tests: fast)
    row = " ".join(str(value) for value in raw_row(request))
    for word in passphrase.split():
        assert word not in row
    # Nor is the reply address (the request's own random token) stored in clear.
    assert request.reply_address and request.reply_address not in row


def test_the_passphrase_hash_is_argon2_in_production(public, team, production_hashers):
    reference, _passphrase = submit(public)
    assert IntakeRequest.objects.get(reference=reference).passphrase_hash.startswith("argon2")


def test_two_requests_get_two_passphrases_and_two_addresses(public, team):
    first, second = submit(public), submit(public)
    assert first[0] != second[0] and first[1] != second[1]
    one, two = IntakeRequest.objects.order_by("pk")
    assert one.address_digest != two.address_digest


def test_the_contact_is_optional(public, team):
    reference, _passphrase = submit(public, contact="")
    assert IntakeRequest.objects.get(reference=reference).contact  # what triage sees


def test_the_request_is_audited_without_an_actor(public, team):
    reference, _passphrase = submit(public)
    event = AccessEvent.objects.get(target_ref=reference, action=Action.REQUEST_LOGGED)
    assert event.actor is None


def test_the_form_is_russian_by_default(public_host):
    response = Client(HTTP_HOST=public_host).get("/")
    assert '<html lang="ru">' in response.content.decode()
    assert response["Content-Language"] == "ru"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("en-GB,en;q=0.9", "en"),
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        ("de-DE,de;q=0.9", "ru"),
        ("de-DE,en;q=0.5", "en"),
        ("", "ru"),
        ("x" * 600, "ru"),
    ],
)
def test_the_browser_may_ask_for_english(public, header, language):
    response = public.get("/", HTTP_ACCEPT_LANGUAGE=header)
    assert f'<html lang="{language}">' in response.content.decode()


def test_the_language_links_are_plain_links_and_carried_through_the_form(public, team):
    page = public.get("/?lang=en", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<html lang="en">' in page
    assert 'href="?lang=ru"' in page and 'href="?lang=en"' in page
    assert 'action="/?lang=en"' in page
    response = public.post("/?lang=en", {"message": "Help"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert '<html lang="en">' in response.content.decode()
    assert IntakeRequest.objects.get().language == "en"
    assert not response.cookies


def test_the_page_with_the_passphrase_offers_no_link_that_loses_it(public, team):
    html = public.post("/", {"message": "Help"}).content.decode()
    assert "?lang=" not in html.split("<main")[0]


# Bad input: a clear message, what was typed kept, never a 500 ---------------------------------


def test_an_empty_message_is_refused_with_what_was_typed_kept(public, team):
    response = public.post("/", {"message": "  ", "contact": "@quiet_fox"})
    assert response.status_code == 400
    assert "Write what you need first." in response.content.decode()
    assert 'value="@quiet_fox"' in response.content.decode()
    assert not IntakeRequest.objects.exists()


def test_an_overlong_message_is_refused_and_kept(public, team):
    typed = "я" * 4097
    response = public.post("/", {"message": typed})
    assert response.status_code == 400
    assert typed in response.content.decode()
    assert "4096" in response.content.decode()
    assert not IntakeRequest.objects.exists()


def test_the_longest_message_is_taken_whole(public, team):
    typed = "я" * 4096
    submit(public, message=typed)
    assert IntakeRequest.objects.get().message == typed


@pytest.mark.parametrize("typed", ["Help\x00me", "Help\x1b[31m", "Help\x07"])
def test_control_characters_are_refused(public, team, typed):
    response = public.post("/", {"message": typed})
    assert response.status_code == 400
    assert "control characters" in response.content.decode() or "Null" in str(
        response.context["form"].errors
    )
    assert not IntakeRequest.objects.exists()


def test_line_breaks_and_tabs_are_kept(public, team):
    submit(public, message="Line one\r\n\tLine two")
    assert IntakeRequest.objects.get().message == "Line one\r\n\tLine two"


def test_a_post_too_large_to_read_is_a_clear_page(public, team):
    response = public.post("/", {"message": "x" * 3_000_000})
    assert response.status_code == 400
    assert "too long" in response.content.decode()
    assert "<script" not in response.content.decode()
    assert not IntakeRequest.objects.exists()


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_another_method_is_told_to_use_the_form(public, method):
    response = getattr(public, method)("/")
    assert response.status_code == 405
    assert "Use the form" in response.content.decode()
    assert response["Allow"] == "GET, POST"


def test_a_head_request_is_answered(public):
    assert public.head("/").status_code == 200
