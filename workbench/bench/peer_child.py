"""The peer's load, run by the peer's own interpreter: dlt's REST API source into Postgres.

Started as a script (``<peer venv>/bin/python peer_child.py``) with one JSON job on stdin:
``rest_api`` (dlt's source config), ``credentials`` (dlt's Postgres URL), ``dsn`` (libpq,
to count what landed) and ``dataset``. It prints one line, ``WORKBENCH-CHILD-RESULT`` then
JSON: the seconds ``pipeline.run`` took, the rows stored and its own peak memory. It
imports nothing of workbench: the peer's environment holds only dlt and what dlt needs.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MARKER = "WORKBENCH-CHILD-RESULT "


def load(job: dict[str, Any]) -> dict[str, Any]:
    """Run the load; return the seconds, the rows stored and ok."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # no network calls home
    import dlt
    import psycopg2
    from dlt.sources.rest_api import rest_api_source
    from psycopg2 import sql

    destination = dlt.destinations.postgres(credentials=job["credentials"])
    with tempfile.TemporaryDirectory(prefix="wb-peer-") as workdir:
        pipeline = dlt.pipeline(
            pipeline_name="wb_bench_peer",
            destination=destination,
            dataset_name=job["dataset"],
            pipelines_dir=workdir,
        )
        started = time.perf_counter()
        pipeline.run(rest_api_source(job["rest_api"]))
        seconds = time.perf_counter() - started
    connection = psycopg2.connect(job["dsn"])
    try:
        with connection.cursor() as cur:
            table = sql.Identifier(job["dataset"], "posts")
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(table))
            (count,) = cur.fetchone() or ()
            rows = int(count)
    finally:
        connection.close()
    return {"seconds": seconds, "fetched": rows, "inserted": rows, "ok": True}


def _peak_kib() -> int:
    """Return this process's resident-set high-water mark in KiB."""
    for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    result = load(json.loads(sys.stdin.read()))
    print(MARKER + json.dumps({"result": result, "self_peak_kib": _peak_kib()}), flush=True)
