# Safe Passage production image: gunicorn serves the app; the same image runs the Celery
# worker and beat (see docker-compose.yml). Configuration comes from the environment only.
# Debian 12 (bookworm), pinned: its postgresql-client is 15, the major version of the
# database in docker-compose.yml, for `manage.py backup` and `restore` (pg_dump, pg_restore).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SAFE_PASSAGE_MODE=production

WORKDIR /app

RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so a code change does not reinstall them. pyproject.toml lists no
# packages: `pip install .` installs the dependencies only; the code is copied in below.
COPY pyproject.toml ./
RUN pip install --no-cache-dir .

# The whole build context: what must stay out (keys, the venv, var/, tests) is listed in
# .dockerignore, so a new app cannot be left out of the image by a forgotten line here.
COPY . ./

# Production settings refuse to import without their secrets, so this one step gets
# throwaway values made on the spot. They live only in this RUN's environment: nothing is
# kept in the image, and no database or broker is contacted.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    FIELD_ENCRYPTION_KEY="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    BLIND_INDEX_KEY="$(python -c 'import secrets; print(secrets.token_hex(32))')" \
    AUDIT_KEY="$(python -c 'import secrets; print(secrets.token_hex(32))')" \
    DATABASE_URL="postgres://build:build@localhost:5432/build" \
    CELERY_BROKER_URL="redis://localhost:6379/0" \
    ALLOWED_HOSTS="build.invalid" \
    python manage.py collectstatic --noinput

# The code and collected static files stay owned by root: the app can read, not change them.
RUN useradd --system --no-create-home --shell /usr/sbin/nologin --uid 10001 app
# The audit checkpoints' directory (AUDIT_CHECKPOINT_DIR): its own volume in compose, which
# takes this owner and mode when it is first made.
RUN mkdir -m 700 /checkpoints && chown app /checkpoints
USER app

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
