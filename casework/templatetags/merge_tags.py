"""The case page's "Merge with…" link, asking casework.permissions itself so the case
page's view needs no change for it."""

from django import template

from casework import permissions

register = template.Library()


@register.inclusion_tag("casework/_merge_link.html", takes_context=True)
def merge_link(context) -> dict:
    case, user = context["case"], context["request"].user
    return {"case": case, "can_merge": permissions.can_merge(user, case)}
