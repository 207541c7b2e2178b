"""The navigation on every page: the links each role may follow, and the user's own
unread count, asked afresh on every request."""

import re

import pytest
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from casework.models import Notification, ReminderKind
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db
PROFILE = reverse("accounts:profile")


def links(client) -> list[str]:
    page = client.get(PROFILE).content.decode()
    nav = page[page.index('<nav aria-label="Main">') : page.index("</nav>")]
    return re.findall(r'<a href="([^"]+)"', nav)


def unread(client) -> str | None:
    found = re.search(r'<span class="count">(\d+)</span>', client.get(PROFILE).content.decode())
    return found.group(1) if found else None


def notify(user, count: int) -> None:
    for number in range(count):
        Notification.objects.create(
            user=user, kind=ReminderKind.FOLLOW_UP, subject=f"C-2026-{number:05d}"
        )


@pytest.mark.parametrize(
    ("persona", "shown", "hidden"),
    [
        ("volunteer", ["/intake/", "/cases/", "/legs/"], ["/account/members/", "/audit/"]),
        ("coordinator", ["/intake/", "/cases/", "/account/members/"], ["/audit/", "/health/"]),
        ("admin_user", ["/account/members/", "/audit/", "/health/"], ["/intake/", "/cases/"]),
    ],
)
def test_each_role_is_offered_its_own_pages(request, persona, shown, hidden):
    offered = links(verified_client(request.getfixturevalue(persona)))
    assert set(shown) <= set(offered)
    assert not set(hidden) & set(offered)
    assert offered[-1] == PROFILE


def test_the_links_follow_the_deployments_path_prefix(volunteer_client):
    """A site served under /casework/ links there (WSGIHandler sets the prefix from
    SCRIPT_NAME)."""
    assert "/cases/" in links(volunteer_client)
    set_script_prefix("/casework/")
    try:
        offered = links(volunteer_client)
    finally:
        set_script_prefix("/")
    assert "/casework/cases/" in offered and "/cases/" not in offered
    assert "/cases/" in links(volunteer_client)


def test_the_unread_count_is_the_users_own_and_current(volunteer, coordinator):
    volunteer_client, coordinator_client = verified_client(volunteer), verified_client(coordinator)
    notify(volunteer, 2)
    notify(coordinator, 5)
    assert (unread(volunteer_client), unread(coordinator_client)) == ("2", "5")
    volunteer.notifications.update(read_at=timezone.now())
    notify(coordinator, 1)
    assert (unread(volunteer_client), unread(coordinator_client)) == (None, "6")
