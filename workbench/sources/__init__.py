"""The local source API: JSONPlaceholder's resources at any scale, with injectable faults."""

from __future__ import annotations

from workbench.sources.data import RESOURCES, Dataset
from workbench.sources.faults import FaultConfig
from workbench.sources.server import ServerHandle, create_app, run_server, serve_in_thread

__all__ = [
    "RESOURCES",
    "Dataset",
    "FaultConfig",
    "ServerHandle",
    "create_app",
    "run_server",
    "serve_in_thread",
]
