"""The case workflow as data, and the one function that judges a move.

    new → screening → planning → preparation → in_transit → crossing → arrived → follow_up
    any open stage ⇄ on_hold (from in_transit or crossing, by the coordinator only); any
    stage → closed (with an outcome); a step back is allowed with a reason (plan failed:
    crossing → planning, …)

Views never decide transitions: they ask `move_problems` (or `moves_for`) and the service
`case_transition` asks it again before saving.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from casework.models import Case, EventKind, Outcome, Stage
from destinations.models import DestinationRisk
from destinations.selectors import warning_for

FORWARD = (
    Stage.NEW,
    Stage.SCREENING,
    Stage.PLANNING,
    Stage.PREPARATION,
    Stage.IN_TRANSIT,
    Stage.CROSSING,
    Stage.ARRIVED,
    Stage.FOLLOW_UP,
)
OPEN_STAGES = frozenset(FORWARD)

# Entering these needs the team's coordinator (the risky stages, and closing).
COORDINATOR_ENTRY = frozenset({Stage.IN_TRANSIT, Stage.CROSSING, Stage.CLOSED})

# The person is on the road. A hold from here needs the team's coordinator: it would quiet
# the journey's alarms. A case held from here is still watched as if it were there: its
# pending check-ins stay (casework.reminders) and its silence limit runs on
# (casework.lost_contact).
ON_THE_ROAD = frozenset({Stage.IN_TRANSIT, Stage.CROSSING})


@dataclass(frozen=True)
class Requirement:
    """Something that must hold on the case; `check` reads the case, never the request."""

    label: str
    check: object  # Callable[[Case], bool]; kept loose so the table reads as a table


def _has_arrival_check_in(case: Case) -> bool:
    return case.events.filter(
        kind=EventKind.CHECK_IN, created_at__gte=case.stage_entered_at
    ).exists()


# What must be done before a case may leave each stage (forward moves only).
EXIT_REQUIREMENTS: dict[Stage, tuple[Requirement, ...]] = {
    Stage.NEW: (Requirement(_("an assignee"), lambda case: case.assignee_id is not None),),
    Stage.SCREENING: (
        Requirement(_("a category"), lambda case: bool(case.person.category)),
        Requirement(_("risk flags reviewed"), lambda case: case.risk_reviewed_at is not None),
    ),
    Stage.PLANNING: (
        Requirement(_("a destination country"), lambda case: bool(case.destination_country)),
        Requirement(_("a route summary"), lambda case: bool(case.route_summary)),
    ),
    Stage.PREPARATION: (
        Requirement(_("the readiness checklist"), lambda case: case.readiness_confirmed),
    ),
    Stage.ARRIVED: (Requirement(_("an arrival check-in"), _has_arrival_check_in),),
}

# What must hold before a case may enter a stage.
ENTRY_REQUIREMENTS: dict[Stage, tuple[Requirement, ...]] = {
    Stage.CROSSING: (
        Requirement(
            _("a planned crossing window"),
            lambda case: (
                case.crossing_window_start is not None and case.crossing_window_end is not None
            ),
        ),
    ),
}


# Forward moves out of these stages commit the person to the destination (tickets bought,
# then the journey begun): for a person on a wanted list headed for a country the register
# marks as extraditing, each needs an explicit "I have seen the warning".
WARN_LEAVING = frozenset({Stage.PLANNING, Stage.PREPARATION})


def destination_warning(case: Case) -> DestinationRisk | None:
    """The register's entry to warn about for this case as it stands, or None.

    Read once per case object and destination (the page asks for every move it offers).
    """
    key = (case.flag_wanted, case.destination_country)
    cached = case.__dict__.get("_destination_warning")
    if cached is None or cached[0] != key:
        found = warning_for(case.destination_country, wanted=case.flag_wanted)
        case.__dict__["_destination_warning"] = cached = (key, found)
    return cached[1]


def needs_warning_seen(case: Case, target: Stage) -> bool:
    current = Stage(case.stage)
    return (
        current in WARN_LEAVING
        and is_forward(current, target)
        and destination_warning(case) is not None
    )


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
    problems = []
    if target in COORDINATOR_ENTRY and not is_coordinator:
        problems.append(str(_("Only the team's coordinator can approve this move.")))
    if target == Stage.ON_HOLD and current in ON_THE_ROAD and not is_coordinator:
        problems.append(str(ROAD_HOLD_NEEDS_COORDINATOR))
    if is_forward(current, target):
        for requirement in EXIT_REQUIREMENTS.get(current, ()):
            if not requirement.check(case):
                problems.append(str(_("Needs %(what)s first.")) % {"what": requirement.label})
    for requirement in ENTRY_REQUIREMENTS.get(target, ()):
        if not requirement.check(case):
            problems.append(str(_("Needs %(what)s first.")) % {"what": requirement.label})
    if needs_reason(case, target) and not reason.strip():
        problems.append(str(_("Give a reason for this move.")))
    if target == Stage.CLOSED and not outcome:
        problems.append(str(_("Choose an outcome to close the case.")))
    if needs_warning_seen(case, target) and not warning_seen:
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


def next_move(moves: list[MoveOption]) -> MoveOption | None:
    """The forward move, the one the case page suggests next."""
    return next((move for move in moves if move.forward), None)


def moves_for(case: Case, *, is_coordinator: bool) -> list[MoveOption]:
    """The moves to offer on the case page, each with what still blocks it.

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
                needs_warning_seen=needs_warning_seen(case, target),
            )
        )
    return options
