"""A span of time in words ("3 days, 4 hours"), in the page's language."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def duration(span: timedelta | None, depth: int = 2) -> str:
    """Django's own "timesince" wording and translations, for a timedelta."""
    if span is None:
        return ""
    now = timezone.now()
    return timesince(now - span, now, depth=depth)


@register.filter
def age(moment, depth: int = 1) -> str:
    """How long ago `moment` was, in its largest unit ("2 hours", "3 days")."""
    if moment is None:
        return ""
    return timesince(moment, depth=depth)
