"""The peer: dlt's REST API source loading the same posts into the same Postgres, same run.

A benchmark of one's own code only says how fast it is compared with itself; a peer says
whether that is any good. dlt is a widely used Python loader with a generic REST API source,
so it reads the same local API (page-number paging, pages of the same size) and merges the
same posts by primary key into the same Postgres, in a child process like the growth runs.
dlt runs in an environment of its own (``workbench.bench.peer_env``), made on first use by
every ``make bench``; where it cannot be installed the peer is skipped and the summary says
why. The child is ``peer_child.py``, run by the peer's interpreter.

The peer writes only into its own schema, ``wb_bench_peer`` (and dlt's ``_staging`` twin),
dropped before each repetition and at the end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from psycopg2 import sql
from psycopg2.extensions import parse_dsn

from workbench.bench.context import BenchContext
from workbench.bench.memory import run_child
from workbench.bench.peer_env import ensure_peer_env
from workbench.bench.runner import IncompleteRunError, Sample
from workbench.bench.scenarios import Case
from workbench.bench.trials import check_complete

__all__ = ["PEER_DATASET", "PeerTrial", "dlt_credentials"]

PEER_DATASET = "wb_bench_peer"
_SCHEMAS = (PEER_DATASET, f"{PEER_DATASET}_staging")
_URL_PARTS = ("user", "password", "host", "port", "dbname")


def dlt_credentials(dsn: str) -> str:
    """Turn a libpq DSN into the URL dlt accepts; a socket directory goes in ``?host=``."""
    params = parse_dsn(dsn)
    host = params.get("host", "localhost")
    socket_dir = host.startswith("/")
    user = quote(params.get("user", "postgres"), safe="")
    # dlt insists on a password; trust and peer authentication ignore it.
    password = quote(params.get("password") or "unused", safe="")
    netloc = f"{user}:{password}@{'localhost' if socket_dir else host}:{params.get('port', 5432)}"
    query = {k: v for k, v in params.items() if k not in _URL_PARTS}
    if socket_dir:
        query["host"] = host
    suffix = f"?{urlencode(query)}" if query else ""
    return f"postgresql://{netloc}/{params.get('dbname', 'postgres')}{suffix}"


def _rest_api_config(base_url: str, pages: int, page_size: int) -> dict[str, Any]:
    """Return dlt's REST API source config for the first ``pages`` pages of posts."""
    paginator = {
        "type": "page_number",
        "page_param": "_page",
        "base_page": 1,
        "total_path": None,
        # dlt stops once the next page number reaches maximum_page: it is exclusive.
        "maximum_page": pages + 1,
    }
    return {
        "client": {"base_url": base_url.rstrip("/") + "/", "paginator": paginator},
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {"params": {"_limit": page_size}},
        },
        "resources": ["posts"],
    }


class PeerTrial:
    """Run dlt on the case's pages in a child process, into a freshly dropped schema."""

    def __init__(
        self, case: Case, ctx: BenchContext, *, warmup_pages: int, python: Path | None = None
    ) -> None:
        self.case = case
        self.ctx = ctx
        self.python = python or ensure_peer_env().python
        if self.python is None:
            raise IncompleteRunError("the peer's environment could not be made")
        self.base_url = ctx.server(case.latency_ms).url
        self.warmup_pages = min(warmup_pages, case.pages)

    def _clear(self) -> None:
        """Drop the peer's schemas."""
        drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
        self.ctx.execute(*(drop.format(sql.Identifier(name)) for name in _SCHEMAS))

    def _load(self, pages: int) -> dict[str, Any]:
        """Load ``pages`` pages into an empty schema; return the child's numbers."""
        self._clear()
        job = {
            "rest_api": _rest_api_config(self.base_url, pages, self.case.page_size),
            "credentials": dlt_credentials(self.ctx.postgres_dsn),
            "dsn": self.ctx.postgres_dsn,
            "dataset": PEER_DATASET,
        }
        script = str(Path(__file__).with_name("peer_child.py"))
        outcome = run_child("peer", job, command=[str(self.python), script])
        return {**outcome.result, "peak_mb": outcome.tree_peak_mb}

    def warm_up(self) -> None:
        """Load the first few pages, untimed."""
        self._load(self.warmup_pages)

    def run(self) -> Sample:
        """Load every page and time dlt's ``pipeline.run``."""
        done = self._load(self.case.pages)
        check_complete(
            self.case.name, self.case.size, done["fetched"], done["inserted"], done["ok"]
        )
        return Sample(done["seconds"], done["fetched"], peak_mb=done["peak_mb"])

    def close(self) -> None:
        """Leave no schema behind."""
        self._clear()
