"""A Russian reader's pages: a case with a realistic timeline has no English left on it
(written by whoever, in whichever language), and the navigation fits one line on a
desktop. Run in Russian only: the English pages are the source the catalogue translates."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from casework import lost_contact
from casework.models import Case, CaseEvent, EventKind, Reminder, ReminderKind, Stage
from casework.services import approvals, retention, routes
from casework.services import cases as case_services
from casework.services import reminders as reminder_services
from tests.conftest import verified_client
from tests.e2e.conftest import SCREENSHOTS, shoot
from tests.e2e.test_accessibility import hand_session
from tests.e2e.words import Words
from tests.factories import CaseFactory, PersonFactory

pytestmark = pytest.mark.django_db(transaction=True)

LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
# Words that are names, not interface: the product's name, messengers, ISO country codes.
# The product, messengers, country codes and file formats, written so in Russian too.
PROPER = {"Safe", "Passage", "Signal", "Telegram", "GE", "KZ", "RU", "JPEG", "PNG", "PDF", "HEIC"}


@pytest.fixture
def w():
    return Words("ru")


def fresh(case: Case) -> Case:
    return Case.objects.select_related("person").get(pk=case.pk)


@pytest.fixture
def worked_case(team, volunteer, coordinator):
    """A case taken from New to Preparation through the services, by people reading English,
    with the kinds of entries a real one gathers: edits, reminders, contacts, a route leg, a
    legal hold set and lifted, a lost contact, and a move asked of the coordinator."""
    person = PersonFactory(
        legal_name="Иван Петров", phone="+7 900 123-45-67", category="deserter", codename="Ель-4821"
    )
    case = CaseFactory(team=team, person=person, assignee=volunteer, coordinator=coordinator)
    with translation.override("en"):
        case_services.case_note_add(
            case=case, by=volunteer, kind=EventKind.CONTACT, text="Позвонил, всё спокойно."
        )
        for stage in (Stage.SCREENING,):
            case_services.case_transition(
                case=fresh(case), to_stage=stage, by=volunteer, expected_version=fresh(case).version
            )
        case_services.case_update(
            case=fresh(case),
            by=volunteer,
            expected_version=fresh(case).version,
            changes={"flag_dependants": True, "military_unit": "в/ч 12345"},
        )
        case_services.case_risk_reviewed(
            case=fresh(case), by=volunteer, expected_version=fresh(case).version
        )
        case_services.case_transition(
            case=fresh(case),
            to_stage=Stage.PLANNING,
            by=volunteer,
            expected_version=fresh(case).version,
        )
        case_services.case_update(
            case=fresh(case),
            by=volunteer,
            expected_version=fresh(case).version,
            changes={"destination_country": "GE", "route_summary": "Автобусом до границы."},
        )
        routes.leg_add(
            case=fresh(case),
            by=coordinator,
            expected_version=fresh(case).version,
            details={
                "origin": "Самара",
                "destination": "Владикавказ",
                "planned_on": date.today() + timedelta(days=3),
            },
        )
        case_services.case_transition(
            case=fresh(case),
            to_stage=Stage.PREPARATION,
            by=volunteer,
            expected_version=fresh(case).version,
        )
        due = timezone.now() + timedelta(days=2)
        reminder_services.follow_up_set(case=fresh(case), by=volunteer, due_at=due, note="")
        follow_up = Reminder.objects.get(case=case, kind=ReminderKind.FOLLOW_UP)
        reminder_services.reminder_snooze(
            reminder=follow_up, by=volunteer, until=due + timedelta(days=1), reason="Занят"
        )
        reminder_services.reminder_dismiss(reminder=follow_up, by=volunteer, reason="Готово")
        retention.legal_hold_set(case=fresh(case), by=coordinator, reason="Суд")
        retention.legal_hold_lift(case=fresh(case), by=coordinator, reason="Суд закончен")
        CaseEvent.objects.create(
            case=case, kind=EventKind.LOST_CONTACT, detail=lost_contact.SILENCE
        )
        case_services.case_note_add(
            case=fresh(case), by=volunteer, kind=EventKind.CHECK_IN, text="Связь есть, всё хорошо."
        )
        case_services.case_update(
            case=fresh(case),
            by=volunteer,
            expected_version=fresh(case).version,
            changes={"readiness_confirmed": True},
        )
        approvals.approval_ask(
            case=fresh(case),
            by=volunteer,
            to_stage=Stage.IN_TRANSIT,
            expected_version=fresh(case).version,
            note="Билеты на завтра.",
        )
    return fresh(case)


def english_words(text: str, allowed: set[str]) -> list[str]:
    return sorted({word for word in LATIN_WORD.findall(text) if word not in allowed})


def test_a_worked_case_in_russian_has_no_english_left(
    page, live_server, volunteer, coordinator, team, worked_case
):
    volunteer.language = "ru"
    volunteer.save(update_fields=["language"])
    hand_session(page, live_server, verified_client(volunteer))
    page.goto(f"{live_server.url}{reverse('casework:case_detail', args=[worked_case.reference])}")
    page.locator("#timeline").wait_for()
    assert page.locator("html").get_attribute("lang") == "ru"
    # Every entry of the timeline, the folded older ones too.
    fold = page.locator("details.older")
    if fold.count():
        fold.locator("summary").click()
        fold.locator("li.event").first.wait_for()
    shoot(page, "70-russian-case")
    page.locator("#timeline").screenshot(
        path=str(SCREENSHOTS / f"70-russian-timeline-{page.screen_name}.png")
    )
    # Data, not interface: references, codenames, usernames and the team's name.
    data = f"{worked_case.reference} {team.name} {volunteer.username} {coordinator.username}"
    allowed = PROPER | set(LATIN_WORD.findall(data))
    visible = page.locator("body").inner_text()
    assert english_words(visible, allowed) == []
    timeline = page.locator("#timeline").inner_text()
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", timeline)  # dates as Russian writes them
    months = "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
    assert re.search(rf"\d{{1,2}} ({months})", timeline)


@pytest.mark.parametrize("who", ["volunteer", "coordinator", "admin_user"])
def test_the_navigation_fits_one_line_at_1280_px(browser, live_server, request, who):
    user = request.getfixturevalue(who)
    user.language = "ru"
    user.save(update_fields=["language"])
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU")
    page = context.new_page()
    page.screen_name = f"desktop-ru-{who}"
    hand_session(page, live_server, verified_client(user))
    page.goto(f"{live_server.url}/")
    items = page.locator(".site-header nav li")
    assert items.count() >= 3
    tops = {round(box["y"]) for box in (item.bounding_box() for item in items.all())}
    header = page.locator(".site-header").bounding_box()
    shoot(page, f"71-russian-header-{who}")
    context.close()
    assert len(tops) == 1, f"{who}: the navigation wraps onto {len(tops)} lines"
    # The whole header is one row: brand, navigation, search, inbox and sign-out.
    assert header["height"] < 80, header


def test_a_long_russian_word_hyphenates_instead_of_overflowing(page, live_server, coordinator):
    """On a phone, the page never scrolls sideways, in Russian either (shoot checks it)."""
    coordinator.language = "ru"
    coordinator.save(update_fields=["language"])
    hand_session(page, live_server, verified_client(coordinator))
    for name in ("dashboard:home", "casework:case_list", "casework:board"):
        page.goto(f"{live_server.url}{reverse(name)}")
        shoot(page, f"72-russian-{name.replace(':', '-')}")
    hyphens = page.evaluate("getComputedStyle(document.querySelector('main')).hyphens")
    assert hyphens == "auto"
