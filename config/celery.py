"""The Celery app. Tasks carry ids only; what is due lives in the database."""

import os

from celery import Celery
from celery.signals import beat_init, task_failure, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("safe_passage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="config.ping")
def ping() -> str:
    """Answers 'pong': lets a deployment (and the smoke test) see a worker take a task."""
    return "pong"


@worker_init.connect
def refuse_wrong_keys_in_worker(**kwargs) -> None:
    """A worker on a wrong key leaves before it takes a task (config/key_checks.py)."""
    from config.key_checks import exit_on_wrong_keys

    exit_on_wrong_keys("The Celery worker")


@beat_init.connect
def refuse_wrong_keys_in_beat(**kwargs) -> None:
    from config.key_checks import exit_on_wrong_keys

    exit_on_wrong_keys("Celery beat")


@beat_init.connect
def check_the_audit_chain_at_start(**kwargs) -> None:
    """A fresh install (or a beat back after a long stop) checks its chain now, not a day
    later: the admins' dashboard then says when it was checked (audit/startup.py)."""
    from audit.startup import ask_for_a_check_if_due

    ask_for_a_check_if_due()


@task_failure.connect
def report_a_refused_value(exception=None, **kwargs) -> None:
    """A task that met an encrypted value moved or planted by SQL fails, as before; the
    admins are alerted as they are when a page meets one (privacy.tampering)."""
    from privacy.fields import DecryptionError
    from privacy.tampering import report

    if isinstance(exception, DecryptionError):
        report(exception)
