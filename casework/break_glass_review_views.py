"""Admins review break-glass opens: the queue, newest unreviewed first, and the reviewed."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from casework.forms import BreakGlassReviewForm
from casework.selectors import oversight as oversight_selectors
from casework.selectors.oversight import QUEUE_LIMIT, REVIEWED_LIMIT
from casework.services import oversight


def _review_page(
    request, *, form=None, form_pk=None, revealed: tuple[int, str] | None = None, status=200
) -> HttpResponse:
    queue = list(oversight_selectors.break_glass_queue(request.user)[:QUEUE_LIMIT])
    context = {
        # The one reason asked for, as (grant pk, reason); the lists carry none.
        "revealed_pk": revealed[0] if revealed else None,
        "revealed_reason": revealed[1] if revealed else "",
        "queue": queue,
        # Reviewed by someone else meanwhile: the grant left the queue, the words must not.
        "form_elsewhere": form is not None and form_pk not in {grant.pk for grant in queue},
        "reviewed": list(oversight_selectors.break_glass_reviewed(request.user)[:REVIEWED_LIMIT]),
        "form": form,
        "form_pk": form_pk,
    }
    return render(request, "casework/break_glass_reviews.html", context, status=status)


def break_glass_reviews(request: HttpRequest) -> HttpResponse:
    return _review_page(request)


@require_POST
@sensitive_post_parameters("comment")
def break_glass_review(request: HttpRequest, pk: int) -> HttpResponse:
    grant = oversight_selectors.break_glass_for_review(request.user, pk)
    form = BreakGlassReviewForm(request.POST)
    if form.is_valid():
        try:
            oversight.break_glass_review(
                grant=grant, by=request.user, comment=form.cleaned_data["comment"]
            )
        except ValidationError as error:
            form.add_error("comment", error)
        else:
            messages.success(
                request,
                _("Break-glass on %(reference)s marked reviewed.")
                % {"reference": grant.case.reference},
            )
            return redirect("casework:break_glass_reviews")
    return _review_page(request, form=form, form_pk=grant.pk, status=400)


@require_POST
def break_glass_reason(request: HttpRequest, pk: int) -> HttpResponse:
    """Shows one grant's reason, on a POST: reading it is recorded, so no link prefetch,
    history reload or crawler reads it behind the admin's back."""
    grant = oversight_selectors.break_glass_for_review(request.user, pk)
    reason = oversight.break_glass_reason_reveal(grant=grant, by=request.user)
    return _review_page(request, revealed=(grant.pk, reason))
