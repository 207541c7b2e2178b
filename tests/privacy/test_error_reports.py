"""An error report (the DEBUG page, the admins' e-mail) says where a view failed, never
with what: no local variable, no posted value, no query string."""

import sys

import pytest
from django.test import RequestFactory
from django.views.debug import get_exception_reporter_class
from faker import Faker

from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def failing_view(request, person):
    details = {"name": person.legal_name, "phone": person.phone}
    raise ValueError(f"could not route {len(details)} fields")


def report_of(request, person) -> tuple[str, str]:
    try:
        failing_view(request, person)
    except ValueError:
        reporter = get_exception_reporter_class(request)(request, *sys.exc_info())
        return reporter.get_traceback_text(), reporter.get_traceback_html()
    raise AssertionError("the view did not fail")


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_no_local_variable_or_posted_value_reaches_a_report(settings, debug):
    settings.DEBUG = debug
    fake = Faker("ru_RU")
    name, surname = fake.first_name(), fake.last_name()  # no literal a report could quote
    phone = f"+7 912 {fake.numerify('###-##-##')}"
    person = PersonFactory(legal_name=f"{name} {surname}", phone=phone)
    person.refresh_from_db()  # decrypted from the database, as a view would hold it
    request = RequestFactory().post(
        f"/cases/new/?q={surname}", {"legal_name": person.legal_name, "phone": phone}
    )
    text, html = report_of(request, person)
    for report in (text, html):
        assert "failing_view" in report  # it still says where
        assert "could not route 2 fields" in report
        for value in (surname, phone, phone[-9:]):
            assert value not in report
    assert "legal_name" in text  # the field's name is kept, its value is not
