"""Settings for Safe Passage, read from the environment.

There are two modes (``SAFE_PASSAGE_MODE``):

- ``production`` (the default): every secret and address comes from the environment;
  a missing or malformed one stops start-up with a message naming the variable.
- ``embedded`` (what ``make run`` and ``make test`` use): SQLite and Celery's filesystem
  broker under ``var/``, and keys generated once into ``var/secrets.json`` (mode 0600).

Failing closed is the point: forgetting a variable must never start a production server
on a development key.
"""

import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from config.environment import (
    ConfigurationError,
    check_allowed_hosts,
    check_audit_keys_differ,
    check_blind_index_key,
    check_database_owner,
    check_keys_differ,
    check_secret_key,
    env_bool,
    env_int,
    env_list,
    env_str,
    load_embedded_secrets,
    parse_audit_keys,
    parse_blind_index_key,
    parse_fernet_keys,
    parse_site_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SAFE_PASSAGE_VAR_DIR", str(BASE_DIR / "var")))

MODE = env_str("SAFE_PASSAGE_MODE", "production")
if MODE not in {"production", "embedded"}:
    raise ConfigurationError("SAFE_PASSAGE_MODE must be 'production' or 'embedded'.")
EMBEDDED = MODE == "embedded"

if EMBEDDED:
    _generated = load_embedded_secrets(VAR_DIR / "secrets.json")

    def _secret(name: str) -> str:
        return env_str(name, _generated[name])
else:

    def _secret(name: str) -> str:
        value = env_str(name, "")
        if not value:
            raise ConfigurationError(
                f"{name} is not set. Production refuses to start without it; "
                "run `python manage.py generate_keys` to make one, or set "
                "SAFE_PASSAGE_MODE=embedded on a laptop."
            )
        return value


SECRET_KEY = _secret("SECRET_KEY")
check_secret_key(SECRET_KEY)
# Fernet keys, newest first: the first encrypts, all of them decrypt (rotation).
FIELD_ENCRYPTION_KEY = parse_fernet_keys(_secret("FIELD_ENCRYPTION_KEY"))
BLIND_INDEX_KEY = parse_blind_index_key(_secret("BLIND_INDEX_KEY"))
# HMAC keys of the audit chain, newest first: the first links new events (audit/log.py).
# Kept out of the database, so whoever holds it cannot re-link a rewritten chain.
AUDIT_KEY = parse_audit_keys(_secret("AUDIT_KEY"))
if not EMBEDDED:
    # A key pasted twice or typed by hand passes the shape checks above; refuse it here.
    check_keys_differ(SECRET_KEY, FIELD_ENCRYPTION_KEY, BLIND_INDEX_KEY)
    check_audit_keys_differ(AUDIT_KEY, FIELD_ENCRYPTION_KEY, BLIND_INDEX_KEY)
    check_blind_index_key(BLIND_INDEX_KEY)

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if EMBEDDED else [])
if not ALLOWED_HOSTS:
    raise ConfigurationError("ALLOWED_HOSTS is not set: list the host names this site answers.")
if not EMBEDDED:
    check_allowed_hosts(ALLOWED_HOSTS)
# Host names that serve the public request form and nothing else (config/hosts.py): an onion
# service, or a name of its own. Empty: no public form anywhere. Answered, so allowed.
PUBLIC_HOSTS = [host.lower() for host in env_list("PUBLIC_HOSTS", [])]
check_allowed_hosts(PUBLIC_HOSTS)
ALLOWED_HOSTS += [host for host in PUBLIC_HOSTS if host not in ALLOWED_HOSTS]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "accounts.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Django's widget templates, found by the project's engine (FORM_RENDERER below).
    "django.forms",
    "django_otp",
    "accounts.apps.AxesConfig",
    "csp",
    # Country names and their translations, for the destination pickers (destinations/countries.py).
    "django_countries",
    "privacy",
    "audit",
    "accounts",
    "destinations",
    "casework",
    "intake",
    "intake.public",
    "documents",
    "operations",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Early: on a PUBLIC_HOSTS name, the public form's URLconf, no cookies in or out, the
    # client's address taken off the request, and the public pages' own strict headers.
    "config.hosts.PublicHostMiddleware",
    # Before WhiteNoise, which answers static files without asking the middleware below.
    "privacy.headers.PrivacyHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "audit.context.AuditContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "privacy.csrf.NoReferrerCsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.language.UserLanguageMiddleware",
    "accounts.middleware.HtmxSignInMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.SecondFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last, so the first to see a view's exception: a refused encrypted value (moved or
    # planted by SQL) gets a clear page and an alert for the admins, not a traceback.
    "privacy.tampering.RefusedValueMiddleware",
]

# Forms render through the project's template engine, so templates/django/forms/field.html
# (label, help text and errors beside each field) replaces Django's own field template.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
                "dashboard.health.worker_banner",
            ],
            "libraries": {"form_errors": "config.form_errors"},
        },
    },
]

# Database ------------------------------------------------------------------------------
_database_url = env_str("DATABASE_URL", "")
if not _database_url:
    if not EMBEDDED:
        raise ConfigurationError("DATABASE_URL is not set (postgres://user:pass@host:5432/name).")
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _database_url = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
except ValueError as error:
    raise ConfigurationError(f"DATABASE_URL is malformed: {error}") from None
# The owner of the tables, which only `manage.py migrate` logs in as; the app, its worker
# and beat run as DATABASE_URL's restricted role, which migrate grants what they need
# (privacy/database_roles.py). Unset, everything runs as DATABASE_URL, as on SQLite.
DATABASE_OWNER = None
_database_owner_url = env_str("DATABASE_OWNER_URL", "")
if _database_owner_url:
    try:
        DATABASE_OWNER = dj_database_url.parse(_database_owner_url)
    except ValueError as error:
        raise ConfigurationError(f"DATABASE_OWNER_URL is malformed: {error}") from None
    check_database_owner(DATABASES["default"], DATABASE_OWNER)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A second process (the Celery worker) writes too: wait instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Accounts, passwords, second factor, lock-out -----------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, with roles and permissions read in one query per request.
    "accounts.backends.RoleBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# The label an authenticator app shows. Deliberately bland: a phone searched at a border
# should not announce what its owner does.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "SP")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# One time step either side (30 s each): a code is accepted for about 90 seconds.
OTP_TOTP_TOLERANCE = 1
# After OTP_THROTTLE_FREE_FAILURES wrong codes in a row, each further one makes the user
# wait 1, 2, 4 ... seconds (times the factor) before the next is checked: a typo costs
# nothing, a burst of guesses is slowed, and the lock-out below stops it.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_THROTTLE_FREE_FAILURES = env_int("OTP_THROTTLE_FREE_FAILURES", 2)

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(hours=1)
# Username and address together: locking by username alone would let anyone lock a
# volunteer out of their own account from across the world.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "accounts.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
# Behind a TLS proxy, how many proxies append to X-Forwarded-For; 0 trusts REMOTE_ADDR only.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("SESSION_IDLE_MINUTES", 30))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env_int("SESSION_MAX_HOURS", 12))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
# A fresh password and code (config/step_up.py) counts this long for sensitive actions.
STEP_UP_SECONDS = env_int("STEP_UP_MINUTES", 5) * 60
# Invitation and password-reset links: single use, and short-lived.
ACCOUNT_LINK_HOURS = env_int("ACCOUNT_LINK_HOURS", 24)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# The CSRF token lives in the session, not in a cookie of its own that outlives it by a
# year: signing out or timing out ends it, and no second cookie can be planted beside it.
CSRF_USE_SESSIONS = True
# Flash messages in Django's signed cookie, named __Host- like the session's (privacy/messages.py).
MESSAGE_STORAGE = "privacy.messages.MessageStorage"

# HTTPS. The embedded default serves plain HTTP on 127.0.0.1; production sits behind TLS.
_secure = not EMBEDDED
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _secure)
# A "__Host-" cookie is kept by browsers only when Secure, for Path=/ and with no Domain,
# so neither a sibling subdomain nor anyone on a plain-http hop can set or replace it.
# Browsers drop such cookies over http, so without secure cookies the name stays plain.
SESSION_COOKIE_NAME = "__Host-sessionid" if SESSION_COOKIE_SECURE else "sessionid"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _secure)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 63072000 if _secure else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# No page tells anyone, this site included, where the user came from. Browsers then post
# forms with "Origin: null"; privacy/csrf.py accepts that only with Sec-Fetch-Site: same-origin.
SECURE_REFERRER_POLICY = "no-referrer"
# Django's "CsrfViewMiddleware is missing" knows only its own class by name; privacy.W001
# checks for our subclass instead.
SILENCED_SYSTEM_CHECKS = ["security.W003"]
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("TRUST_X_FORWARDED_PROTO", _secure):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
    },
}

# Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Each language's own date formats, named in templates ("DATETIME_FORMAT").
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_TZ = True

# Static files --------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The embedded default serves straight from the source folders; production from collectstatic.
WHITENOISE_USE_FINDERS = EMBEDDED
WHITENOISE_AUTOREFRESH = EMBEDDED
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # The documents' encrypted blobs (documents.vault): random names, owner-only files. An
    # S3-compatible store through django-storages can take its place (README, "Documents").
    "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env_str("DOCUMENTS_DIR", str(VAR_DIR / "documents")),
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if EMBEDDED
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Documents -----------------------------------------------------------------------------
# The largest file one may attach. An upload is held in memory (never in a clear temporary
# file) and stops being read one byte past this (documents.uploads).
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = ["documents.uploads.BoundedMemoryUploadHandler"]
FILE_UPLOAD_PERMISSIONS = 0o600
# Ordinary form fields (not files): Django's default 2.5 MB is plenty.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 1

# Channels ------------------------------------------------------------------------------
# The team whose triage queue receives what the Telegram bot and the public form bring (by
# name; the first team when empty). See intake.conversations.
CHANNEL_TEAM = env_str("CHANNEL_TEAM", "")
# The public request form (intake/public/), served on PUBLIC_HOSTS only. A wrong reference or
# passphrase counts against the reference and against the network address it came from;
# this many within PUBLIC_FAILURE_MINUTES refuse further tries, right or wrong, until the
# oldest ages out. Behind an onion service every visitor arrives from the one local address:
# its limit is the whole service's, hence higher (0 turns a limit off).
PUBLIC_URLCONF = "intake.public.urls"
PUBLIC_FAILURES_PER_REFERENCE = env_int("PUBLIC_FAILURES_PER_REFERENCE", 5)
PUBLIC_FAILURES_PER_ADDRESS = env_int("PUBLIC_FAILURES_PER_ADDRESS", 20)
PUBLIC_FAILURE_MINUTES = env_int("PUBLIC_FAILURE_MINUTES", 15)
if PUBLIC_FAILURE_MINUTES < 1:
    raise ConfigurationError("PUBLIC_FAILURE_MINUTES must be a whole number, at least 1.")

# Volume (intake.volume) -------------------------------------------------------------------
# What the channels bring is never refused: over a limit it is stored and *held*, and a task
# lets it into the triage queue (or onto its case) as the limits allow, oldest first. The
# limits are counted from rows, so every web process and worker sees the same counts.
# 0 turns a limit off.
# Messages one address (a Telegram chat, a form's conversation) may add per window.
VOLUME_ADDRESS_MESSAGES = env_int("VOLUME_ADDRESS_MESSAGES", 20)
VOLUME_ADDRESS_MINUTES = env_int("VOLUME_ADDRESS_MINUTES", 10)
# New requests one network (the public form's client address: an IPv4 address, an IPv6 /64)
# may open per window. Only a keyed digest of it is stored, and blanked once the window has
# passed. Behind an onion service every visitor is the local Tor daemon: pass no source there.
VOLUME_SOURCE_REQUESTS = env_int("VOLUME_SOURCE_REQUESTS", 5)
VOLUME_SOURCE_MINUTES = env_int("VOLUME_SOURCE_MINUTES", 60)
# New requests all channels together may bring into the triage queue per window.
VOLUME_ALL_REQUESTS = env_int("VOLUME_ALL_REQUESTS", 200)
VOLUME_ALL_MINUTES = env_int("VOLUME_ALL_MINUTES", 60)
# A possible flood: the same first message (lower-cased, spaces collapsed, punctuation
# dropped, digits kept; at least VOLUME_FLOOD_MIN_CHARS long, so "help" from many people is
# not one) from this many different addresses within the window marks those requests at
# triage, where they can be rejected together.
VOLUME_FLOOD_ADDRESSES = env_int("VOLUME_FLOOD_ADDRESSES", 10)
VOLUME_FLOOD_MINUTES = env_int("VOLUME_FLOOD_MINUTES", 24 * 60)
VOLUME_FLOOD_MIN_CHARS = env_int("VOLUME_FLOOD_MIN_CHARS", 16)
for _name in (
    "VOLUME_ADDRESS_MESSAGES",
    "VOLUME_SOURCE_REQUESTS",
    "VOLUME_ALL_REQUESTS",
    "VOLUME_FLOOD_ADDRESSES",
    "VOLUME_FLOOD_MIN_CHARS",
):
    if globals()[_name] < 0:
        raise ConfigurationError(f"{_name} must be a whole number, 0 or more.")
for _name in (
    "VOLUME_ADDRESS_MINUTES",
    "VOLUME_SOURCE_MINUTES",
    "VOLUME_ALL_MINUTES",
    "VOLUME_FLOOD_MINUTES",
):
    if globals()[_name] < 1:
        raise ConfigurationError(f"{_name} must be a whole number of minutes, at least 1.")
# How often the held messages and requests are let in (seconds).
VOLUME_RELEASE_SECONDS = env_int("VOLUME_RELEASE_SECONDS", 60)
if VOLUME_RELEASE_SECONDS < 1:
    raise ConfigurationError("VOLUME_RELEASE_SECONDS must be a whole number, at least 1.")

# Celery --------------------------------------------------------------------------------
_broker_url = env_str("CELERY_BROKER_URL", "")
if not _broker_url:
    if not EMBEDDED:
        raise ConfigurationError("CELERY_BROKER_URL is not set (redis://host:6379/0).")
    _broker_url = "filesystem://"
CELERY_BROKER_URL = _broker_url
if _broker_url.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    # The exchange tables too: by default kombu writes them to ./control, beside the code.
    _control_dir = VAR_DIR / "celery" / "control"
    for _folder in (_queue_dir, _processed_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A broker outage is waited out, however long (Celery gives up after 100 tries by default,
# about 45 minutes, and the worker exits); whatever still exits is started again by
# compose or bin/keep-running, and a silent worker is shown to the admins (dashboard.health).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "purge-expired-lockouts": {
        "task": "accounts.tasks.purge_expired_lockouts",
        "schedule": timedelta(minutes=10),
    },
    "dispatch-reminders": {
        "task": "casework.tasks.dispatch_reminders",
        "schedule": timedelta(seconds=env_int("REMINDER_DISPATCH_SECONDS", 60)),
    },
    "worker-heartbeat": {
        "task": "casework.tasks.worker_heartbeat",
        "schedule": timedelta(seconds=60),
    },
}
# The worker answers beat's heartbeat every minute; silent longer than this, the health page
# and a banner on the admins' pages say so and an alert is raised (dashboard.health).
WORKER_SILENT_MINUTES = env_int("WORKER_SILENT_MINUTES", 5)
if WORKER_SILENT_MINUTES < 2:
    raise ConfigurationError("WORKER_SILENT_MINUTES must be a whole number, at least 2.")

# Audit ----------------------------------------------------------------------------------
# One account opening more distinct cases than this within an hour alerts the admins.
INSIDER_CASES_PER_HOUR = env_int("INSIDER_CASES_PER_HOUR", 30)
# The same for requests read, cases whose route legs were read, and requests whose contact
# matched a case of another team (probes): triage reads requests in runs, route legs are
# read one leg at a time, and a match elsewhere is rare in honest work.
INSIDER_REQUESTS_PER_HOUR = env_int("INSIDER_REQUESTS_PER_HOUR", 40)
INSIDER_ROUTES_PER_HOUR = env_int("INSIDER_ROUTES_PER_HOUR", 10)
INSIDER_PROBES_PER_HOUR = env_int("INSIDER_PROBES_PER_HOUR", 5)
# Failed sign-ins (wrong passwords, wrong codes, failed confirmations) within
# SIGN_IN_FAILURE_MINUTES that raise an alert: at one account, from any number of addresses
# (the lock-out counts per address), or across all accounts together.
SIGN_IN_FAILURE_MINUTES = env_int("SIGN_IN_FAILURE_MINUTES", 15)
SIGN_IN_FAILURES_PER_ACCOUNT = env_int("SIGN_IN_FAILURES_PER_ACCOUNT", 10)
SIGN_IN_FAILURES_ALL_ACCOUNTS = env_int("SIGN_IN_FAILURES_ALL_ACCOUNTS", 30)
# Searches one account may run in a minute (dashboard/search.py); each also counts as one
# case read toward INSIDER_CASES_PER_HOUR.
SEARCH_PER_MINUTE = env_int("SEARCH_PER_MINUTE", 10)
if SEARCH_PER_MINUTE < 1:
    raise ConfigurationError("SEARCH_PER_MINUTE must be a whole number, at least 1.")
CELERY_BEAT_SCHEDULE["verify-audit-chain"] = {
    "task": "audit.tasks.verify_chain",
    "schedule": timedelta(hours=24),
}
# Events are chained by a sealer this often (audit/log.py): appends take no lock.
AUDIT_SEAL_SECONDS = env_int("AUDIT_SEAL_SECONDS", 5)
if AUDIT_SEAL_SECONDS < 1:
    raise ConfigurationError("AUDIT_SEAL_SECONDS must be a whole number, at least 1.")
CELERY_BEAT_SCHEDULE["seal-audit-events"] = {
    "task": "audit.tasks.seal_events",
    "schedule": timedelta(seconds=AUDIT_SEAL_SECONDS),
}
# Checkpoints of the chain's head (sequence number and link) kept outside the database, so a
# truncated or reset chain is named (audit/checkpoints.py): appended to a file in a
# directory of its own (its own volume in production, append-only if the file system can),
# and e-mailed to the admins who receive e-mail. Written every AUDIT_CHECKPOINT_MINUTES and
# on demand (`manage.py audit_checkpoint`).
AUDIT_CHECKPOINT_DIR = Path(env_str("AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints")))
AUDIT_CHECKPOINT_MINUTES = env_int("AUDIT_CHECKPOINT_MINUTES", 60)
if AUDIT_CHECKPOINT_MINUTES < 1:
    raise ConfigurationError("AUDIT_CHECKPOINT_MINUTES must be a whole number, at least 1.")
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "audit.tasks.write_checkpoint",
    "schedule": timedelta(minutes=AUDIT_CHECKPOINT_MINUTES),
}
CELERY_BEAT_SCHEDULE["email-audit-checkpoint"] = {
    "task": "accounts.tasks.email_audit_checkpoint",
    "schedule": crontab(hour=4, minute=0),
}
# Where volunteers sign in from: audit events keep the network (/24, /48) and, on a sign-in,
# a keyed digest for the new-address alert, never the address; both are blanked this many
# days after the event (audit/addresses.py). Clear addresses live only in the lock-out's
# failure records, for its cool-off (AXES_COOLOFF_TIME).
ADDRESS_RETENTION_DAYS = env_int("ADDRESS_RETENTION_DAYS", 30)
if ADDRESS_RETENTION_DAYS < 1:
    raise ConfigurationError("ADDRESS_RETENTION_DAYS must be a whole number of days, at least 1.")
# django-axes's own default, pinned: its log lines show these as asterisks.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address"]
CELERY_BEAT_SCHEDULE["purge-expired-addresses"] = {
    "task": "audit.tasks.purge_expired_addresses",
    "schedule": crontab(hour=3, minute=15),
}

# Reminders ------------------------------------------------------------------------------
# Stage limits: each stage's time limit (how long a case may sit there before its assignee
# is reminded) and silence limit (how long without a logged contact or check-in, counted
# from the last one or from entering the stage if later, before the case is flagged as lost
# contact; a missed crossing or transit check-in flags it at once) are rows of the stage
# table, casework/workflow.py. These hold only the numbers a deployment changes, in hours;
# 0 turns the limit off for the stage.


def _stage_hours(prefix: str, raw: dict[str, str]) -> dict[str, int]:
    """The stages whose `<prefix>_<STAGE>` is set, with its hours (a whole number, 0 or more)."""
    hours = {}
    for stage, value in raw.items():
        if not value:
            continue
        try:
            hours[stage] = int(value)
        except ValueError:
            hours[stage] = -1
        if hours[stage] < 0:
            raise ConfigurationError(
                f"{prefix}_{stage.upper()} must be a whole number of hours, 0 or more, "
                f"not {value!r}."
            )
    return hours


STAGE_TIME_LIMIT_HOURS = _stage_hours(
    "STAGE_TIME_LIMIT_HOURS",
    {
        "new": env_str("STAGE_TIME_LIMIT_HOURS_NEW", ""),
        "screening": env_str("STAGE_TIME_LIMIT_HOURS_SCREENING", ""),
        "planning": env_str("STAGE_TIME_LIMIT_HOURS_PLANNING", ""),
        "preparation": env_str("STAGE_TIME_LIMIT_HOURS_PREPARATION", ""),
        "in_transit": env_str("STAGE_TIME_LIMIT_HOURS_IN_TRANSIT", ""),
        "crossing": env_str("STAGE_TIME_LIMIT_HOURS_CROSSING", ""),
        "arrived": env_str("STAGE_TIME_LIMIT_HOURS_ARRIVED", ""),
        "follow_up": env_str("STAGE_TIME_LIMIT_HOURS_FOLLOW_UP", ""),
        "on_hold": env_str("STAGE_TIME_LIMIT_HOURS_ON_HOLD", ""),
    },
)
LOST_CONTACT_HOURS = _stage_hours(
    "LOST_CONTACT_HOURS",
    {
        "new": env_str("LOST_CONTACT_HOURS_NEW", ""),
        "screening": env_str("LOST_CONTACT_HOURS_SCREENING", ""),
        "planning": env_str("LOST_CONTACT_HOURS_PLANNING", ""),
        "preparation": env_str("LOST_CONTACT_HOURS_PREPARATION", ""),
        "in_transit": env_str("LOST_CONTACT_HOURS_IN_TRANSIT", ""),
        "crossing": env_str("LOST_CONTACT_HOURS_CROSSING", ""),
        "arrived": env_str("LOST_CONTACT_HOURS_ARRIVED", ""),
        "follow_up": env_str("LOST_CONTACT_HOURS_FOLLOW_UP", ""),
        "on_hold": env_str("LOST_CONTACT_HOURS_ON_HOLD", ""),
    },
)
INTAKE_TRIAGE_LIMIT_HOURS = env_int("INTAKE_TRIAGE_LIMIT_HOURS", 24)
# After the planned crossing window closes, how long before a missing "we are safe" alarms.
CROSSING_GRACE_HOURS = env_int("CROSSING_GRACE_HOURS", 6)
# While in transit, a check-in is expected this often (hours); 0 turns it off.
TRANSIT_CHECK_IN_HOURS = env_int("TRANSIT_CHECK_IN_HOURS", 12)
# How long the one who logged a contact or check-in may undo it (minutes).
UNDO_MINUTES = env_int("UNDO_MINUTES", 5)

# Retention ------------------------------------------------------------------------------
# Personal data of a closed case with no work on it for this many days (and of a request
# rejected this long ago) is purged the next night, unless the case is on legal hold. A year
# by default: people come back (asylum papers, a relative writing, a repeat request that
# triage should match to the old case), and "arrived" has turned into "detained" months
# later; every day longer is more that a stolen database reveals.
RETENTION_DAYS = env_int("RETENTION_DAYS", 365)
if RETENTION_DAYS < 1:
    raise ConfigurationError("RETENTION_DAYS must be a whole number of days, at least 1.")
# At night (UTC, Celery's clock); a beat that was down catches up when it starts.
CELERY_BEAT_SCHEDULE["purge-expired-cases"] = {
    "task": "casework.tasks.purge_expired_cases",
    "schedule": crontab(hour=3, minute=30),
}
CELERY_BEAT_SCHEDULE["purge-expired-requests"] = {
    "task": "intake.tasks.purge_expired_requests",
    "schedule": crontab(hour=3, minute=45),
}
# What the rate limits held back, let in as they allow (see Volume above).
CELERY_BEAT_SCHEDULE["release-held-intake"] = {
    "task": "intake.tasks.release_held",
    "schedule": timedelta(seconds=VOLUME_RELEASE_SECONDS),
}

# E-mail --------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if EMBEDDED
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@localhost")
# A mail server that stops answering holds a sender this long per step, not for ever.
EMAIL_TIMEOUT = 20
# E-mail copies of notifications are rows (casework/emails.py), sent this often: a broker
# outage delays them, and none is lost.
EMAIL_SEND_SECONDS = env_int("EMAIL_SEND_SECONDS", 30)
if EMAIL_SEND_SECONDS < 1:
    raise ConfigurationError("EMAIL_SEND_SECONDS must be a whole number, at least 1.")
CELERY_BEAT_SCHEDULE["send-due-emails"] = {
    "task": "casework.tasks.send_due_emails",
    "schedule": timedelta(seconds=EMAIL_SEND_SECONDS),
}
# Links in e-mails point here. Required in production: the worker that sends them has no
# request to take an address from, and a default would send people to a dead address.
SITE_URL = (
    env_str("SITE_URL", "http://127.0.0.1:8000")
    if EMBEDDED
    else parse_site_url(env_str("SITE_URL", ""))
)

# Replies to the person ------------------------------------------------------------------
# A reply is a row (intake/replies.py), sent this often by beat and at once when a worker is
# free: a broker outage delays replies, and none is lost.
REPLY_SEND_SECONDS = env_int("REPLY_SEND_SECONDS", 15)
if REPLY_SEND_SECONDS < 1:
    raise ConfigurationError("REPLY_SEND_SECONDS must be a whole number, at least 1.")
CELERY_BEAT_SCHEDULE["send-due-replies"] = {
    "task": "intake.tasks.send_due_replies",
    "schedule": timedelta(seconds=REPLY_SEND_SECONDS),
}

# Telegram bot (intake/channels/) -------------------------------------------------------------
# Off unless a token (from @BotFather) is set: then updates arrive by webhook, checked
# against TELEGRAM_WEBHOOK_SECRET, or by `manage.py telegram_poll` where the site has no
# public address. The token is a password: it is never logged, nor put in an error.
TELEGRAM_BOT_TOKEN = env_str("TELEGRAM_BOT_TOKEN", "")
TELEGRAM_API_BASE = env_str("TELEGRAM_API_BASE", "https://api.telegram.org").rstrip("/")
if not TELEGRAM_API_BASE.startswith(("https://", "http://")):
    raise ConfigurationError("TELEGRAM_API_BASE must be an http(s):// address.")
# What Telegram sends in X-Telegram-Bot-Api-Secret-Token (setWebhook's secret_token): 1 to
# 256 letters, digits, _ and -. Empty, every webhook call is refused (polling needs none).
TELEGRAM_WEBHOOK_SECRET = env_str("TELEGRAM_WEBHOOK_SECRET", "")
if TELEGRAM_WEBHOOK_SECRET and not re.fullmatch(r"[A-Za-z0-9_-]{32,256}", TELEGRAM_WEBHOOK_SECRET):
    raise ConfigurationError(
        "TELEGRAM_WEBHOOK_SECRET must be 32 to 256 letters, digits, _ and -: "
        'python -c "import secrets; print(secrets.token_urlsafe(48))"'
    )
# Forged webhook calls (a wrong or missing secret) audited per minute; the rest of a flood is
# only counted (the health page) and raises one alert, so it cannot grow the audit log
# without bound nor queue the sealer (intake.channels.forged).
TELEGRAM_FORGED_AUDIT_PER_MINUTE = env_int("TELEGRAM_FORGED_AUDIT_PER_MINUTE", 10)
if TELEGRAM_FORGED_AUDIT_PER_MINUTE < 1:
    raise ConfigurationError("TELEGRAM_FORGED_AUDIT_PER_MINUTE must be a whole number, at least 1.")
# Once a message is stored (encrypted), the bot deletes it from the chat, so a seized phone
# or a Telegram account taken over holds less.
TELEGRAM_DELETE_AFTER_STORE = env_bool("TELEGRAM_DELETE_AFTER_STORE", False)
if TELEGRAM_BOT_TOKEN:
    # Telegram keeps an update for a day; the ids seen are kept a little longer, to refuse
    # a replayed one (intake.channels.telegram), then dropped.
    CELERY_BEAT_SCHEDULE["prune-telegram-updates"] = {
        "task": "intake.tasks.prune_telegram_updates",
        "schedule": crontab(hour=4, minute=30),
    }

# Admin ---------------------------------------------------------------------------------
ADMIN_URL = env_str("ADMIN_URL", "admin/")

# Logging: no personal data, ever. Request bodies and local variables are not logged.
# Tracebacks in error reports show where, never with what: see privacy/error_reports.py.
DEFAULT_EXCEPTION_REPORTER_FILTER = "privacy.error_reports.NothingPersonalReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "privacy.error_reports.NothingPersonalReporter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"scrub": {"()": "privacy.log_filter.ScrubPersonalData"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["scrub"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # axes writes usernames and addresses into its log lines; our audit log keeps what
        # matters, so only its errors get through.
        "axes": {"level": "ERROR"},
    },
}
