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

APP_SERVICES = ("web", "worker", "beat")
KEY_NAMES = ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY")
# What settings.py refuses to start without in production mode.
REQUIRED_IN_PRODUCTION = (
    *KEY_NAMES,
    "ALLOWED_HOSTS",
    "SITE_URL",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
)


def services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def command_of(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


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
    assert set(compose) == {"postgres", "redis", *APP_SERVICES}
    # Official images: no registry or namespace in front of the name.
    assert compose["postgres"]["image"].startswith("postgres:")
    assert compose["redis"]["image"].startswith("redis:")
    assert "healthcheck" in compose["postgres"]
    assert "healthcheck" in compose["redis"]
    assert "version" not in yaml.safe_load(COMPOSE_FILE.read_text())


def test_app_services_build_from_the_dockerfile():
    for name in APP_SERVICES:
        build = services()[name]["build"]
        context = build if isinstance(build, str) else build["context"]
        assert context == ".", name
        if isinstance(build, dict):
            assert build.get("dockerfile", "Dockerfile") == "Dockerfile", name


def test_each_app_service_runs_its_own_process():
    compose = services()
    assert "celery -A config worker" in command_of(compose["worker"])
    assert "celery -A config beat" in command_of(compose["beat"])
    web = command_of(compose["web"])
    assert "gunicorn config.wsgi:application" in web
    assert web.index("manage.py migrate") < web.index("gunicorn")
    # Only the TLS proxy on the same host reaches the app.
    assert all(port.startswith("127.0.0.1:") for port in compose["web"]["ports"])


def test_app_services_wait_for_postgres_and_redis():
    for name in APP_SERVICES:
        depends_on = services()[name]["depends_on"]
        assert {"postgres", "redis"} <= names(depends_on), name
        if isinstance(depends_on, dict):
            for backing in ("postgres", "redis"):
                assert depends_on[backing]["condition"] == "service_healthy", (name, backing)


def test_required_production_variables_reach_the_app_services():
    from_env_file = set(env_example_assignments())
    for name in APP_SERVICES:
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
    for name in (*KEY_NAMES, "POSTGRES_PASSWORD"):
        assert assignments.get(name) == "", f"{name} must be left empty in .env.example"


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
    # The compose file refuses an empty POSTGRES_PASSWORD and SITE_URL, as .env.example
    # leaves them.
    environment = {
        **os.environ,
        "POSTGRES_PASSWORD": "placeholder-for-config-check",
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
