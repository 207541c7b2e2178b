import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Refuse to serve on a FIELD_ENCRYPTION_KEY that cannot read the stored data.
from privacy.canary import assert_keys_work  # noqa: E402

assert_keys_work()
