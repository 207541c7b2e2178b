"""A task that keeps a worker busy, loaded only by test workers (`celery worker --include`)."""

import time

from celery import shared_task


@shared_task(name="tests.sleep")
def sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "slept"
