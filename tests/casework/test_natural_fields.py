"""Fields filled the way people fill them: a destination chosen by its name in the reader's
language, a language from a list, an e-mail with a Cyrillic domain, and a contact field
whose hint and error say the same thing."""

import re

import pytest
from django.urls import reverse

from casework.models import Case, Person
from destinations.models import DestinationRisk
from intake.forms import CONTACT_FORMATS
from intake.services import intake_log
from tests.casework.test_case_pages import edit_data
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(volunteer, team):
    return CaseFactory(team=team, assignee=volunteer)


def edit_url(case):
    return reverse("casework:case_edit", args=[case.reference])


def select(page: str, name: str) -> str:
    match = re.search(rf'<select name="{name}".*?</select>', page, re.S)
    assert match, f"no <select> named {name}"
    return match.group(0)


def test_the_destination_is_chosen_by_name_in_russian_and_stored_as_the_code(
    volunteer, volunteer_client, case
):
    volunteer.language = "ru"
    volunteer.save(update_fields=["language"])
    page = volunteer_client.get(edit_url(case)).content.decode()
    assert '<option value="GE">Грузия</option>' in select(page, "case-destination_country")
    response = volunteer_client.post(
        edit_url(case), edit_data(case, **{"case-destination_country": "GE"})
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).destination_country == "GE"
    assert "Грузия" in volunteer_client.get(response.url).content.decode()


def test_the_case_page_names_the_destination_in_english_too(volunteer_client, case):
    Case.objects.filter(pk=case.pk).update(destination_country="AM")
    page = volunteer_client.get(reverse("casework:case_detail", args=[case.reference]))
    assert "<dd>Armenia</dd>" in page.content.decode()


def test_a_code_stored_before_the_list_stays_valid(volunteer_client, case):
    Case.objects.filter(pk=case.pk).update(destination_country="XX")
    case.refresh_from_db()
    page = volunteer_client.get(edit_url(case)).content.decode()
    assert '<option value="XX" selected>XX</option>' in page
    response = volunteer_client.post(
        edit_url(case), edit_data(case, **{"case-destination_country": "XX"})
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).destination_country == "XX"


def test_a_forged_country_is_refused_in_words(volunteer_client, case):
    response = volunteer_client.post(
        edit_url(case), edit_data(case, **{"case-destination_country": "Грузия"})
    )
    assert response.status_code == 400
    assert "Choose the country from the list." in response.content.decode()


def test_the_register_adds_a_country_chosen_by_name(coordinator, coordinator_client):
    coordinator.language = "ru"
    coordinator.save(update_fields=["language"])
    add = reverse("destinations:entry_add")
    assert "Казахстан" in coordinator_client.get(add).content.decode()
    response = coordinator_client.post(
        add, {"country": "KZ", "extradites": "yes", "incidents": "", "notes": ""}
    )
    assert response.status_code == 302
    assert DestinationRisk.objects.get().country == "KZ"
    assert "Казахстан" in coordinator_client.get(reverse("destinations:register")).content.decode()


def test_the_preferred_language_is_a_list_named_in_the_readers_language(
    volunteer, volunteer_client, case
):
    volunteer.language = "ru"
    volunteer.save(update_fields=["language"])
    page = volunteer_client.get(edit_url(case)).content.decode()
    languages = select(page, "person-preferred_language")
    assert '<option value="uk">Украинский</option>' in languages
    assert '<option value="ru" selected>Русский</option>' in languages
    response = volunteer_client.post(
        edit_url(case), edit_data(case, **{"person-preferred_language": "uk"})
    )
    assert response.status_code == 302
    assert Person.objects.get(pk=case.person_id).preferred_language == "uk"


def test_a_language_stored_before_the_list_stays_valid(volunteer_client, case):
    Person.objects.filter(pk=case.person_id).update(preferred_language="ru-old")
    case.refresh_from_db()
    response = volunteer_client.post(
        edit_url(case), edit_data(case, **{"person-preferred_language": "ru-old"})
    )
    assert response.status_code == 302
    assert Person.objects.get(pk=case.person_id).preferred_language == "ru-old"


@pytest.mark.parametrize("typed", ["user@пример.рф", "user@xn--e1afmkfd.xn--p1ai"])
def test_an_email_with_a_cyrillic_domain_is_accepted_as_people_read_it(
    volunteer_client, case, typed
):
    response = volunteer_client.post(edit_url(case), edit_data(case, **{"person-email": typed}))
    assert response.status_code == 302
    assert Person.objects.get(pk=case.person_id).email == "user@пример.рф"


def test_the_unicode_and_punycode_forms_are_one_contact_at_triage(
    volunteer, volunteer_client, case, team
):
    volunteer_client.post(edit_url(case), edit_data(case, **{"person-email": "user@пример.рф"}))
    request = intake_log(
        by=volunteer,
        team=team,
        channel="email",
        received_at=case.created_at,
        contact="User@XN--E1AFMKFD.XN--P1AI",
    )
    page = volunteer_client.get(reverse("intake:detail", args=[request.reference]))
    text = page.content.decode()
    assert case.reference in text
    assert "Matched on: E-mail address" in text


def test_the_contact_hint_and_its_error_say_the_same_thing(volunteer_client):
    new = reverse("intake:new")
    hint = str(CONTACT_FORMATS)
    assert hint in volunteer_client.get(new).content.decode()
    response = volunteer_client.post(
        new,
        {"channel": "phone", "received_at": "2026-01-01T10:00", "contact": "12", "message": ""},
    )
    page = response.content.decode()
    errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]*)<', page)
    assert any(hint in error for error in errors), errors
    assert "t.me" in hint and "+995" in hint and "e-mail" in hint
