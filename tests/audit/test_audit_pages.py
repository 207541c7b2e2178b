import pytest
from django.urls import reverse

from audit import log
from audit.models import AccessEvent, Action
from casework.services import oversight
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db
EVENTS = reverse("audit:events")


def test_only_admins_see_the_audit_log(admin_client_verified, coordinator_client, volunteer_client):
    assert admin_client_verified.get(EVENTS).status_code == 200
    assert coordinator_client.get(EVENTS).status_code == 403
    assert volunteer_client.get(EVENTS).status_code == 403


def test_filters_by_actor_target_and_action(admin_client_verified, coordinator, volunteer):
    log.record(Action.CASE_VIEWED, actor=coordinator, target_ref="C-2026-00011")
    log.record(Action.CASE_VIEWED, actor=volunteer, target_ref="C-2026-00022")
    log.record(Action.CASE_MOVED, actor=volunteer, target_ref="C-2026-00022")

    def shown(**query):
        page = admin_client_verified.get(EVENTS, query).content.decode()
        return page.count('<td data-label="#">')

    assert shown() >= 3
    assert shown(actor="coordinator1") == 1
    assert shown(target="c-2026-00022") == 2
    assert shown(target="C-2026-00022", action="case_moved") == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "2026-05-01", "until": "2026-04-01"}, "comes before its start"),
        ({"since": "2020-01-01", "until": "2026-01-01"}, "at most one year"),
        ({"action": "drop table"}, "Select a valid choice"),
        ({"since": "yesterday"}, "Enter a valid date"),
    ],
)
def test_bad_filters_get_a_clear_message_not_a_500(admin_client_verified, query, message):
    response = admin_client_verified.get(EVENTS, query)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_pages_go_back_by_sequence(admin_client_verified, volunteer):
    for number in range(120):
        log.record(Action.CASE_VIEWED, actor=volunteer, target_ref=f"C-2026-{number:05d}")
    first = admin_client_verified.get(EVENTS, {"target": ""}).content.decode()
    assert "before=" in first
    newest = AccessEvent.objects.order_by("-seq").first().seq
    second = admin_client_verified.get(EVENTS, {"before": newest - 49}).content.decode()
    assert f'<td data-label="#">{newest - 50}</td>' in second
    assert admin_client_verified.get(EVENTS, {"before": "x'"}).status_code == 200


def test_the_export_is_a_bounded_csv_and_is_itself_recorded(
    admin_client_verified, admin_user, volunteer
):
    log.record(Action.CASE_VIEWED, actor=volunteer, target_ref="C-2026-00033")
    response = admin_client_verified.get(reverse("audit:export"), {"target": "C-2026-00033"})
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    assert "C-2026-00033" in body and "volunteer1" in body
    assert AccessEvent.objects.filter(action=Action.AUDIT_EXPORTED, actor=admin_user).count() == 1


def test_admins_see_no_break_glass_reason(admin_client_verified, coordinator, other_team):
    case = CaseFactory(team=other_team)
    oversight.case_break_glass(
        reference=case.reference, by=coordinator, reason="About Fakename Reasonov."
    )
    page = admin_client_verified.get(EVENTS).content.decode()
    assert "Break-glass" in page
    assert "Fakename" not in page


def test_coordinators_see_their_teams_case_history(coordinator_client, volunteer, team, other_team):
    mine = CaseFactory(team=team, assignee=volunteer)
    log.record(Action.CASE_VIEWED, actor=volunteer, target_ref=mine.reference, team_id=team.pk)
    page = coordinator_client.get(reverse("casework:case_history", args=[mine.reference]))
    assert page.status_code == 200
    assert "volunteer1" in page.content.decode()
    theirs = CaseFactory(team=other_team)
    assert (
        coordinator_client.get(
            reverse("casework:case_history", args=[theirs.reference])
        ).status_code
        == 404
    )


def test_volunteers_do_not_see_case_history(volunteer_client, volunteer, team):
    mine = CaseFactory(team=team, assignee=volunteer)
    assert (
        volunteer_client.get(reverse("casework:case_history", args=[mine.reference])).status_code
        == 403
    )


def test_every_event_row_names_its_cells_in_the_admins_language(admin_client_verified, volunteer):
    for number in range(3):
        log.record(Action.CASE_VIEWED, actor=volunteer, target_ref=f"C-2026-{number:05d}")
    html = admin_client_verified.get(
        EVENTS, {"actor": "volunteer1"}, HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    for label in ["Время", "Кто действовал", "Действие", "Объект", "Адрес"]:
        assert html.count(f'<td data-label="{label}">') == 3, label
    assert html.count('<td data-label="Действие">Просмотр дела</td>') == 3


def test_an_actor_with_no_such_events_or_no_such_name_shows_none(
    admin_client_verified, coordinator, volunteer
):
    log.record(Action.CASE_MOVED, actor=volunteer, target_ref="C-2026-00022")

    def shown(**query):
        page = admin_client_verified.get(EVENTS, query).content.decode()
        return page.count('<td data-label="#">')

    assert shown(actor="volunteer1", action="case_moved") == 1
    assert shown(actor="coordinator1", action="case_moved") == 0
    assert shown(actor="nobody-by-that-name") == 0
