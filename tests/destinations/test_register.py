"""The destination-risk register: coordinators keep it, volunteers read it, the texts are
encrypted at rest, bad input comes back with a message and what was typed."""

import pytest
from django.db import connection
from django.urls import reverse

from audit.models import AccessEvent, Action
from destinations.models import DestinationRisk, Extradites
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def georgia(coordinator):
    return DestinationRisk.objects.create(
        country="GE",
        extradites=Extradites.NO,
        notes="Border guards ask about the draft.",
        updated_by=coordinator,
    )


def add(client, **data):
    values = {
        "country": "KZ",
        "extradites": "yes",
        "incidents": "",
        "passport_needed": "",
        "notes": "",
    }
    return client.post(reverse("destinations:entry_add"), {**values, **data})


def test_a_coordinator_adds_a_country_and_it_is_audited(coordinator_client, coordinator):
    response = add(coordinator_client, country=" kz ", incidents="Detained in 2023 at request.")
    assert response.status_code == 302
    entry = DestinationRisk.objects.get(country="KZ")
    assert entry.extradites == Extradites.YES
    assert entry.updated_by == coordinator
    audit = AccessEvent.objects.get(action=Action.DESTINATION_CHANGED)
    assert (audit.actor, audit.target_ref) == (coordinator, "KZ")


def test_the_texts_are_encrypted_at_rest(coordinator_client):
    add(
        coordinator_client,
        incidents="Abducted in Almaty",
        passport_needed="internal passport",
        notes="secret note",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT country, extradites, incidents, passport_needed, notes "
            "FROM destinations_destinationrisk"
        )
        row = cursor.fetchone()
    assert row[:2] == ("KZ", "yes")
    stored = " ".join(row[2:])
    for clear in ("Almaty", "internal passport", "secret note"):
        assert clear not in stored


@pytest.mark.parametrize("code", ["Georgia", "G", "1X", "ÄB", "", "  ", "<script>"])
def test_a_bad_country_code_is_refused_with_what_was_typed(coordinator_client, code):
    response = add(coordinator_client, country=code, notes="typed notes stay")
    assert response.status_code == 400
    page = response.content.decode()
    assert "typed notes stay" in page
    assert "Choose the country from the list" in page or "This field is required." in page
    assert not DestinationRisk.objects.exists()


def test_a_country_already_in_the_register_is_refused_in_words(coordinator_client, georgia):
    response = add(coordinator_client, country="ge", notes="typed")
    assert response.status_code == 400
    assert "GE is in the register already" in response.content.decode()
    assert DestinationRisk.objects.count() == 1


def test_a_coordinator_edits_an_entry(coordinator_client, georgia):
    url = reverse("destinations:entry_edit", args=["GE"])
    response = coordinator_client.post(
        url,
        {
            "version": georgia.version,
            "extradites": "yes",
            "incidents": "One in 2024",
            "passport_needed": "",
            "notes": "changed",
        },
    )
    assert response.status_code == 302
    georgia.refresh_from_db()
    assert (georgia.extradites, georgia.notes, georgia.version) == ("yes", "changed", 2)


def test_a_stale_edit_is_refused_and_keeps_the_text(coordinator_client, georgia):
    url = reverse("destinations:entry_edit", args=["GE"])
    DestinationRisk.objects.filter(pk=georgia.pk).update(version=5)
    data = {
        "version": 1,
        "extradites": "yes",
        "incidents": "",
        "passport_needed": "",
        "notes": "my careful text",
    }
    response = coordinator_client.post(url, data)
    assert response.status_code == 409
    assert "my careful text" in response.content.decode()
    georgia.refresh_from_db()
    assert georgia.extradites == "no"
    # Read and saved again: the form now carries the new version.
    assert coordinator_client.post(url, {**data, "version": 5}).status_code == 302


def test_a_bad_choice_or_version_is_a_400_not_a_500(coordinator_client, georgia):
    url = reverse("destinations:entry_edit", args=["GE"])
    response = coordinator_client.post(url, {"version": "\u0661", "extradites": "maybe"})
    assert response.status_code == 400


def test_a_volunteer_reads_but_cannot_change(volunteer_client, georgia):
    assert volunteer_client.get(reverse("destinations:register")).status_code == 200
    page = volunteer_client.get(reverse("destinations:entry", args=["GE"]))
    assert "Border guards ask about the draft." in page.content.decode()
    assert volunteer_client.get(reverse("destinations:entry_add")).status_code == 403
    assert add(volunteer_client).status_code == 403
    edit = reverse("destinations:entry_edit", args=["GE"])
    assert volunteer_client.post(edit, {"version": 1, "extradites": "yes"}).status_code == 403
    assert not DestinationRisk.objects.filter(extradites="yes").exists()


def test_admins_see_nothing_of_it(admin_user, georgia):
    client = verified_client(admin_user)
    assert client.get(reverse("destinations:register")).status_code == 403
    assert client.get(reverse("destinations:entry", args=["GE"])).status_code == 403


@pytest.mark.parametrize("code", ["XX", "gex", "%00"])
def test_an_unknown_country_is_a_404(volunteer_client, code):
    assert volunteer_client.get(f"/destinations/{code}/").status_code == 404
