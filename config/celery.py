"""The Celery app. Tasks carry ids only; what is due lives in the database."""

import os

from celery import Celery
from celery.signals import task_failure, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("safe_passage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="config.ping")
def ping() -> str:
    """Answers 'pong': lets a deployment (and the smoke test) see a worker take a task."""
    return "pong"


@worker_init.connect
def refuse_a_key_that_cannot_read(**kwargs) -> None:
    """A worker on the wrong FIELD_ENCRYPTION_KEY would fail on every row; it stops now."""
    from privacy.canary import assert_keys_work

    assert_keys_work()


@task_failure.connect
def report_a_refused_value(exception=None, **kwargs) -> None:
    """A task that met an encrypted value moved or planted by SQL fails, as before; the
    admins are alerted as they are when a page meets one (privacy.tampering)."""
    from privacy.fields import DecryptionError
    from privacy.tampering import report

    if isinstance(exception, DecryptionError):
        report(exception)
