"""A document's file through key rotation, backup and restore, merge and transfer."""

import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from PIL import Image

from documents.models import Document
from tests.documents import fixtures
from tests.documents.test_documents import attach, download_url, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(team, volunteer):
    from tests.factories import CaseFactory

    return CaseFactory(team=team, assignee=volunteer)


def rotate() -> str:
    out = io.StringIO()
    call_command("rotate_keys", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_rotation_re_encrypts_the_files_and_the_old_key_can_go(
    settings, case, volunteer_client, coordinator_client
):
    old_keys = list(settings.FIELD_ENCRYPTION_KEY)
    attach(volunteer_client, case, fixtures.jpeg_with_gps())
    document = Document.objects.get()
    before = stored_files()[0].read_bytes()

    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [new, *old_keys]
    assert "1 files re-encrypted, 0 already current" in rotate()
    assert "0 files re-encrypted, 1 already current" in rotate()
    settings.FIELD_ENCRYPTION_KEY = [new]

    files = stored_files()
    assert len(files) == 1  # the old blob is gone, not left beside the new one
    Fernet(new).decrypt(files[0].read_bytes())
    with pytest.raises(InvalidToken):  # the old key no longer opens it
        Fernet(old_keys[0]).decrypt(files[0].read_bytes())
    assert files[0].read_bytes() != before
    response = coordinator_client.get(download_url(case, document))
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).format == "JPEG"


def fresh(case):
    from casework.models import Case

    return Case.objects.get(pk=case.pk)


def test_a_merge_moves_the_folded_cases_documents_and_undo_moves_them_back(
    team, coordinator, coordinator_client, volunteer, volunteer_client
):
    from casework.models import CaseMerge
    from casework.services.merge import case_merge, case_merge_undo
    from tests.factories import CaseFactory

    keep = CaseFactory(team=team, assignee=volunteer)
    fold = CaseFactory(team=team, assignee=volunteer)
    attach(volunteer_client, keep, fixtures.png(), name="a.png")
    attach(volunteer_client, fold, fixtures.png(), name="b.png")
    folded_document = Document.objects.get(case=fold)
    keep, fold = fresh(keep), fresh(fold)
    case_merge(
        keep=keep, fold=fold, by=coordinator, keep_version=keep.version, fold_version=fold.version
    )
    folded_document.refresh_from_db()
    assert folded_document.case_id == keep.pk
    assert sorted(Document.objects.filter(case=keep).values_list("number", flat=True)) == [1, 2]
    response = coordinator_client.get(download_url(keep, folded_document))
    assert response.status_code == 200
    assert f"{keep.reference}-summons-2.png" in response["Content-Disposition"]

    case_merge_undo(merge=CaseMerge.objects.get(), by=coordinator)
    folded_document.refresh_from_db()
    assert (folded_document.case_id, folded_document.number) == (fold.pk, 1)
    assert Document.objects.filter(case=keep).count() == 1


def test_a_transfer_takes_the_documents_to_the_other_team_and_the_old_team_loses_them(
    team, other_team, coordinator, volunteer, volunteer_client, coordinator_client
):
    from accounts.roles import Role
    from casework.services.handover import case_transfer_accept, case_transfer_ask
    from tests.conftest import verified_client
    from tests.factories import CaseFactory, UserFactory

    south = UserFactory(role=Role.COORDINATOR, teams=[other_team])
    case = CaseFactory(team=team, assignee=volunteer)
    attach(volunteer_client, case, fixtures.png(), name="a.png")
    document = Document.objects.get()
    case = fresh(case)
    transfer = case_transfer_ask(
        case=case,
        to_team=other_team,
        by=coordinator,
        note="Moved south",
        expected_version=case.version,
    )
    case = fresh(case)
    case_transfer_accept(transfer=transfer, by=south, expected_version=case.version)
    assert coordinator_client.get(download_url(case, document)).status_code == 404
    assert volunteer_client.get(download_url(case, document)).status_code == 404
    assert verified_client(south).get(download_url(case, document)).status_code == 200
