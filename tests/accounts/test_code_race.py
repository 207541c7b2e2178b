"""Two simultaneous submissions of one code: exactly one passes (needs PostgreSQL)."""

import pytest

from accounts.second_factor import second_factor_verify
from tests.concurrency import needs_postgres, run_together
from tests.conftest import current_code
from tests.factories import AuthenticatorFactory


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_two_parallel_submissions_of_one_code_let_one_through(volunteer, attempt):
    device = AuthenticatorFactory(user=volunteer)
    code = current_code(device)
    results = run_together(lambda: second_factor_verify(user=volunteer, code=code) is not None)
    assert sorted(results) == [False, True]
