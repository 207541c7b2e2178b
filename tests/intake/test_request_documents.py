"""Files attached to a request at triage, through HTTP: cleaned and encrypted as a case's,
served only to those who may read the request, audited as reads of it; moved to the case
the request becomes part of, and purged with a rejected request."""

import io
import re
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.roles import Role
from audit.models import AccessEvent, Action, InsiderAlert
from casework.models import Case, CaseEvent, EventKind
from documents.models import Document, DocumentKind
from intake import retention
from intake.models import IntakeRequest, TriageState
from intake.services import intake_accept, intake_document_attach, intake_log, intake_reject
from tests.conftest import verified_client
from tests.documents import fixtures
from tests.documents.test_documents import (
    assert_storage_leaks_nothing,
    download_url,
    stored_files,
)
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

DESCRIPTION = "Summons for Pyotr Zhukov-Lebedev, March"


def logged(user, team, contact="+7 900 555-01-02"):
    return intake_log(
        by=user, team=team, channel="signal", received_at=timezone.now(), contact=contact
    )


@pytest.fixture
def waiting(volunteer, team):
    """A request of the team, not triaged yet."""
    return logged(volunteer, team)


def detail(request) -> str:
    return reverse("intake:detail", args=[request.reference])


def attach_url(request) -> str:
    return reverse("intake:document_attach", args=[request.reference])


def request_download(request, document) -> str:
    return reverse("intake:document_download", args=[request.reference, document.pk])


def request_preview(request, document) -> str:
    return reverse("intake:document_preview", args=[request.reference, document.pk])


def attach(client, request, content, name="IMG_0042.jpg", kind=DocumentKind.SUMMONS):
    return client.post(
        attach_url(request),
        {
            "document-kind": kind,
            "document-description": DESCRIPTION,
            "document-file": fixtures.upload(content, name),
        },
    )


def given(request, by, content=None, kind=DocumentKind.SUMMONS) -> Document:
    """A file attached through the service, as the upload would."""
    return intake_document_attach(
        request=request,
        by=by,
        upload=fixtures.upload(content or fixtures.png(), "a.png"),
        kind=kind,
        description=DESCRIPTION,
    )


def fresh(row):
    return type(row).objects.get(pk=row.pk)


# Attaching at triage ----------------------------------------------------------------------


def test_a_triager_attaches_a_photo_on_the_request_page_cleaned_and_encrypted(
    volunteer_client, volunteer, waiting
):
    page = volunteer_client.get(detail(waiting)).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert attach_url(waiting) in page

    response = attach(volunteer_client, waiting, fixtures.jpeg_with_gps(), name="zhukov.jpg")
    assert response.status_code == 302
    assert response["Location"] == detail(waiting)
    document = Document.objects.get()
    assert (document.intake_request_id, document.case_id, document.number) == (waiting.pk, None, 1)
    assert_storage_leaks_nothing()

    page = volunteer_client.get(detail(waiting)).content.decode()
    assert "Summons 1" in page and DESCRIPTION in page
    assert "zhukov.jpg" not in page
    assert request_download(waiting, document) in page
    assert request_preview(waiting, document) in page
    event = AccessEvent.objects.get(action=Action.DOCUMENT_ATTACHED)
    assert (event.target_type, event.target_ref, event.actor_id) == (
        "request",
        waiting.reference,
        volunteer.pk,
    )


def test_a_request_photo_downloads_with_a_generic_name_and_no_exif(
    volunteer_client, coordinator_client, waiting
):
    attach(volunteer_client, waiting, fixtures.jpeg_with_gps(), name="Zhukov summons.jpg")
    document = Document.objects.get()
    response = coordinator_client.get(request_download(waiting, document))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="{waiting.reference}-summons-1.jpg"'
    )
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG" and dict(image.getexif()) == {}
    assert fixtures.CAMERA.encode() not in response.content


def test_a_heic_sent_with_a_request_arrives_as_a_jpeg(volunteer_client, waiting):
    assert (
        attach(volunteer_client, waiting, fixtures.heic_with_gps(), "IMG.HEIC").status_code == 302
    )
    document = Document.objects.get()
    response = volunteer_client.get(request_download(waiting, document))
    assert response["Content-Disposition"].endswith('-summons-1.jpg"')
    assert fixtures.CAMERA.encode() not in response.content


def test_the_preview_is_small_and_audited_and_a_pdf_has_none(volunteer_client, volunteer, waiting):
    attach(volunteer_client, waiting, fixtures.jpeg_with_gps((1200, 900)))
    attach(volunteer_client, waiting, fixtures.pdf_with_javascript(), name="s.pdf")
    photo, pdf = Document.objects.order_by("number")
    response = volunteer_client.get(request_preview(waiting, photo))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert max(Image.open(io.BytesIO(response.content)).size) <= 320
    assert volunteer_client.get(request_preview(waiting, pdf)).status_code == 404
    previews = AccessEvent.objects.filter(action=Action.REQUEST_DOCUMENT_PREVIEWED)
    assert list(previews.values_list("target_ref", "actor_id")) == [
        (waiting.reference, volunteer.pk)
    ]


@fixtures.refused_files
def test_a_bad_file_at_triage_is_refused_in_words_and_nothing_is_kept(
    volunteer_client, waiting, content, message
):
    response = attach(volunteer_client, waiting, content)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert DESCRIPTION in page  # what was typed is kept
    assert detail(waiting) in page  # and the way back is to the request
    assert not Document.objects.exists()
    assert stored_files() == []
    assert not AccessEvent.objects.filter(action=Action.DOCUMENT_ATTACHED).exists()


def test_an_oversize_file_at_triage_is_refused_with_the_limit(volunteer_client, waiting, settings):
    settings.DOCUMENT_MAX_BYTES = 500
    response = attach(volunteer_client, waiting, fixtures.jpeg_with_gps((400, 400)))
    assert response.status_code == 400
    assert "larger than 500" in response.content.decode()
    assert stored_files() == []


def test_nothing_is_half_stored_when_recording_a_request_file_fails(
    volunteer_client, waiting, monkeypatch
):
    from intake import services

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "audit_request", broken)
    with pytest.raises(RuntimeError):
        attach(volunteer_client, waiting, fixtures.jpeg_with_gps())
    assert not Document.objects.exists()
    assert stored_files() == []


def test_a_request_triaged_meanwhile_takes_no_file(volunteer, waiting):
    # The page was loaded while the request waited; someone decided it since.
    IntakeRequest.objects.filter(pk=waiting.pk).update(state=TriageState.REJECTED)
    with pytest.raises(
        ValidationError, match="triaged this request meanwhile, so it takes no more files"
    ):
        given(waiting, volunteer)
    assert not Document.objects.exists()
    assert stored_files() == []


# Who may attach and read -----------------------------------------------------------------


def test_another_teams_volunteer_and_an_admin_get_404_for_upload_download_and_preview(
    volunteer_client, waiting, other_team, admin_user
):
    attach(volunteer_client, waiting, fixtures.png(), name="a.png")
    document = Document.objects.get()
    outsiders = [
        verified_client(UserFactory(role=Role.VOLUNTEER, teams=[other_team])),
        verified_client(UserFactory(role=Role.COORDINATOR, teams=[other_team])),
        verified_client(admin_user),
    ]
    for client in outsiders:
        assert attach(client, waiting, fixtures.png()).status_code == 404
        assert client.get(request_download(waiting, document)).status_code == 404
        assert client.get(request_preview(waiting, document)).status_code == 404
    assert Document.objects.count() == 1
    assert len(stored_files()) == 1
    assert not AccessEvent.objects.filter(action=Action.REQUEST_DOCUMENT_DOWNLOADED).exists()


def test_a_file_is_reached_only_through_its_own_request(volunteer_client, volunteer, team):
    mine, other = logged(volunteer, team), logged(volunteer, team, "@someone_else")
    document = given(mine, volunteer)
    assert volunteer_client.get(request_download(other, document)).status_code == 404
    # Nor through a case's URL: it is no case's yet.
    case = CaseFactory(team=team, assignee=volunteer)
    assert volunteer_client.get(download_url(case, document)).status_code == 404


def test_a_decided_request_takes_no_upload_from_those_who_still_read_it(
    coordinator_client, coordinator, waiting
):
    intake_reject(request=waiting, by=coordinator, reason="A test message")
    assert coordinator_client.get(detail(waiting)).status_code == 200
    assert attach(coordinator_client, waiting, fixtures.png()).status_code == 403
    assert stored_files() == []


def test_a_volunteer_loses_a_rejected_requests_files_with_the_request(
    volunteer, volunteer_client, coordinator, coordinator_client, waiting
):
    document = given(waiting, volunteer)
    intake_reject(request=fresh(waiting), by=coordinator, reason="A test message")
    assert volunteer_client.get(request_download(waiting, document)).status_code == 404
    # The coordinators still read the rejected request, and its files, until the purge.
    page = coordinator_client.get(detail(waiting)).content.decode()
    assert "Summons 1" in page and 'enctype="multipart/form-data"' not in page
    assert coordinator_client.get(request_download(waiting, document)).status_code == 200


def test_downloads_of_request_files_count_toward_the_requests_alert(
    volunteer, coordinator, coordinator_client, team, settings
):
    settings.INSIDER_REQUESTS_PER_HOUR = 2
    requests = [logged(volunteer, team, f"@asker_{n}") for n in range(3)]
    documents = [given(request, volunteer) for request in requests]
    for request, document in zip(requests, documents, strict=True):
        assert coordinator_client.get(request_download(request, document)).status_code == 200
    events = AccessEvent.objects.filter(
        action=Action.REQUEST_DOCUMENT_DOWNLOADED, actor=coordinator
    )
    assert sorted(events.values_list("target_ref", flat=True)) == sorted(
        request.reference for request in requests
    )
    assert InsiderAlert.objects.filter(kind=InsiderAlert.Kind.MANY_REQUESTS).count() == 1
    assert not InsiderAlert.objects.filter(kind=InsiderAlert.Kind.MANY_CASES).exists()


# Triage moves them -----------------------------------------------------------------------


def test_accepting_the_request_moves_its_files_to_the_new_case(
    volunteer_client, volunteer, waiting
):
    attach(volunteer_client, waiting, fixtures.jpeg_with_gps())
    attach(volunteer_client, waiting, fixtures.pdf_with_javascript(), name="s.pdf")
    response = volunteer_client.post(detail(waiting), {"action": "accept"})
    assert response.status_code == 302
    case = Case.objects.get()
    assert sorted(case.documents.values_list("number", "intake_request_id")) == [
        (1, waiting.pk),
        (2, waiting.pk),
    ]
    page = volunteer_client.get(reverse("casework:case_detail", args=[case.reference]))
    text = page.content.decode()
    assert "Summons 1" in text and "Summons 2" in text and DESCRIPTION in text
    assert f"2 files came with {waiting.reference}" in text
    event = CaseEvent.objects.get(case=case, kind=EventKind.DOCUMENT)
    assert event.text == "" and "Zhukov" not in str(event.facts)

    photo = case.documents.get(number=1)
    downloaded = volunteer_client.get(download_url(case, photo))
    assert downloaded.status_code == 200
    assert f"{case.reference}-summons-1.jpg" in downloaded["Content-Disposition"]
    # The request's own URL no longer serves it: it is the case's now.
    assert volunteer_client.get(request_download(waiting, photo)).status_code == 404


def test_attaching_to_an_existing_case_numbers_the_files_after_its_own(
    volunteer, volunteer_client, team
):
    first = logged(volunteer, team)
    given(first, volunteer)
    case = intake_accept(request=fresh(first), by=volunteer)
    repeat = logged(volunteer, team)
    given(repeat, volunteer)
    given(repeat, volunteer, kind=DocumentKind.MEDICAL)
    response = volunteer_client.post(
        detail(repeat), {"action": "attach", "case_reference": case.reference}
    )
    assert response.status_code == 302
    numbers = dict(case.documents.values_list("number", "kind"))
    assert numbers == {1: "summons", 2: "summons", 3: "medical"}
    page = volunteer_client.get(reverse("casework:case_detail", args=[case.reference]))
    assert f"2 files came with {repeat.reference}" in page.content.decode()
    medical = case.documents.get(number=3)
    response = volunteer_client.get(download_url(case, medical))
    assert f"{case.reference}-medical-3.png" in response["Content-Disposition"]


def test_a_duplicates_files_go_to_the_case_it_repeats(
    coordinator, coordinator_client, volunteer, team
):
    case = intake_accept(request=logged(volunteer, team), by=volunteer)
    repeat = logged(volunteer, team)
    given(repeat, volunteer)
    response = coordinator_client.post(
        detail(repeat), {"action": "duplicate", "case_reference": case.reference}
    )
    assert response.status_code == 302
    document = Document.objects.get()
    assert (document.case_id, document.number) == (case.pk, 1)
    assert coordinator_client.get(download_url(case, document)).status_code == 200
    assert CaseEvent.objects.filter(case=case, kind=EventKind.DOCUMENT).count() == 1


def test_a_request_without_files_says_nothing_of_files(volunteer, volunteer_client, waiting):
    volunteer_client.post(detail(waiting), {"action": "accept"})
    assert not CaseEvent.objects.filter(kind=EventKind.DOCUMENT).exists()


# Purged with a rejected request ------------------------------------------------------------


def test_the_purge_of_a_rejected_request_deletes_its_files_and_blobs(
    volunteer, coordinator, waiting, settings, django_capture_on_commit_callbacks
):
    given(waiting, volunteer)
    given(waiting, volunteer)
    kept = logged(volunteer, waiting.team, "@still_waiting")
    given(kept, volunteer)
    intake_reject(request=fresh(waiting), by=coordinator, reason="A test message")
    assert len(stored_files()) == 3
    later = timezone.now() + timedelta(days=settings.RETENTION_DAYS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert retention.purge_expired_requests(now=later) == 1
    assert list(Document.objects.values_list("intake_request_id", flat=True)) == [kept.pk]
    assert len(stored_files()) == 1


def test_a_purge_rolled_back_keeps_the_blobs(volunteer, coordinator, waiting):
    given(waiting, volunteer)
    intake_reject(request=fresh(waiting), by=coordinator, reason="A test message")
    # The blobs go once the purge commits; under the test's transaction it never does.
    IntakeRequest.objects.filter(pk=waiting.pk).purge(timezone.now())
    assert not Document.objects.exists()
    assert len(stored_files()) == 1


# Operations ----------------------------------------------------------------------------------


def test_rotation_re_encrypts_a_requests_file(settings, volunteer, volunteer_client, waiting):
    old_keys = list(settings.FIELD_ENCRYPTION_KEY)
    document = given(waiting, volunteer)
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [new, *old_keys]
    out = io.StringIO()
    call_command("rotate_keys", stdout=out, stderr=io.StringIO())
    assert "1 files re-encrypted" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEY = [new]
    response = volunteer_client.get(request_download(waiting, document))
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).format == "PNG"


# Cost ------------------------------------------------------------------------------------------


def test_the_triage_page_costs_the_same_queries_with_more_files(
    volunteer, volunteer_client, waiting, django_assert_max_num_queries
):
    url = detail(waiting)
    given(waiting, volunteer)
    volunteer_client.get(url)
    with django_assert_max_num_queries(200) as one:
        assert volunteer_client.get(url).status_code == 200
    with_one = len(one.captured_queries)
    for _ in range(4):
        given(waiting, volunteer)
    with django_assert_max_num_queries(with_one):
        page = volunteer_client.get(url)
    assert len(re.findall(r">Summons \d<", page.content.decode())) == 5
