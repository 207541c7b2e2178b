"""A timeline event's detail in the reader's language (casework.event_details)."""

from django import template

from casework.event_details import describe
from casework.models import CaseEvent

register = template.Library()


@register.filter
def event_detail(event: CaseEvent) -> str:
    return describe(event)
