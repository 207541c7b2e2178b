"""`{% load form_errors %}` and `form|top_errors`: what a form says above its fields.

A hidden field's own errors would sit in its hidden wrapper, never seen; a user cannot
mend a hidden field anyway. So an error in any of them shows above the form as the one
thing that helps: the page is out of date, reload it.
"""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

# The same words the views use when a page's version is out of date (casework.views.cases).
RELOAD = _("This page is out of date: nothing was saved. Reload it and try again.")


@register.filter
def top_errors(form) -> list:
    if not form.is_bound:  # most forms on a page: nothing sent, nothing to say
        return []
    errors = list(form.non_field_errors())
    if any(field.errors for field in form.hidden_fields()):
        errors.append(RELOAD)
    return errors
