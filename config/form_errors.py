"""`{% load form_errors %}` and `{% error_summary form as errors %}`: what a form says
above its fields.

A summary of every error, each linking to where it is mended (the pattern of GOV.UK's
error summary): on a long page the errors beside the fields may be far from where the
reader is, and a link takes them there.

A hidden field's own errors would sit in its hidden wrapper, never seen; a user cannot
mend a hidden field anyway. So an error in any of them shows above the form as the one
thing that helps: the page is out of date, reload it.
"""

from dataclasses import dataclass

from django import template
from django.forms import BoundField
from django.utils.translation import gettext_lazy as _

register = template.Library()

# The same words the views use when a page's version is out of date (casework.views.cases).
RELOAD = _("This page is out of date: nothing was saved. Reload it and try again.")


@dataclass(frozen=True)
class SummaryError:
    text: str  # the error of the whole form, or the name of a field in error
    href: str = ""  # where to mend it: the field's input, or what `fixes` names


def input_id(field: BoundField) -> str:
    """The id of the field's (first) input: a group of radio buttons labels none."""
    return field.id_for_label or f"{field.auto_id}_0"


@register.simple_tag(takes_context=True)
def error_summary(context, form) -> list[SummaryError]:
    """`{% error_summary form as errors %}`: every error of a bound form, each with where
    to mend it. An error of the whole form links to what the page's `fixes` name for its
    text (the case page's requirements: "Needs the readiness checklist first." leads to
    the checkbox), else to nothing."""
    if not form.is_bound:  # most forms on a page: nothing sent, nothing to say
        return []
    fixes = context.get("fixes") or {}
    errors = [
        SummaryError(str(error), href=fixes.get(error, "")) for error in form.non_field_errors()
    ]
    if any(field.errors for field in form.hidden_fields()):
        errors.append(SummaryError(str(RELOAD)))
    # A field's errors are said beside it: here, its name links there (said once, so the
    # summary stays short on a phone and a reader hears each message once).
    errors.extend(
        SummaryError(str(field.label), href=f"#{input_id(field)}")
        for field in form.visible_fields()
        if field.errors
    )
    return errors


@register.filter
def fix_link(fixes, problem: str) -> str:
    """Where the case page says to mend `problem` ("" when nowhere): `fixes|fix_link:problem`."""
    return (fixes or {}).get(problem, "")
