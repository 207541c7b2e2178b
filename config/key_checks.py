"""Every process checks its keys against the stored data before it does any work.

The web app (config/wsgi.py), the Celery worker and beat (config/celery.py) call
`refuse_wrong_keys` at start: a process on a wrong FIELD_ENCRYPTION_KEY would fail on every
row or, worse, write values the right key cannot read; on a wrong BLIND_INDEX_KEY it would
write indexes no search finds; on a wrong AUDIT_KEY it would append events that do not link
to the chain. Each refuses to start instead, naming the key.
"""

import logging
import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

logger = logging.getLogger(__name__)

# Exit status of a worker or beat refused for its keys (EX_CONFIG in sysexits.h).
EXIT_WRONG_KEY = 78


def key_problems() -> list[str]:
    from audit.log import key_problem
    from privacy.canary import blind_index_key_problem, problem

    return [
        message for check in (problem, blind_index_key_problem, key_problem) if (message := check())
    ]


def refuse_wrong_keys() -> None:
    """For the web app: raises, so the server never answers on a wrong key."""
    if problems := key_problems():
        raise ImproperlyConfigured(" ".join(problems))


def exit_on_wrong_keys(process: str) -> None:
    """For Celery's worker and beat, whose signal handlers' exceptions Celery logs and then
    carries on: the process leaves, non-zero, before it takes any task."""
    try:
        problems = key_problems()
    except DatabaseError:
        return  # no database yet: the first task will say so, and nothing can be written
    if not problems:
        return
    for message in problems:
        logger.critical("%s refused to start: %s", process, message)
        print(f"{process} refused to start: {message}", file=sys.stderr)
    logging.shutdown()
    sys.stderr.flush()
    os._exit(EXIT_WRONG_KEY)
