"""The case workflow as one table, and the one function that judges a move.

    new → screening → planning → preparation → in_transit → crossing → arrived → follow_up
    any open stage ⇄ on_hold (back to the stage it was held from); any stage → closed (with
    an outcome); a step back is allowed with a reason (plan failed: crossing → planning, …)

`STAGES` holds one row per stage, to be read top to bottom like the group's policy:
- `order`: the stage's place on the forward path (on hold and closed are off it);
- `entry` / `exit`: what must hold on the case before it may enter the stage (any move),
  and before it may leave it forward;
- `approver`: who must make a move into the stage (the team's coordinator, or anyone who
  may work the case);
- `on_the_road`: the person is travelling. A hold from here needs the team's coordinator
  (it would quiet the journey's alarms), and a case held from here is still watched as if
  it were here: its pending check-ins stay (casework.scheduling) and its silence limit runs
  on (casework.lost_contact);
- `warn_leaving`: a forward move out commits the person to the destination (tickets
  bought, then the journey begun), so a wanted person headed for a country the register
  marks as extraditing must confirm "I have seen the warning";
- `time_limit`: how long a case may sit here before its assignee is reminded;
- `silence_limit`: how long without a logged contact or check-in before the case is
  flagged as lost contact. None turns a limit off.

Settings change numbers only: `STAGE_TIME_LIMIT_HOURS` and `LOST_CONTACT_HOURS` hold the
hours a deployment sets (`STAGE_TIME_LIMIT_HOURS_<STAGE>`, `LOST_CONTACT_HOURS_<STAGE>`;
0 turns the limit off), and `rule(stage)` is the row with them applied. Read rows through
`rule`, never `STAGES[...]` directly, where a limit matters.

Views never decide transitions: they ask `move_problems` (or `moves_for`) and the service
`case_transition` asks it again before saving.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from casework.models import Case, EventKind, Outcome, Stage
from destinations.models import DestinationRisk
from destinations.selectors import warning_for


@dataclass(frozen=True)
class Requirement:
    """Something that must hold on the case; `check` reads the case, never the request.
    `fix` says where it is mended: a page ("case" or "edit") and the id on it, so the
    case page can link the problem to the field (casework.views.cases)."""

    label: str | Promise
    check: Callable[[Case], bool]
    fix: tuple[str, str] = ("", "")

    @property
    def problem(self) -> str:
        """What a move that lacks it is told (and the case page links to `fix`)."""
        return str(_("Needs %(what)s first.")) % {"what": self.label}


@dataclass(frozen=True)
class StageRule:
    """One row of the table; see the module's docstring for what each column means."""

    stage: Stage
    order: int | None
    entry: tuple[Requirement, ...] = ()
    exit: tuple[Requirement, ...] = ()
    approver: Role | None = None
    on_the_road: bool = False
    warn_leaving: bool = False
    time_limit: timedelta | None = None
    silence_limit: timedelta | None = None


def _has_arrival_check_in(case: Case) -> bool:
    return case.events.filter(
        kind=EventKind.CHECK_IN, created_at__gte=case.stage_entered_at
    ).exists()


def _has_crossing_window(case: Case) -> bool:
    return case.crossing_window_start is not None and case.crossing_window_end is not None


HOUR, DAY = timedelta(hours=1), timedelta(days=1)

STAGES: dict[Stage, StageRule] = {
    # Waits for triage and its own reminders: no silence limit.
    Stage.NEW: StageRule(
        Stage.NEW,
        order=0,
        exit=(
            Requirement(
                _("an assignee"),
                lambda case: case.assignee_id is not None,
                fix=("case", "assignment"),
            ),
        ),
        time_limit=24 * HOUR,
    ),
    Stage.SCREENING: StageRule(
        Stage.SCREENING,
        order=1,
        exit=(
            Requirement(
                _("a category"),
                lambda case: bool(case.person.category),
                fix=("edit", "id_person-category"),
            ),
            Requirement(
                _("risk flags reviewed"),
                lambda case: case.risk_reviewed_at is not None,
                fix=("case", "risk-review"),
            ),
        ),
        time_limit=72 * HOUR,
        silence_limit=14 * DAY,
    ),
    Stage.PLANNING: StageRule(
        Stage.PLANNING,
        order=2,
        exit=(
            Requirement(
                _("a destination country"),
                lambda case: bool(case.destination_country),
                fix=("edit", "id_case-destination_country"),
            ),
            Requirement(
                _("a route summary"),
                lambda case: bool(case.route_summary),
                fix=("edit", "id_case-route_summary"),
            ),
        ),
        warn_leaving=True,
        time_limit=7 * DAY,
        silence_limit=14 * DAY,
    ),
    Stage.PREPARATION: StageRule(
        Stage.PREPARATION,
        order=3,
        exit=(
            Requirement(
                _("the readiness checklist"),
                lambda case: case.readiness_confirmed,
                fix=("edit", "id_case-readiness_confirmed"),
            ),
        ),
        warn_leaving=True,
        time_limit=7 * DAY,
        silence_limit=7 * DAY,
    ),
    Stage.IN_TRANSIT: StageRule(
        Stage.IN_TRANSIT,
        order=4,
        approver=Role.COORDINATOR,
        on_the_road=True,
        time_limit=72 * HOUR,
        silence_limit=24 * HOUR,
    ),
    Stage.CROSSING: StageRule(
        Stage.CROSSING,
        order=5,
        entry=(
            Requirement(
                _("a planned crossing window"),
                _has_crossing_window,
                fix=("edit", "id_case-crossing_window_start"),
            ),
        ),
        approver=Role.COORDINATOR,
        on_the_road=True,
        time_limit=48 * HOUR,
        silence_limit=24 * HOUR,
    ),
    Stage.ARRIVED: StageRule(
        Stage.ARRIVED,
        order=6,
        exit=(Requirement(_("an arrival check-in"), _has_arrival_check_in, fix=("case", "next")),),
        time_limit=72 * HOUR,
        silence_limit=72 * HOUR,
    ),
    Stage.FOLLOW_UP: StageRule(
        Stage.FOLLOW_UP,
        order=7,
        time_limit=30 * DAY,
        silence_limit=60 * DAY,
    ),
    # A deliberate pause: no silence limit of its own (one held from the road keeps that
    # stage's, see on_the_road).
    Stage.ON_HOLD: StageRule(Stage.ON_HOLD, order=None, time_limit=14 * DAY),
    Stage.CLOSED: StageRule(Stage.CLOSED, order=None, approver=Role.COORDINATOR),
}


def _hours(overrides: dict[str, int], stage: Stage, default: timedelta | None) -> timedelta | None:
    hours = overrides.get(stage)
    if hours is None:
        return default
    return timedelta(hours=hours) if hours else None


def rule(stage: str) -> StageRule:
    """The row for `stage` with this deployment's numbers (settings override only these)."""
    row = STAGES[Stage(stage)]
    return replace(
        row,
        time_limit=_hours(settings.STAGE_TIME_LIMIT_HOURS, row.stage, row.time_limit),
        silence_limit=_hours(settings.LOST_CONTACT_HOURS, row.stage, row.silence_limit),
    )


# Read-only views of the table, for callers that want a sequence or a set.
FORWARD: tuple[Stage, ...] = tuple(
    stage
    for _order, stage in sorted(
        (row.order, row.stage) for row in STAGES.values() if row.order is not None
    )
)
OPEN_STAGES = frozenset(FORWARD)
COORDINATOR_ENTRY = frozenset(
    stage for stage, row in STAGES.items() if row.approver == Role.COORDINATOR
)
ON_THE_ROAD = frozenset(stage for stage, row in STAGES.items() if row.on_the_road)
REQUIREMENTS: tuple[Requirement, ...] = tuple(
    requirement for row in STAGES.values() for requirement in (*row.entry, *row.exit)
)


def destination_warning(case: Case) -> DestinationRisk | None:
    """The register's entry to warn about for this case as it stands, or None (a query:
    read it once per request and pass it on)."""
    return warning_for(case.destination_country, wanted=case.flag_wanted)


def leaves_warned_stage(case: Case, target: Stage) -> bool:
    """Whether this move commits the person to the destination: the one a destination
    warning must be confirmed for, if there is one."""
    current = Stage(case.stage)
    return STAGES[current].warn_leaving and is_forward(current, target)


def is_forward(current: Stage, target: Stage) -> bool:
    return (
        current in OPEN_STAGES
        and target in OPEN_STAGES
        and FORWARD.index(target) == FORWARD.index(current) + 1
    )


def is_step_back(current: Stage, target: Stage) -> bool:
    return (
        current in OPEN_STAGES
        and target in OPEN_STAGES
        and FORWARD.index(target) < FORWARD.index(current)
    )


def targets_from(case: Case) -> list[Stage]:
    """Every stage the table lets this case move to, before asking who and what."""
    current = Stage(case.stage)
    if current == Stage.CLOSED:
        return []
    if current == Stage.ON_HOLD:
        return [Stage(case.held_from or Stage.NEW), Stage.CLOSED]
    position = FORWARD.index(current)
    targets = list(FORWARD[:position])
    if position + 1 < len(FORWARD):
        targets.append(FORWARD[position + 1])
    return [*targets, Stage.ON_HOLD, Stage.CLOSED]


def needs_reason(case: Case, target: Stage) -> bool:
    current = Stage(case.stage)
    return is_step_back(current, target) or target == Stage.ON_HOLD


def move_problems(
    case: Case,
    target: Stage,
    *,
    is_coordinator: bool,
    reason: str = "",
    outcome: str = "",
    warning_seen: bool = False,
) -> list[str]:
    """Why this move may not happen now; an empty list means it may.

    A case flagged as a suspected provocation is frozen: every move is refused here, so
    the page, the service and the erasure's closing all refuse it, except a coordinator
    closing it as a suspected provocation (the suspicion confirmed).
    """
    current = Stage(case.stage)
    if case.is_frozen and not (
        target == Stage.CLOSED and outcome == Outcome.PROVOCATION and is_coordinator
    ):
        return [
            str(
                _(
                    "This case is frozen as a suspected provocation: its stage cannot change. "
                    "A coordinator can clear the flag, or close the case as a suspected "
                    "provocation."
                )
            )
        ]
    if target not in targets_from(case):
        return [
            str(_("This case cannot move from %(from)s to %(to)s."))
            % {
                "from": current.label,
                "to": target.label,
            }
        ]
    leaving, entering = STAGES[current], STAGES[target]
    problems = []
    if entering.approver == Role.COORDINATOR and not is_coordinator:
        problems.append(str(_("Only the team's coordinator can approve this move.")))
    if target == Stage.ON_HOLD and leaving.on_the_road and not is_coordinator:
        problems.append(str(ROAD_HOLD_NEEDS_COORDINATOR))
    requirements = entering.entry
    if is_forward(current, target):
        requirements = leaving.exit + requirements
    for requirement in requirements:
        if not requirement.check(case):
            problems.append(requirement.problem)
    if needs_reason(case, target) and not reason.strip():
        problems.append(str(_("Give a reason for this move.")))
    if target == Stage.CLOSED and not outcome:
        problems.append(str(_("Choose an outcome to close the case.")))
    if (
        not warning_seen
        and leaves_warned_stage(case, target)
        and destination_warning(case) is not None
    ):
        problems.append(str(WARNING_NOT_SEEN))
    return problems


ROAD_HOLD_NEEDS_COORDINATOR = _(
    "Only the team's coordinator can put a case on hold while the person is on the road."
)

WARNING_NOT_SEEN = _(
    "This person is on a wanted list and the destination is marked as extraditing to Russia. "
    "Read the warning and tick “I have seen this warning” to go on."
)


@dataclass(frozen=True)
class MoveOption:
    stage: Stage
    problems: tuple[str, ...]
    needs_reason: bool
    forward: bool
    needs_warning_seen: bool = False

    @property
    def one_tap(self) -> bool:
        """Nothing left to ask: a single button can make this move. Closing asks for an
        outcome, a step back or a hold for a reason, a risky destination for a confirmation."""
        return (
            self.forward
            and self.stage != Stage.CLOSED
            and not self.problems
            and not self.needs_reason
            and not self.needs_warning_seen
        )


def next_move(case: Case, moves: list[MoveOption]) -> MoveOption | None:
    """The move the case page suggests next: the forward one, or closing at the end of the
    forward path (follow-up), where closing is what is left to do, or back to the stage a
    case on hold was held from."""
    if case.stage == Stage.ON_HOLD:
        back = Stage(case.held_from or Stage.NEW)
        return next((move for move in moves if move.stage == back), None)
    forward = next((move for move in moves if move.forward), None)
    if forward is None and case.stage == FORWARD[-1]:
        return next((move for move in moves if move.stage == Stage.CLOSED), None)
    return forward


def moves_for(
    case: Case, *, is_coordinator: bool, warning: DestinationRisk | None
) -> list[MoveOption]:
    """The moves to offer on the case page, each with what still blocks it; `warning` is
    the case's destination_warning(), which the page has read.

    Reason, outcome and the warning's confirmation are given in the form, so their absence
    is not listed here; `needs_warning_seen` says the form will ask.
    """
    options = []
    # A frozen case's one way out is closing it as a suspected provocation.
    outcome = Outcome.PROVOCATION if case.is_frozen else "x"
    for target in targets_from(case):
        problems = move_problems(
            case,
            target,
            is_coordinator=is_coordinator,
            reason="x",
            outcome=outcome,
            warning_seen=True,
        )
        options.append(
            MoveOption(
                stage=target,
                problems=tuple(problems),
                needs_reason=needs_reason(case, target),
                forward=is_forward(Stage(case.stage), target),
                needs_warning_seen=warning is not None and leaves_warned_stage(case, target),
            )
        )
    return options
