"""A photo of a summons attached on a phone by the volunteer, and downloaded by the
coordinator: named for the case, with its EXIF gone."""

import io
from pathlib import Path

import pytest
from PIL import Image

from tests.documents import fixtures
from tests.e2e.conftest import shoot
from tests.e2e.test_case_journey import signed_in
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)

DESCRIPTION = "Summons to the enlistment office, photo"
NOT_ACCEPTED = (
    "This file is not a photo (JPEG, PNG or HEIC) or a PDF. Only those can be attached: "
    "take a photo of the paper, or save it as PDF."
)


def test_a_photo_attached_on_a_phone_is_downloaded_clean_by_the_coordinator(
    browser, live_server, volunteer, coordinator, team, w, tmp_path
):
    case = CaseFactory(team=team, assignee=volunteer)
    phone = signed_in(
        browser,
        live_server,
        volunteer,
        {"width": 360, "height": 740},
        f"phone-{w.language}",
        w.locale,
    )
    phone.goto(f"{live_server.url}/cases/{case.reference}/")
    panel = phone.locator("#documents")
    panel.get_by_label(w("Kind")).select_option(label=w("Summons"))
    panel.get_by_label(w("Short description")).fill(DESCRIPTION)
    panel.get_by_label(w("File")).set_input_files(
        files=[
            {"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": fixtures.jpeg_with_gps()}
        ]
    )
    shoot(phone, "60-document-form")
    # First a program renamed to .jpg: refused, in words, with the description kept.
    panel.get_by_label(w("File")).set_input_files(
        files=[
            {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": fixtures.renamed_executable()}
        ]
    )
    panel.get_by_role("button", name=w("Attach"), exact=True).click()
    phone.get_by_text(w(NOT_ACCEPTED)).first.wait_for()
    panel = phone.locator("#documents")
    assert panel.get_by_label(w("Short description")).input_value() == DESCRIPTION
    shoot(phone, "60b-document-refused")
    panel.get_by_label(w("File")).set_input_files(
        files=[
            {"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": fixtures.jpeg_with_gps()}
        ]
    )
    panel.get_by_role("button", name=w("Attach"), exact=True).click()
    phone.locator(".messages .message").first.wait_for()
    assert phone.locator(".messages .message").first.inner_text() == w(
        "%(kind)s attached.", kind=w("Summons")
    )
    assert DESCRIPTION in phone.locator("#documents").inner_text()
    assert "IMG_0042" not in phone.content()
    shoot(phone, "61-document-attached")

    desk = signed_in(
        browser,
        live_server,
        coordinator,
        {"width": 1280, "height": 900},
        f"desktop-{w.language}",
        w.locale,
    )
    desk.goto(f"{live_server.url}/cases/{case.reference}/")
    link = desk.locator("#documents").get_by_role("link", name=f"{w('Summons')} 1")
    with desk.expect_download() as downloading:
        link.click()
    download = downloading.value
    assert download.suggested_filename == f"{case.reference}-summons-1.jpg"
    saved = Path(tmp_path) / "downloaded.jpg"
    download.save_as(saved)
    image = Image.open(io.BytesIO(saved.read_bytes()))
    assert image.format == "JPEG" and dict(image.getexif()) == {}
    shoot(desk, "62-document-listed")
