"""The Celery app. Tasks carry ids only; what is due lives in the database."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("safe_passage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="config.ping")
def ping() -> str:
    """Answers 'pong': lets a deployment (and the smoke test) see a worker take a task."""
    return "pong"
