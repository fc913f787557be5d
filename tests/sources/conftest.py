"""Fixtures for the source API tests: the real JSONPlaceholder data and a running server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workbench.sources import FaultConfig, ServerHandle, serve_in_thread

FIXTURE = Path(__file__).parents[1] / "fixtures" / "jsonplaceholder-data.json"
SEED = 7


@pytest.fixture(scope="session")
def real_data() -> dict[str, list[dict[str, Any]]]:
    """Every resource of the real JSONPlaceholder data, by resource name."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def running_source() -> Iterator[ServerHandle]:
    """One server per test module (scale 1, seed 7), shared to keep the suite fast."""
    with serve_in_thread(seed=SEED) as handle:
        yield handle


@pytest.fixture
def source(running_source: ServerHandle) -> ServerHandle:
    """Return the module's server with no faults, zeroed counters and fresh fault draws."""
    running_source.set_faults(FaultConfig())
    running_source.reset_stats()
    return running_source
