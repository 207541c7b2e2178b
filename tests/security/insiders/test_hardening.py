"""Finding 8 of the insiders issue, replayed the way an insider (or whoever holds one
account, one form or one config file) would try it.

- a production started on keys that are guessable, reused or all zeros, on ALLOWED_HOSTS=*,
  or without an https SITE_URL refuses to start and names the variable;
- the one cookie is a "__Host-" session cookie in production, and the CSRF token lives and
  dies with the session: no year-long token cookie to plant, lift or outlive a sign-out;
- nothing of ours, pages or static files, may be loaded into another site's page;
- a username or reference typed to look like a formula stays text in the audit CSV;
- another row's ciphertext pasted into a form is refused with line breaks or spaces in it;
- the break-glass reason asks for no names or contacts, and an admin reads one reason at a
  time, by asking, each reading an audit event.
"""

import base64
import binascii
import csv
import io
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from audit import log
from audit.models import AccessEvent, Action
from casework.models import BreakGlass, Person
from config.environment import generate_keys
from tests.config.test_settings import manage, production_env
from tests.conftest import form_token, verified_client
from tests.factories import PASSWORD, CaseFactory, PersonFactory, UserFactory

LOGIN = reverse("accounts:login")
CSRF_PAGE = "Form expired"

# Production start-up -----------------------------------------------------------------------
_KEYS = generate_keys()
_FERNET = Fernet.generate_key().decode()


def _refused(name: str, **overrides: str) -> str:
    result = manage("check", env=production_env(**overrides))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert name in result.stderr, result.stderr
    return result.stderr


def test_production_refuses_a_secret_key_of_few_different_characters():
    _refused("SECRET_KEY", SECRET_KEY="ab" * 40)


def test_production_refuses_djangos_development_secret_key():
    _refused("SECRET_KEY", SECRET_KEY="django-insecure-" + _KEYS["SECRET_KEY"])


def test_production_refuses_an_encryption_key_as_secret_key():
    # 44 characters: the length rule catches it, and says which variable.
    _refused("SECRET_KEY", SECRET_KEY=_FERNET, FIELD_ENCRYPTION_KEY=_FERNET)


def test_production_refuses_a_secret_key_equal_to_the_blind_index_key():
    key = _KEYS["BLIND_INDEX_KEY"]
    stderr = _refused("SECRET_KEY", SECRET_KEY=key, BLIND_INDEX_KEY=key)
    assert "BLIND_INDEX_KEY" in stderr


def test_production_refuses_a_blind_index_key_holding_the_encryption_keys_bytes():
    same_bytes = binascii.hexlify(base64.urlsafe_b64decode(_FERNET)).decode()
    stderr = _refused("BLIND_INDEX_KEY", FIELD_ENCRYPTION_KEY=_FERNET, BLIND_INDEX_KEY=same_bytes)
    assert "FIELD_ENCRYPTION_KEY" in stderr


def test_production_refuses_an_all_zero_blind_index_key():
    _refused("BLIND_INDEX_KEY", BLIND_INDEX_KEY="0" * 64)


def test_production_refuses_allowed_hosts_star():
    _refused("ALLOWED_HOSTS", ALLOWED_HOSTS="casework.example.org,*")


def test_production_refuses_to_start_without_site_url():
    _refused("SITE_URL", SITE_URL=None)


@pytest.mark.parametrize(
    "value", ["http://casework.example.org", "casework.example.org", "https://", "https:///x"]
)
def test_production_refuses_a_site_url_that_is_not_https(value):
    _refused("SITE_URL", SITE_URL=value)


# Cookies and the CSRF token ---------------------------------------------------------------
def test_production_names_the_session_cookie_with_the_host_prefix():
    shown = (
        "from django.conf import settings as s; print(s.SESSION_COOKIE_NAME, "
        "s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_PATH, s.SESSION_COOKIE_DOMAIN, "
        "s.CSRF_USE_SESSIONS)"
    )
    result = manage("shell", "--no-imports", "-c", shown, env=production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["__Host-sessionid", "True", "/", "None", "True"]


def test_the_embedded_mode_over_http_sets_only_a_plain_session_cookie(db):
    # A browser would drop a __Host- cookie sent over http: `make run` must keep working.
    page = Client().get(LOGIN)
    assert set(page.cookies) == {"sessionid"}


@override_settings(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME="__Host-sessionid")
def test_signing_in_over_https_sets_one_host_cookie_that_ends_with_the_browser(volunteer):
    client = Client(enforce_csrf_checks=True)
    page = client.get(LOGIN, secure=True)
    signed_in = client.post(
        LOGIN,
        {
            "username": volunteer.username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": form_token(page),
        },
        secure=True,
        headers={"origin": "https://testserver"},
    )
    assert signed_in.status_code == 302, signed_in
    for response in (page, signed_in):
        assert set(response.cookies) == {"__Host-sessionid"}  # no csrftoken, no messages
        cookie = response.cookies["__Host-sessionid"]
        # What a browser demands of a __Host- cookie, and no lifetime beyond the browser's.
        assert cookie["secure"] and cookie["httponly"]
        assert cookie["path"] == "/" and not cookie["domain"]
        assert cookie["samesite"] == "Lax"
        assert not cookie["max-age"] and not cookie["expires"]


def _enforcing(client: Client) -> Client:
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    return strict


def test_a_csrf_token_lifted_from_a_page_dies_when_its_owner_signs_out(volunteer):
    client = _enforcing(verified_client(volunteer))
    lifted = form_token(client.get(reverse("accounts:profile")))
    signed_out = client.post(reverse("accounts:logout"), {"csrfmiddlewaretoken": lifted})
    assert signed_out.status_code == 302
    # The same browser, later: whoever copied the token cannot post with it any more.
    replay = client.post(
        LOGIN,
        {"username": volunteer.username, "password": PASSWORD, "csrfmiddlewaretoken": lifted},
    )
    assert replay.status_code == 403
    assert CSRF_PAGE in replay.content.decode()


def test_a_planted_csrf_cookie_is_not_read(volunteer):
    # A sibling subdomain or a plain-http hop can set a cookie for this site; with the token
    # in a cookie, planting one and posting the same value passed the check.
    client = Client(enforce_csrf_checks=True)
    planted = "p" * 32
    client.cookies["csrftoken"] = planted
    response = client.post(
        LOGIN,
        {"username": volunteer.username, "password": PASSWORD, "csrfmiddlewaretoken": planted},
    )
    assert response.status_code == 403
    assert CSRF_PAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


# Cross-Origin-Resource-Policy ----------------------------------------------------------------
def test_static_files_refuse_to_be_loaded_by_another_site(client):
    for path in ("/static/css/app.css", "/static/vendor/htmx-2.0.11.min.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Cross-Origin-Resource-Policy"] == "same-origin", path


def test_pages_refuse_to_be_loaded_by_another_site(client, volunteer_client, admin_client_verified):
    answers = [
        client.get(LOGIN),
        client.get(reverse("dashboard:home")),  # the redirect to sign in
        volunteer_client.get(reverse("dashboard:home")),
        volunteer_client.get("/C-2026-99999/nothing-here/"),
        admin_client_verified.get(reverse("audit:export")),
    ]
    for response in answers:
        assert response["Cross-Origin-Resource-Policy"] == "same-origin", response


# The audit CSV -------------------------------------------------------------------------------
# What a spreadsheet would run: the first cell sends its neighbours away when clicked.
# Each fits a target reference (32 characters), as a stored one must.
FORMULAS = [
    '=HYPERLINK("//evil.example","x")',
    "+7 999 000-00-00",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


def _export(admin_client) -> list[list[str]]:
    response = admin_client.get(reverse("audit:export"))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))[1:]


def test_a_username_shaped_like_a_formula_stays_text_in_the_audit_export(admin_client_verified):
    # "@", "+" and "-" pass Django's username validator: any account name can start so.
    for name in ("@evil.example", "+79990000000", "-cmd"):
        log.record(Action.CASE_VIEWED, actor=UserFactory(username=name), target_ref="C-2026-00001")
    actors = {row[2] for row in _export(admin_client_verified) if row[4] == "C-2026-00001"}
    assert actors == {"'@evil.example", "'+79990000000", "'-cmd"}


def test_a_reference_shaped_like_a_formula_stays_text_in_the_audit_export(
    admin_client_verified, volunteer
):
    for value in FORMULAS:
        log.record(Action.CASE_VIEWED, actor=volunteer, target_ref=value)
    targets = [row[4] for row in _export(admin_client_verified) if row[2] == volunteer.username]
    assert sorted(targets) == sorted("'" + value for value in FORMULAS)


def test_plain_cells_of_the_audit_export_are_left_as_they_are(admin_client_verified, volunteer):
    log.record(Action.CASE_VIEWED, actor=volunteer, target_ref="C-2026-00042")
    row = next(row for row in _export(admin_client_verified) if row[4] == "C-2026-00042")
    assert row[2:5] == ["volunteer1", "case_viewed", "C-2026-00042"]


# Pasted ciphertext ---------------------------------------------------------------------------
def _stored_legal_name(person: Person) -> str:
    """The column as a dump shows it: what an insider holding one would paste."""
    table = connection.ops.quote_name(Person._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT legal_name FROM {table} WHERE id = %s", [person.pk])  # noqa: S608
        return cursor.fetchone()[0]


def _spread(token: str, separator: str, every: int = 16) -> str:
    return separator.join(token[start : start + every] for start in range(0, len(token), every))


@pytest.mark.parametrize(
    "separator",
    ["\n", "\r\n", " ", "\t", "\u200b", ". ", "/"],
    ids=["newline", "crlf", "space", "tab", "zero-width-space", "dot-space", "slash"],
)
def test_another_rows_ciphertext_pasted_with_separators_is_refused(
    volunteer_client, volunteer, team, other_team, separator
):
    theirs = PersonFactory(legal_name="Fakename Otherteamov")
    CaseFactory(team=other_team, person=theirs)
    mine = CaseFactory(team=team, assignee=volunteer)
    pasted = _spread(_stored_legal_name(theirs), separator)
    response = volunteer_client.post(
        reverse("casework:case_edit", args=[mine.reference]),
        {
            "version": mine.version,
            "person-preferred_language": "ru",
            "person-notes": f"Copied from the old file:\n{pasted}",
        },
    )
    assert response.status_code != 302
    assert "looks like encrypted data copied from somewhere else" in response.content.decode()
    assert Person.objects.get(pk=mine.person.pk).notes == ""


def test_a_long_ordinary_note_is_not_mistaken_for_a_token(volunteer_client, volunteer, team):
    mine = CaseFactory(team=team, assignee=volunteer)
    note = (
        "Позвонил в 21:40, просит перезвонить. Called back at 22:15: waiting for papers, "
        "see https://example.org/a/b?c=d&e=f and +7 900 123-45-67; AAAAAAAAAAAAAAAAAAAA. "
    ) * 20
    response = volunteer_client.post(
        reverse("casework:case_edit", args=[mine.reference]),
        {"version": mine.version, "person-preferred_language": "ru", "person-notes": note},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Person.objects.get(pk=mine.person.pk).notes == note.strip()


# Break-glass reasons -------------------------------------------------------------------------
REVIEWS = reverse("casework:break_glass_reviews")


def _grant(case, user, reason: str, *, reviewed_by=None) -> BreakGlass:
    now = timezone.now()
    return BreakGlass.objects.create(
        case=case,
        user=user,
        reason=reason,
        expires_at=now + timedelta(hours=1),
        reviewed_at=now if reviewed_by else None,
        reviewed_by=reviewed_by,
        review_comment="ok" if reviewed_by else "",
    )


@pytest.fixture
def grants(coordinator, other_team, admin_user):
    waiting = _grant(CaseFactory(team=other_team), coordinator, "Qzwaiting: unit moved north")
    done = _grant(
        CaseFactory(team=other_team), coordinator, "Qzdone: night shift", reviewed_by=admin_user
    )
    return waiting, done


def _reveal(client, grant: BreakGlass):
    return client.post(reverse("casework:break_glass_reason", args=[grant.pk]))


def test_the_break_glass_form_says_to_leave_names_and_contacts_out(coordinator_client):
    page = coordinator_client.get(reverse("casework:break_glass")).content.decode()
    assert "Do not write names or contacts: say why you need this case." in page


def test_the_review_list_shows_no_reason(admin_client_verified, grants):
    html = admin_client_verified.get(REVIEWS).content.decode()
    assert all(grant.case.reference in html for grant in grants)
    assert "Qzwaiting" not in html and "Qzdone" not in html
    assert html.count("Show reason") == 2
    assert not AccessEvent.objects.filter(action=Action.REASON_VIEWED).exists()


@pytest.mark.parametrize("which", [0, 1], ids=["to-review", "reviewed"])
def test_showing_a_reason_shows_that_one_and_writes_its_audit_event(
    admin_client_verified, admin_user, grants, which
):
    grant, other = grants[which], grants[1 - which]
    response = _reveal(admin_client_verified, grant)
    assert response.status_code == 200
    html = response.content.decode()
    assert grant.reason in html
    assert other.reason not in html
    event = AccessEvent.objects.get(action=Action.REASON_VIEWED)
    assert (event.actor, event.target_type, event.target_ref) == (
        admin_user,
        "case",
        grant.case.reference,
    )
    assert event.team_id == grant.case.team_id


def test_each_reading_of_a_reason_is_its_own_audit_event(admin_client_verified, grants):
    for grant in (*grants, grants[0]):
        _reveal(admin_client_verified, grant)
    targets = AccessEvent.objects.filter(action=Action.REASON_VIEWED).values_list(
        "target_ref", flat=True
    )
    assert sorted(targets) == sorted(g.case.reference for g in (*grants, grants[0]))


def test_no_reason_is_shown_when_its_audit_event_cannot_be_written(
    admin_client_verified, grants, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr("casework.services.oversight.record", broken)
    admin_client_verified.raise_request_exception = False
    response = _reveal(admin_client_verified, grants[0])
    assert response.status_code == 500
    assert "Qzwaiting" not in response.content.decode()


@pytest.mark.parametrize("persona", ["coordinator_client", "volunteer_client"])
def test_only_admins_read_a_reason(request, persona, grants):
    # The coordinator who wrote it included: the matrix covers every other role.
    response = _reveal(request.getfixturevalue(persona), grants[0])
    assert response.status_code == 403
    assert not AccessEvent.objects.filter(action=Action.REASON_VIEWED).exists()


def test_a_reason_is_not_read_by_a_get(admin_client_verified, grants):
    response = admin_client_verified.get(
        reverse("casework:break_glass_reason", args=[grants[0].pk])
    )
    assert response.status_code == 405
    assert not AccessEvent.objects.filter(action=Action.REASON_VIEWED).exists()


@override_settings(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME="__Host-sessionid")
def test_a_flash_message_rides_in_a_host_cookie_too(volunteer):
    from tests.conftest import verified_client

    client = verified_client(volunteer)
    saved = client.post("/account/", {"language": "en"}, secure=True)
    assert saved.status_code == 302
    assert set(saved.cookies) == {"__Host-messages"}
    cookie = saved.cookies["__Host-messages"]
    assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"]
    assert "Settings saved." in client.get("/account/", secure=True).content.decode()
