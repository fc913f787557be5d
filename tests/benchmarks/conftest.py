"""Fixtures for the project's benchmark scripts: results made from chosen rates."""

from __future__ import annotations

import pytest

from tests.bench.conftest import ResultOf, _rate_result


@pytest.fixture
def rate_result() -> ResultOf:
    """Build a result of a scenario and mode running at a given rate."""
    return _rate_result
