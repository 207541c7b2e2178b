"""Key rotation: re-encrypting stored columns under the newest field key, and recomputing
blind indexes under a new index key. Both are driven by ``manage.py rotate_keys``."""


class RotationError(Exception):
    """Rotation cannot go on without losing data; the message names where, never what."""
