"""A coordinator merges two cases of one person, finds the old reference leading to the kept
case, and undoes the merge: clicked through on a desktop and a phone, in English and Russian."""

from datetime import timedelta

import pytest
from django.utils import timezone
from faker import Faker

from casework.models import Case, CaseEvent, EventKind, Stage
from tests.e2e.axe import describe, violations
from tests.e2e.conftest import shoot
from tests.e2e.test_case_journey import signed_in
from tests.factories import CaseFactory, PersonFactory

pytestmark = pytest.mark.django_db(transaction=True)

FOLDED_NOTE = "Wrote again from a new number"


@pytest.mark.parametrize(
    "screen",
    [({"width": 1280, "height": 900}, "desktop"), ({"width": 360, "height": 740}, "phone")],
    ids=["desktop", "phone"],
)
def test_merge_two_cases_then_undo(browser, live_server, coordinator, volunteer, team, screen, w):
    fake = Faker("ru_RU")
    name = fake.name()
    kept = CaseFactory(
        team=team,
        stage=Stage.SCREENING,
        assignee=volunteer,
        person=PersonFactory(legal_name=name),
    )
    folded = CaseFactory(
        team=team,
        stage=Stage.NEW,
        created_at=timezone.now() - timedelta(days=3),
        person=PersonFactory(phone="+7 912 345-67-89"),
    )
    CaseEvent.objects.create(case=folded, kind=EventKind.NOTE, actor=volunteer, text=FOLDED_NOTE)
    viewport, screen_name = screen
    page = signed_in(
        browser, live_server, coordinator, viewport, f"{screen_name}-{w.language}", w.locale
    )
    page.goto(f"{live_server.url}/cases/{kept.reference}/")
    page.get_by_role("link", name=w("Merge with another case…")).click()

    # The case itself: refused, in words, and the reference typed stays.
    page.get_by_label(w("Reference of the other case")).fill(kept.reference)
    page.get_by_role("button", name=w("Show both cases")).click()
    page.get_by_text(
        w("A case cannot be merged with itself: choose the other case of the person.")
    ).wait_for()
    assert page.get_by_label(w("Reference of the other case")).input_value() == kept.reference
    shoot(page, "merge-self-refused")

    page.get_by_label(w("Reference of the other case")).fill(folded.reference)
    page.get_by_role("button", name=w("Show both cases")).click()
    page.get_by_role("button", name=w("Merge the two cases")).wait_for()
    assert name not in page.content()  # stage, assignee and dates only
    shoot(page, "merge-side-by-side")
    assert not violations(page), describe("merge side by side", violations(page))
    page.get_by_role("button", name=w("Merge the two cases")).click()
    page.get_by_text(
        w(
            "%(folded)s was merged into %(kept)s. Until the next nightly purge it can be undone "
            "from %(folded)s's page.",
            folded=folded.reference,
            kept=kept.reference,
        )
    ).wait_for()
    shoot(page, "merge-done")
    assert Case.objects.get(pk=folded.pk).merged_into_id == kept.pk

    page.goto(f"{live_server.url}/cases/{folded.reference}/")
    page.get_by_role("button", name=w("Undo the merge")).wait_for()
    shoot(page, "merge-old-reference")
    assert not violations(page), describe("merged case", violations(page))
    page.get_by_role("button", name=w("Undo the merge")).click()
    page.get_by_text(FOLDED_NOTE).wait_for()
    shoot(page, "merge-undone")
    back = Case.objects.get(pk=folded.pk)
    assert (back.merged_into_id, back.stage) == (None, Stage.NEW)
    assert CaseEvent.objects.get(text__isnull=False, kind=EventKind.NOTE).case_id == folded.pk
