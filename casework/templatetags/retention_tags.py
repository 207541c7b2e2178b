"""The case page's legal hold and erasure panel, asking casework.permissions itself so the
case page's view needs no change for it."""

from django import template

from casework import permissions
from casework.services import retention

register = template.Library()


@register.inclusion_tag("casework/_retention.html", takes_context=True)
def retention_panel(context) -> dict:
    case, user = context["case"], context["request"].user
    return {
        "case": case,
        "can_hold": permissions.can_set_legal_hold(user, case),
        "can_erase": permissions.can_erase_case(user, case),
        "purge_due": retention.purge_due(case),
    }
