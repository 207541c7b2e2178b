"""Key rotation: re-encrypting stored columns under the newest field key, and recomputing
blind indexes under a new index key. Both are driven by ``manage.py rotate_keys``; they
walk every app's tables, so they live here, above the apps."""
