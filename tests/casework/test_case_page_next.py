"""The case page's "What is next", reminders and refused forms, as a volunteer on a phone
reads them: due until missed, errors where the reader is, and closing as the last step."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AccessEvent, Action
from casework import scheduling
from casework.event_details import describe
from casework.models import EventKind, Notification, Reminder, ReminderKind, ReminderState, Stage
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def url(name, case):
    return reverse(f"casework:{name}", args=[case.reference])


def text(response) -> str:
    """The page as read: tags gone, spaces folded."""
    page = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", page)


def section(response, id_: str) -> str:
    """The text of the page's element with this id, up to its section's end."""
    page = response.content.decode()
    start = page.index(f'id="{id_}"')
    return re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", page[start : page.index("</section>", start)])
    )


@pytest.fixture
def ready(volunteer, coordinator, team):
    """A case ready to set off: the coordinator's move to In transit is all it needs."""
    return CaseFactory(
        team=team,
        assignee=volunteer,
        coordinator=coordinator,
        stage=Stage.PREPARATION,
        risk_reviewed_at=timezone.now(),
        destination_country="GE",
        route_summary="r",
        readiness_confirmed=True,
    )


def move(client, case, stage, **extra):
    case.refresh_from_db()
    return client.post(
        url("case_move", case), {"version": case.version, "to_stage": stage, **extra}
    )


# 1. Due until it is missed ------------------------------------------------------------------


def test_a_check_in_due_tomorrow_reads_as_due_not_missed(
    coordinator_client, volunteer_client, ready
):
    assert move(coordinator_client, ready, Stage.IN_TRANSIT).status_code == 302
    page = volunteer_client.get(url("case_detail", ready))
    read = text(page)
    assert "Transit check-in · due" in section(page, "next")
    assert "Transit check-in · due" in section(page, "reminders")
    assert "Stage time limit · due" in section(page, "reminders")
    assert "missed" not in read
    assert "overdue" not in read


def test_a_new_case_reads_its_stage_time_limit_as_due(volunteer_client, volunteer, team):
    case = CaseFactory(team=team, assignee=volunteer)
    scheduling.on_stage_entered(case, volunteer)
    page = volunteer_client.get(url("case_detail", case))
    assert "Stage time limit · due" in section(page, "next")
    assert "Stage overdue" not in text(page)


def test_a_check_in_past_due_reads_missed_and_once_sent_waits_for_acknowledgement(
    coordinator_client, volunteer_client, ready
):
    move(coordinator_client, ready, Stage.IN_TRANSIT)
    # Its time came a minute ago (the clock is not moved: the session would time out).
    Reminder.objects.filter(case=ready, kind=ReminderKind.TRANSIT_CHECK_IN).update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    check_in = Reminder.objects.get(case=ready, kind=ReminderKind.TRANSIT_CHECK_IN)
    due = timezone.localtime(check_in.due_at).strftime("%-d %b %Y %H:%M")
    before = section(volunteer_client.get(url("case_detail", ready)), "next")
    assert f"Transit check-in · missed (due {due})" in before
    assert "not yet acknowledged" not in before  # not sent yet: nobody was alarmed
    scheduling.dispatch_due()
    after = volunteer_client.get(url("case_detail", ready))
    line = f"Transit check-in · missed (due {due}), not yet acknowledged"
    assert line in section(after, "next")
    assert line in section(after, "reminders")
    assert section(after, "next").count("missed") == 1
    # The notification it sent says missed: by then it is.
    assert Notification.objects.filter(kind=ReminderKind.TRANSIT_CHECK_IN).exists()
    inbox = text(volunteer_client.get(reverse("casework:inbox")))
    assert "Transit check-in missed" in inbox


def test_a_stage_past_its_time_limit_reads_overdue(volunteer_client, volunteer, team):
    case = CaseFactory(team=team, assignee=volunteer)
    scheduling.on_stage_entered(case, volunteer)
    Reminder.objects.filter(case=case, kind=ReminderKind.STAGE_OVERDUE).update(
        due_at=timezone.now() - timedelta(hours=1)
    )
    # Until the dispatcher tells the assignee (the reminder then leaves the case page).
    page = volunteer_client.get(url("case_detail", case))
    assert "Stage time limit · overdue since" in section(page, "reminders")
    assert "Stage overdue ·" not in text(page)


# 2. Errors where the user is looking -------------------------------------------------------


def test_a_refused_move_is_summarised_at_the_form_with_a_link_to_the_checkbox(
    coordinator_client, ready
):
    ready.readiness_confirmed = False
    ready.save(update_fields=["readiness_confirmed"])
    refused = move(coordinator_client, ready, Stage.IN_TRANSIT)
    assert refused.status_code == 400
    page = refused.content.decode()
    summary = page[page.index('class="form-errors error-summary"') :]
    summary = summary[: summary.index("</div>")]
    # Focused on load, so the browser keeps the reader at the refused form.
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary and "autofocus" in summary
    edit = url("case_edit", ready)
    assert (
        f'<a href="{edit}#id_case-readiness_confirmed">Needs the readiness checklist first.</a>'
        in (summary)
    )
    assert page.index("error-summary") > page.index('id="move"')  # at the form, not elsewhere
    # The top of the page says so too, for whoever scrolls up.
    notice = '<a href="#move">Nothing was saved: see what to fix at the form.</a>'
    assert page.index(notice) < page.index('id="next"')
    # The link lands on the checkbox.
    assert 'id="id_case-readiness_confirmed"' in coordinator_client.get(edit).content.decode()


def test_what_is_next_links_a_missing_requirement_to_its_field(coordinator_client, ready):
    ready.readiness_confirmed = False
    ready.save(update_fields=["readiness_confirmed"])
    page = coordinator_client.get(url("case_detail", ready)).content.decode()
    link = f'<a href="{url("case_edit", ready)}#id_case-readiness_confirmed">'
    assert link + "Needs the readiness checklist first.</a>" in page
    assert "error-summary" not in page  # nothing was refused


def test_a_field_error_links_to_its_input(volunteer_client, ready):
    refused = volunteer_client.post(url("follow_up", ready), {"due_at": "", "note": "call"})
    assert refused.status_code == 400
    page = refused.content.decode()
    summary = page[page.index('class="form-errors error-summary"') :]
    assert '<a href="#id_due_at">Contact again on</a>' in summary[: summary.index("</div>")]
    assert "This field is required." in page  # said beside the field
    assert '<a href="#reminders">Nothing was saved' in page
    assert 'id="id_due_at"' in page
    assert 'value="call"' in page  # what was typed is kept


def test_an_edit_page_error_links_to_the_field(volunteer_client, ready):
    data = {"version": ready.version, "person-phone": "call me maybe", "person-category": ""}
    refused = volunteer_client.post(url("case_edit", ready), data)
    assert refused.status_code == 400
    page = refused.content.decode()
    assert '<a href="#id_person-phone">Phone</a>' in page
    assert "autofocus" in page


# 4. Follow-up and closed ---------------------------------------------------------------------


@pytest.fixture
def following_up(ready, coordinator):
    ready.stage = Stage.FOLLOW_UP
    ready.save(update_fields=["stage"])
    scheduling.on_stage_entered(ready, coordinator)
    return ready


def test_in_follow_up_a_coordinator_is_offered_closing_next(coordinator_client, following_up):
    page = coordinator_client.get(url("case_detail", following_up))
    nxt = section(page, "next")
    assert "Next step: close the case, with its outcome." in nxt
    assert "Close the case" in nxt
    assert "No forward move" not in text(page)
    assert '<option value="closed" selected>' in page.content.decode()


def test_in_follow_up_a_volunteer_asks_for_approval_to_close(volunteer_client, following_up):
    page = volunteer_client.get(url("case_detail", following_up))
    nxt = section(page, "next")
    assert "Next step: close the case, with its outcome." in nxt
    assert "Ask to close the case" in nxt
    assert "No forward move" not in text(page)
    content = page.content.decode()
    # The request form waits beside it, closing chosen.
    ask = content[content.index('id="ask-approval"') :]
    assert '<option value="closed" selected>' in ask[: ask.index("</form>")]


def test_closing_cancels_pending_reminders_on_the_record_and_ends_what_is_next(
    coordinator_client, volunteer, following_up
):
    scheduling.follow_up_schedule(following_up, volunteer, timezone.now() + timedelta(days=2), "")
    closed = move(coordinator_client, following_up, Stage.CLOSED, outcome="safe")
    assert closed.status_code == 302
    assert not Reminder.objects.filter(case=following_up, state=ReminderState.PENDING).exists()
    event = following_up.events.get(kind=EventKind.REMINDER)
    assert describe(event) == "cancelled by the closing: Follow-up, Stage time limit"
    with translation.override("ru"):
        assert "Follow-up" not in describe(event)
    assert AccessEvent.objects.filter(
        target_ref=following_up.reference, action=Action.REMINDER_CHANGED
    ).exists()

    page = coordinator_client.get(url("case_detail", following_up))
    nxt = section(page, "next")
    assert "This case is closed: Safe." in nxt
    for button in ("Log contact", "Record check-in", "Move stage", "Close the case"):
        assert button not in nxt
    content = page.content.decode()
    assert '<li class="current" aria-current="step">Closed</li>' in content
    assert 'class="done"' not in content[content.index('class="progress"') :][:2000]


def test_a_case_on_hold_is_offered_the_way_back_to_the_stage_it_was_held_from(
    volunteer_client, ready
):
    held = move(volunteer_client, ready, Stage.ON_HOLD, reason="The person asked to wait.")
    assert held.status_code == 302
    ready.refresh_from_db()
    assert ready.stage == Stage.ON_HOLD
    nxt = section(volunteer_client.get(url("case_detail", ready)), "next")
    assert "Next stage: Preparation" in nxt
    assert "No forward move" not in nxt
