"""Marks for views that must work before the second factor is verified."""

from collections.abc import Callable


def second_factor_not_required(view: Callable) -> Callable:
    """For the verify, enrolment and logout pages only: signed in, not yet verified."""
    view.second_factor_required = False
    return view
