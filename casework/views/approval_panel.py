"""What the case page shows of approval requests: the one waiting (or lapsed), the
coordinator's answer form, and the form to ask. Kept apart from the views that act on
requests, so the case page can use it without importing them."""

from typing import Any

from accounts.models import User
from casework import permissions, workflow
from casework.forms import ApprovalAskForm, ApprovalDecisionForm
from casework.models import Case, Stage
from casework.selectors import approvals as approval_selectors


def approval_context(user: User, case: Case, forms: dict[str, Any]) -> dict[str, Any]:
    if case.is_purged:
        return {}
    approval = approval_selectors.pending_for_case(case)
    lapsed = approval is not None and approval.has_lapsed_for(case)
    if lapsed and approval is not None and approval.to_stage == case.stage:
        approval = None  # the move was made some other way: nothing left to say
    context: dict[str, Any] = {"approval": approval, "approval_lapsed": lapsed}
    if (
        approval is not None
        and not lapsed
        and permissions.can_decide_approval(user, case, approval.asked_by_id)
    ):
        target = Stage(approval.to_stage)
        warned = workflow.leaves_warned_stage(case, target)
        warning = workflow.destination_warning(case) if warned else None
        context["decision_form"] = forms.get("decision_form") or ApprovalDecisionForm(
            warning=warning
        )
    # Shown at the top when the way forward needs it, or when it comes back with an error;
    # else beside the other moves (closing, a hold from the road, a step back).
    asking, forward = forms.get("ask_form"), False
    if asking is None and (approval is None or lapsed) and permissions.can_ask_approval(user, case):
        targets = approval_selectors.askable_targets(case)
        ahead = [stage for stage in targets if workflow.is_forward(Stage(case.stage), stage)]
        # Offered first: the way forward, else closing (the next step after follow-up).
        closing = [Stage.CLOSED] if Stage.CLOSED in targets else []
        # At the end of the forward path closing is the way forward: asked at the top too.
        forward = bool(ahead) or bool(closing and case.stage == workflow.FORWARD[-1])
        if targets:
            asking = ApprovalAskForm(
                targets=targets,
                initial={"version": case.version, "to_stage": (ahead or closing or targets)[0]},
            )
    context["ask_form"] = asking
    context["ask_here"] = asking is not None and (asking.is_bound or forward)
    return context
