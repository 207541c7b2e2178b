"""The production deployment files: docker-compose.yml, Dockerfile and .env.example.

Plain file checks, no database. Only the last test needs the `docker compose` plugin.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
APP_ROLE_SCRIPT = ROOT / "deploy" / "postgres-init" / "10-app-role.sh"

# The long-running processes, and the one-shot that migrates before them.
APP_SERVICES = ("web", "worker", "beat")
IMAGE_SERVICES = ("migrate", *APP_SERVICES)
KEY_NAMES = ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY", "AUDIT_KEY")
# What settings.py refuses to start without in production mode.
REQUIRED_IN_PRODUCTION = (
    *KEY_NAMES,
    "ALLOWED_HOSTS",
    "SITE_URL",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
)


def services(optional: bool = False) -> dict:
    """The services `docker compose up` starts; with `optional`, those of profiles too."""
    found = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return {name: s for name, s in found.items() if optional or not s.get("profiles")}


# Started only when asked for (`--profile`): the Telegram bot's poller.
OPTIONAL_SERVICES = {"telegram": "manage.py telegram_poll"}


def command_of(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def environment_of(service: dict) -> dict[str, str]:
    """A service's environment as a mapping, from either of compose's two forms."""
    environment = service.get("environment") or {}
    if isinstance(environment, dict):
        return {name: "" if value is None else str(value) for name, value in environment.items()}
    return dict(item.partition("=")[::2] for item in environment)


def login_of(url: str) -> str:
    """The role a postgres:// URL logs in as."""
    match = re.match(r"postgres(?:ql)?://([^:@/]+)[:@]", url)
    assert match, url
    return match[1]


def names(mapping_or_list) -> set[str]:
    """Keys of a compose mapping, or the items of its list form (depends_on, environment)."""
    if isinstance(mapping_or_list, dict):
        return set(mapping_or_list)
    return {item.split("=", 1)[0] for item in mapping_or_list or []}


def env_example_assignments() -> dict[str, str]:
    """The NAME=value lines of .env.example that are not commented out."""
    pairs = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def dockerfile_instructions(keyword: str) -> list[str]:
    """The arguments of every `keyword` instruction, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    return re.findall(rf"^{keyword}\s+(.*)$", text, re.IGNORECASE | re.MULTILINE)


def test_compose_runs_the_production_shape():
    compose = services()
    assert set(compose) == {"postgres", "redis", *IMAGE_SERVICES}
    # Official images: no registry or namespace in front of the name.
    assert compose["postgres"]["image"].startswith("postgres:")
    assert compose["redis"]["image"].startswith("redis:")
    assert "healthcheck" in compose["postgres"]
    assert "healthcheck" in compose["redis"]
    assert "version" not in yaml.safe_load(COMPOSE_FILE.read_text())


def test_optional_services_run_the_app_image_under_a_profile_of_their_own():
    compose = services(optional=True)
    assert set(compose) - set(services()) == set(OPTIONAL_SERVICES)
    for name, command in OPTIONAL_SERVICES.items():
        service = compose[name]
        assert service["profiles"] == [name]
        assert command in command_of(service)
        assert service["restart"] == "unless-stopped"
        assert environment_of(service)["DATABASE_OWNER_URL"] == ""
        assert login_of(environment_of(service)["DATABASE_URL"]) == "safe_passage_app"


def test_app_services_build_from_the_dockerfile():
    for name in IMAGE_SERVICES:
        build = services()[name]["build"]
        context = build if isinstance(build, str) else build["context"]
        assert context == ".", name
        if isinstance(build, dict):
            assert build.get("dockerfile", "Dockerfile") == "Dockerfile", name


def test_each_app_service_runs_its_own_process():
    compose = services()
    assert "celery -A config worker" in command_of(compose["worker"])
    assert "celery -A config beat" in command_of(compose["beat"])
    assert "gunicorn config.wsgi:application" in command_of(compose["web"])
    # Migrations run once, in their own container, which then exits: not again once they
    # succeeded, a few more times if they failed.
    assert "manage.py migrate" in command_of(compose["migrate"])
    assert compose["migrate"]["restart"] == "on-failure:5"
    for name in APP_SERVICES:
        assert "migrate" not in command_of(compose[name]), name
    # Only the TLS proxy on the same host reaches the app.
    assert all(port.startswith("127.0.0.1:") for port in compose["web"]["ports"])


def test_every_service_is_started_again_when_it_exits():
    """A worker that gave up on a lost broker stopped reminders until someone restarted it."""
    compose = services()
    long_running = [name for name in compose if name != "migrate"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(long_running)
    for name in long_running:
        assert compose[name]["restart"] == "unless-stopped", name


def test_app_services_wait_for_postgres_and_redis_and_the_migrations():
    for name in APP_SERVICES:
        depends_on = services()[name]["depends_on"]
        assert {"postgres", "redis", "migrate"} <= names(depends_on), name
        if isinstance(depends_on, dict):
            for backing in ("postgres", "redis"):
                assert depends_on[backing]["condition"] == "service_healthy", (name, backing)
            migrate = depends_on["migrate"]["condition"]
            assert migrate == "service_completed_successfully", name
    assert services()["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_audit_checkpoints_live_on_a_volume_of_their_own():
    """Outside the database, and apart from its volume: what names a cut audit log."""
    volumes = yaml.safe_load(COMPOSE_FILE.read_text())["volumes"]
    assert "audit-checkpoints" in volumes
    for name in IMAGE_SERVICES:
        service = services()[name]
        directory = environment_of(service)["AUDIT_CHECKPOINT_DIR"]
        assert f"audit-checkpoints:{directory}" in service["volumes"], name
    assert not any("checkpoints" in volume for volume in services()["postgres"]["volumes"])
    assert any(
        "mkdir -m 700 /checkpoints && chown app /checkpoints" in line
        for line in dockerfile_instructions("RUN")
    ), "the volume must be the app user's, or no checkpoint can be written"


def test_only_the_migrate_service_logs_in_as_the_owner():
    compose = services()
    owner = environment_of(compose["postgres"])["POSTGRES_USER"]
    migrate = environment_of(compose["migrate"])
    assert login_of(migrate["DATABASE_OWNER_URL"]) == owner
    assert "${POSTGRES_PASSWORD" in migrate["DATABASE_OWNER_URL"]
    for name in IMAGE_SERVICES:
        environment = environment_of(compose[name])
        assert login_of(environment["DATABASE_URL"]) == "safe_passage_app", name
        assert "${POSTGRES_APP_PASSWORD" in environment["DATABASE_URL"], name
    for name in APP_SERVICES:
        environment = environment_of(compose[name])
        # Blanked: env_file hands the app every line of .env, the owner's password included.
        assert environment["DATABASE_OWNER_URL"] == "", name
        assert environment["POSTGRES_PASSWORD"] == "", name
        assert not any("${POSTGRES_PASSWORD" in value for value in environment.values()), name


def test_postgres_makes_the_app_role_on_first_start():
    postgres = services()["postgres"]
    mounts = [volume.split(":") for volume in postgres["volumes"]]
    assert ["./deploy/postgres-init", "/docker-entrypoint-initdb.d", "ro"] in mounts
    assert "POSTGRES_APP_PASSWORD" in environment_of(postgres)
    assert APP_ROLE_SCRIPT.stat().st_mode & 0o111, "the image runs only executable scripts"
    script = APP_ROLE_SCRIPT.read_text()
    assert "CREATE ROLE safe_passage_app LOGIN PASSWORD :'app_password'" in script
    assert "NOSUPERUSER NOCREATEDB NOCREATEROLE" in script
    assert 'app_password="$POSTGRES_APP_PASSWORD"' in script


def test_required_production_variables_reach_the_app_services():
    from_env_file = set(env_example_assignments())
    for name in IMAGE_SERVICES:
        service = services()[name]
        env_files = service.get("env_file", [])
        env_files = [env_files] if isinstance(env_files, str) else env_files
        assert ".env" in env_files, name
        provided = names(service.get("environment")) | from_env_file
        missing = set(REQUIRED_IN_PRODUCTION) - provided
        assert not missing, f"{name} lacks {sorted(missing)}"


def test_env_example_documents_every_setting_the_app_reads():
    settings = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'(?:env_(?:str|bool|int|list)|_secret)\(\s*"(\w+)"', settings))
    assert set(REQUIRED_IN_PRODUCTION) <= read
    documented = set(re.findall(r"^#?\s*(\w+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert not read - documented, f"not in .env.example: {sorted(read - documented)}"


def test_env_example_holds_no_real_keys():
    text = ENV_EXAMPLE.read_text()
    assert not re.search(r"[A-Za-z0-9_-]{43}=", text), "looks like a Fernet key"
    assert not re.search(r"\b[0-9a-fA-F]{64}\b", text), "looks like a 64-hex key"
    assignments = env_example_assignments()
    for name in (*KEY_NAMES, "POSTGRES_PASSWORD", "POSTGRES_APP_PASSWORD"):
        assert assignments.get(name) == "", f"{name} must be left empty in .env.example"


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative, with /) out of the build context: a
    pattern matches the path or one of its parents; a later `!pattern` takes it back."""
    from fnmatch import fnmatch

    parts = path.split("/")
    prefixes = ["/".join(parts[: end + 1]) for end in range(len(parts))]
    ignored = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated, pattern = pattern.startswith("!"), pattern.lstrip("!").strip("/")
        if any(fnmatch(prefix, pattern) for prefix in prefixes):
            ignored = not negated
    return ignored


def test_the_image_gets_every_app_and_every_file_the_settings_read():
    """Issue 19: `destinations/` was missing from a COPY list and collectstatic failed. The
    image takes the whole context; .dockerignore must not drop what the app needs. No
    docker needed: the context is this checkout minus what .dockerignore lists."""
    from django.apps import apps
    from django.conf import settings

    assert any(line.split()[:1] == ["."] for line in dockerfile_instructions("COPY"))
    needed = {"manage.py", "pyproject.toml", "config/settings.py", "config/wsgi.py"}
    for app in apps.get_app_configs():
        folder = Path(app.path)
        if folder.is_relative_to(ROOT) and ".venv" not in folder.parts:
            needed.add(folder.relative_to(ROOT).as_posix() + "/apps.py")
    for folder in [*settings.TEMPLATES[0]["DIRS"], *settings.STATICFILES_DIRS]:
        needed.add(Path(folder).relative_to(ROOT).as_posix())
    needed |= {Path(path).relative_to(ROOT).as_posix() for path in settings.LOCALE_PATHS}
    assert "destinations/apps.py" in needed
    for path in sorted(needed):
        assert (ROOT / path).exists(), path
        assert not dockerignored(path), f"{path} is kept out of the image by .dockerignore"
    for secret in (".env", "var/secrets.json", ".venv/bin/python", "tests/conftest.py"):
        assert dockerignored(secret), f"{secret} would be copied into the image"


def test_dockerfile_runs_gunicorn_as_a_non_root_user():
    users = dockerfile_instructions("USER")
    assert users, "the image would run as root"
    assert users[-1].strip().split(":")[0] not in {"root", "0"}
    assert "gunicorn" in dockerfile_instructions("CMD")[-1]
    assert "config.wsgi:application" in dockerfile_instructions("CMD")[-1]


def test_dockerfile_bakes_in_no_secrets():
    baked = " ".join(dockerfile_instructions("ENV") + dockerfile_instructions("ARG"))
    for name in (*KEY_NAMES, "DATABASE_URL"):
        assert name not in baked, name
    assert "SAFE_PASSAGE_MODE=production" in baked


def compose_plugin_missing() -> bool:
    if shutil.which("docker") is None:
        return True
    try:
        result = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return True
    return result.returncode != 0


@pytest.mark.skipif(
    compose_plugin_missing(),
    reason="the docker compose plugin is not installed (`docker compose version` failed)",
)
def test_docker_compose_accepts_the_file(tmp_path):
    for source in (COMPOSE_FILE, DOCKERFILE):
        shutil.copy(source, tmp_path / source.name)
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    # The compose file refuses an empty POSTGRES_PASSWORD, POSTGRES_APP_PASSWORD and SITE_URL,
    # as .env.example leaves them.
    environment = {
        **os.environ,
        "POSTGRES_PASSWORD": "placeholder-for-config-check",
        "POSTGRES_APP_PASSWORD": "another-placeholder",
        "SITE_URL": "https://cases.example.org",
    }
    result = subprocess.run(
        ["docker", "compose", "-f", "docker-compose.yml", "config", "--quiet"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
