"""The dashboard's cases, each shown once with everything said about it.

Each block (missed check-ins, re-assessments, approvals waiting, lost contact, overdue,
next steps, stuck longest, waiting to be taken) is still read by its own bounded selector;
here their cases are merged by id, so a case found by several blocks is one row carrying
every badge. The cases a block names without reading them (alarms, re-assessments and
approvals give a case id) are read together in one query, so the page's queries do not
grow with its rows. Rows with an alarm come first; the others keep their block's order.
"""

from dataclasses import dataclass, field
from datetime import datetime

from accounts.models import User
from accounts.roles import Role
from casework.models import ApprovalRequest, Case, Reminder
from casework.selectors import approvals as approval_selectors
from casework.selectors import cases as case_selectors
from casework.selectors import reminders as reminder_selectors
from dashboard.selectors import (
    ROW_FIELDS,
    Late,
    NextStep,
    Stuck,
    next_steps,
    overdue_for,
    reassessments_for,
    stuck_longest,
)

# The most missed check-ins read for the dashboard (a team in trouble has a few).
ALARMS_READ = 50


@dataclass
class CaseRow:
    case: Case
    missed: list[Reminder] = field(default_factory=list)
    reassess: Reminder | None = None
    approval: ApprovalRequest | None = None
    late: Late | None = None
    step: NextStep | None = None
    stuck: Stuck | None = None

    @property
    def is_alarm(self) -> bool:
        """Something a person must answer now: a missed check-in, lost contact, a
        compromised account's touch, or a move waiting for this coordinator."""
        return bool(self.missed or self.case.is_lost_contact or self.reassess or self.approval)

    @property
    def alarm_since(self) -> datetime | None:
        """When the oldest of its alarms was raised (the alarm rows' order)."""
        times = [reminder.sent_at for reminder in self.missed if reminder.sent_at]
        if self.case.lost_contact_at:
            times.append(self.case.lost_contact_at)
        if self.reassess:
            times.append(self.reassess.due_at)
        if self.approval:
            times.append(self.approval.asked_at)
        return min(times, default=None)


@dataclass(frozen=True)
class DashboardCases:
    alarms: list[CaseRow]  # open on the page, oldest alarm first
    mine: list[CaseRow]  # a volunteer's other cases, soonest next step first
    stuck: list[CaseRow]  # a coordinator's other cases furthest past their time limit
    unassigned: list[CaseRow]  # waiting for someone to take them, not already shown
    requests_to_reassess: list[Reminder]  # re-assess tasks naming a request, not a case

    @property
    def has_missed(self) -> bool:
        return any(row.missed for row in self.alarms)

    @property
    def any_lost_contact(self) -> bool:
        return any(row.case.is_lost_contact for row in self.alarms)

    @property
    def mine_overdue(self) -> int:
        return sum(1 for row in self.mine if row.late or (row.step and row.step.overdue))


class _Rows:
    """Rows by case id, in the order each case was first met."""

    def __init__(self) -> None:
        self.by_id: dict[int, CaseRow] = {}
        self.missing: set[int] = set()  # ids named by a block that did not read the case

    def add(self, case: Case) -> CaseRow:
        row = self.by_id.get(case.pk)
        if row is None:
            row = self.by_id[case.pk] = CaseRow(case)
        elif row.case.pk in self.missing:
            row.case = case
        self.missing.discard(case.pk)
        return row

    def named(self, case_id: int) -> CaseRow:
        row = self.by_id.get(case_id)
        if row is None:
            row = self.by_id[case_id] = CaseRow(Case(pk=case_id))
            self.missing.add(case_id)
        return row

    def read_missing(self) -> None:
        """Reads in one query the cases only named so far; a case gone since is dropped."""
        if not self.missing:
            return
        cases = (
            Case.objects.select_related("person", "assignee")
            .only(*ROW_FIELDS)
            .in_bulk(sorted(self.missing))
        )
        for case_id in list(self.missing):
            if case_id in cases:
                self.by_id[case_id].case = cases[case_id]
            else:
                del self.by_id[case_id]
        self.missing.clear()


def dashboard_cases(user: User) -> DashboardCases:
    """The cases of a volunteer's or a coordinator's dashboard, each once with its badges.

    Every block is asked with its own limit, so the rows (and the queries) are bounded
    whatever the number of cases; the cases are all ones the user may see, since every
    block is scoped by its own selector.
    """
    rows = _Rows()
    coordinator = user.role == Role.COORDINATOR
    for alarm in reminder_selectors.alarms_for(user)[:ALARMS_READ]:
        if alarm.case_id:  # always: alarms_for reads check-ins on cases
            rows.named(alarm.case_id).missed.append(alarm)
    requests_to_reassess = []
    if coordinator:
        for task in reassessments_for(user):
            if not task.case_id:
                requests_to_reassess.append(task)
            elif (row := rows.named(task.case_id)).reassess is None:
                row.reassess = task
        for approval in approval_selectors.waiting_for(user):
            rows.named(approval.case_id).approval = approval
    for case in case_selectors.lost_contact_cases(user):
        rows.add(case)
    mine, stuck = [], []
    if user.role == Role.VOLUNTEER:
        for late in overdue_for(user):
            rows.add(late.case).late = late
        for step in next_steps(user):
            row = rows.add(step.case)
            row.step = step
            mine.append(row)
        # Overdue cases beyond the next steps shown still belong to the volunteer's list.
        mine += [row for row in rows.by_id.values() if row.late and row not in mine]
    if coordinator:
        for item in stuck_longest(user):
            row = rows.add(item.case)
            row.stuck = item
            stuck.append(row)
    unassigned = [rows.add(case) for case in case_selectors.unassigned_cases_for(user)]
    rows.read_missing()
    present = rows.by_id.values()
    alarms = sorted(
        (row for row in present if row.is_alarm), key=lambda row: (row.alarm_since, row.case.pk)
    )

    def rest(block: list[CaseRow]) -> list[CaseRow]:
        return [row for row in block if not row.is_alarm and row.case.pk in rows.by_id]

    shown = {row.case.pk for row in alarms} | {row.case.pk for row in mine + stuck}
    return DashboardCases(
        alarms=alarms,
        mine=rest(mine),
        stuck=rest(stuck),
        unassigned=[row for row in rest(unassigned) if row.case.pk not in shown],
        requests_to_reassess=requests_to_reassess,
    )
