"""The app's settings with the benchmark's URLconf: DJANGO_SETTINGS_MODULE=tests.bench.settings.

The floor page lists the references of all the user's teams' cases, so these settings
refuse anything but the embedded mode, as no deployment runs its benchmarks.
"""

from config.environment import ConfigurationError
from config.settings import *  # noqa: F403
from config.settings import EMBEDDED

if not EMBEDDED:
    raise ConfigurationError("tests.bench.settings is for benchmarks on the embedded mode only.")

ROOT_URLCONF = "tests.bench.urls"
