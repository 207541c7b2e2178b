"""Running the same call from two threads at once, each with its own database connection."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks need a server database; CI runs this on PostgreSQL",
)


def run_together(call: Callable[[], object], times: int = 2) -> list[object]:
    """Starts `call` in `times` threads released by one barrier; returns their results."""
    start = threading.Barrier(times)
    results: list[object] = []
    errors: list[BaseException] = []

    def run():
        try:
            start.wait()
            results.append(call())
        except BaseException as error:  # surfaced below, in the test's own thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
