"""Marks for views that must work before the second factor is verified."""

from collections.abc import Callable
from typing import Any, TypeVar

View = TypeVar("View", bound=Callable[..., Any])


def second_factor_not_required(view: View) -> View:
    """For the verify, enrolment and logout pages only: signed in, not yet verified."""
    # A mark on the function, read by SecondFactorRequiredMiddleware, as Django's own
    # login_not_required marks it; no type describes a function with an extra attribute.
    view.second_factor_required = False  # type: ignore[attr-defined]
    return view
