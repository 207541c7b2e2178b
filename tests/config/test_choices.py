"""Lists show choice labels through config.choices.label_of, not get_FOO_display()."""

import pytest
from django.utils import translation

from audit.models import AccessEvent, Action
from casework.models import (
    Case,
    CaseEvent,
    EventKind,
    Notification,
    NotificationKind,
    Reminder,
    ReminderKind,
    Stage,
)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_list_labels_are_what_django_displays_in_the_readers_language(language):
    with translation.override(language):
        for value in Stage.values:
            assert Case(stage=value).stage_label == Case(stage=value).get_stage_display()
            event = CaseEvent(from_stage=value, to_stage=value)
            assert event.from_stage_label == event.get_from_stage_display()
            assert event.to_stage_label == event.get_to_stage_display()
        for value in EventKind.values:
            assert CaseEvent(kind=value).kind_label == CaseEvent(kind=value).get_kind_display()
        for value in ReminderKind.values:
            assert Reminder(kind=value).kind_label == Reminder(kind=value).get_kind_display()
        for value in [*ReminderKind.values, *NotificationKind.values]:
            note = Notification(kind=value)
            assert note.kind_label == note.get_kind_display()
        for value in Action.values:
            event = AccessEvent(action=value)
            assert event.action_label == event.get_action_display()


def test_a_value_no_longer_a_choice_shows_as_stored():
    assert AccessEvent(action="retired_action").action_label == "retired_action"
    assert CaseEvent(from_stage="").from_stage_label == ""


def test_labels_are_translated():
    with translation.override("ru"):
        assert Case(stage=Stage.NEW).stage_label != "New"


def test_every_notification_kind_can_be_chosen_for_e_mail():
    """The settings page offers the kinds by group: a kind in no group could never be
    turned off (nor on) by anyone."""
    from casework.models import NOTIFICATION_KIND_GROUPS, NOTIFICATION_KINDS

    grouped = [kind for _group, kinds in NOTIFICATION_KIND_GROUPS for kind, _label in kinds]
    assert sorted(grouped) == sorted(kind for kind, _label in NOTIFICATION_KINDS)
