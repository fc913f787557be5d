"""Build an ingestor from ``Settings``: where the CLI, the benchmark and notebooks wire one."""

from __future__ import annotations

from workbench.config import Settings
from workbench.db.connections import Connections
from workbench.ingestion.base import Ingestor
from workbench.ingestion.modes import ingestor_class
from workbench.ingestion.workers import RetryOptions
from workbench.sources.http_api import HttpApiSource


def connections_for(settings: Settings, *, cache_namespace: str = "wb") -> Connections:
    """Return where ``Settings`` put Postgres, Redis and the queue (embedded ones if unset)."""
    postgres_dsn, redis_url = settings.postgres_dsn, settings.redis_url
    if postgres_dsn is None or redis_url is None:
        from workbench.services import ensure_services

        services = ensure_services()
        postgres_dsn = postgres_dsn or services.postgres_dsn
        redis_url = redis_url or services.redis_url
    writers = settings.write_connections or ingestor_class(settings.mode).default_write_connections
    return Connections(
        postgres_dsn,
        redis_url if settings.use_cache else None,
        cache_ttl_s=settings.cache_ttl_s,
        pool_size=writers + 1,  # the writer's connections, and one for the run's bookkeeping
        cache_namespace=cache_namespace,
        queue=settings.queue_options(redis_url),  # the queue needs Redis even without a cache
    )


def build_ingestor(
    settings: Settings,
    *,
    source_name: str | None = None,
    cpu_cost: int = 0,
    cache_namespace: str = "wb",
) -> Ingestor:
    """Build the ingestor a ``Settings`` describes, starting the embedded services if needed."""
    cls = ingestor_class(settings.mode)
    writers = settings.write_connections or cls.default_write_connections
    connections = connections_for(settings, cache_namespace=cache_namespace)
    source = HttpApiSource(
        settings.base_url,
        page_size=settings.page_size,
        timeout_s=settings.timeout_s,
        name=source_name,
        max_page_bytes=settings.max_page_bytes,
        allowed_redirect_hosts=settings.allowed_redirect_hosts,
    )
    return cls(
        source,
        connections,
        resources=settings.resources,
        max_pages=settings.max_pages,
        concurrency=settings.concurrency,
        workers=settings.workers,
        retry_options=RetryOptions(attempts=settings.retry_attempts),
        cpu_cost=cpu_cost,
        processor=settings.processor,
        batch_rows=settings.batch_rows,
        linger_s=settings.linger_s,
        write_connections=writers,
        heartbeat_s=settings.heartbeat_s,
    )
