"""Workbench settings: validated fields layered from defaults, environment and arguments.

Two ways to build a ``Settings``:

* ``Settings(**kwargs)`` -- defaults plus the arguments, ignoring the environment, so a test
  or a notebook cell means the same thing on every machine;
* ``Settings.from_env(environ=None, **overrides)`` -- defaults, then ``WORKBENCH_<FIELD>``
  environment variables, then the overrides. The CLI uses this one.

In both, an argument of ``None`` means "not given". Adding a setting is one line in the class
body: the descriptor brings its validation, default and environment variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from workbench.address_validators import PostgresDsn, RedisUrl, Url
from workbench.errors import ConfigError
from workbench.ingestion.modes import ALIASES, MODES
from workbench.ingestion.writer import DEFAULT_BATCH_ROWS, DEFAULT_LINGER_S
from workbench.processing.registry import PROCESSORS
from workbench.queue.options import QueueOptions
from workbench.redaction import redact
from workbench.sources.http_api import DEFAULT_MAX_PAGE_BYTES
from workbench.validators import (
    Bool,
    BoundedFloat,
    Choice,
    Names,
    OptionalPositiveInt,
    PositiveInt,
    Subset,
    Validated,
    declared,
)

__all__ = ["ENV_PREFIX", "MODES", "RESOURCES", "Settings", "env_var", "redact"]

ENV_PREFIX = "WORKBENCH_"
RESOURCES = ("posts", "comments", "albums", "photos", "todos", "users")
DEFAULT_BASE_URL = "https://jsonplaceholder.typicode.com"


def env_var(field: str) -> str:
    """Return the environment variable for ``field``: ``page_size`` -> ``WORKBENCH_PAGE_SIZE``."""
    return f"{ENV_PREFIX}{field.upper()}"


def _default_workers() -> int:
    """One worker process per CPU, capped at the ``workers`` maximum."""
    return min(os.cpu_count() or 2, 256)


class Settings:
    """Every knob of an ingestion run, each validated on assignment; picklable for process pools."""

    # None: start and use the embedded server (workbench.services) instead.
    postgres_dsn = PostgresDsn(optional=True)
    redis_url = RedisUrl(optional=True)
    base_url = Url(default=DEFAULT_BASE_URL)
    resources = Subset(*RESOURCES, default=RESOURCES)
    mode = Choice(*MODES, aliases=ALIASES, default="sync")
    page_size = PositiveInt(default=100, max=10_000)
    concurrency = PositiveInt(default=16, max=1024)
    workers = PositiveInt(default=_default_workers, max=256)
    max_pages = OptionalPositiveInt()  # None: fetch until the source runs out
    timeout_s = BoundedFloat(0.1, 300, default=10.0)  # one page's whole answer, not one read
    max_page_bytes = PositiveInt(default=DEFAULT_MAX_PAGE_BYTES, max=4 * 1024**3)
    allowed_redirect_hosts = Names(default=())  # redirects elsewhere than the API's host
    retry_attempts = PositiveInt(default=5, max=100)
    cache_ttl_s = PositiveInt(default=300)
    use_cache = Bool(default=True)
    # How pages are processed: one record at a time, or a column at a time with pandas.
    processor = Choice(*PROCESSORS, default="records")
    # Records and rejects per transaction (whole pages; a larger page alone), in every mode.
    batch_rows = PositiveInt(default=DEFAULT_BATCH_ROWS, max=1_000_000)
    # Seconds a batch waits to fill before it is written anyway (0: every page at once).
    linger_s = BoundedFloat(0.0, 3600, default=DEFAULT_LINGER_S)
    # Postgres connections writing batches at once (None: the mode's own default).
    write_connections = OptionalPositiveInt(max=32)
    # A run's row beats this often; silent for 4 beats, the next run marks it abandoned.
    heartbeat_s = BoundedFloat(0.1, 3600, default=5.0)
    # The task queue (queue mode, workbench worker / enqueue / queue): its Redis (None: the
    # cache's), visibility timeout, deliveries before a dead letter, heartbeat, task size.
    queue_url = RedisUrl(optional=True)
    queue_idle_s = BoundedFloat(0.05, 86_400, default=30.0)
    queue_max_deliveries = PositiveInt(default=5, max=100)
    queue_heartbeat_s = BoundedFloat(0.01, 3_600, default=2.0)
    queue_task_pages = OptionalPositiveInt()  # None: a write batch's worth, spread over workers
    queue_retention_s = PositiveInt(default=7 * 24 * 3600)
    log_format = Choice("json", "text", default="text")
    log_level = Choice("DEBUG", "INFO", "WARNING", "ERROR", default="INFO")

    def __init__(self, **values: Any) -> None:
        self._load(values, environ={})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from defaults, then ``WORKBENCH_*`` variables, then ``overrides``.

        ``environ`` defaults to ``os.environ``; an empty variable counts as unset.
        """
        settings = cls.__new__(cls)
        settings._load(overrides, environ=os.environ if environ is None else environ)
        return settings

    @classmethod
    def fields(cls) -> dict[str, Validated]:
        """Return the setting descriptors by name, in declaration order."""
        return declared(cls)

    def _load(self, values: Mapping[str, Any], environ: Mapping[str, str]) -> None:
        """Assign every field from ``values``, else ``environ``, else its default."""
        self._check_names(values)
        for name, field in self.fields().items():
            raw = environ.get(env_var(name), "")
            if values.get(name) is not None:
                setattr(self, name, values[name])
            elif raw.strip():
                try:
                    setattr(self, name, raw)
                except ConfigError as exc:
                    raise ConfigError(f"{exc} (from {env_var(name)})") from exc
            else:
                setattr(self, name, field.default_value())

    @classmethod
    def _check_names(cls, names: Mapping[str, Any]) -> None:
        """Raise ``ConfigError`` listing any name that is not a setting."""
        unknown = sorted(set(names) - set(cls.fields()))
        if unknown:
            known = ", ".join(cls.fields())
            raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known settings: {known}")

    def queue_options(self, url: str | None = None) -> QueueOptions:
        """Return the queue's options; ``url`` stands in when ``queue_url`` is not set."""
        return QueueOptions(
            url=self.queue_url or url,
            idle_s=self.queue_idle_s,
            max_deliveries=self.queue_max_deliveries,
            heartbeat_s=self.queue_heartbeat_s,
            task_pages=self.queue_task_pages,
            retention_s=self.queue_retention_s,
        )

    def replace(self, **changes: Any) -> Settings:
        """Return a validated copy with ``changes`` applied (here ``None`` really means None)."""
        self._check_names(changes)
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        for name, value in changes.items():
            setattr(copy, name, value)
        return copy

    def as_dict(self, redacted: bool = True) -> dict[str, Any]:
        """Return the settings by name; with ``redacted`` (the default) passwords are masked."""
        values = {name: getattr(self, name) for name in self.fields()}
        if redacted:
            return {k: redact(v) if isinstance(v, str) else v for k, v in values.items()}
        return values

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.as_dict(redacted=True).items())
        return f"{type(self).__name__}({body})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Settings):
            return NotImplemented
        return type(other) is type(self) and self.as_dict(False) == other.as_dict(False)
