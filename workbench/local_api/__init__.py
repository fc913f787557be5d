"""The local source API: JSONPlaceholder's resources at any scale, with injectable faults.

An aiohttp server that speaks json-server's dialect (``_page``/``_limit``, ``X-Total-Count``,
``Link``), generates every record by index from a seed (``data``, ``records``), and injects
latency, errors and broken bodies on demand (``faults``). Tests, notebooks and benchmarks read
from it instead of the internet; the ingestors read it through ``workbench.sources``.
"""

from __future__ import annotations

from workbench.local_api.data import RESOURCES, Dataset
from workbench.local_api.faults import FaultConfig
from workbench.local_api.process_server import serve_in_process
from workbench.local_api.server import ServerHandle, create_app, run_server, serve_in_thread

__all__ = [
    "RESOURCES",
    "Dataset",
    "FaultConfig",
    "ServerHandle",
    "create_app",
    "run_server",
    "serve_in_process",
    "serve_in_thread",
]
