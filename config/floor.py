"""The benchmark floor: the cheapest page a signed-in user can get from this process.

Served only when BENCH_FLOOR_VIEW is on (tests/bench/pages.py turns it on for its gunicorn).
It passes every middleware a real page does (session, sign-in, second factor, CSRF, CSP),
runs one indexed query of 25 rows and renders a small template without the navigation,
so `make bench` can say what each real page costs on top of serving anything at all.
It lists the opaque references of all the user's teams' cases (a volunteer's dashboard
shows only their own), so production refuses to start with it on (config/settings.py).

Beside it, bench/layout/ is an empty page of the app's own layout (base.html: navigation,
unread count, sign-out form): what any real page costs before its own content.
"""

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from accounts.models import User
from casework.models import Case
from casework.permissions import team_ids

ROWS = 25


def newest_references(user: User) -> QuerySet:
    """25 rows read from the (team, -created_at) index. The team ids come first, as every
    page reads them: as a subquery the planner read and sorted all 10,000 of a team's cases."""
    return (
        Case.objects.filter(team_id__in=team_ids(user))
        .order_by("-created_at")
        .values_list("reference", flat=True)[:ROWS]
    )


def floor(request: HttpRequest) -> HttpResponse:
    references = list(newest_references(request.user))
    return HttpResponse(render_to_string("bench/floor.html", {"references": references}))


def layout(request: HttpRequest) -> HttpResponse:
    return render(request, "bench/layout.html")
