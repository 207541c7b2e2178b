"""The stage table in casework/workflow.py: one row per stage, consistent with the moves the
workflow allows, and settings that change its numbers and nothing else."""

from dataclasses import replace
from datetime import timedelta

from accounts.roles import Role
from casework.models import Case, Stage
from casework.workflow import FORWARD, STAGES, rule, targets_from

OFF_THE_PATH = {Stage.ON_HOLD, Stage.CLOSED}


def test_the_table_has_exactly_one_row_per_stage():
    assert list(STAGES) == list(Stage)
    assert all(row.stage == stage for stage, row in STAGES.items())


def test_the_forward_path_is_numbered_without_gaps_and_hold_and_closed_are_off_it():
    assert sorted(row.order for row in STAGES.values() if row.order is not None) == list(
        range(len(FORWARD))
    )
    assert {stage for stage, row in STAGES.items() if row.order is None} == OFF_THE_PATH
    assert [STAGES[stage].order for stage in FORWARD] == list(range(len(FORWARD)))


def held(stage: Stage, held_from: Stage = Stage.PLANNING) -> Case:
    return Case(stage=stage, held_from=held_from if stage == Stage.ON_HOLD else "")


def test_every_stage_is_reachable_from_new_and_every_open_one_can_be_held_and_closed():
    reached, todo = {Stage.NEW}, [Stage.NEW]
    while todo:
        for target in targets_from(held(todo.pop())):
            if target not in reached:
                reached.add(target)
                todo.append(target)
    assert reached == set(Stage)
    for stage in FORWARD:
        assert {Stage.ON_HOLD, Stage.CLOSED} <= set(targets_from(held(stage)))
    for stage in FORWARD:  # a hold goes back to where it was held from, or closes
        assert targets_from(held(Stage.ON_HOLD, held_from=stage)) == [stage, Stage.CLOSED]
    assert targets_from(held(Stage.CLOSED)) == []


def test_every_rule_can_take_effect():
    last = FORWARD[-1]
    for stage, row in STAGES.items():
        # Exit requirements and the warning apply to a forward move out: the stage needs one.
        if row.exit or row.warn_leaving:
            assert stage in FORWARD and stage != last, stage
        # Only the road's stages can be held "on the road".
        if row.on_the_road:
            assert stage in FORWARD, stage
        assert row.approver in (None, Role.COORDINATOR), stage
        for limit in (row.time_limit, row.silence_limit):
            assert limit is None or limit > timedelta(0), stage
    # The work is over: a closed case is reminded of nothing and never flagged as silent.
    assert STAGES[Stage.CLOSED].time_limit is None
    assert STAGES[Stage.CLOSED].silence_limit is None
    # Closing and the risky stages need the team's coordinator; a hold's own rule is
    # on_the_road, not its approver.
    assert STAGES[Stage.CLOSED].approver == Role.COORDINATOR
    assert STAGES[Stage.ON_HOLD].approver is None


def test_without_settings_the_rows_are_the_table_as_written(settings):
    settings.STAGE_TIME_LIMIT_HOURS, settings.LOST_CONTACT_HOURS = {}, {}
    assert [rule(stage) for stage in Stage] == list(STAGES.values())


def test_a_setting_changes_that_number_of_that_stage_only(settings):
    settings.STAGE_TIME_LIMIT_HOURS = {"crossing": 5}
    settings.LOST_CONTACT_HOURS = {"planning": 0, "on_hold": 36}
    changed = {
        Stage.CROSSING: replace(STAGES[Stage.CROSSING], time_limit=timedelta(hours=5)),
        Stage.PLANNING: replace(STAGES[Stage.PLANNING], silence_limit=None),
        Stage.ON_HOLD: replace(STAGES[Stage.ON_HOLD], silence_limit=timedelta(hours=36)),
    }
    assert {stage: rule(stage) for stage in Stage} == {**STAGES, **changed}
