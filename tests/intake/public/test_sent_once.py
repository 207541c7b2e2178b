"""One form page opens one request: reloading the "we have your request" page sends the form
again, and a frightened person on a bad connection will say yes. The page carries a one-time
token (no cookie, no script); the same page sent again says the request is already here and
opens nothing, shows no passphrase, and two sent at the same moment open one request."""

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from intake.models import IntakeRequest
from intake.services import intake_reject
from intake.tasks import purge_expired_requests
from tests.concurrency import needs_postgres, run_together
from tests.intake.public.conftest import PASSPHRASE, page_token, shown_once

ALREADY = "We already have your request"
HELP = "I got a summons for Monday."


def sent_page(client: Client, **extra) -> dict[str, str]:
    """What the browser sends from a form page it was just given."""
    return {"message": HELP, "once": page_token(client.get("/")), **extra}


@pytest.mark.django_db
def test_reloading_the_sent_page_opens_no_second_request(public, team):
    page = sent_page(public, contact="@quiet_fox")
    first = public.post("/", page)
    reference, passphrase = shown_once(first)

    again = public.post("/", page)  # the browser's "send the form again?" answered yes
    assert again.status_code == 200
    html = again.content.decode()
    assert ALREADY in html
    assert "does not open a second request" in html
    assert "cannot be shown again" in html
    # Only the passphrase's hash is kept; nor is the reference told to whoever holds the page.
    assert passphrase not in html and reference not in html
    assert not PASSPHRASE.search(html)
    assert 'href="/back/?lang=en"' in html and 'href="/?lang=en"' in html
    assert IntakeRequest.objects.get().reference == reference

    public.post("/", page)
    assert IntakeRequest.objects.count() == 1


@pytest.mark.django_db
def test_the_page_sent_again_keeps_the_public_hosts_rules(public, team):
    page = sent_page(public)
    public.post("/", page)
    again = public.post("/", page)
    assert ALREADY in again.content.decode()
    assert not again.cookies and not public.cookies
    assert "no-store" in again["Cache-Control"]
    assert "default-src 'none'" in again["Content-Security-Policy"]
    assert "script-src" not in again["Content-Security-Policy"]
    assert "<script" not in again.content.decode().lower()


@pytest.mark.django_db
def test_the_page_sent_again_answers_in_the_persons_language(public_host, team):
    russian = Client(HTTP_HOST=public_host)
    page = sent_page(russian)
    russian.post("/", page)
    again = russian.post("/?lang=ru", page)
    html = again.content.decode()
    assert '<html lang="ru">' in html
    assert "Отправить новое обращение" in html  # "Send a new request"
    assert IntakeRequest.objects.count() == 1


@pytest.mark.django_db
def test_every_form_page_is_a_new_request(public, team):
    """A fresh page (a new visit, "Send a new request") is a request of its own."""
    first, second = public.get("/"), public.get("/")
    assert page_token(first) != page_token(second)
    one = shown_once(public.post("/", {"message": HELP, "once": page_token(first)}))
    two = shown_once(public.post("/", {"message": HELP, "once": page_token(second)}))
    assert one[0] != two[0] and one[1] != two[1]
    assert IntakeRequest.objects.count() == 2


@pytest.mark.django_db
def test_a_mistake_mended_on_the_same_page_still_counts_once(public, team):
    token = page_token(public.get("/"))
    refused = public.post("/", {"message": " ", "contact": "@quiet_fox", "once": token})
    assert refused.status_code == 400
    assert page_token(refused) == token  # the page shown again is the same page
    assert not IntakeRequest.objects.exists()

    mended = {"message": HELP, "contact": "@quiet_fox", "once": page_token(refused)}
    shown_once(public.post("/", mended))
    assert ALREADY in public.post("/", mended).content.decode()
    assert IntakeRequest.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("token", [None, "", "short", "x" * 23, "a b" * 8, "<script>" * 3])
def test_a_page_without_a_right_token_is_sent_as_a_new_request(public, team, token):
    """A page shown before there were tokens (a tab kept open) must still reach us."""
    data = {"message": HELP} if token is None else {"message": HELP, "once": token}
    first = shown_once(public.post("/", data))
    second = shown_once(public.post("/", data))
    assert first[0] != second[0]
    assert IntakeRequest.objects.count() == 2


@pytest.mark.django_db
def test_a_page_without_a_token_shown_again_gets_one(public, team):
    refused = public.post("/", {"message": ""})
    assert refused.status_code == 400
    mended = {"message": HELP, "once": page_token(refused)}
    shown_once(public.post("/", mended))
    assert ALREADY in public.post("/", mended).content.decode()
    assert IntakeRequest.objects.count() == 1


@pytest.mark.django_db
def test_the_token_is_kept_only_as_a_keyed_digest(public, team):
    page = sent_page(public)
    public.post("/", page)
    request = IntakeRequest.objects.get()
    with connection.cursor() as cursor:
        table = IntakeRequest._meta.db_table
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [request.pk])  # noqa: S608
        row = " ".join(str(value) for value in cursor.fetchone())
    assert page["once"] not in row
    assert len(request.submit_digest) == 64
    # Keyed: a dump cannot test a token against it.
    assert request.submit_digest != hashlib.sha256(page["once"].encode()).hexdigest()


@pytest.mark.django_db
def test_the_token_is_forgotten_with_the_request(public, team, coordinator, settings):
    settings.RETENTION_DAYS = 30
    page = sent_page(public)
    reference, _passphrase = shown_once(public.post("/", page))
    request = IntakeRequest.objects.get(reference=reference)
    intake_reject(request=request, by=coordinator, reason="Not for us")
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert purge_expired_requests.apply().get() == 1
    request.refresh_from_db()
    assert request.purged_at is not None and request.submit_digest == ""

    # Nothing is left of that request: the same page sent again is a new one.
    again, _passphrase = shown_once(public.post("/", page))
    assert again != reference


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_the_same_page_sent_twice_at_once_opens_one_request(public_host, team, attempt):
    page = {"message": HELP, "once": page_token(Client(HTTP_HOST=public_host).get("/"))}

    def send() -> tuple[int, bool, bool]:
        client = Client(HTTP_HOST=public_host, HTTP_ACCEPT_LANGUAGE="en")
        response = client.post("/", page)
        html = response.content.decode()
        return response.status_code, ALREADY in html, PASSPHRASE.search(html) is not None

    results = run_together(send)
    assert sorted(results) == [(200, False, True), (200, True, False)]
    assert IntakeRequest.objects.count() == 1
