import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Refuse to serve on a key that does not fit the stored data (config/key_checks.py).
from config.key_checks import refuse_wrong_keys  # noqa: E402

refuse_wrong_keys()
