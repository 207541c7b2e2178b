"""The Celery app. Tasks carry ids only; what is due lives in the database."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init

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
