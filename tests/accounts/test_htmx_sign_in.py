"""A background (htmx) request sent to sign in loads the sign-in page as a whole page
(HX-Redirect), instead of putting it inside the page, and returns to the page after."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from accounts.middleware import SESSION_SEEN
from tests.accounts.test_sessions import age_session
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(team, volunteer):
    return CaseFactory(team=team, assignee=volunteer)


def fold(client, case, current=None, **headers):
    """Opens the case page's timeline fold as htmx does, from the case page itself."""
    page = reverse("casework:case_detail", args=[case.reference])
    return client.get(
        reverse("casework:case_timeline_older", args=[case.reference]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=current or f"http://testserver{page}",
        **headers,
    )


def sent_to(response) -> tuple[str, str | None]:
    assert response.status_code == 204
    assert response.content == b""
    target = urlsplit(response["HX-Redirect"])
    return target.path, parse_qs(target.query).get("next", [None])[0]


def test_an_expired_session_loads_the_sign_in_page_whole_and_comes_back(volunteer_client, case):
    age_session(volunteer_client, **{SESSION_SEEN: 31 * 60})
    response = fold(volunteer_client, case)
    page = reverse("casework:case_detail", args=[case.reference])
    assert sent_to(response) == (reverse("accounts:login"), page)


def test_a_signed_out_browser_is_sent_to_sign_in(case):
    response = fold(Client(), case, current="http://testserver/cases/?page=2&stage=new")
    assert sent_to(response) == (reverse("accounts:login"), "/cases/?page=2&stage=new")


def test_a_password_only_session_is_sent_to_its_second_factor(volunteer, case):
    client = Client()
    client.force_login(volunteer)  # no verified authenticator in this session
    path, _next = sent_to(fold(client, case))
    assert path in (reverse("accounts:verify"), reverse("accounts:enrol"))


def test_another_sites_address_is_never_where_sign_in_returns(case):
    response = fold(Client(), case, current="https://evil.example/phish")
    path, next_page = sent_to(response)
    assert path == reverse("accounts:login")
    assert "evil" not in response["HX-Redirect"]
    assert next_page == reverse("casework:case_timeline_older", args=[case.reference])


def test_without_htmx_the_redirect_is_the_usual_one(case):
    url = reverse("casework:case_timeline_older", args=[case.reference])
    response = Client().get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert "HX-Redirect" not in response


def test_a_signed_in_fold_still_loads_in_place(volunteer_client, case):
    response = fold(volunteer_client, case)
    assert response.status_code == 200
    assert "HX-Redirect" not in response
