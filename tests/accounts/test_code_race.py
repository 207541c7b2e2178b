"""Two simultaneous submissions of one code: exactly one passes (needs PostgreSQL)."""

import threading

import pytest
from django.db import connection, connections

from accounts.second_factor import second_factor_verify
from tests.conftest import current_code
from tests.factories import AuthenticatorFactory

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks need a server database; CI runs this on PostgreSQL",
)


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_two_parallel_submissions_of_one_code_let_one_through(volunteer, attempt):
    device = AuthenticatorFactory(user=volunteer)
    code = current_code(device)
    start = threading.Barrier(2)
    results = []

    def submit():
        try:
            start.wait()
            results.append(second_factor_verify(user=volunteer, code=code) is not None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
