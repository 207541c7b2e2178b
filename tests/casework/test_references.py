"""Opaque references: numbered per prefix and year, never twice, without gaps."""

import pytest
import time_machine
from django.db import transaction

from casework.models import ReferenceCounter
from casework.references import CASE_PREFIX, REQUEST_PREFIX, next_reference
from tests.concurrency import needs_postgres, run_together

pytestmark = pytest.mark.django_db


def test_each_prefix_counts_on_from_one_and_starts_again_each_year():
    with time_machine.travel("2026-12-31 12:00Z", tick=False):
        assert [next_reference(CASE_PREFIX) for _ in range(2)] == ["C-2026-00001", "C-2026-00002"]
        assert next_reference(REQUEST_PREFIX) == "R-2026-00001"
    with time_machine.travel("2027-01-01 12:00Z", tick=False):
        assert next_reference(CASE_PREFIX) == "C-2027-00001"
    assert ReferenceCounter.objects.get(prefix=CASE_PREFIX, year=2026).last == 2


def test_a_rolled_back_reference_is_handed_out_again():
    first = next_reference(CASE_PREFIX)
    with pytest.raises(RuntimeError), transaction.atomic():
        next_reference(CASE_PREFIX)
        raise RuntimeError("the case was not saved")
    assert int(next_reference(CASE_PREFIX)[-5:]) == int(first[-5:]) + 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_callers_never_get_the_same_number():
    def ten():
        numbers = []
        for _ in range(10):
            with transaction.atomic():
                numbers.append(next_reference(REQUEST_PREFIX))
        return numbers

    handed_out = [number for numbers in run_together(ten, times=4) for number in numbers]
    assert len(set(handed_out)) == 40
    assert sorted(int(number[-5:]) for number in handed_out) == list(range(1, 41))
