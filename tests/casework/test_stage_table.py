"""The stage table in casework/workflow.py: one row per stage, consistent with the moves the
workflow allows, and settings that change its numbers and nothing else."""

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from accounts.roles import Role
from casework.models import Case, Stage
from casework.workflow import FORWARD, STAGES, rule, targets_from

ROOT = Path(__file__).resolve().parents[2]
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


READ_LIMITS = """
import json, django
django.setup()
from django.conf import settings
from casework.models import Stage
from casework.workflow import rule
hours = lambda limit: None if limit is None else limit // __import__("datetime").timedelta(hours=1)
print(json.dumps({
    "settings": [settings.STAGE_TIME_LIMIT_HOURS, settings.LOST_CONTACT_HOURS],
    "rows": {s.value: [hours(rule(s).time_limit), hours(rule(s).silence_limit)] for s in Stage},
}))
"""


def read_limits(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    stripped = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("STAGE_TIME_LIMIT_HOURS_", "LOST_CONTACT_HOURS_"))
    }
    env = {
        **stripped,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SAFE_PASSAGE_MODE": "embedded",
        "SAFE_PASSAGE_VAR_DIR": str(tmp_path),
        **variables,
    }
    env.pop("DATABASE_URL", None)
    env.pop("DATABASE_OWNER_URL", None)
    return subprocess.run(
        [sys.executable, "-c", READ_LIMITS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_environment_variables_override_the_tables_numbers_only(tmp_path):
    default = read_limits(tmp_path)
    assert default.returncode == 0, default.stderr
    assert json.loads(default.stdout)["settings"] == [{}, {}]
    result = read_limits(
        tmp_path, STAGE_TIME_LIMIT_HOURS_CROSSING="5", LOST_CONTACT_HOURS_PLANNING="0"
    )
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)
    assert read["settings"] == [{"crossing": 5}, {"planning": 0}]
    expected = json.loads(default.stdout)["rows"]
    expected["crossing"][0], expected["planning"][1] = 5, None
    assert read["rows"] == expected


@pytest.mark.parametrize("value", ["-1", "a day"])
def test_a_limit_that_is_not_whole_hours_stops_the_start(tmp_path, value):
    result = read_limits(tmp_path, LOST_CONTACT_HOURS_CROSSING=value)
    assert result.returncode != 0
    assert "LOST_CONTACT_HOURS_CROSSING must be a whole number of hours" in result.stderr


def test_env_example_shows_the_tables_defaults():
    shown = dict(
        re.findall(
            r"^# ((?:STAGE_TIME_LIMIT|LOST_CONTACT)_HOURS_\w+)=(\d+)$",
            (ROOT / ".env.example").read_text(),
            re.MULTILINE,
        )
    )
    hours = {}
    for stage in set(Stage) - {Stage.CLOSED}:
        row, name = STAGES[stage], stage.value.upper()
        for prefix, limit in (
            ("STAGE_TIME_LIMIT_HOURS", row.time_limit),
            ("LOST_CONTACT_HOURS", row.silence_limit),
        ):
            hours[f"{prefix}_{name}"] = str(limit // timedelta(hours=1) if limit else 0)
    assert shown == hours
