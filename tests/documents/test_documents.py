"""Documents on a case, through HTTP: cleaned, encrypted at rest, served only to those who
see the case, audited, purged with the case."""

import io
from pathlib import Path

import pikepdf
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from PIL import Image

from accounts.roles import Role
from audit.models import AccessEvent, Action, InsiderAlert
from casework.models import CaseEvent, EventKind, RouteLeg
from casework.services import retention
from documents.models import Document, DocumentKind
from tests.conftest import verified_client
from tests.documents import fixtures
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

DESCRIPTION = "Summons for Pyotr Zhukov-Lebedev, March"
# Binary signatures that base64 (a Fernet token's alphabet) can never contain by chance.
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG", b"%PDF", b"PK\x03\x04")


@pytest.fixture
def case(team, volunteer):
    return CaseFactory(team=team, assignee=volunteer)


def attach_url(case) -> str:
    return reverse("documents:document_attach", args=[case.reference])


def download_url(case, document) -> str:
    return reverse("documents:document_download", args=[case.reference, document.pk])


def attach(client, case, content, name="photo.jpg", kind=DocumentKind.SUMMONS, **extra):
    data = {
        "document-kind": kind,
        "document-description": DESCRIPTION,
        "document-file": fixtures.upload(content, name),
    }
    return client.post(attach_url(case), {**data, **extra})


def stored_files() -> list[Path]:
    root = Path(settings.STORAGES["documents"]["OPTIONS"]["location"])
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def assert_storage_leaks_nothing():
    for path in stored_files():
        raw = path.read_bytes()
        assert "." not in path.name
        for signature in SIGNATURES:
            assert signature not in raw, (signature, path.name)
        for text in (DESCRIPTION, "Zhukov", fixtures.PDF_AUTHOR, fixtures.CAMERA, "photo"):
            assert text.encode() not in raw


# Cleaning ------------------------------------------------------------------------------


def test_a_photo_loses_its_gps_and_camera_before_it_is_stored(
    volunteer_client, coordinator_client, case
):
    response = attach(volunteer_client, case, fixtures.jpeg_with_gps())
    assert response.status_code == 302
    document = Document.objects.get(case=case)
    assert document.content_type == "image/jpeg"
    assert_storage_leaks_nothing()

    downloaded = coordinator_client.get(download_url(case, document))
    assert downloaded.status_code == 200
    image = Image.open(io.BytesIO(downloaded.content))
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert fixtures.CAMERA.encode() not in downloaded.content


def test_an_iphone_heic_photo_is_kept_as_a_jpeg_without_its_gps(
    volunteer_client, coordinator_client, case
):
    heic = fixtures.heic_with_gps((120, 90))
    assert fixtures.CAMERA.encode() in heic  # the fixture does carry what must go
    response = attach(volunteer_client, case, heic, name="IMG_0042.HEIC")
    assert response.status_code == 302
    document = Document.objects.get(case=case)
    assert document.content_type == "image/jpeg"
    assert_storage_leaks_nothing()

    downloaded = coordinator_client.get(download_url(case, document))
    assert downloaded["Content-Disposition"] == (
        f'attachment; filename="{case.reference}-summons-1.jpg"'
    )
    image = Image.open(io.BytesIO(downloaded.content))
    assert (image.format, image.size) == ("JPEG", (120, 90))
    assert dict(image.getexif()) == {}
    assert fixtures.CAMERA.encode() not in downloaded.content
    assert b"ftyp" not in downloaded.content


def test_a_heic_cut_short_is_refused_as_damaged(volunteer_client, case):
    response = attach(volunteer_client, case, fixtures.heic_with_gps()[:200], name="a.heic")
    assert response.status_code == 400
    assert "could not be read" in response.content.decode()
    assert stored_files() == []


def test_the_download_is_a_generic_attachment_that_cannot_run(
    coordinator_client, case, volunteer_client
):
    attach(volunteer_client, case, fixtures.jpeg_with_gps(), name="Zhukov summons.jpg")
    document = Document.objects.get(case=case)
    response = coordinator_client.get(download_url(case, document))
    disposition = response["Content-Disposition"]
    assert disposition == f'attachment; filename="{case.reference}-summons-1.jpg"'
    assert "Zhukov" not in disposition
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"


def test_a_pdf_loses_its_javascript_metadata_and_embedded_files(
    volunteer_client, coordinator_client, case
):
    response = attach(volunteer_client, case, fixtures.pdf_with_javascript(), name="s.pdf")
    assert response.status_code == 302
    document = Document.objects.get(case=case)
    assert document.content_type == "application/pdf"
    assert_storage_leaks_nothing()
    content = coordinator_client.get(download_url(case, document)).content
    for leftover in (b"/JavaScript", b"/JS", b"/OpenAction", b"/EmbeddedFile", b"/AA"):
        assert leftover not in content
    assert fixtures.PDF_AUTHOR.encode() not in content
    assert fixtures.EMBEDDED not in content
    with pikepdf.open(io.BytesIO(content)) as pdf:
        assert len(pdf.pages) == 1
        assert "/Metadata" not in pdf.Root
        assert not pdf.attachments


def test_a_polyglot_ends_as_a_plain_photo(volunteer_client, coordinator_client, case):
    assert attach(volunteer_client, case, fixtures.polyglot()).status_code == 302
    document = Document.objects.get(case=case)
    content = coordinator_client.get(download_url(case, document)).content
    assert content.startswith(b"\xff\xd8\xff")
    assert b"PK\x03\x04" not in content
    assert b"hidden in the photo" not in content


@fixtures.refused_files
def test_a_file_that_is_not_a_clean_photo_or_pdf_is_refused_and_nothing_is_kept(
    volunteer_client, case, content, message
):
    response = attach(volunteer_client, case, content)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert DESCRIPTION in page  # what was typed is kept
    assert not Document.objects.exists()
    assert stored_files() == []
    assert not CaseEvent.objects.filter(kind=EventKind.DOCUMENT).exists()


def test_an_oversize_file_is_refused_with_the_limit(volunteer_client, case, settings):
    settings.DOCUMENT_MAX_BYTES = 500
    response = attach(volunteer_client, case, fixtures.jpeg_with_gps((400, 400)))
    assert response.status_code == 400
    assert "larger than 500" in response.content.decode()
    assert not Document.objects.exists()
    assert stored_files() == []


def test_a_name_with_a_path_and_control_characters_is_neither_used_nor_kept_raw(
    volunteer_client, coordinator_client, case
):
    assert (
        attach(volunteer_client, case, fixtures.jpeg_with_gps(), name="../evil\x07.jpg").status_code
        == 302
    )
    document = Document.objects.get(case=case)
    assert document.original_name == "evil.jpg"
    assert "/" not in document.storage_name and "." not in document.storage_name
    response = coordinator_client.get(download_url(case, document))
    assert "evil" not in response["Content-Disposition"]
    root = Path(settings.STORAGES["documents"]["OPTIONS"]["location"])
    assert not (root.parent / "evil.jpg").exists()


def test_nothing_is_half_stored_when_recording_fails(volunteer_client, case, monkeypatch):
    from documents import services

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "timeline_add", broken)
    with pytest.raises(RuntimeError):
        attach(volunteer_client, case, fixtures.jpeg_with_gps())
    assert not Document.objects.exists()
    assert stored_files() == []


# The case page -------------------------------------------------------------------------


def test_the_case_page_lists_documents_without_their_names(volunteer_client, case):
    attach(volunteer_client, case, fixtures.jpeg_with_gps(), name="zhukov-passport.jpg")
    page = volunteer_client.get(reverse("casework:case_detail", args=[case.reference]))
    text = page.content.decode()
    assert "Summons 1" in text
    assert DESCRIPTION in text
    assert "zhukov-passport" not in text
    assert "summons attached" in text  # the timeline says what, not which
    event = CaseEvent.objects.get(case=case, kind=EventKind.DOCUMENT)
    assert "Zhukov" not in event.detail and event.text == ""
    assert 'enctype="multipart/form-data"' in text


def test_the_case_page_costs_the_same_queries_with_more_documents(
    volunteer_client, case, django_assert_max_num_queries
):
    url = reverse("casework:case_detail", args=[case.reference])
    attach(volunteer_client, case, fixtures.png(), name="a.png")
    volunteer_client.get(url)
    with django_assert_max_num_queries(200) as one:
        volunteer_client.get(url)
    with_one = len(one.captured_queries)
    for _ in range(4):
        attach(volunteer_client, case, fixtures.png(), name="a.png")
    with django_assert_max_num_queries(with_one):
        volunteer_client.get(url)


# Who may download ----------------------------------------------------------------------


def test_download_is_a_404_for_everyone_who_does_not_see_the_case(
    volunteer_client, case, team, other_team
):
    attach(volunteer_client, case, fixtures.png(), name="a.png")
    document = Document.objects.get()
    outsiders = [
        UserFactory(role=Role.VOLUNTEER, teams=[team]),  # same team, not on the case
        UserFactory(role=Role.VOLUNTEER, teams=[other_team]),
        UserFactory(role=Role.COORDINATOR, teams=[other_team]),
        UserFactory(role=Role.ADMIN, is_staff=True),
    ]
    for user in outsiders:
        assert verified_client(user).get(download_url(case, document)).status_code == 404
    # Another case's reference with this document's number: the same 404.
    other_case = CaseFactory(team=other_team)
    foreign = reverse("documents:document_download", args=[other_case.reference, document.pk])
    assert volunteer_client.get(foreign).status_code == 404
    assert not AccessEvent.objects.filter(action=Action.DOCUMENT_DOWNLOADED).exists()


def test_attaching_to_a_case_not_seen_is_a_404_and_stores_nothing(case, other_team):
    client = verified_client(UserFactory(role=Role.VOLUNTEER, teams=[other_team]))
    assert attach(client, case, fixtures.png()).status_code == 404
    assert stored_files() == []


def test_every_download_is_audited_and_counted_toward_mass_reading(
    coordinator_client, coordinator, volunteer_client, volunteer, team, settings
):
    settings.INSIDER_CASES_PER_HOUR = 2
    cases = [CaseFactory(team=team, assignee=volunteer) for _ in range(3)]
    for case in cases:
        attach(volunteer_client, case, fixtures.png(), name="a.png")
    for case in cases:
        document = Document.objects.get(case=case)
        assert coordinator_client.get(download_url(case, document)).status_code == 200
    events = AccessEvent.objects.filter(action=Action.DOCUMENT_DOWNLOADED, actor=coordinator)
    assert sorted(events.values_list("target_ref", flat=True)) == sorted(c.reference for c in cases)
    assert InsiderAlert.objects.filter(kind=InsiderAlert.Kind.MANY_CASES).count() == 1


def test_a_legs_file_is_for_the_legs_volunteer_and_coordinators_only(
    case, team, coordinator_client, volunteer_client
):
    from documents.services import document_attach

    driver = UserFactory(role=Role.VOLUNTEER, teams=[team])
    leg = RouteLeg.objects.create(
        case=case, position=1, origin="A", destination="B", volunteer=driver
    )
    document = document_attach(
        case=case,
        by=driver,
        upload=fixtures.upload(fixtures.png(), "ticket.png"),
        kind=DocumentKind.TRAVEL,
        description="Bus ticket",
        leg=leg,
    )
    assert verified_client(driver).get(download_url(case, document)).status_code == 200
    assert coordinator_client.get(download_url(case, document)).status_code == 200
    # The case's assignee sees the case, not the leg's details.
    assert volunteer_client.get(download_url(case, document)).status_code == 404
    page = volunteer_client.get(reverse("casework:case_detail", args=[case.reference]))
    assert "Bus ticket" not in page.content.decode()


# Purge ----------------------------------------------------------------------------------


def test_erasure_removes_the_files_and_a_legal_hold_keeps_them(
    volunteer_client, case, coordinator, django_capture_on_commit_callbacks
):
    attach(volunteer_client, case, fixtures.jpeg_with_gps())
    assert len(stored_files()) == 1
    retention.legal_hold_set(case=case, by=coordinator, reason="Appeal pending")
    with pytest.raises(ValidationError, match="legal hold"):
        retention.case_erase(case=case, by=coordinator, reason="The person asked")
    assert len(stored_files()) == 1
    assert Document.objects.count() == 1

    case.refresh_from_db()
    retention.legal_hold_lift(case=case, by=coordinator, reason="Appeal decided")
    case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        retention.case_erase(case=case, by=coordinator, reason="The person asked")
    assert not Document.objects.exists()
    assert stored_files() == []


def test_an_image_shows_as_a_small_audited_preview_to_those_who_see_the_case(
    volunteer_client, coordinator, coordinator_client, case, other_team
):
    attach(volunteer_client, case, fixtures.jpeg_with_gps((1200, 900)))
    document = Document.objects.get()
    preview = reverse("documents:document_preview", args=[case.reference, document.pk])
    page = coordinator_client.get(reverse("casework:case_detail", args=[case.reference]))
    assert preview in page.content.decode()

    response = coordinator_client.get(preview)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(response.content))
    assert max(image.size) <= 320
    assert dict(image.getexif()) == {}
    assert AccessEvent.objects.filter(action=Action.DOCUMENT_PREVIEWED, actor=coordinator).exists()
    outsider = verified_client(UserFactory(role=Role.COORDINATOR, teams=[other_team]))
    assert outsider.get(preview).status_code == 404


def test_a_pdf_has_no_preview(volunteer_client, coordinator_client, case):
    attach(volunteer_client, case, fixtures.pdf_with_javascript(), name="s.pdf")
    document = Document.objects.get()
    preview = reverse("documents:document_preview", args=[case.reference, document.pk])
    assert coordinator_client.get(preview).status_code == 404


def test_an_upload_cut_short_is_refused_and_stores_nothing(volunteer_client, case):
    boundary = "cut-short"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="document-kind"\r\n\r\nsummons\r\n'
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="document-file"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    body = head + fixtures.jpeg_with_gps()[:300]  # the connection dropped here
    response = volunteer_client.generic(
        "POST", attach_url(case), body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 400
    assert not Document.objects.exists()
    assert stored_files() == []


def test_removing_a_leg_removes_its_files(
    case, team, coordinator, django_capture_on_commit_callbacks
):
    from casework.services.routes import leg_remove
    from documents.services import document_attach

    leg = RouteLeg.objects.create(case=case, position=1, origin="A", destination="B")
    document_attach(
        case=case,
        by=coordinator,
        upload=fixtures.upload(fixtures.png(), "ticket.png"),
        kind=DocumentKind.TRAVEL,
        description="Ticket",
        leg=leg,
    )
    assert len(stored_files()) == 1
    case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        leg_remove(case=case, leg=leg, by=coordinator, expected_version=case.version)
    assert not Document.objects.exists()
    assert stored_files() == []


def test_a_legs_volunteer_attaches_a_ticket_on_the_legs_page_that_only_the_leg_sees(
    case, team, coordinator_client, volunteer_client
):
    driver = UserFactory(role=Role.VOLUNTEER, teams=[team])
    leg = RouteLeg.objects.create(
        case=case, position=1, origin="A", destination="B", volunteer=driver
    )
    client = verified_client(driver)
    leg_page = reverse("casework:leg_detail", args=[case.reference, leg.pk])
    assert 'enctype="multipart/form-data"' in client.get(leg_page).content.decode()
    response = client.post(
        reverse("documents:leg_document_attach", args=[case.reference, leg.pk]),
        {
            "document-kind": DocumentKind.TRAVEL,
            "document-description": "Bus ticket, night bus",
            "document-file": fixtures.upload(fixtures.png(), "ticket.png"),
        },
    )
    assert response.status_code == 302 and response["Location"] == leg_page
    document = Document.objects.get(leg=leg)
    assert "Bus ticket, night bus" in client.get(leg_page).content.decode()
    assert coordinator_client.get(download_url(case, document)).status_code == 200
    # The case's assignee is not on this leg: neither the file nor its description.
    assert volunteer_client.get(download_url(case, document)).status_code == 404
    page = volunteer_client.get(reverse("casework:case_detail", args=[case.reference]))
    assert "Bus ticket" not in page.content.decode()
    refused = volunteer_client.post(
        reverse("documents:leg_document_attach", args=[case.reference, leg.pk]),
        {"document-kind": "travel", "document-file": fixtures.upload(fixtures.png(), "x.png")},
    )
    assert refused.status_code == 404
