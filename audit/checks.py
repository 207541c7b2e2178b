from django.core import checks
from django.db import DatabaseError

from audit.log import key_problem


@checks.register(checks.Tags.security)
def check_audit_key(app_configs=None, **kwargs):
    """AUDIT_KEY must verify the chain already stored (config/key_checks.py)."""
    try:
        message = key_problem()
    except DatabaseError:
        return []  # no database to read yet; migrate will say so
    return [checks.Error(message, id="audit.E001")] if message else []
