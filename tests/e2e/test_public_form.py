"""The public request form in a browser with JavaScript off, on a 360-px phone, in English
and Russian: a request sent, a coordinator's reply read with the passphrase, an answer
written; no cookie all along; and the staff app is not there (nor the form on the staff
host). The live server answers as "localhost" (public) and "127.0.0.1" (staff)."""

from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from intake.conversations import reply_send
from intake.models import Channel, Delivery, Direction, IntakeRequest, Message
from tests.e2e.conftest import shoot
from tests.intake.public.conftest import make_public

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def hosts(live_server, settings):
    """(public address, staff address) of the live server."""
    port = urlsplit(live_server.url).port
    make_public(settings, "localhost")
    return f"http://localhost:{port}", f"http://127.0.0.1:{port}"


@pytest.fixture
def phone(browser, w):
    """A phone's browser at the safest level: no JavaScript at all."""
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale=w.locale)
    page = context.new_page()
    page.screen_name = f"phone-nojs-{w.language}"
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    yield page
    assert context.cookies() == [], "a public page set a cookie"
    context.close()
    # A CSP violation shows up in the console: none allowed. (A refused form is a 400 page,
    # which the console lists as a failed load: that is the page, not a violation.)
    assert [error for error in errors if not error.startswith("Failed to load resource")] == []


def test_a_person_asks_reads_the_reply_and_answers(hosts, phone, w, coordinator, team):
    public, _staff = hosts
    page = phone

    # The form: in the browser's language, with both languages offered as plain links.
    page.goto(f"{public}/")
    assert page.locator("html").get_attribute("lang") == w.language
    expect(page.get_by_role("link", name="English")).to_be_visible()
    expect(page.get_by_role("link", name="Русский")).to_be_visible()
    shoot(page, "public-form")
    page.get_by_role("button", name=w("Send")).click()
    expect(page.get_by_text(w("Write what you need first.")).first).to_be_visible()
    page.get_by_label(w("How can we reach you?")).fill("@quiet_fox")
    page.get_by_label(w("What do you need?")).fill("I got a summons for Monday. What can I do?")
    page.get_by_role("button", name=w("Send")).click()

    # Shown once: the reference and the passphrase.
    expect(page.get_by_role("heading", name=w("We have your request"))).to_be_visible()
    reference = page.locator("#reference").inner_text()
    passphrase = page.locator("#passphrase").inner_text()
    request = IntakeRequest.objects.get(reference=reference)
    assert request.channel == Channel.WEB_FORM
    assert request.language == w.language
    assert passphrase not in request.passphrase_hash
    shoot(page, "public-sent")

    # A coordinator replies from the app (the sender marks a web-form reply sent).
    reply = reply_send(request=request, by=coordinator, text="We can help. Stay where you are.")
    Message.objects.filter(pk=reply.pk).update(state=Delivery.SENT, sent_at=timezone.now())

    # Back with the reference and passphrase: the reply is there, its writer is not.
    page.get_by_role("link", name=w("Read our replies")).first.click()
    page.get_by_label(w("Reference")).fill(reference)
    page.get_by_label(w("Passphrase")).fill(passphrase.upper())
    page.get_by_role("button", name=w("Open")).click()
    expect(page.get_by_text("We can help. Stay where you are.")).to_be_visible()
    expect(page.get_by_text(w("Our reply"))).to_be_visible()
    assert coordinator.username not in page.content()
    shoot(page, "public-conversation")

    # The answer joins the same request.
    page.get_by_label(w("Write to us again")).fill("Thank you. I stay home.")
    page.get_by_role("button", name=w("Send")).click()
    expect(page.get_by_text(w("Sent. We will answer here."))).to_be_visible()
    expect(page.get_by_text("Thank you. I stay home.")).to_be_visible()
    assert (
        list(request.messages.filter(direction=Direction.IN).values_list("pk", flat=True)).__len__()
        == 2
    )
    assert IntakeRequest.objects.count() == 1
    reply.refresh_from_db()
    assert reply.read_at is not None

    # A wrong passphrase: the same words as an unknown reference, what was typed kept.
    page.goto(f"{public}/back/")
    page.get_by_label(w("Reference")).fill(reference)
    page.get_by_label(w("Passphrase")).fill("apple apple apple apple apple")
    page.get_by_role("button", name=w("Open")).click()
    expect(
        page.get_by_text(
            w("The reference or the passphrase is not right. Check both and try again.")
        ).first
    ).to_be_visible()
    expect(page.get_by_label(w("Passphrase"))).to_have_value("apple apple apple apple apple")
    shoot(page, "public-wrong")


def test_the_other_language_is_a_plain_link(hosts, phone, w):
    public, _staff = hosts
    other = "en" if w.language == "ru" else "ru"
    phone.goto(f"{public}/")
    phone.get_by_role("link", name="English" if other == "en" else "Русский").click()
    assert phone.locator("html").get_attribute("lang") == other
    assert f"lang={other}" in phone.url


def test_the_staff_app_is_not_on_the_public_host_nor_the_form_on_the_staff_host(hosts, phone, w):
    public, staff = hosts
    for path in ("/intake/", "/account/login/", "/admin/"):
        response = phone.goto(f"{public}{path}")
        assert response.status == 404
        expect(phone.get_by_role("heading", name=w("Not found"))).to_be_visible()
    shoot(phone, "public-not-found")

    response = phone.goto(f"{staff}/back/")
    assert response.status == 404
    phone.goto(f"{staff}/")
    assert "/account/login/" in phone.url
    phone.context.clear_cookies()  # the staff sign-in page's session cookie, not the form's


def test_reloading_the_sent_page_opens_no_second_request(hosts, phone, w, team):
    """The browser sends the form again on a reload of the page it answered; the person is
    told the request is already here, and nothing is shown again or opened."""
    public, _staff = hosts
    phone.goto(f"{public}/")
    phone.get_by_label(w("What do you need?")).fill("I got a summons for Monday.")
    phone.get_by_role("button", name=w("Send")).click()
    expect(phone.get_by_role("heading", name=w("We have your request"))).to_be_visible()
    passphrase = phone.locator("#passphrase").inner_text()

    response = phone.reload()
    assert response.request.method == "POST"  # the same page, sent again
    expect(phone.get_by_role("heading", name=w("We already have your request"))).to_be_visible()
    assert passphrase not in phone.content()
    assert phone.locator("#passphrase").count() == 0
    assert IntakeRequest.objects.count() == 1
    shoot(phone, "public-sent-again")
