"""Fixtures for the benchmark tests: results made from chosen timings, the test services."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from workbench.bench.runner import Result, Sample, summarise
from workbench.bench.scenarios import Case
from workbench.bench.targets import Target, load_targets
from workbench.services import Services
from workbench.services.common import project_root

#: The project's own targets, which the summary tests judge runs by.
PROJECT_TARGETS = project_root() / "benchmarks" / "targets.toml"

ResultOf = Callable[..., Result]


def _result_of(case: Case, seconds: Sequence[float], peak_mb: float | None = None) -> Result:
    """Return the result of ``case`` had its repetitions taken ``seconds`` each."""
    return summarise(case, [Sample(s, case.size, peak_mb=peak_mb) for s in seconds])


def _rate_result(
    scenario: str, mode: str, rate: float, *, peak_mb: float | None = None, **fields: Any
) -> Result:
    """Return a result of ``scenario``/``mode`` running at ``rate`` units per second."""
    values: dict[str, Any] = {"kind": "ingest", "size": 1000}
    values.update(fields)
    case = Case(scenario=scenario, mode=mode, **values)
    return _result_of(case, [case.size / rate] * 3, peak_mb=peak_mb)


@pytest.fixture
def result_of() -> ResultOf:
    """Build a result from a case and the seconds each repetition took."""
    return _result_of


@pytest.fixture
def rate_result() -> ResultOf:
    """Build a result of a scenario and mode running at a given rate."""
    return _rate_result


@pytest.fixture
def bench_services(postgres_dsn: str, redis_url: str) -> Services:
    """The test database and the test Redis database, as the benchmark's services."""
    return Services(postgres_dsn, redis_url, "environment", "environment")


@pytest.fixture(scope="session")
def targets() -> list[Target]:
    """The project's targets, as ``benchmarks/targets.toml`` states them."""
    return load_targets(PROJECT_TARGETS)
