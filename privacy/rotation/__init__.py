"""Rewriting encrypted columns in place, on the raw columns: binding stored values to their
rows (``sealing``, for the migrations that add a seal). Key rotation, which walks every
app's tables, is ``operations.rotation``."""


class RotationError(Exception):
    """Rotation cannot go on without losing data; the message names where, never what."""
